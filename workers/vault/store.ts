/**
 * Sealed objects: the one way bytes enter and leave the vault. `putSealed` encrypts under a fresh
 * data key, writes the ciphertext to the vault bucket of the subject's region and the wrapped key +
 * metadata to D1 (`vault_objects`); `openSealed` reverses it. Nothing else reads the vault buckets.
 * Callers check access (workers/vault/access.ts) and audit; this module only keeps the bytes safe.
 * @module
 */
import { and, eq, isNull, ne, sql } from 'drizzle-orm'
import { vaultObjects } from '../../d1/schema'
import { vaultKeys } from '../../r2/keys'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { sha256Hex } from '../lib/encoding'
import { newDataKey, openObject, rewrapDataKey, sealObject, unwrapDataKey, wrapDataKey, type VaultContext } from './envelope'
import { keyringFrom, type Keyring } from './keyring'

export type VaultObject = typeof vaultObjects.$inferSelect
export type DataRegion = 'global' | 'eu'

/** The keyring from the `VAULT_KEKS` secret; a vault without one refuses to work rather than store plaintext. */
export function vaultKeyring(env: Env): Keyring {
  const secret = (env as unknown as { VAULT_KEKS?: string }).VAULT_KEKS
  if (!secret) throw new Error('VAULT_KEKS is not set: the vault cannot encrypt')
  return keyringFrom(secret)
}

/** EU subjects' bytes stay in the EU-jurisdiction bucket (production binds it with `jurisdiction = "eu"`). */
function bucketFor(env: Env, region: DataRegion): { name: 'VAULT' | 'VAULT_EU'; bucket: R2Bucket } {
  return region === 'eu' ? { name: 'VAULT_EU', bucket: env.VAULT_EU } : { name: 'VAULT', bucket: env.VAULT }
}

const contextOf = (row: Pick<VaultObject, 'recordType' | 'recordId' | 'id'>): VaultContext => ({ recordType: row.recordType, recordId: row.recordId, objectId: row.id })

export interface PutSealedInput {
  recordType: string
  recordId: string
  kind: string
  contentType: string
  bytes: Uint8Array
  region: DataRegion
  createdBy: string
  retainUntilMs?: number | null
  retentionBasis?: string | null
}

export async function putSealed(env: Env, input: PutSealedInput, nowMs = Date.now()): Promise<VaultObject> {
  const keyring = vaultKeyring(env)
  const id = newId('vaultObject', nowMs)
  const context: VaultContext = { recordType: input.recordType, recordId: input.recordId, objectId: id }
  const dek = await newDataKey()
  const wrappedDek = await wrapDataKey(await keyring.kek(keyring.active), dek, context)
  const sealed = await sealObject(dek, context, input.bytes)
  const { name, bucket } = bucketFor(env, input.region)
  const r2Key = vaultKeys.object(input.recordType, input.recordId, id)
  await bucket.put(r2Key, sealed, { httpMetadata: { contentType: 'application/octet-stream' }, customMetadata: { format: 'FZV1', record_type: input.recordType, record_id: input.recordId } })
  const row: VaultObject = {
    id,
    recordType: input.recordType,
    recordId: input.recordId,
    kind: input.kind,
    contentType: input.contentType,
    byteLength: input.bytes.length,
    sha256Hex: sha256Hex(input.bytes),
    bucket: name,
    r2Key,
    kekVersion: keyring.active,
    wrappedDek,
    retainUntilMs: input.retainUntilMs ?? null,
    retentionBasis: input.retentionBasis ?? null,
    createdBy: input.createdBy,
    createdAtMs: nowMs,
    rewrappedAtMs: null,
    destroyedAtMs: null,
  }
  await db(env.DB).insert(vaultObjects).values(row)
  return row
}

export async function sealedObject(env: Env, objectId: string): Promise<VaultObject | null> {
  return (await db(env.DB).select().from(vaultObjects).where(eq(vaultObjects.id, objectId)).get()) ?? null
}

/** The plaintext of an object; throws VaultDecryptError when the bytes or key were tampered with or moved. */
export async function openSealed(env: Env, row: VaultObject): Promise<Uint8Array> {
  if (row.destroyedAtMs) throw new Error(`vault object ${row.id} was destroyed after its retention`)
  const stored = await env[row.bucket].get(row.r2Key)
  if (!stored) throw new Error(`vault object ${row.id} is missing from ${row.bucket}`)
  const keyring = vaultKeyring(env)
  const dek = await unwrapDataKey(await keyring.kek(row.kekVersion), row.wrappedDek, contextOf(row))
  return openObject(dek, contextOf(row), new Uint8Array(await stored.arrayBuffer()))
}

/** JSON records (performer records, KYC details) go through the same envelope. */
export async function putSealedJson(env: Env, input: Omit<PutSealedInput, 'bytes' | 'contentType'> & { value: unknown }, nowMs = Date.now()): Promise<VaultObject> {
  const { value, ...rest } = input
  return putSealed(env, { ...rest, contentType: 'application/json', bytes: new TextEncoder().encode(JSON.stringify(value)) }, nowMs)
}

export async function openSealedJson<T>(env: Env, row: VaultObject): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await openSealed(env, row))) as T
}

/**
 * Key rotation: re-wraps up to `limit` data keys not under the active KEK version. Documents are
 * not touched. The update is conditional on the version read, so two runs never fight.
 */
export async function rewrapBatch(env: Env, limit = 200, nowMs = Date.now()): Promise<{ rewrapped: number; remaining: number }> {
  const keyring = vaultKeyring(env)
  const d = db(env.DB)
  // destroyed objects have no data key left to re-wrap (destroySealed shreds it)
  const pending = and(ne(vaultObjects.kekVersion, keyring.active), isNull(vaultObjects.destroyedAtMs))
  const rows = await d.select().from(vaultObjects).where(pending).limit(limit).all()
  const to = await keyring.kek(keyring.active)
  let rewrapped = 0
  for (const row of rows) {
    const wrapped = await rewrapDataKey(await keyring.kek(row.kekVersion), to, row.wrappedDek, contextOf(row))
    const result = await env.DB.prepare('UPDATE vault_objects SET kek_version = ?, wrapped_dek = ?, rewrapped_at_ms = ? WHERE id = ? AND kek_version = ? AND destroyed_at_ms IS NULL')
      .bind(keyring.active, wrapped, nowMs, row.id, row.kekVersion)
      .run()
    rewrapped += result.meta.changes
  }
  const remaining = (await d.select({ n: sql<number>`count(*)` }).from(vaultObjects).where(pending).get())?.n ?? 0
  return { rewrapped, remaining }
}

/** Data keys per KEK version: what rotation still has to do before an old KEK can leave the secret. */
export async function keyStatus(env: Env): Promise<{ active: string; versions: string[]; wrappedByVersion: Record<string, number> }> {
  const keyring = vaultKeyring(env)
  const counts = await env.DB.prepare('SELECT kek_version, count(*) AS n FROM vault_objects WHERE destroyed_at_ms IS NULL GROUP BY kek_version').all<{ kek_version: string; n: number }>()
  return { active: keyring.active, versions: keyring.versions, wrappedByVersion: Object.fromEntries(counts.results.map((r) => [r.kek_version, r.n])) }
}

/** The newest re-wrap (epoch ms), or null when no data key was ever re-wrapped. */
export async function lastRewrapAtMs(env: Env): Promise<number | null> {
  const row = await env.DB.prepare('SELECT max(rewrapped_at_ms) AS at FROM vault_objects').first<{ at: number | null }>()
  return row?.at ?? null
}

/** Refused destruction: the object is still inside its retention period. */
export class RetentionError extends Error {
  override name = 'RetentionError'
  constructor(
    readonly retainUntilMs: number,
    readonly basis: string | null,
  ) {
    super(`retained until ${new Date(retainUntilMs).toISOString()}${basis ? ` (${basis})` : ''}`)
  }
}

/**
 * Destroys an object after its retention: the R2 bytes are deleted and the wrapped data key is
 * shredded (so no backup of the bucket opens either); the row stays, with `destroyed_at_ms`, as the
 * proof of what was kept, for how long and when it went. Inside retention it throws RetentionError
 * and changes nothing. Destroying twice answers the first destruction.
 */
export async function destroySealed(env: Env, row: VaultObject, nowMs = Date.now()): Promise<VaultObject> {
  if (row.destroyedAtMs) return row
  if (row.retainUntilMs !== null && row.retainUntilMs > nowMs) throw new RetentionError(row.retainUntilMs, row.retentionBasis)
  await env[row.bucket].delete(row.r2Key)
  await env.DB.prepare("UPDATE vault_objects SET destroyed_at_ms = ?, wrapped_dek = '' WHERE id = ? AND destroyed_at_ms IS NULL AND (retain_until_ms IS NULL OR retain_until_ms <= ?)")
    .bind(nowMs, row.id, nowMs)
    .run()
  return (await sealedObject(env, row.id))!
}
