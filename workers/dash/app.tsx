/**
 * FanzDash, the operators' dashboard (`dash.<platform>`). Every page needs a token holding the admin
 * or operator role, from `Authorization: Bearer` or the session cookie (verified by the edge). In dev
 * a pasted token can be turned into that cookie (POST /session); see session.ts.
 * @module
 */
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../edge/context'
import { createSurfaceApp } from '../edge/surface'
import { serveStatic } from '../site/static'
import { loadOverview } from './data'
import { DASH_ROLES, forbiddenPage, overviewPage, signInPage } from './pages'
import { endSession, startSession } from './session'
import { batchAction, batchDetailPage, payoutOperators, payoutsOverview, resolveCase } from './payouts'
import { clientRoutes } from '../sso/client/routes'
import { mediaModerators, reviewAction, reviewOverview } from './media'

export const dashApp = createSurfaceApp()

/** 401 page with a way to sign in, 403 page for tokens without an operator role. */
const operatorsOnly = createMiddleware<AppEnv>(async (c, next) => {
  c.header('cache-control', 'private, no-store')
  c.header('vary', 'Cookie')
  const auth = c.var.auth
  if (!auth) {
    // a cookie that no longer verifies (expired, rotated key) is named, so the operator knows why
    return c.html(signInPage(c, { rejected: c.var.authError }), 401, { 'www-authenticate': 'Bearer realm="fanz"' })
  }
  if (!auth.roles.some((role) => DASH_ROLES.includes(role))) return c.html(forbiddenPage(c, auth), 403)
  await next()
})

dashApp.get('/static/*', serveStatic)
// FanzDash is a FanzSSO client like every brand: /auth/login, /auth/callback, /auth/logout, ...
dashApp.route('/', clientRoutes)

dashApp.get('/', operatorsOnly, async (c) => c.html(overviewPage(c, c.var.auth!, await loadOverview(c.env))))

dashApp.get('/payouts', payoutOperators, payoutsOverview)
dashApp.get('/payouts/batches/:batchId', payoutOperators, batchDetailPage)
dashApp.post('/payouts/batches/:batchId/:action', payoutOperators, batchAction)
dashApp.post('/payouts/cases/:payoutId/resolve', payoutOperators, resolveCase)

dashApp.get('/media/review', mediaModerators, reviewOverview)
dashApp.post('/media/review/:itemId/:action', mediaModerators, reviewAction)

dashApp.post('/session', startSession)
dashApp.post('/session/end', endSession)
