/**
 * Social sign-in on the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 * Paths: `/social/*` (sign-in.ts: start and callback; linking.tsx: link and unlink) and, outside
 * production, `/sandbox-idp/*` (sandbox-idp.tsx: the sandbox upstream provider).
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../../edge/context'
import { linkingRoutes } from './linking'
import { sandboxIdpRoutes } from './sandbox-idp'
import { signInRoutes } from './sign-in'

export const socialRoutes = new Hono<AppEnv>()

socialRoutes.route('/', sandboxIdpRoutes)
socialRoutes.route('/', linkingRoutes)
socialRoutes.route('/', signInRoutes)
