/**
 * The edge app: cross-cutting middleware once per request, then the surface app that owns the
 * request. `/api/*` is served on every host; everything else by the host's surface.
 *
 * Order matters and is cheap on the hot path: request id -> config -> analytics and log (they time
 * everything below) -> security headers (they wrap everything below, so redirects and errors carry
 * them too) -> https -> host/brand -> geo -> jurisdiction -> token verification. Then, for brand
 * hosts, the origin-pool proxy (and the 451 for operator-blocked places) before the surface app.
 * @module
 */
import { Hono } from 'hono'
import { apiApp } from './api/app'
import { authenticate } from './edge/auth'
import { withConfig } from './edge/config'
import type { AppEnv } from './edge/context'
import { geo } from './edge/geo'
import { resolveHost } from './edge/host'
import { jurisdiction } from './edge/jurisdiction'
import { isApiPath } from './edge/paths'
import { registerEdgeApp } from './lib/platform-fetch'
import { requestLogger } from './edge/logger'
import { requestId } from './edge/request-id'
import { httpsRedirect, securityHeaders } from './edge/security-headers'
import { dispatch, notFoundFor, onError } from './edge/surface'
import { dashApp } from './dash/app'
import { recordAnalytics } from './routing/analytics'
import { proxyToOriginPool } from './routing/proxy'
import { platformApp } from './site/platform'
import { relyingPartySession } from './sso/client/session'
import { siteApp } from './site/app'
import { ssoApp } from './sso/app'

export const app = new Hono<AppEnv>()

app.use(requestId, withConfig, recordAnalytics, requestLogger, securityHeaders, httpsRedirect, resolveHost, geo, jurisdiction, authenticate, relyingPartySession)

// proxyToOriginPool acts on brand paths outside /api only: 451 for blocked visitors, origin pools first
app.all('*', proxyToOriginPool, async (c) => {
  if (isApiPath(c.req.path)) return dispatch(c, apiApp)
  switch (c.var.surface) {
    case 'brand':
      return dispatch(c, siteApp)
    case 'sso':
      return dispatch(c, ssoApp)
    case 'dash':
      return dispatch(c, dashApp)
    case 'api':
      return c.redirect('/api/docs', 302)
    case 'platform':
      return dispatch(c, platformApp)
  }
})

app.onError(onError)
app.notFound(notFoundFor(app))
registerEdgeApp(app)
