/**
 * Token issuing for the token endpoint: access token (JWT the edge verifies locally), ID token
 * (audience = the client), and the refresh token as the client sees it.
 *
 * Opaque tokens handed to clients carry their user's id as a routing prefix,
 * `<userId>.<token>` (codes `ac_...`, refresh tokens `rt_...`): the secret part is the 256-bit
 * random token the user's `UserSessions` object stores only as a hash; the prefix only says which
 * object to ask, so no global lookup table (and no cross-user scan) is needed. The user id is no
 * secret: it is the `sub` of every token the client already holds.
 * @module
 */
import { SignJWT } from 'jose'
import type { Config } from '../../config'
import { randomToken } from '../../lib/encoding'
import { activeSigningKey } from '../keys'
import { signAccessToken } from '../tokens'
import { acrFor, profileFor } from './claims'
import type { OAuthClient } from './clients'
import { OAuthError } from './errors'

const ROUTED_RE = /^(usr_[0-9A-HJKMNP-TV-Z]{26})\.((?:ac|rt)_[A-Za-z0-9_-]{43})$/
export const ID_TOKEN_TTL_S = 600

/** `<userId>.<token>` -> parts, or null when it is not one of ours. */
export function parseRouted(value: string, kind: 'ac' | 'rt'): { userId: string; token: string } | null {
  const match = ROUTED_RE.exec(value)
  if (!match || !match[2]!.startsWith(`${kind}_`)) return null
  return { userId: match[1]!, token: match[2]! }
}

export function routed(userId: string, token: string): string {
  return `${userId}.${token}`
}

export interface SessionGrant {
  userId: string
  client: OAuthClient
  scopes: string[]
  amr: string[]
  authTimeS: number
  /** the IdP session (OIDC `sid`) */
  sid: string
  /** the client session (its refresh-token family) */
  clientSessionId: string
  nonce?: string | null
  refreshToken?: string
}

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  id_token?: string
  refresh_token?: string
}

export async function issueUserTokens(d1: D1Database, config: Config, grant: SessionGrant, nowMs = Date.now()): Promise<TokenResponse> {
  const profile = await profileFor(d1, grant.userId, grant.client, grant.scopes, nowMs)
  if (!profile) throw new OAuthError('invalid_grant', 'the account no longer exists')
  if (profile.status !== 'active') throw new OAuthError('invalid_grant', 'the account is disabled')
  const acr = acrFor(grant.amr)
  const access = await signAccessToken(
    d1,
    config,
    {
      subject: grant.userId,
      roles: profile.roles.roles,
      ageVerified: profile.claims.age_verified,
      amr: grant.amr,
      authTimeS: grant.authTimeS,
      extra: { ...(profile.claims.name ? { name: profile.claims.name } : {}), brand_roles: profile.roles.brandRoles, client_id: grant.client.id, scope: grant.scopes.join(' '), sid: grant.sid, csid: grant.clientSessionId, acr },
    },
    nowMs,
  )
  const response: TokenResponse = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.expiresAtS - Math.floor(nowMs / 1000),
    scope: grant.scopes.join(' '),
  }
  if (grant.scopes.includes('openid')) {
    const key = await activeSigningKey(d1, config, nowMs, grant.client.idTokenAlg)
    const iat = Math.floor(nowMs / 1000)
    const { sub: _sub, ...claims } = profile.claims
    response.id_token = await new SignJWT({
      ...claims,
      auth_time: grant.authTimeS,
      ...(grant.nonce ? { nonce: grant.nonce } : {}),
      acr,
      amr: grant.amr,
      azp: grant.client.id,
      sid: grant.sid,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(config.issuer)
      .setSubject(grant.userId)
      .setAudience(grant.client.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ID_TOKEN_TTL_S)
      .setJti(randomToken(16))
      .sign(key.privateKey)
  }
  if (grant.refreshToken && grant.scopes.includes('offline_access')) response.refresh_token = routed(grant.userId, grant.refreshToken)
  return response
}

/** client_credentials: the client acts as itself (`sub` = client id, role `service`), no refresh token. */
export async function issueServiceToken(d1: D1Database, config: Config, client: OAuthClient, scopes: string[], nowMs = Date.now()): Promise<TokenResponse> {
  const access = await signAccessToken(d1, config, { subject: client.id, roles: ['service'], extra: { client_id: client.id, scope: scopes.join(' ') } }, nowMs)
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresAtS - Math.floor(nowMs / 1000), scope: scopes.join(' ') }
}
