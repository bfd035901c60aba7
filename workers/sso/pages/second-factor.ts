/**
 * Checking a user's TOTP code or recovery code against D1, each accepted once.
 *
 * TOTP replay (RFC 6238 §5.2, NIST "accept a given OTP only once"): the accepted step is written
 * with one conditional UPDATE (`totp_last_step < step`), so of two requests carrying the same code
 * only the one whose UPDATE changes the row wins; the other is a replay. Recovery codes: the
 * remaining list is swapped with a compare-and-set on the exact old JSON, so a code is spent once
 * even when two requests race (the loser re-reads and finds it gone).
 *
 * Wrong codes are throttled per user with the Throttle DO (`account:mfa:<userId>`, which carries the
 * NIST 100-consecutive-failures ceiling); callers spend an attempt before checking and clear it on
 * success.
 * @module
 */
import { consumeRecoveryCode } from '../mfa/recovery-codes'
import { unsealTotpSecret } from '../mfa/secret-box'
import { verifyTotp } from '../mfa/totp'
import { throttle, type KeyThrottle } from '../accounts/throttle'

export type TotpCheck = 'ok' | 'invalid' | 'replayed' | 'not_enrolled'

/** The per-user throttle of second-factor codes (sign-in step, enrolment, disabling). */
export function mfaThrottle(env: Pick<Env, 'THROTTLE'>, userId: string): KeyThrottle {
  return throttle(env, `account:mfa:${userId}`)
}

/** Verifies `code` for the user's enrolled TOTP secret and records its step atomically. */
export async function checkTotp(env: Pick<Env, 'DB'>, masterKey: string, userId: string, code: string, nowMs = Date.now()): Promise<TotpCheck> {
  const row = await env.DB.prepare('SELECT totp_secret_sealed AS sealed, totp_last_step AS last, totp_enabled_at_ms AS enabled FROM users WHERE id = ?')
    .bind(userId)
    .first<{ sealed: string | null; last: number | null; enabled: number | null }>()
  if (!row?.sealed || row.enabled === null) return 'not_enrolled'
  const secret = await unsealTotpSecret({ masterKey, ownerId: userId, sealed: row.sealed })
  const result = verifyTotp({ secret, code, nowMs, lastUsedStep: row.last })
  if (!result.ok) return result.reason
  const update = await env.DB.prepare('UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_enabled_at_ms IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?)')
    .bind(result.step, userId, result.step)
    .run()
  // someone else recorded this step (or a later one) between our read and write: a replay
  return update.meta.changes === 1 ? 'ok' : 'replayed'
}

export type RecoveryCheck = { ok: true; remaining: number } | { ok: false }

/** Spends one of the user's recovery codes, or refuses. */
export async function spendRecoveryCode(env: Pick<Env, 'DB'>, userId: string, presented: string): Promise<RecoveryCheck> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await env.DB.prepare('SELECT recovery_codes_json AS codes FROM users WHERE id = ?').bind(userId).first<{ codes: string | null }>()
    if (!row?.codes) return { ok: false }
    const hashes = parseHashes(row.codes)
    const match = consumeRecoveryCode(hashes, presented)
    if (!match.ok) return { ok: false }
    const remaining = hashes.filter((_, i) => i !== match.index)
    const update = await env.DB.prepare('UPDATE users SET recovery_codes_json = ?, updated_at_ms = ? WHERE id = ? AND recovery_codes_json = ?')
      .bind(JSON.stringify(remaining), Date.now(), userId, row.codes)
      .run()
    if (update.meta.changes === 1) return { ok: true, remaining: remaining.length }
    // the list changed under us (another code spent, or regenerated): look again
  }
  return { ok: false }
}

/** The stored JSON array of hashes; anything else counts as no codes. */
export function parseHashes(json: string | null): string[] {
  if (!json) return []
  try {
    const value: unknown = JSON.parse(json)
    return Array.isArray(value) ? value.filter((h): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)) : []
  } catch {
    return []
  }
}
