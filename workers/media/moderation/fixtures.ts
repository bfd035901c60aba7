/**
 * Test kit for the ingest and moderation tests (imported only by `*.test.ts`): media rows with their
 * original in R2, exactly as the uploads part leaves them (`processing`), deliveries of queue
 * messages through the Worker's real queue handler, and small readers.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import entry from '../../index'
import { auditLog } from '../../compliance/audit'
import { mediaKeys } from '../../../r2/keys'
import { newId } from '../../lib/ids'
import { ingestMessage } from '../ingest/ingest'

export const BOYFANZ = 'brd_01JFANZ0000000000000000001'
export const ALEX = 'crt_01JFANZ0000000000000000101'
export const ALEX_USER = 'usr_01JFANZDEM0000000000000004'
export const MARCO = 'crt_01JFANZ0000000000000000102'

const worker: Pick<Required<ExportedHandler<Env>>, 'queue'> = entry

export interface NewItem {
  bytes: Uint8Array
  kind?: 'image' | 'video'
  mime?: string
  title?: string
  tags?: string[]
  creatorId?: string
  brandId?: string
}

/** A media item in `processing` with its original in MEDIA (what a completed upload leaves). */
export async function processingItem(item: NewItem): Promise<string> {
  const id = newId('mediaItem')
  const brand = item.brandId ?? BOYFANZ
  const creator = item.creatorId ?? ALEX
  const key = mediaKeys.original(brand, creator, id)
  await env.MEDIA.put(key, item.bytes)
  const now = Date.now()
  await env.DB.prepare(
    "INSERT INTO media_items (id, creator_id, brand_id, kind, status, title, tags_json, mime, size_bytes, original_key, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(id, creator, brand, item.kind ?? 'image', item.title ?? 'Test item', JSON.stringify(item.tags ?? []), item.mime ?? 'image/jpeg', item.bytes.byteLength, key, now, now)
    .run()
  return id
}

export interface Delivery {
  body: unknown
  id?: string
  attempts?: number
}

/** Delivers messages to `queue` through the Worker's queue handler; answers acks and retries. */
export async function deliver(messages: Delivery[], queue = 'fanz-media-ingest') {
  const batch = createMessageBatch(
    queue,
    messages.map((m, i) => ({ id: m.id ?? `msg-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  )
  const ctx = createExecutionContext()
  await worker.queue(batch, env, ctx)
  return getQueueResult(batch, ctx)
}

/** One ingest delivery of an item (stage 1, or `frames`). */
export async function ingest(itemId: string, stage?: 'frames') {
  return deliver([{ body: ingestMessage(itemId, stage) }])
}

export interface ItemState {
  status: string
  status_reason: string | null
  sha256: string | null
  md5: string | null
  pdq_hex: string | null
  pdq_quality: number | null
  width: number | null
  height: number | null
  classifier_json: string | null
  updated_at_ms: number
  published_at_ms: number | null
}

export async function itemState(id: string): Promise<ItemState> {
  return (await env.DB.prepare('SELECT status, status_reason, sha256, md5, pdq_hex, pdq_quality, width, height, classifier_json, updated_at_ms, published_at_ms FROM media_items WHERE id = ?').bind(id).first<ItemState>())!
}

export async function reviewOf(id: string) {
  return env.DB.prepare('SELECT priority, due_at_ms, enqueued_at_ms, status, decision, claimed_by FROM media_reviews WHERE item_id = ?').bind(id).first<{ priority: number; due_at_ms: number; enqueued_at_ms: number; status: string; decision: string | null; claimed_by: string | null }>()
}

export async function casesOf(id: string) {
  return (await env.DB.prepare('SELECT id, kind, status, severity, list_id, matched_hash, distance, details_json, resolution_note FROM media_cases WHERE item_id = ? ORDER BY id').bind(id).all<{
    id: string
    kind: string
    status: string
    severity: string
    list_id: string | null
    matched_hash: string | null
    distance: number | null
    details_json: string
    resolution_note: string | null
  }>()).results
}

/** A hash list in the catalogue (fresh id: the HashIndex object outlives each file's database). */
export async function hashList(source: 'ncii' | 'illegal_content' | 'manual', entries: Array<{ kind: 'pdq' | 'md5'; hash: string; ref?: string }>): Promise<string> {
  const id = newId('hashList')
  const now = Date.now()
  await env.DB.prepare("INSERT INTO media_hash_lists (id, name, source, provider, active, entry_count, created_by, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'test provider', 1, ?, 'test', ?, ?)")
    .bind(id, `test ${source}`, source, entries.length, now, now)
    .run()
  const r = await env.HASH_INDEX.get(env.HASH_INDEX.idFromName('global')).add(id, entries.map((e) => ({ kind: e.kind, hash: e.hash, ref: e.ref ?? null })))
  if (!r.ok) throw new Error(`hash index refused: ${JSON.stringify(r)}`)
  return id
}

export async function deactivate(listId: string): Promise<void> {
  await env.DB.prepare('UPDATE media_hash_lists SET active = 0 WHERE id = ?').bind(listId).run()
}

/** Audit entries of one subject and action (the hash-chained log). */
export async function auditCount(action: string, subject: string): Promise<number> {
  return (await auditLog(env).list({ action, subject, limit: 200 })).length
}
