/**
 * Token introspection (RFC 7662) and revocation (RFC 7009). Both accept our two kinds of token:
 * refresh tokens (`<userId>.rt_...`, asked of the user's UserSessions object) and access tokens
 * (JWTs, checked for signature, expiry and a live session). Introspection answers
 * `{ "active": false }` and nothing else for anything not usable; revocation answers 200 even for
 * unknown tokens (RFC 7009 §2.2), so neither endpoint tells a caller which tokens exist.
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { userSessions } from '../sessions'
import { liveAccessToken } from './access'
import { authenticateClient } from './client-auth'
import { NO_STORE, OAuthError, oauthForm } from './errors'
import { parseRouted } from './issue'

export async function introspectionEndpoint(c: Context<AppEnv>): Promise<Response> {
  const form = await oauthForm(c)
  const caller = await authenticateClient(c, form, { allowPublic: false })
  if (!form.token) throw new OAuthError('invalid_request', 'token is required')
  const inactive = () => c.json({ active: false }, 200, NO_STORE)
  const refresh = parseRouted(form.token, 'rt')
  if (refresh) {
    const found = await userSessions(c.env, refresh.userId).introspect(refresh.token)
    if (!found.active) return inactive()
    // a client may introspect its own tokens; first-party and service clients any
    if (found.clientId !== caller.id && caller.kind !== 'service' && !caller.firstParty) return inactive()
    return c.json(
      {
        active: true,
        token_type: 'refresh_token',
        client_id: found.clientId,
        sub: refresh.userId,
        scope: found.scope ?? '',
        iat: Math.floor(found.issuedAtMs / 1000),
        exp: Math.floor(found.expiresAtMs / 1000),
        iss: c.var.config.issuer,
        sid: found.parentId ?? found.sessionId,
        auth_time: found.authTimeS,
        amr: found.amr,
      },
      200,
      NO_STORE,
    )
  }
  const live = await liveAccessToken(c.env, c.var.config, form.token)
  if (!live) return inactive()
  const { claims } = live
  if (claims.client_id !== caller.id && caller.kind !== 'service' && !caller.firstParty) return inactive()
  return c.json(
    {
      active: true,
      token_type: 'Bearer',
      client_id: claims.client_id,
      sub: claims.sub,
      scope: claims.scope ?? '',
      iat: claims.iat,
      exp: claims.exp,
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
      ...(claims.sid ? { sid: claims.sid } : {}),
      ...(claims.auth_time ? { auth_time: claims.auth_time } : {}),
    },
    200,
    NO_STORE,
  )
}

export async function revocationEndpoint(c: Context<AppEnv>): Promise<Response> {
  const form = await oauthForm(c)
  const caller = await authenticateClient(c, form, { allowPublic: true })
  if (!form.token) throw new OAuthError('invalid_request', 'token is required')
  if (form.token_type_hint && !['refresh_token', 'access_token'].includes(form.token_type_hint)) {
    throw new OAuthError('unsupported_token_type', 'token_type_hint must be refresh_token or access_token')
  }
  const done = () => c.body(null, 200, NO_STORE)
  const refresh = parseRouted(form.token, 'rt')
  let userId: string | undefined
  let sessionId: string | undefined
  if (refresh) {
    const found = await userSessions(c.env, refresh.userId).introspect(refresh.token)
    if (found.active && found.clientId === caller.id) [userId, sessionId] = [refresh.userId, found.sessionId]
  } else {
    const live = await liveAccessToken(c.env, c.var.config, form.token)
    // revoking an access token ends the client session it belongs to (and so its refresh token)
    if (live?.claims.csid && live.claims.client_id === caller.id) [userId, sessionId] = [live.claims.sub, live.claims.csid]
  }
  if (userId && sessionId) {
    const revoked = await userSessions(c.env, userId).revokeSession(sessionId, 'client_revoked')
    if (revoked.ok && !revoked.alreadyRevoked) await audit(c, 'sso.token.revoke', `user:${userId}`, { client_id: caller.id, session_id: sessionId })
  }
  return done()
}
