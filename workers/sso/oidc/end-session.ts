/**
 * RP-Initiated Logout 1.0 (`/end-session`) and the back-channel fan-out it starts. With a valid
 * `id_token_hint` for the signed-in user the sign-out happens at once (the client asked for it on
 * the user's behalf); without one the user confirms with a POST, so a cross-site link cannot sign
 * anybody out. `post_logout_redirect_uri` must be registered for the client, exactly.
 * @module
 */
import type { Context } from 'hono'
import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { publishedKeys, SIGNING_ALGS } from '../keys'
import { clearIdpCookie, readIdpSession } from '../login/idp-session'
import { userSessions } from '../sessions'
import { findClient, redirectUriAllowed } from './clients'
import { singleValued } from './errors'
import { notifyLoggedOut } from './logout'
import { authorizeErrorPage, confirmSignOutPage, signedOutPage } from './pages'

/** The hint's claims when we signed it (expired hints are fine: OIDC RP-Initiated Logout §2). */
async function hintClaims(d1: D1Database, issuer: string, hint: string | undefined): Promise<{ sub: string; aud: string; sid?: string } | null> {
  if (!hint || hint.length > 8192) return null
  try {
    await compactVerify(hint, createLocalJWKSet({ keys: await publishedKeys(d1) }), { algorithms: [...SIGNING_ALGS] })
    const claims = decodeJwt(hint)
    const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud
    if (claims.iss !== issuer || typeof claims.sub !== 'string' || typeof aud !== 'string') return null
    return { sub: claims.sub, aud, sid: typeof claims.sid === 'string' ? claims.sid : undefined }
  } catch {
    return null
  }
}

export async function endSessionEndpoint(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  let params: Record<string, string>
  try {
    params = singleValued(c.req.method === 'POST' ? new URLSearchParams(await c.req.text()) : new URL(c.req.url).searchParams)
  } catch {
    return authorizeErrorPage(c, 'A parameter was sent twice or the request could not be read.')
  }
  const hint = await hintClaims(c.env.DB, c.var.config.issuer, params.id_token_hint)
  if (params.id_token_hint && !hint) return authorizeErrorPage(c, 'The id_token_hint was not issued by FanzSSO.')
  const clientId = params.client_id ?? hint?.aud
  if (params.client_id && hint && params.client_id !== hint.aud) return authorizeErrorPage(c, 'client_id does not match the id_token_hint.')
  let returnTo: string | null = null
  if (params.post_logout_redirect_uri) {
    const client = clientId ? await findClient(c.env.DB, clientId) : null
    if (!client || !redirectUriAllowed(c.var.config, client.postLogoutRedirectUris, params.post_logout_redirect_uri)) {
      return authorizeErrorPage(c, 'The post_logout_redirect_uri is not registered for this application.')
    }
    const url = new URL(params.post_logout_redirect_uri)
    if (params.state) url.searchParams.set('state', params.state)
    returnTo = url.toString()
  }
  const session = await readIdpSession(c)
  const confirmed = c.req.method === 'POST' && isSameOrigin(c)
  const hinted = hint !== null && session !== null && hint.sub === session.userId
  if (session && !confirmed && !hinted) {
    const hidden: Record<string, string> = {}
    for (const name of ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id'] as const) if (params[name]) hidden[name] = params[name]!
    return confirmSignOutPage(c, hidden)
  }
  if (session) {
    const result = await userSessions(c.env, session.userId).revokeSession(session.sessionId, 'user_logout')
    if (result.ok && result.revoked.length) {
      c.executionCtx.waitUntil(notifyLoggedOut(c.env, c.executionCtx as ExecutionContext, c.var.config, session.userId, result.revoked, c.var.requestId))
    }
    await audit(c, 'sso.session.end', `user:${session.userId}`, { session_id: session.sessionId, client_id: clientId ?? null, sessions_ended: result.ok ? result.revoked.length : 0 })
  }
  clearIdpCookie(c)
  return returnTo ? c.redirect(returnTo, 303) : signedOutPage(c, null)
}
