/**
 * `/auth/*` on every brand host and on FanzDash: sign-in by redirect to FanzSSO, the callback that
 * exchanges the code server-side, sign-out (local + RP-initiated logout at the provider), and the
 * back-channel logout receiver. Mounted by the site and dash apps.
 * @module
 */
import { Hono, type Context } from 'hono'
import * as oauth from 'oauth4webapi'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../lib/sealed-cookie'
import { cookieNames, clearSession, markSsoChecked, readStoredSession, storeSession } from './cookies'
import { receiveBackchannelLogout } from './backchannel'
import { browserReachable } from '../../site/links'
import { relyingParty } from './relying-party'

export const clientRoutes = new Hono<AppEnv>()

interface Transaction {
  state: string
  nonce: string
  verifier: string
  returnTo: string
  silent: boolean
}

/** Only a path on this host: never an absolute URL (no open redirect). */
export function safePath(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2048) return '/'
  return value
}

clientRoutes.get('/auth/login', async (c) => {
  c.header('cache-control', 'no-store')
  const rp = await relyingParty(c)
  const prompt = c.req.query('prompt')
  const tx: Transaction = {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
    returnTo: safePath(c.req.query('return_to')),
    silent: prompt === 'none',
  }
  await setSealedCookie(c, cookieNames(c).tx, tx, 600)
  const url = browserReachable(c, rp.as.authorization_endpoint!)
  url.search = new URLSearchParams({
    client_id: rp.client.client_id,
    redirect_uri: rp.redirectUri,
    response_type: 'code',
    scope: 'openid profile email offline_access roles',
    state: tx.state,
    nonce: tx.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(tx.verifier),
    code_challenge_method: 'S256',
    ...(prompt === 'none' || prompt === 'login' ? { prompt } : {}),
  }).toString()
  return c.redirect(url.toString(), 302)
})

clientRoutes.get('/auth/callback', async (c) => {
  c.header('cache-control', 'no-store')
  const names = cookieNames(c)
  const tx = await readSealedCookie<Transaction>(c, names.tx)
  clearSealedCookie(c, names.tx)
  if (!tx) return c.redirect('/auth/login', 302)
  const rp = await relyingParty(c)
  let params: URLSearchParams
  try {
    params = oauth.validateAuthResponse(rp.as, rp.client, new URL(c.req.url), tx.state)
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      // a silent check that found nobody signed in: remember it and show the page anonymously
      if (tx.silent) {
        markSsoChecked(c)
        return c.redirect(tx.returnTo, 302)
      }
      return signInFailed(c, err.error === 'access_denied' ? 'Sign-in was cancelled.' : `FanzSSO refused the sign-in (${err.error}).`)
    }
    return signInFailed(c, 'The sign-in answer was not valid (state or issuer mismatch). Please try again.')
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(rp.as, rp.client, rp.auth, params, rp.redirectUri, tx.verifier, rp.options)
    const tokens = await oauth.processAuthorizationCodeResponse(rp.as, rp.client, response, { expectedNonce: tx.nonce, requireIdToken: true })
    await storeSession(c, tokens)
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError || err instanceof oauth.OperationProcessingError) {
      return signInFailed(c, 'The sign-in could not be completed. Please try again.')
    }
    throw err
  }
  return c.redirect(tx.returnTo, 302)
})

function signInFailed(c: Context<AppEnv>, message: string) {
  c.header('cache-control', 'no-store')
  return c.text(message, 400)
}

/** Signs out here, revokes the refresh token, then ends the FanzSSO session (every brand). */
clientRoutes.post('/auth/logout', async (c) => {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const stored = await readStoredSession(c)
  clearSession(c)
  const rp = await relyingParty(c)
  if (stored) {
    try {
      await oauth.processRevocationResponse(await oauth.revocationRequest(rp.as, rp.client, rp.auth, stored.refreshToken, rp.options))
    } catch {
      // the provider ends the session below anyway; a failed revocation must not trap the user
    }
  }
  const url = browserReachable(c, rp.as.end_session_endpoint!)
  url.search = new URLSearchParams({
    client_id: rp.client.client_id,
    post_logout_redirect_uri: `${rp.origin}/auth/logged-out`,
    ...(stored?.idToken ? { id_token_hint: stored.idToken } : {}),
  }).toString()
  return c.redirect(url.toString(), 303)
})

clientRoutes.get('/auth/logged-out', (c) => {
  c.header('cache-control', 'no-store')
  clearSession(c)
  markSsoChecked(c)
  return c.redirect('/', 302)
})

clientRoutes.post('/auth/backchannel-logout', receiveBackchannelLogout)
