/**
 * Sign-in, sign-up, second-factor and account pages of the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../../edge/context'

export const pageRoutes = new Hono<AppEnv>()
