/**
 * The FanzSSO password policy, after NIST SP 800-63B rev 4 (sso.md §6):
 *
 * - length counted in Unicode code points after NFKC normalisation (the same form password.ts
 *   hashes): at least 15 when the password is the only factor, at least 8 when it is used only
 *   within MFA; up to 256 accepted (NIST: allow at least 64);
 * - every printable character is allowed, spaces included; no composition rules, no expiry;
 *   control characters and unpaired surrogates are refused (they cannot be typed reliably and a
 *   lone surrogate would be hashed as U+FFFD, colliding with other inputs);
 * - refused when on a blocklist of common/breached passwords or built around context words: the
 *   email's local part, the brand names, 'fanz'.
 *
 * Blocklist: `@zxcvbn-ts/language-common` 4.1.3 (MIT, ~2M downloads/month), its `passwords.json`:
 * 49,233 most common passwords by frequency from leaked corpora (the zxcvbn "passwords" list), imported
 * statically so wrangler bundles it (~487 KB raw, ~216 KiB gzipped). Only entries that could pass
 * the length rule (>= 8 code points: 17,950) go into the lookup set, built on first use rather than
 * at isolate start-up. Comparison is case-insensitive (the list is lower-case).
 * @module
 */
import commonPasswords from '@zxcvbn-ts/language-common/src/passwords.json'
import { z } from 'zod'
import type { FieldError } from '../../edge/problem'
import { emailLocalPart } from './email'
import { normalizePassword } from './password'

/** Password is the only authentication factor (NIST SP 800-63B-4 §3.1.1.2). */
export const MIN_LENGTH_SINGLE_FACTOR = 15
/** Password used only as one factor of MFA. */
export const MIN_LENGTH_WITH_MFA = 8
export const MAX_LENGTH = 256

/** Brand names and the platform name: a password built on them is the first thing guessed. */
export const CONTEXT_WORDS = ['boyfanz', 'girlfanz', 'pupfanz', 'transfanz', 'taboofanz', 'fanz'] as const
/** Shorter email local parts (`jo@...`) would refuse too many unrelated passwords. */
const MIN_LOCAL_PART_CONTEXT = 3

export const PASSWORD_PATH = 'body.password'
export const MESSAGES = {
  tooShort: (min: number) => `must be at least ${min} characters`,
  tooLong: `must be at most ${MAX_LENGTH} characters`,
  unprintable: 'must contain only printable characters',
  blocklisted: 'is too common: choose a less predictable password',
  contextWord: 'must not contain the site name or your email address',
} as const

export const passwordPolicyOptions = z.object({
  /** the account's email, for the context-word check */
  email: z.string().optional(),
  /** true when the password is used only together with a second factor */
  withMfa: z.boolean().default(false),
  /** dotted field path reported in problems */
  path: z.string().default(PASSWORD_PATH),
})
export type PasswordPolicyOptions = z.input<typeof passwordPolicyOptions>

export type PasswordCheck = { ok: true; normalized: string } | { ok: false; errors: FieldError[] }

let blocklist: Set<string> | undefined

function blocked(lower: string): boolean {
  blocklist ??= new Set((commonPasswords as string[]).filter((p) => [...p].length >= MIN_LENGTH_WITH_MFA))
  return blocklist.has(lower)
}

// Cc (controls) and Cs (lone surrogates, checked with isWellFormed below); format and private-use
// characters are printable enough to be allowed (emoji sequences use ZWJ).
const CONTROL = /\p{Cc}/u

/**
 * Checks a candidate password. All problems are reported, each as `{ path, message }`; on success
 * returns the NFKC form (what `hashPassword` will hash).
 */
export function checkPassword(password: string, options: PasswordPolicyOptions = {}): PasswordCheck {
  const { email, withMfa, path } = passwordPolicyOptions.parse(options)
  const errors: FieldError[] = []
  if (!password.isWellFormed() || CONTROL.test(password)) errors.push({ path, message: MESSAGES.unprintable })
  const normalized = normalizePassword(password)
  const length = [...normalized].length
  const min = withMfa ? MIN_LENGTH_WITH_MFA : MIN_LENGTH_SINGLE_FACTOR
  if (length < min) errors.push({ path, message: MESSAGES.tooShort(min) })
  if (length > MAX_LENGTH) errors.push({ path, message: MESSAGES.tooLong })

  const lower = normalized.toLowerCase()
  if (blocked(lower)) errors.push({ path, message: MESSAGES.blocklisted })
  // compare without separators so 'Boy Fanz' and 'boy-fanz' count as the brand
  const squashed = lower.replace(/[\s\p{P}\p{S}]/gu, '')
  const local = email ? emailLocalPart(email).replace(/[\s\p{P}\p{S}]/gu, '') : ''
  const words: string[] = [...CONTEXT_WORDS]
  if ([...local].length >= MIN_LOCAL_PART_CONTEXT) words.push(local)
  if (words.some((word) => squashed.includes(word))) errors.push({ path, message: MESSAGES.contextWord })

  return errors.length ? { ok: false, errors } : { ok: true, normalized }
}
