/**
 * The SSO host (`sso.<platform>`). The foundation publishes the JWKS; FanzSSO (the OIDC provider)
 * grows here.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { publishedKeys, rotateSigningKeys } from './keys'

export const ssoApp = createSurfaceApp()

ssoApp.get('/.well-known/jwks.json', async (c) => {
  let keys = await publishedKeys(c.env.DB)
  // a fresh database has no keys until the first signature or rotation: make them now
  if (!keys.length) {
    await rotateSigningKeys(c.env.DB, c.var.config)
    keys = await publishedKeys(c.env.DB)
  }
  // relying parties may cache for a while: a new key is published a full rotation period before it signs
  c.header('cache-control', 'public, max-age=300')
  return c.json({ keys: keys.map(({ kid, kty, crv, x, alg, use }) => ({ kid, kty, crv, x, alg, use })) })
})
