/**
 * The `social_identities` and `users` rows social sign-in reads and writes. Account creation and
 * the first identity go in one D1 batch (atomic), so there is never an account without the identity
 * that created it, nor an identity pointing at nothing. Uniqueness (one account per normalized
 * email, one account per provider subject) is enforced by the database; a lost race comes back as
 * a `taken` outcome, never as an exception.
 * @module
 */
import { emailLocalPart, normalizeEmail } from '../accounts/email'
import { newId } from '../../lib/ids'
import type { ProviderId, SocialProfile } from './profile'

export interface LinkedIdentity {
  provider: string
  subject: string
  userId: string
  email: string | null
  linkedAtMs: number
}

export interface LocalAccount {
  id: string
  email: string
  emailNormalized: string
  emailVerifiedAtMs: number | null
  status: string
}

export type CreateOutcome = { ok: true; userId: string } | { ok: false; reason: 'email_taken' | 'identity_taken' }
export type LinkOutcome = { ok: true } | { ok: false; reason: 'identity_taken' }

const MAX_DISPLAY_NAME = 100

export async function findIdentity(d1: D1Database, provider: ProviderId, subject: string): Promise<LinkedIdentity | null> {
  const row = await d1
    .prepare('SELECT provider, provider_subject, user_id, email, linked_at_ms FROM social_identities WHERE provider = ? AND provider_subject = ?')
    .bind(provider, subject)
    .first<{ provider: string; provider_subject: string; user_id: string; email: string | null; linked_at_ms: number }>()
  return row ? { provider: row.provider, subject: row.provider_subject, userId: row.user_id, email: row.email, linkedAtMs: row.linked_at_ms } : null
}

export async function identitiesOf(d1: D1Database, userId: string): Promise<LinkedIdentity[]> {
  const { results } = await d1
    .prepare('SELECT provider, provider_subject, user_id, email, linked_at_ms FROM social_identities WHERE user_id = ? ORDER BY linked_at_ms')
    .bind(userId)
    .all<{ provider: string; provider_subject: string; user_id: string; email: string | null; linked_at_ms: number }>()
  return results.map((row) => ({ provider: row.provider, subject: row.provider_subject, userId: row.user_id, email: row.email, linkedAtMs: row.linked_at_ms }))
}

export async function accountById(d1: D1Database, userId: string): Promise<LocalAccount | null> {
  const row = await d1
    .prepare('SELECT id, email, email_normalized, email_verified_at_ms, status FROM users WHERE id = ?')
    .bind(userId)
    .first<{ id: string; email: string; email_normalized: string; email_verified_at_ms: number | null; status: string }>()
  return row ? { id: row.id, email: row.email, emailNormalized: row.email_normalized, emailVerifiedAtMs: row.email_verified_at_ms, status: row.status } : null
}

export async function accountByEmail(d1: D1Database, email: string): Promise<LocalAccount | null> {
  const row = await d1.prepare('SELECT id FROM users WHERE email_normalized = ?').bind(normalizeEmail(email)).first<{ id: string }>()
  return row ? accountById(d1, row.id) : null
}

function uniqueViolation(err: unknown): 'email_taken' | 'identity_taken' | null {
  const message = err instanceof Error ? err.message : String(err)
  if (!/UNIQUE constraint failed/i.test(message)) return null
  return /social_identities/.test(message) ? 'identity_taken' : 'email_taken'
}

function identityInsert(d1: D1Database, userId: string, profile: SocialProfile, nowMs: number): D1PreparedStatement {
  return d1
    .prepare('INSERT INTO social_identities (provider, provider_subject, user_id, email, email_verified, linked_at_ms, last_used_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(profile.provider, profile.subject, userId, profile.email, profile.emailVerified ? 1 : 0, nowMs, nowMs)
}

/** A new account from a verified upstream email, with no password, and its first identity. */
export async function createAccountWithIdentity(d1: D1Database, profile: SocialProfile & { email: string }, nowMs: number = Date.now()): Promise<CreateOutcome> {
  const userId = newId('user', nowMs)
  const displayName = (profile.name ?? emailLocalPart(profile.email)).slice(0, MAX_DISPLAY_NAME) || 'FANZ member'
  try {
    await d1.batch([
      d1
        .prepare(
          `INSERT INTO users (id, email, email_normalized, email_verified_at_ms, password_hash, display_name, created_at_ms, updated_at_ms)
           VALUES (?, ?, ?, ?, NULL, ?, ?, ?)`,
        )
        .bind(userId, profile.email, normalizeEmail(profile.email), nowMs, displayName, nowMs, nowMs),
      identityInsert(d1, userId, profile, nowMs),
    ])
  } catch (err) {
    const reason = uniqueViolation(err)
    if (reason) return { ok: false, reason }
    throw err
  }
  return { ok: true, userId }
}

export async function linkIdentity(d1: D1Database, userId: string, profile: SocialProfile, nowMs: number = Date.now()): Promise<LinkOutcome> {
  try {
    await identityInsert(d1, userId, profile, nowMs).run()
  } catch (err) {
    if (uniqueViolation(err)) return { ok: false, reason: 'identity_taken' }
    throw err
  }
  return { ok: true }
}

export async function touchIdentity(d1: D1Database, provider: ProviderId, subject: string, nowMs: number = Date.now()): Promise<void> {
  await d1.prepare('UPDATE social_identities SET last_used_at_ms = ? WHERE provider = ? AND provider_subject = ?').bind(nowMs, provider, subject).run()
}

/**
 * Removes the identity unless it is the account's last way to sign in; the check and the delete
 * are one statement, so two concurrent unlinks cannot both pass the check and leave nothing.
 */
export async function unlinkIdentity(d1: D1Database, userId: string, identity: { provider: string; subject: string }): Promise<{ ok: true } | { ok: false; reason: 'not_found' | 'last_method' }> {
  const result = await d1
    .prepare(
      `DELETE FROM social_identities
        WHERE provider = ?1 AND provider_subject = ?2 AND user_id = ?3
          AND ((SELECT CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END FROM users WHERE id = ?3)
               + (SELECT COUNT(*) FROM passkeys WHERE user_id = ?3)
               + (SELECT COUNT(*) FROM social_identities WHERE user_id = ?3 AND NOT (provider = ?1 AND provider_subject = ?2))) > 0`,
    )
    .bind(identity.provider, identity.subject, userId)
    .run()
  if (result.meta.changes > 0) return { ok: true }
  const stillThere = await d1
    .prepare('SELECT 1 AS one FROM social_identities WHERE provider = ? AND provider_subject = ? AND user_id = ?')
    .bind(identity.provider, identity.subject, userId)
    .first()
  return { ok: false, reason: stillThere ? 'last_method' : 'not_found' }
}
