/**
 * Access tokens presented back to the provider (userinfo, introspection, revocation): verified like
 * the edge does, then checked against the user's UserSessions object, so a token whose session was
 * revoked is no longer honoured here even before it expires.
 * @module
 */
import type { JWTPayload } from 'jose'
import type { Config } from '../../config'
import { verifyAccessToken } from '../../edge/auth'
import { isId } from '../../lib/ids'
import { userSessions } from '../sessions'

export type LiveAccessToken = { claims: JWTPayload & { sub: string; client_id?: string; scope?: string; sid?: string; csid?: string } }

export async function liveAccessToken(env: Env, config: Config, token: string): Promise<LiveAccessToken | null> {
  if (token.length > 8192 || token.split('.').length !== 3) return null
  const verified = await verifyAccessToken(env.DB, token, { issuer: config.issuer, audience: config.accessTokenAudience })
  if (!verified.ok || typeof verified.claims.sub !== 'string') return null
  const claims = verified.claims as LiveAccessToken['claims']
  // user tokens name their client session; service tokens (client_credentials) have none
  if (typeof claims.csid === 'string' && isId('user', claims.sub)) {
    const session = await userSessions(env, claims.sub).getSession(claims.csid)
    if (!session || session.state !== 'active') return null
  }
  return { claims }
}
