/**
 * The one-time code store (`otp_challenges`): `issueCode` mints a 6-digit code for one user, channel,
 * destination and purpose; `verifyCode` checks a guess. NIST SP 800-63B (sso.md §6): valid 10
 * minutes, single use, 6 digits (~20 bits) so guessing is capped — here 5 attempts per challenge, and
 * the send throttle (flood.ts) bounds how many challenges a user or destination gets.
 *
 * Only a keyed hash of the code is stored: HMAC-SHA-256 under a key derived (HKDF) from
 * SIGNING_MASTER_KEY, over `<challenge id>:<code>`. A plain SHA-256 of a 6-digit code would be
 * reversed in milliseconds by anyone who can read the table (a backup, a read-only console) while
 * the code is still live; with the key it is useless without the Worker's secret, and binding the id
 * means one challenge's hash says nothing about another's.
 *
 * Attempts are counted by one conditional `UPDATE ... SET attempts = attempts + 1 ... RETURNING`
 * *before* the comparison, so parallel guesses each spend one attempt and no more than
 * `max_attempts` guesses are ever compared. Consumption is a second conditional update, so two
 * right answers racing each other yield one success.
 * @module
 */
import { generateRandomIntegerNumber, type RandomReader } from '@oslojs/crypto/random'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { timingSafeEqualText, utf8 } from '../../lib/encoding'
import { isId, newId } from '../../lib/ids'

export const CODE_DIGITS = 6
export const CODE_TTL_MS = 10 * 60_000
export const MAX_ATTEMPTS = 5

export const OTP_CHANNELS = ['email', 'sms'] as const
export const OTP_PURPOSES = ['sign_in', 'verify_phone', 'step_up'] as const
export type OtpChannel = (typeof OTP_CHANNELS)[number]
export type OtpPurpose = (typeof OTP_PURPOSES)[number]

export type StoreEnv = Pick<Env, 'DB' | 'SIGNING_MASTER_KEY'>

export interface IssueInput {
  userId: string
  channel: OtpChannel
  /** E.164 number for `sms`, the account's email address for `email` */
  destination: string
  purpose: OtpPurpose
  /** the clock, for tests; callers pass nothing */
  nowMs?: number
}

export interface IssuedCode {
  challengeId: string
  expiresAtMs: number
  /** the code to send; never stored, logged or audited */
  code: string
}

export interface VerifyInput {
  challengeId: string
  userId: string
  code: string
  /** when given, a challenge of another purpose counts as unknown (a phone-verification code never signs in) */
  purpose?: OtpPurpose
  nowMs?: number
}

export type VerifyFailure = 'invalid' | 'expired' | 'exhausted' | 'used'

export type VerifyResult =
  | { ok: true; channel: OtpChannel; destination: string; purpose: OtpPurpose }
  | {
      ok: false
      reason: VerifyFailure
      attemptsLeft: number
      /** true when this guess used up one of a live challenge's attempts (the only failure that changes state) */
      spent: boolean
    }

const CODE_SPACE = 10 ** CODE_DIGITS
const CODE_RE = new RegExp(`^[0-9]{${CODE_DIGITS}}$`)

const cryptoRandom: RandomReader = {
  read: (bytes) => {
    crypto.getRandomValues(bytes)
  },
}

/**
 * A uniformly random 6-digit code: oslo's rejection sampling over the CSPRNG (a draw at or above
 * 10^6 is redrawn, never folded with a modulo, so no code is likelier than another). `random` is
 * injectable for tests.
 */
export function generateCode(random: RandomReader = cryptoRandom): string {
  return String(generateRandomIntegerNumber(random, CODE_SPACE)).padStart(CODE_DIGITS, '0')
}

const codeKeys = new Map<string, Uint8Array>()

function codeKey(masterKey: string): Uint8Array {
  let key = codeKeys.get(masterKey)
  if (!key) {
    key = hkdf(sha256, utf8(masterKey), utf8('fanz/otp'), utf8('otp-code/v1'), 32)
    codeKeys.set(masterKey, key)
  }
  return key
}

/** What is stored for `code` of `challengeId` (hex HMAC-SHA-256, see the module comment). */
export function hashCode(masterKey: string, challengeId: string, code: string): string {
  return bytesToHex(hmac(sha256, codeKey(masterKey), utf8(`${challengeId}:${code}`)))
}

/**
 * Mints a code. Earlier unconsumed codes of the same user, purpose and channel stop working in the
 * same atomic batch (they are marked expired), so only the newest code sent is ever valid.
 */
export async function issueCode(env: StoreEnv, input: IssueInput): Promise<IssuedCode> {
  const nowMs = input.nowMs ?? Date.now()
  const challengeId = newId('otpChallenge', nowMs)
  const code = generateCode()
  const expiresAtMs = nowMs + CODE_TTL_MS
  await env.DB.batch([
    env.DB.prepare(
      `UPDATE otp_challenges SET expires_at_ms = ?1
       WHERE user_id = ?2 AND purpose = ?3 AND channel = ?4 AND consumed_at_ms IS NULL AND expires_at_ms > ?1`,
    ).bind(nowMs, input.userId, input.purpose, input.channel),
    env.DB.prepare(
      `INSERT INTO otp_challenges (id, user_id, channel, destination, purpose, code_hash, attempts, max_attempts, expires_at_ms, consumed_at_ms, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, ?)`,
    ).bind(challengeId, input.userId, input.channel, input.destination, input.purpose, hashCode(env.SIGNING_MASTER_KEY, challengeId, code), MAX_ATTEMPTS, expiresAtMs, nowMs),
  ])
  return { challengeId, expiresAtMs, code }
}

type SpentRow = { code_hash: string; attempts: number; max_attempts: number; channel: OtpChannel; destination: string; purpose: OtpPurpose }
type StateRow = { attempts: number; max_attempts: number; expires_at_ms: number; consumed_at_ms: number | null }

/** Checks a guess; every guess that reaches a live challenge spends one attempt (see the module comment). */
export async function verifyCode(env: StoreEnv, input: VerifyInput): Promise<VerifyResult> {
  const nowMs = input.nowMs ?? Date.now()
  // an unknown id, another user's challenge or another purpose all look the same: no enumeration
  const unknown: VerifyResult = { ok: false, reason: 'invalid', attemptsLeft: 0, spent: false }
  if (!isId('otpChallenge', input.challengeId)) return unknown
  const purposeClause = input.purpose ? 'AND purpose = ?4' : ''
  const spend = env.DB.prepare(
    `UPDATE otp_challenges SET attempts = attempts + 1
     WHERE id = ?1 AND user_id = ?2 AND consumed_at_ms IS NULL AND attempts < max_attempts AND expires_at_ms > ?3 ${purposeClause}
     RETURNING code_hash, attempts, max_attempts, channel, destination, purpose`,
  )
  const spent = await (input.purpose ? spend.bind(input.challengeId, input.userId, nowMs, input.purpose) : spend.bind(input.challengeId, input.userId, nowMs)).first<SpentRow>()
  if (!spent) {
    const state = await env.DB.prepare(
      `SELECT attempts, max_attempts, expires_at_ms, consumed_at_ms FROM otp_challenges WHERE id = ?1 AND user_id = ?2 ${input.purpose ? 'AND purpose = ?3' : ''}`,
    )
      .bind(...(input.purpose ? [input.challengeId, input.userId, input.purpose] : [input.challengeId, input.userId]))
      .first<StateRow>()
    if (!state) return unknown
    if (state.consumed_at_ms !== null) return { ok: false, reason: 'used', attemptsLeft: 0, spent: false }
    if (state.attempts >= state.max_attempts) return { ok: false, reason: 'exhausted', attemptsLeft: 0, spent: false }
    return { ok: false, reason: 'expired', attemptsLeft: 0, spent: false }
  }
  const attemptsLeft = Math.max(0, spent.max_attempts - spent.attempts)
  // a malformed guess still spent its attempt above: the shape of a guess must not buy extra tries
  const guessHash = hashCode(env.SIGNING_MASTER_KEY, input.challengeId, CODE_RE.test(input.code) ? input.code : '')
  if (!timingSafeEqualText(guessHash, spent.code_hash)) return { ok: false, reason: 'invalid', attemptsLeft, spent: true }
  const consumed = await env.DB.prepare('UPDATE otp_challenges SET consumed_at_ms = ?1 WHERE id = ?2 AND consumed_at_ms IS NULL RETURNING id')
    .bind(nowMs, input.challengeId)
    .first<{ id: string }>()
  if (!consumed) return { ok: false, reason: 'used', attemptsLeft: 0, spent: true }
  return { ok: true, channel: spent.channel, destination: spent.destination, purpose: spent.purpose }
}

/** Ends every live code of a user on one channel (e.g. the phone they were sent to was removed). */
export async function revokeCodes(env: Pick<Env, 'DB'>, userId: string, channel: OtpChannel, nowMs: number = Date.now()): Promise<number> {
  const result = await env.DB.prepare('UPDATE otp_challenges SET expires_at_ms = ?1 WHERE user_id = ?2 AND channel = ?3 AND consumed_at_ms IS NULL AND expires_at_ms > ?1')
    .bind(nowMs, userId, channel)
    .run()
  return result.meta.changes ?? 0
}
