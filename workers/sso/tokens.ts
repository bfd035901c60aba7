/**
 * Access tokens: short-lived JWTs signed with the active key, verified at the edge with no network
 * round trip. Claims: iss, aud, sub, iat, exp, jti, roles, plus `age_verified` (the result of an
 * age check: method and expiry, never the evidence) and `amr`/`auth_time` for step-up.
 * @module
 */
import { SignJWT } from 'jose'
import type { Config } from '../config'
import type { Role } from '../edge/roles'
import { randomToken } from '../lib/encoding'
import { activeSigningKey } from './keys'

export interface AgeVerifiedClaim {
  method: string
  /** epoch seconds after which the check must be redone */
  exp: number
}

export interface AccessTokenInput {
  subject: string
  roles: Role[]
  ageVerified?: AgeVerifiedClaim
  amr?: string[]
  authTimeS?: number
  ttlSeconds?: number
  extra?: Record<string, unknown>
}

export async function signAccessToken(d1: D1Database, config: Config, input: AccessTokenInput, nowMs = Date.now()): Promise<{ token: string; expiresAtS: number; kid: string }> {
  const key = await activeSigningKey(d1, config, nowMs)
  const iat = Math.floor(nowMs / 1000)
  const exp = iat + (input.ttlSeconds ?? config.accessTokenTtlSeconds)
  const token = await new SignJWT({
    ...input.extra,
    roles: input.roles,
    ...(input.ageVerified ? { age_verified: input.ageVerified } : {}),
    ...(input.amr ? { amr: input.amr } : {}),
    ...(input.authTimeS ? { auth_time: input.authTimeS } : {}),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(config.issuer)
    .setAudience(config.accessTokenAudience)
    .setSubject(input.subject)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(randomToken(16))
    .sign(key.privateKey)
  return { token, expiresAtS: exp, kid: key.kid }
}
