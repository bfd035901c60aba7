/**
 * One-time codes by email and SMS on the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../../edge/context'

export const otpRoutes = new Hono<AppEnv>()
