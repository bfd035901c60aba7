/**
 * The brand session at the edge, after token verification (workers/edge/auth.ts) on brand and
 * dash hosts:
 * - a cookie session whose `sid` the provider has logged out (back-channel) is dropped at once;
 * - an expired access token is refreshed server-side with the sealed refresh token (rotation; a
 *   concurrent refresh from another tab gets the same successor inside the grace window);
 * - on a brand host where the visitor's location is gated, a token without the `age_verified`
 *   claim is refreshed early once the account holds a current verification (made on FanzSSO
 *   after this token was issued), so the new result counts at once on every brand;
 * - a first page view without any session makes one silent top-level round trip to FanzSSO
 *   (`prompt=none`), which signs the visitor in if they are signed in on any brand (sso.md X3: a
 *   redirect, never a third-party iframe). Only real navigations bounce (Sec-Fetch-Mode/Dest), so
 *   API clients, crawlers without fetch metadata and subresources never do; a miss is remembered
 *   for 15 minutes.
 * @module
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import * as oauth from 'oauth4webapi'
import { toAuthContext, verifyAccessToken } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { isApiPath } from '../../edge/paths'
import { hasCurrentAgeVerification } from '../../vault/age/verifications'
import { isLoggedOut } from './backchannel'
import { clearSession, cookieNames, readStoredSession, storeSession } from './cookies'
import { clientIdFor, relyingParty } from './relying-party'

function isNavigation(c: Context<AppEnv>): boolean {
  return c.req.method === 'GET' && c.req.header('sec-fetch-mode') === 'navigate' && c.req.header('sec-fetch-dest') === 'document'
}

function skipsSession(path: string): boolean {
  return path.startsWith('/auth/') || path.startsWith('/static/') || path.startsWith('/.well-known/')
}

async function refresh(c: Context<AppEnv>, clientId: string): Promise<void> {
  const stored = await readStoredSession(c)
  if (!stored) return
  const rp = await relyingParty(c)
  try {
    const response = await oauth.refreshTokenGrantRequest(rp.as, rp.client, rp.auth, stored.refreshToken, rp.options)
    const tokens = await oauth.processRefreshTokenResponse(rp.as, rp.client, response)
    await storeSession(c, tokens, stored)
    const verified = await verifyAccessToken(c.env.DB, tokens.access_token, { issuer: c.var.config.issuer, audience: c.var.config.accessTokenAudience })
    if (verified.ok && verified.claims.client_id === clientId) {
      c.set('auth', toAuthContext(verified.claims, 'cookie', Math.floor(Date.now() / 1000)))
      c.set('authError', undefined)
    }
  } catch (err) {
    // the session is over (revoked, reused, expired): sign out here, quietly
    if (err instanceof oauth.ResponseBodyError) clearSession(c)
    else throw err
  }
}

export const relyingPartySession = createMiddleware<AppEnv>(async (c, next) => {
  const clientId = clientIdFor(c)
  if (!clientId || skipsSession(c.req.path)) return next()
  const names = cookieNames(c)
  const auth = c.var.auth
  if (auth?.source === 'cookie') {
    const sid = typeof auth.claims.sid === 'string' ? auth.claims.sid : undefined
    // a token minted for another client (or none) is not this brand's session
    if (auth.claims.client_id !== undefined && auth.claims.client_id !== clientId) {
      c.set('auth', null)
    } else if (auth.claims.client_id !== undefined && (await isLoggedOut(c.env.DB, clientId, sid, auth.subject))) {
      clearSession(c)
      c.set('auth', null)
      c.set('authError', 'session ended')
      return next()
    } else if (c.var.surface === 'brand' && !auth.ageVerified && c.var.jurisdiction?.gated && getCookie(c, names.refresh) && (await hasCurrentAgeVerification(c.env.DB, auth.subject))) {
      // gated, the token lacks the claim, but the account has since been verified (on FanzSSO):
      // refresh now so the fan need not wait for this token to expire (the new one carries it)
      await refresh(c, clientId)
      return next()
    } else {
      return next()
    }
  }
  if (!c.var.auth && getCookie(c, names.refresh) && (!getCookie(c, names.access) || c.var.authError === 'token expired')) await refresh(c, clientId)
  if (!c.var.auth && isNavigation(c) && !isApiPath(c.req.path) && !getCookie(c, names.checked) && !getCookie(c, names.refresh)) {
    const url = new URL(c.req.url)
    return c.redirect(`/auth/login?prompt=none&return_to=${encodeURIComponent(url.pathname + url.search)}`, 302)
  }
  return next()
})
