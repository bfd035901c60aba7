/**
 * OpenID Back-Channel Logout 1.0 from the provider side: when sessions end (sign-out, "sign out
 * everywhere", an operator's revocation, refresh-token or code reuse), every client that held one of
 * them gets a signed `logout+jwt` POSTed to its registered URI. One attempt per client with a 5 s
 * timeout and no retransmission (spec §2.5, sso.md X4); outcomes are audited. The caller runs it in
 * `waitUntil` so the user's request does not wait for slow clients.
 * @module
 */
import { SignJWT } from 'jose'
import type { Config } from '../../config'
import { audit } from '../../compliance/audit'
import type { RevokedSession } from '../../../durable-objects/user-sessions'
import { randomToken } from '../../lib/encoding'
import { platformFetch } from '../../lib/platform-fetch'
import { activeSigningKey, type SigningAlg } from '../keys'
import { findClient } from './clients'
import { IDP_CLIENT_ID } from '../login/idp-session'

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const TIMEOUT_MS = 5_000

/** The logout token for one client (§2.4): iss, aud, iat, exp, jti, events, sub and sid; never a nonce. */
export async function logoutToken(d1: D1Database, config: Config, input: { clientId: string; subject: string; sid: string; alg?: SigningAlg }, nowMs = Date.now()): Promise<string> {
  // signed like the client's ID tokens, the algorithm it verifies
  const key = await activeSigningKey(d1, config, nowMs, input.alg)
  const iat = Math.floor(nowMs / 1000)
  return new SignJWT({ events: { [BACKCHANNEL_EVENT]: {} }, sid: input.sid })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(config.issuer)
    .setAudience(input.clientId)
    .setSubject(input.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .setJti(randomToken(16))
    .sign(key.privateKey)
}

export interface LogoutOutcome {
  clientId: string
  sid: string
  status: number | 'timeout' | 'error' | 'no_uri'
}

/**
 * Notifies the clients of `revoked` sessions of `userId`. The OIDC `sid` of a client session is the
 * IdP session that authorised it; IdP sessions themselves have no client to tell.
 */
export async function notifyLoggedOut(env: Env, ctx: ExecutionContext, config: Config, userId: string, revoked: readonly RevokedSession[], requestId?: string): Promise<LogoutOutcome[]> {
  const send = platformFetch(env, ctx)
  const targets = new Map<string, { clientId: string; sid: string }>()
  for (const session of revoked) {
    if (session.clientId === IDP_CLIENT_ID) continue
    const sid = session.parentId ?? session.sessionId
    targets.set(`${session.clientId}\0${sid}`, { clientId: session.clientId, sid })
  }
  const outcomes = await Promise.all(
    [...targets.values()].map(async ({ clientId, sid }): Promise<LogoutOutcome> => {
      const client = await findClient(env.DB, clientId)
      if (!client?.backchannelLogoutUri) return { clientId, sid, status: 'no_uri' }
      const token = await logoutToken(env.DB, config, { clientId, subject: userId, sid, alg: client.idTokenAlg })
      try {
        const res = await send(client.backchannelLogoutUri, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: token }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
        await res.body?.cancel()
        return { clientId, sid, status: res.status }
      } catch (err) {
        return { clientId, sid, status: err instanceof DOMException && err.name === 'TimeoutError' ? 'timeout' : 'error' }
      }
    }),
  )
  if (outcomes.length) {
    await audit({ env, actor: 'system:fanz-sso', actorRoles: [], requestId }, 'sso.backchannel_logout.sent', `user:${userId}`, {
      outcomes: outcomes.map((o) => ({ client_id: o.clientId, sid: o.sid, status: String(o.status) })),
    })
  }
  return outcomes
}
