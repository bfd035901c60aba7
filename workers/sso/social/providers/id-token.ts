/**
 * Reading an ID token received directly from a provider's token endpoint. OIDC Core 1.0 §3.1.3.7
 * (6) lets a client rely on TLS server validation instead of the signature for a token it fetched
 * itself from the token endpoint, so no JWKS is fetched; the claims are still checked: issuer,
 * audience (our client id), expiry and the nonce we sent (replay of another flow's token fails).
 * @module
 */
import { decodeIdToken } from 'arctic'
import type { ProviderId } from '../profile'
import { UpstreamProfileError } from '../profile'
import { timingSafeEqualText } from '../../../lib/encoding'

export interface IdTokenExpectations {
  issuers: string[]
  audience: string
  nonce: string
  nowS?: number
}

export function checkedIdTokenClaims(provider: ProviderId, idToken: string, expected: IdTokenExpectations): Record<string, unknown> {
  let claims: Record<string, unknown>
  try {
    claims = decodeIdToken(idToken) as Record<string, unknown>
  } catch {
    throw new UpstreamProfileError(`${provider} returned a malformed ID token`)
  }
  const nowS = expected.nowS ?? Math.floor(Date.now() / 1000)
  if (typeof claims.iss !== 'string' || !expected.issuers.includes(claims.iss)) throw new UpstreamProfileError(`${provider} ID token has an unexpected issuer`)
  const aud = claims.aud
  if (!(aud === expected.audience || (Array.isArray(aud) && aud.includes(expected.audience)))) throw new UpstreamProfileError(`${provider} ID token is not for this client`)
  // a minute of clock skew either way
  if (typeof claims.exp !== 'number' || claims.exp + 60 < nowS) throw new UpstreamProfileError(`${provider} ID token has expired`)
  if (typeof claims.nonce !== 'string' || !timingSafeEqualText(claims.nonce, expected.nonce)) throw new UpstreamProfileError(`${provider} ID token nonce does not match this sign-in`)
  return claims
}
