/**
 * The OpenID Provider's endpoints on the SSO host (mounted at its root by workers/sso/app.ts).
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../../edge/context'
import { authorizeEndpoint, resumeAuthorization } from './authorize'
import { showConsent, submitConsent } from './consent'
import { providerMetadata } from './discovery'
import { endSessionEndpoint } from './end-session'
import { oauthEndpoint } from './errors'
import { introspectionEndpoint, revocationEndpoint } from './introspect-revoke'
import { tokenEndpoint } from './token'
import { userinfoEndpoint } from './userinfo'

export const oidcRoutes = new Hono<AppEnv>()

const metadata = (c: Parameters<typeof authorizeEndpoint>[0]) => {
  c.header('cache-control', 'public, max-age=300')
  c.header('access-control-allow-origin', '*')
  return c.json(providerMetadata(c.var.config))
}
oidcRoutes.get('/.well-known/openid-configuration', metadata)
// RFC 8414 clients ask here; same document
oidcRoutes.get('/.well-known/oauth-authorization-server', metadata)

oidcRoutes.on(['GET', 'POST'], '/authorize', authorizeEndpoint)
oidcRoutes.get('/authorize/resume', resumeAuthorization)
oidcRoutes.get('/consent', showConsent).post('/consent', submitConsent)
oidcRoutes.post('/token', oauthEndpoint(tokenEndpoint))
oidcRoutes.on(['GET', 'POST'], '/userinfo', userinfoEndpoint)
oidcRoutes.post('/introspect', oauthEndpoint(introspectionEndpoint))
oidcRoutes.post('/revoke', oauthEndpoint(revocationEndpoint))
oidcRoutes.on(['GET', 'POST'], '/end-session', endSessionEndpoint)
