/**
 * PKCE (RFC 7636) checks for the FanzSSO token endpoint, OAuth 2.1 profile: S256 only. `plain`
 * (and an absent method, which RFC 7636 §4.3 defaults to plain) is refused, as RFC 9700 §2.1.1
 * advises: a plain challenge leaked with the authorization request is the verifier itself.
 *
 * The verifier syntax is checked (43-128 of `[A-Za-z0-9-._~]`, §4.1) so short, guessable verifiers
 * never pass; the computed challenge is compared with the stored one in constant time.
 * Hashing is synchronous (noble SHA-256), usable inside a Durable Object transaction.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { base64url, timingSafeEqualText, utf8 } from '../../lib/encoding'

export type PkceMethod = 'S256'
export type PkceResult = { ok: true } | { ok: false; reason: 'unsupported method' | 'malformed verifier' | 'malformed challenge' | 'mismatch' }

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** BASE64URL of 32 bytes, no padding: 43 characters, the last one of `AEIMQUYcgkosw048` */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

export function isPkceVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier)
}

/** Syntax check of an S256 challenge, for the authorization endpoint before it stores one. */
export function isPkceChallenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge)
}

/** The S256 challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))), no padding. */
export function challengeFor(verifier: string): string {
  if (!isPkceVerifier(verifier)) throw new TypeError('malformed PKCE code verifier')
  return base64url(sha256(utf8(verifier)))
}

export function verifyPkce({ verifier, challenge, method }: { verifier: string; challenge: string; method?: string | null }): PkceResult {
  if (method !== 'S256') return { ok: false, reason: 'unsupported method' }
  if (!isPkceVerifier(verifier)) return { ok: false, reason: 'malformed verifier' }
  if (!isPkceChallenge(challenge)) return { ok: false, reason: 'malformed challenge' }
  return timingSafeEqualText(challengeFor(verifier), challenge) ? { ok: true } : { ok: false, reason: 'mismatch' }
}
