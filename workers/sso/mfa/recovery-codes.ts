/**
 * Single-use MFA recovery codes: the way back in when the authenticator app is lost.
 *
 * Ten codes of 10 Crockford base32 characters (50 bits each), shown once as `xxxxx-xxxxx`. The
 * alphabet has no i, l, o or u, and input is normalised (case, spaces, dashes, o -> 0, i/l -> 1), so
 * codes copied from paper still match. Only SHA-256 hashes of the normalised codes are stored.
 *
 * Hashing is synchronous (noble SHA-256) so a Durable Object can check and mark a code used inside
 * one `transactionSync`. `consumeRecoveryCode` compares the presented code with every stored hash in
 * constant time and never stops at the first match, so timing does not tell how many codes are left
 * or which one matched.
 *
 * 50 bits are plenty online (throttled) but not against an offline search of a leaked table:
 * unsalted SHA-256 is fast. The table sits next to sealed TOTP secrets and password hashes, so a
 * leak of it is already a full compromise; callers wanting more use a longer `length`.
 * @module
 */
import { sha256Hex, timingSafeEqualText } from '../../lib/encoding'

export const RECOVERY_CODE_COUNT = 10
export const RECOVERY_CODE_LENGTH = 10
/** Crockford base32: no i, l, o, u */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'

export interface RecoveryCodes {
  /** shown to the user once, `xxxxx-xxxxx` */
  codes: string[]
  /** what is stored: SHA-256 (hex) of each normalised code, in the same order */
  hashes: string[]
}

export type RecoveryCodeResult = { ok: true; index: number; hash: string } | { ok: false }

function newCode(length: number): string {
  // 256 is a multiple of 32: `byte & 31` is uniform
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let code = ''
  for (const byte of bytes) code += ALPHABET[byte & 31]
  return code.replace(/(.{5})(?=.)/g, '$1-')
}

/** Lower case, no separators, Crockford's look-alikes folded; `undefined` if anything else remains. */
export function normaliseRecoveryCode(presented: string): string | undefined {
  const folded = presented
    .toLowerCase()
    .replace(/[\s\-_]+/g, '')
    .replaceAll('o', '0')
    .replace(/[il]/g, '1')
  return /^[0-9a-hjkmnp-tv-z]+$/.test(folded) ? folded : undefined
}

function hashNormalised(normalised: string): string {
  return sha256Hex(`fanz/recovery-code/v1:${normalised}`)
}

/** The stored form of a code: SHA-256 (hex) of its normalised form, domain-separated. */
export function hashRecoveryCode(code: string): string {
  const normalised = normaliseRecoveryCode(code)
  if (normalised === undefined) throw new TypeError('not a recovery code')
  return hashNormalised(normalised)
}

export function newRecoveryCodes(count = RECOVERY_CODE_COUNT, length = RECOVERY_CODE_LENGTH): RecoveryCodes {
  const codes = new Set<string>()
  while (codes.size < count) codes.add(newCode(length))
  const list = [...codes]
  return { codes: list, hashes: list.map(hashRecoveryCode) }
}

/**
 * Which stored hash `presented` matches. Pass the hashes still unused; the caller marks the
 * returned one used in the same transaction that checked it.
 */
export function consumeRecoveryCode(hashes: readonly string[], presented: string): RecoveryCodeResult {
  const normalised = normaliseRecoveryCode(presented)
  // hash even a malformed input, so every call costs the same
  const candidate = hashNormalised(normalised ?? '')
  let index = -1
  for (let i = 0; i < hashes.length; i++) {
    const match = timingSafeEqualText(hashes[i]!, candidate)
    if (match && index < 0) index = i
  }
  if (normalised === undefined || index < 0) return { ok: false }
  return { ok: true, index, hash: hashes[index]! }
}
