/**
 * Password hashing for FanzSSO: PBKDF2-HMAC-SHA-256 through WebCrypto.
 *
 * Why PBKDF2 and why 100,000: production Workers refuse PBKDF2 above 100,000 iterations ("iteration
 * counts above 100000 are not supported") while local workerd accepts any count, so a higher value
 * passes every local test and fails every sign-in after deploy (sso.md §7). argon2id needs a
 * statically bundled WASM module (~40 ms) and scrypt needs nodejs_compat; PBKDF2 at the cap costs
 * about 16 ms of CPU (stack.md) with no dependency. OWASP asks 600,000 for PBKDF2-SHA-256, which the
 * platform cannot do: the per-hash encoding below lets a later release move to another algorithm
 * and rehash on the next successful sign-in (`needsRehash`).
 *
 * Encoding: `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>` — algorithm and parameters
 * live with each hash and are replayed on verify (sso.md §7, "Hash records"). Passwords are NFKC
 * normalised before hashing (NIST SP 800-63B), so equivalent spellings verify the same.
 * Verification never throws on stored data: anything unparseable simply does not match.
 * @module
 */
import { z } from 'zod'
import { base64url, fromBase64url, timingSafeEqualText, utf8 } from '../../lib/encoding'

export const PASSWORD_HASH_ALGORITHM = 'pbkdf2-sha256'
/** The production Workers cap; raising it breaks every deploy (a test guards it). */
export const PBKDF2_ITERATIONS = 100_000
/** Hard ceiling of the platform, distinct from the chosen value above. */
export const PBKDF2_MAX_ITERATIONS_ON_WORKERS = 100_000
export const SALT_BYTES = 16
export const HASH_BYTES = 32

export interface VerifyOutcome {
  ok: boolean
  /** true when the password matched but the stored parameters are weaker than the current ones */
  needsRehash: boolean
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/)

/** The stored record, checked field by field: the database is a boundary too. */
const encodedHash = z
  .string()
  .transform((value) => value.split('$'))
  .pipe(
    z.tuple([
      z.literal(PASSWORD_HASH_ALGORITHM),
      z.string().regex(/^[1-9][0-9]{0,6}$/).transform(Number).pipe(z.number().int().min(1).max(PBKDF2_MAX_ITERATIONS_ON_WORKERS)),
      b64url,
      b64url,
    ]),
  )

/** NFKC: the form both hashing and the policy check see (password-policy.ts). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

async function derive(password: string, salt: Uint8Array, iterations: number, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', utf8(normalizePassword(password)), 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, bytes * 8)
  return new Uint8Array(bits)
}

/** Hashes a password with the current parameters and a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  const hash = await derive(password, salt, PBKDF2_ITERATIONS, HASH_BYTES)
  return [PASSWORD_HASH_ALGORITHM, PBKDF2_ITERATIONS, base64url(salt), base64url(hash)].join('$')
}

/**
 * Checks a password against a stored encoding in constant time. Malformed or unknown encodings (and
 * iteration counts production would refuse) answer `{ ok: false }` instead of throwing.
 */
export async function verifyPassword(password: string, stored: string): Promise<VerifyOutcome> {
  const parsed = encodedHash.safeParse(stored)
  if (!parsed.success) return { ok: false, needsRehash: false }
  const [, iterations, saltText, hashText] = parsed.data
  let salt: Uint8Array
  let expected: Uint8Array
  try {
    salt = fromBase64url(saltText)
    expected = fromBase64url(hashText)
  } catch {
    return { ok: false, needsRehash: false }
  }
  if (salt.byteLength < 8 || expected.byteLength < 16 || expected.byteLength > 64) return { ok: false, needsRehash: false }
  const actual = await derive(password, salt, iterations, expected.byteLength)
  // crypto.subtle.timingSafeEqual underneath; the stored text is compared as stored
  const ok = timingSafeEqualText(base64url(actual), hashText)
  const weaker = iterations < PBKDF2_ITERATIONS || salt.byteLength < SALT_BYTES || expected.byteLength < HASH_BYTES
  return { ok, needsRehash: ok && weaker }
}
