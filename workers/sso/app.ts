/**
 * The SSO host (`sso.<platform>`). The foundation publishes the JWKS; FanzSSO (the OIDC provider)
 * grows here.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { ageVerificationPage, safeReturnTo, ssoLandingPage } from '../site/sso-pages'
import { serveStatic } from '../site/static'
import { publishedKeys, rotateSigningKeys } from './keys'
import { oidcRoutes } from './oidc/routes'
import { otpRoutes } from './otp/routes'
import { pageRoutes } from './pages/routes'
import { passkeyRoutes } from './passkeys/routes'
import { socialRoutes } from './social/routes'

export const ssoApp = createSurfaceApp()

// Landing page and age verification: pages live in workers/site/sso-pages.tsx (shared shell, styles).
ssoApp.get('/', (c) => c.html(ssoLandingPage(c)))
ssoApp.get('/static/*', serveStatic)
ssoApp.get('/age-verification', async (c) => {
  // depends on the visitor's location
  c.header('cache-control', 'private, no-store')
  return c.html(ageVerificationPage(c, await safeReturnTo(c, c.req.query('return_to'))))
})

ssoApp.get('/.well-known/jwks.json', async (c) => {
  let keys = await publishedKeys(c.env.DB)
  // a fresh database has no keys until the first signature or rotation: make them now
  if (!keys.length) {
    await rotateSigningKeys(c.env.DB, c.var.config)
    keys = await publishedKeys(c.env.DB)
  }
  // relying parties may cache for a while: a new key is published a full rotation period before it signs
  c.header('cache-control', 'public, max-age=300')
  // public members only, named per key type (RFC 7517 §4, RFC 8037 §2)
  return c.json({ keys: keys.map(({ kid, kty, crv, x, n, e, alg, use }) => (kty === 'RSA' ? { kid, kty, n, e, alg, use } : { kid, kty, crv, x, alg, use })) })
})

// each concern owns its routes (paths are disjoint): /passkeys/*, /mfa/*, /social/* and the pages
ssoApp.route('/', oidcRoutes)
ssoApp.route('/', passkeyRoutes)
ssoApp.route('/', otpRoutes)
ssoApp.route('/', socialRoutes)
ssoApp.route('/', pageRoutes)
