/**
 * D1 storage of passkeys (`passkeys`) and of WebAuthn challenges (`webauthn_challenges`).
 *
 * A challenge is looked up by its own value: the browser hands it back inside clientDataJSON, so the
 * client never names a challenge row, and the row is taken with one `DELETE ... RETURNING`, which
 * makes it single use even when two verifications race (only one of them gets the row back). It is
 * taken before the response is verified: a failed attempt spends it too.
 * @module
 */
import { newId } from '../../lib/ids'

/** How long a ceremony may take from options to verify. */
export const CHALLENGE_TTL_MS = 5 * 60_000
/** Enough for every device a person owns; a ceiling so one account cannot grow the table at will. */
export const MAX_PASSKEYS_PER_USER = 25

export type ChallengePurpose = 'register' | 'authenticate'

export interface StoredChallenge {
  id: string
  /** the user the ceremony is for: always set for registration; set for authentication only as a second factor */
  userId: string | null
  purpose: ChallengePurpose
  challenge: string
  expiresAtMs: number
}

export interface StoredPasskey {
  id: string
  userId: string
  /** COSE public key, base64url */
  publicKey: string
  counter: number
  transports: string[]
  deviceType: 'singleDevice' | 'multiDevice'
  backedUp: boolean
  name: string
  createdAtMs: number
  lastUsedAtMs: number | null
}

interface PasskeyRow {
  id: string
  user_id: string
  public_key: string
  counter: number
  transports_json: string
  device_type: 'singleDevice' | 'multiDevice'
  backed_up: number
  name: string
  created_at_ms: number
  last_used_at_ms: number | null
}

function toPasskey(row: PasskeyRow): StoredPasskey {
  let transports: string[] = []
  try {
    const parsed: unknown = JSON.parse(row.transports_json)
    if (Array.isArray(parsed)) transports = parsed.filter((t): t is string => typeof t === 'string')
  } catch {
    // a damaged column only loses the transport hints, never the credential
  }
  return {
    id: row.id,
    userId: row.user_id,
    publicKey: row.public_key,
    counter: row.counter,
    transports,
    deviceType: row.device_type,
    backedUp: row.backed_up === 1,
    name: row.name,
    createdAtMs: row.created_at_ms,
    lastUsedAtMs: row.last_used_at_ms,
  }
}

/** Stores a new challenge (and drops expired ones, so abandoned ceremonies do not pile up). */
export async function saveChallenge(d1: D1Database, input: { userId: string | null; purpose: ChallengePurpose; challenge: string }, nowMs = Date.now()): Promise<StoredChallenge> {
  const row: StoredChallenge = { id: newId('webauthnChallenge', nowMs), userId: input.userId, purpose: input.purpose, challenge: input.challenge, expiresAtMs: nowMs + CHALLENGE_TTL_MS }
  await d1.batch([
    d1.prepare('DELETE FROM webauthn_challenges WHERE expires_at_ms <= ?').bind(nowMs),
    d1.prepare('INSERT INTO webauthn_challenges (id, user_id, purpose, challenge, expires_at_ms) VALUES (?, ?, ?, ?, ?)').bind(row.id, row.userId, row.purpose, row.challenge, row.expiresAtMs),
  ])
  return row
}

/**
 * Takes (deletes and returns) the unexpired challenge with this value and purpose, or null. The
 * user binding is checked by the caller against the row, since the row says which mode it was for.
 */
export async function consumeChallenge(d1: D1Database, challenge: string, purpose: ChallengePurpose, nowMs = Date.now()): Promise<StoredChallenge | null> {
  const row = await d1
    .prepare('DELETE FROM webauthn_challenges WHERE challenge = ? AND purpose = ? RETURNING id, user_id, purpose, challenge, expires_at_ms')
    .bind(challenge, purpose)
    .first<{ id: string; user_id: string | null; purpose: ChallengePurpose; challenge: string; expires_at_ms: number }>()
  if (!row || row.expires_at_ms <= nowMs) return null
  return { id: row.id, userId: row.user_id, purpose: row.purpose, challenge: row.challenge, expiresAtMs: row.expires_at_ms }
}

export async function listPasskeys(d1: D1Database, userId: string): Promise<StoredPasskey[]> {
  const { results } = await d1.prepare('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at_ms, id').bind(userId).all<PasskeyRow>()
  return results.map(toPasskey)
}

export async function findPasskey(d1: D1Database, id: string): Promise<StoredPasskey | null> {
  const row = await d1.prepare('SELECT * FROM passkeys WHERE id = ?').bind(id).first<PasskeyRow>()
  return row ? toPasskey(row) : null
}

/** Inserts the credential; false when its id is already registered (to anyone). */
export async function insertPasskey(d1: D1Database, passkey: Omit<StoredPasskey, 'lastUsedAtMs'>): Promise<boolean> {
  const result = await d1
    .prepare(
      `INSERT INTO passkeys (id, user_id, public_key, counter, transports_json, device_type, backed_up, name, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .bind(passkey.id, passkey.userId, passkey.publicKey, passkey.counter, JSON.stringify(passkey.transports), passkey.deviceType, passkey.backedUp ? 1 : 0, passkey.name, passkey.createdAtMs)
    .run()
  return result.meta.changes === 1
}

/**
 * Records a use. The counter only moves forward: the condition makes two concurrent sign-ins with
 * the same counter value count as one success and one regression, never two successes.
 */
export async function recordUse(d1: D1Database, id: string, use: { counter: number; backedUp: boolean; nowMs: number }, previousCounter: number): Promise<boolean> {
  const result = await d1
    .prepare('UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at_ms = ? WHERE id = ? AND counter = ?')
    .bind(use.counter, use.backedUp ? 1 : 0, use.nowMs, id, previousCounter)
    .run()
  return result.meta.changes === 1
}

export async function deletePasskey(d1: D1Database, userId: string, id: string): Promise<StoredPasskey | null> {
  const row = await d1.prepare('DELETE FROM passkeys WHERE id = ? AND user_id = ? RETURNING *').bind(id, userId).first<PasskeyRow>()
  return row ? toPasskey(row) : null
}

export async function renamePasskey(d1: D1Database, userId: string, id: string, name: string): Promise<StoredPasskey | null> {
  const row = await d1.prepare('UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ? RETURNING *').bind(name, id, userId).first<PasskeyRow>()
  return row ? toPasskey(row) : null
}
