/**
 * TOTP (RFC 6238) for FanzSSO MFA, on @oslojs/otp's HOTP (RFC 4226) core.
 *
 * Parameters are the ones every authenticator app understands: SHA-1, 6 digits, 30 s steps, T0 = 0
 * (Google Authenticator supports SHA-1 only). The time is passed in rather than read, so callers
 * and tests control the clock; @oslojs' own TOTP helpers read `Date.now()`.
 *
 * Verification accepts the current step and one step either side (clock drift), and refuses any
 * step at or below the last step this secret was accepted for: RFC 6238 §5.2 / NIST 800-63B "accept
 * a given OTP only once while it is valid". The caller stores the returned `step` atomically with
 * the check (a Durable Object: KV has no compare-and-swap). All candidate steps are computed and
 * compared in constant time, whichever matches.
 * @module
 */
import { generateHOTP } from '@oslojs/otp'
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding'
import { timingSafeEqualText } from '../../lib/encoding'

export const TOTP_PERIOD_SECONDS = 30
export const TOTP_DIGITS = 6
/** 160 bits: the size RFC 4226 §4 recommends (R6) */
export const TOTP_SECRET_BYTES = 20
/** steps accepted either side of the current one */
export const TOTP_DRIFT_STEPS = 1

export type TotpResult = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' }

export function newTotpSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES))
}

/** The RFC 6238 time step (counter) at `nowMs`. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / (TOTP_PERIOD_SECONDS * 1000))
}

/** The code for one step: `digits` 6-8 (8 only for the RFC vectors; apps use 6). */
export function totpCode(secret: Uint8Array, step: number, digits = TOTP_DIGITS): string {
  return generateHOTP(secret, BigInt(step), digits)
}

/**
 * The Key URI an authenticator app scans: `otpauth://totp/Issuer:account?secret=...&issuer=Issuer&
 * algorithm=SHA1&digits=6&period=30` (google-authenticator Key-Uri-Format). Percent-encoding uses
 * %20, never `+` (which apps show literally); a colon in issuer or account would split the label,
 * so it is refused.
 */
export function totpUri({ secret, account, issuer }: { secret: Uint8Array; account: string; issuer: string }): string {
  if (!issuer || !account) throw new TypeError('issuer and account are required')
  if (issuer.includes(':') || account.includes(':')) throw new TypeError('issuer and account must not contain ":"')
  const enc = encodeURIComponent
  const query = [
    `secret=${encodeBase32UpperCaseNoPadding(secret)}`,
    `issuer=${enc(issuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&')
  return `otpauth://totp/${enc(issuer)}:${enc(account)}?${query}`
}

/**
 * Checks `code` against the steps around `nowMs`. `lastUsedStep` is the step of the last accepted
 * code for this secret (undefined/null if none); the result's `step` becomes the new one.
 * Spaces in the input are ignored ("123 456"); anything else but exactly `digits` digits is invalid.
 */
export function verifyTotp({
  secret,
  code,
  nowMs,
  lastUsedStep,
  digits = TOTP_DIGITS,
}: {
  secret: Uint8Array
  code: string
  nowMs: number
  lastUsedStep?: number | null
  digits?: number
}): TotpResult {
  const presented = code.replace(/\s+/g, '')
  if (presented.length !== digits || !/^[0-9]+$/.test(presented)) return { ok: false, reason: 'invalid' }
  const current = totpStep(nowMs)
  const floor = lastUsedStep ?? -1
  let accepted = -1
  let replayed = false
  // no early exit: every candidate is computed and compared, whichever matches
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    if (step < 0) continue
    const match = timingSafeEqualText(totpCode(secret, step, digits), presented)
    if (match && step > floor) {
      if (accepted < 0) accepted = step
    } else if (match) {
      replayed = true
    }
  }
  if (accepted >= 0) return { ok: true, step: accepted }
  return { ok: false, reason: replayed ? 'replayed' : 'invalid' }
}
