/**
 * Ingest of one media item (the `media.ingest` queue message), at least once: every step reads the
 * item's state first and writes with a condition on it, so a redelivered or duplicated message does
 * nothing twice.
 *
 * Images (item `processing`):
 * 1. the original from R2 (`original_key`); SHA-256 and MD5;
 * 2. PDQ with quality and the 8 dihedral hashes (workers/media/pdq); an unreadable, truncated or
 *    oversized image -> `failed` with the code as `status_reason`;
 * 3. hashes stored; the dihedral set (only when quality >= PDQ_MIN_QUALITY) and the MD5 matched
 *    against every active hash list (workers/media/hashlists);
 * 4. any match -> `quarantined` (never published on any brand) with one case per matching list
 *    (cases.ts: `reupload` for the platform's own list, critical for NCII / illegal-content lists);
 *    the creator sees only the neutral reason `held_for_compliance_review`;
 * 5. no match -> the classifier (moderation/classifier.ts) -> `in_review`, queued with the priority
 *    and SLA of its verdict; `block` also opens a classifier case.
 *
 * Images above MAX_FINGERPRINT_PIXELS (up to MAX_SOURCE_PIXELS / MAX_SOURCE_SIDE, read from the
 * header; beyond -> `failed`, `image_too_large`) are never decoded here: step 1 stores the digests
 * and the header's dimensions, the MD5 is matched at once, and the item waits (`status_reason`
 * `awaiting_display`) for the packager, which scales it down and uploads a display rendition
 * (packager/api.ts: `display_key`, then `{ itemId, stage: 'display' }`). Steps 2-5 then run on
 * that rendition (the original's MD5 is matched again with its PDQ); delivery marks the rendition.
 *
 * Videos: stage 1 (the message without a stage) digests the file as a stream and matches the MD5
 * (StopNCII shares MD5 for videos), then waits (`status_reason` `awaiting_frames`) for the
 * packager, which writes keyframes (`mediaKeys.frame`) and sends `{ itemId, stage: 'frames' }`.
 * Stage `frames` hashes FRAMES_PER_DELIVERY frames per delivery (PDQ is CPU-heavy; a continuation
 * message carries on), storing each in `media_frame_hashes`, and matches every good frame's PDQ.
 * Rule: ONE frame within 31 bits of a list entry quarantines the video, because lists hold stills
 * of abusive material and a single such frame is enough to stop publication (compliance confirms or
 * dismisses the case). When every frame is hashed: classifier on the middle keyframe -> review.
 *
 * Errors: R2, Durable Object or classifier-store failures throw, so the queue retries with backoff
 * (workers/queues); after max_retries the dead-letter hook (consumer.ts) marks the item `failed`.
 * @module
 */
import { z } from 'zod'
import { audit, type AuditContext } from '../../compliance/audit'
import { log } from '../../edge/logger'
import { mediaKeys } from '../../../r2/keys'
import { decodeImage, encodeJpeg, resizeImage, type ImageMime } from '../codecs'
import { matchHashes, type HashMatch } from '../hashlists/match'
import { bestMatchPerList, caseKindFor, openCaseStatement, severityFor } from '../moderation/cases'
import { classifierFor, type ClassifierInput, type ClassifierResult } from '../moderation/classifier'
import { enqueueReviewStatement, REVIEW_SLA } from '../moderation/queue'
import type { ImageHeader } from '../images/header'
import { checkedHeader, fingerprintImage, ImageRejected, needsDisplayRendition, PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY } from '../pdq/fingerprint'
import { digestBytes, digestStream, type FileDigests } from './digests'

export const MEDIA_INGEST = 'media.ingest'
export const INGEST_ACTOR = 'system:media-ingest'
/** What a creator is told about a quarantined item: nothing about lists or matches. */
export const NEUTRAL_QUARANTINE_REASON = 'held_for_compliance_review'
export const AWAITING_FRAMES = 'awaiting_frames'
/** An image too large to decode here, waiting for the packager's display rendition. */
export const AWAITING_DISPLAY = 'awaiting_display'
/** Keyframes hashed per delivery: well under a consumer's CPU budget at 1080p. */
export const FRAMES_PER_DELIVERY = 40
/** A still for the AI classifier: at most this many pixels on the long side. */
const STILL_MAX_SIDE = 768
const IMAGE_MIMES: readonly string[] = ['image/jpeg', 'image/png']

export const IngestPayload = z.object({
  itemId: z.string().regex(/^med_[0-9A-HJKMNP-TV-Z]{26}$/, 'a media item id (med_…)'),
  /** `frames`: a video's keyframes are in R2; `display`: an image's display rendition is (display_key) */
  stage: z.enum(['frames', 'display']).optional(),
})
export type IngestPayload = z.infer<typeof IngestPayload>

/** The queue envelope for an item's ingest (uploads send it on completion; the packager with `stage: 'frames'` or `'display'`). */
export function ingestMessage(itemId: string, stage?: 'frames' | 'display', suffix = ''): { type: string; id: string; payload: IngestPayload } {
  return { type: MEDIA_INGEST, id: `${itemId}:${stage ?? 'file'}${suffix}`, payload: stage ? { itemId, stage } : { itemId } }
}

export interface ItemRow {
  id: string
  creator_id: string
  brand_id: string
  kind: 'image' | 'video'
  status: string
  title: string
  description: string
  tags_json: string
  mime: string | null
  original_key: string | null
  /** the packager's display rendition (images above MAX_FINGERPRINT_PIXELS) */
  display_key: string | null
  sha256: string | null
  md5: string | null
  pdq_hex: string | null
  pdq_quality: number | null
  status_reason: string | null
}

export type IngestOutcome =
  | { action: 'skipped'; reason: string }
  | { action: 'failed'; code: string }
  | { action: 'quarantined'; matches: number; caseIds: string[] }
  | { action: 'in_review'; verdict: ClassifierResult['verdict']; priority: number; dueAtMs: number }
  | { action: 'awaiting_frames' }
  | { action: 'awaiting_display' }
  | { action: 'frames_pending'; hashed: number; remaining: number }

const ctxOf = (env: Env): AuditContext => ({ env, actor: INGEST_ACTOR })

async function itemRow(env: Env, itemId: string): Promise<ItemRow | null> {
  return env.DB.prepare(
    'SELECT id, creator_id, brand_id, kind, status, title, description, tags_json, mime, original_key, display_key, sha256, md5, pdq_hex, pdq_quality, status_reason FROM media_items WHERE id = ?',
  )
    .bind(itemId)
    .first<ItemRow>()
}

function tagsOf(row: ItemRow): string[] {
  try {
    const tags = JSON.parse(row.tags_json) as unknown
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : []
  } catch {
    return []
  }
}

/** A permanent failure: the bytes will never be readable, so retrying cannot help. */
async function fail(env: Env, row: ItemRow, code: string, nowMs: number, details: Record<string, string | number> = {}): Promise<IngestOutcome> {
  const res = await env.DB.prepare("UPDATE media_items SET status = 'failed', status_reason = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(code, nowMs, row.id).run()
  if (res.meta.changes === 1) await audit(ctxOf(env), 'media.item.failed', `media_item:${row.id}`, { code, creator_id: row.creator_id, ...details })
  return { action: 'failed', code }
}

/** Quarantine + one case per matching list, in one D1 batch (atomic); audited once. */
export async function quarantine(env: Env, row: ItemRow, matches: readonly HashMatch[], nowMs: number): Promise<IngestOutcome> {
  const best = bestMatchPerList(matches)
  const cases = best.map((m) =>
    openCaseStatement(
      env.DB,
      {
        itemId: row.id,
        kind: caseKindFor(m),
        severity: severityFor(m),
        listId: m.listId,
        matchedHash: m.entryHash,
        distance: m.distance,
        details: { match_kind: m.kind, source: m.source, query_hash: m.queryHash, ref: m.ref, matches_total: matches.length },
      },
      nowMs,
      { itemStatus: 'quarantined' },
    ),
  )
  const [moved] = await env.DB.batch([
    env.DB.prepare("UPDATE media_items SET status = 'quarantined', status_reason = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(NEUTRAL_QUARANTINE_REASON, nowMs, row.id),
    ...cases.map((c) => c.statement),
  ])
  if (moved!.meta.changes === 1) {
    await audit(ctxOf(env), 'media.item.quarantined', `media_item:${row.id}`, {
      creator_id: row.creator_id,
      brand_id: row.brand_id,
      lists: best.map((m) => m.listId),
      kinds: best.map((m) => caseKindFor(m)),
      closest_distance: Math.min(...best.map((m) => m.distance)),
      case_ids: cases.map((c) => c.id),
    })
  }
  return { action: 'quarantined', matches: matches.length, caseIds: cases.map((c) => c.id) }
}

/** Classifier -> `in_review` + queue row (+ a classifier case on `block`), in one batch. */
async function toReview(env: Env, row: ItemRow, still: ClassifierInput['still'], nowMs: number): Promise<IngestOutcome> {
  const result = await classifierFor(env).classify({ itemId: row.id, kind: row.kind, sha256: row.sha256 ?? '', title: row.title, description: row.description, tags: tagsOf(row), still })
  const sla = REVIEW_SLA[result.verdict]
  const statements = [
    env.DB.prepare("UPDATE media_items SET status = 'in_review', classifier_json = ?, status_reason = NULL, updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(JSON.stringify(result), nowMs, row.id),
    enqueueReviewStatement(env.DB, row.id, result.verdict, nowMs),
  ]
  let caseId: string | null = null
  if (result.verdict === 'block') {
    const opened = openCaseStatement(env.DB, { itemId: row.id, kind: 'classifier', severity: 'critical', details: { model: result.model, scores: result.scores } }, nowMs, { itemStatus: 'in_review' })
    caseId = opened.id
    statements.push(opened.statement)
  }
  const [moved] = await env.DB.batch(statements)
  if (moved!.meta.changes === 1) {
    await audit(ctxOf(env), 'media.item.classified', `media_item:${row.id}`, { verdict: result.verdict, model: result.model, priority: sla.priority, due_at_ms: nowMs + sla.slaMs, case_id: caseId })
  }
  return { action: 'in_review', verdict: result.verdict, priority: sla.priority, dueAtMs: nowMs + sla.slaMs }
}

/** A small JPEG for the AI classifier (only made when the adapter asks for it). */
async function stillOf(bytes: Uint8Array, mime: ImageMime): Promise<{ bytes: Uint8Array; mime: 'image/jpeg' }> {
  const pixels = await decodeImage(bytes.slice().buffer, mime)
  const scale = Math.min(1, STILL_MAX_SIDE / Math.max(pixels.width, pixels.height))
  const small = scale < 1 ? await resizeImage(pixels, Math.max(1, Math.round(pixels.width * scale)), Math.max(1, Math.round(pixels.height * scale))) : pixels
  return { bytes: await encodeJpeg(small, 85), mime: 'image/jpeg' }
}

/** The original's digests are kept even when its picture is refused: a refused file is still evidence. */
async function rejected(env: Env, row: ItemRow, digests: FileDigests, error: ImageRejected, nowMs: number): Promise<IngestOutcome> {
  await env.DB.prepare("UPDATE media_items SET sha256 = ?, md5 = ?, size_bytes = COALESCE(size_bytes, ?), updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(digests.sha256, digests.md5, digests.bytes, nowMs, row.id).run()
  return fail(env, row, error.code, nowMs, { detail: error.message.slice(0, 200) })
}

async function ingestImage(env: Env, row: ItemRow, nowMs: number): Promise<IngestOutcome> {
  if (!row.mime || !IMAGE_MIMES.includes(row.mime)) return fail(env, row, 'unsupported_type', nowMs, { mime: row.mime ?? 'unknown' })
  const mime = row.mime as ImageMime
  if (row.display_key) return ingestDisplay(env, row, nowMs)
  if (!row.original_key) return fail(env, row, 'original_missing', nowMs)
  const object = await env.MEDIA.get(row.original_key)
  if (!object) return fail(env, row, 'original_missing', nowMs)
  const bytes = new Uint8Array(await object.arrayBuffer())
  const digests = await digestBytes(bytes)
  let header: ImageHeader
  try {
    header = checkedHeader(bytes, mime, 'source')
  } catch (error) {
    if (!(error instanceof ImageRejected)) throw error
    return rejected(env, row, digests, error, nowMs)
  }
  if (needsDisplayRendition(header)) return awaitDisplay(env, row, digests, header, nowMs)
  let fp
  try {
    fp = await fingerprintImage(bytes, mime)
  } catch (error) {
    if (!(error instanceof ImageRejected)) throw error
    return rejected(env, row, digests, error, nowMs)
  }
  await env.DB.prepare(
    "UPDATE media_items SET sha256 = ?, md5 = ?, pdq_hex = ?, pdq_quality = ?, width = ?, height = ?, size_bytes = COALESCE(size_bytes, ?), updated_at_ms = ? WHERE id = ? AND status = 'processing'",
  )
    .bind(digests.sha256, digests.md5, fp.pdq, fp.quality, fp.width, fp.height, digests.bytes, nowMs, row.id)
    .run()
  const hashed: ItemRow = { ...row, sha256: digests.sha256, md5: digests.md5, pdq_hex: fp.pdq, pdq_quality: fp.quality }
  // a low-quality hash (flat or tiny images) matches unrelated pictures: stored, never matched
  const matches = await matchHashes(env, { pdq: fp.quality >= PDQ_MIN_QUALITY ? fp.dihedral : [], md5: digests.md5 }, PDQ_MATCH_DISTANCE)
  if (matches.length) return quarantine(env, hashed, matches, nowMs)
  return toReview(env, hashed, () => stillOf(bytes, mime), nowMs)
}

/**
 * An image too large to decode: digests and the header's dimensions (the original's, which the
 * packager's rendition must keep the aspect ratio of) are stored, the MD5 matched at once (lists
 * share MD5s of the very file), then the packager lists it as a `display` job.
 */
async function awaitDisplay(env: Env, row: ItemRow, digests: FileDigests, header: ImageHeader, nowMs: number): Promise<IngestOutcome> {
  await env.DB.prepare(
    "UPDATE media_items SET sha256 = ?, md5 = ?, width = ?, height = ?, size_bytes = COALESCE(size_bytes, ?), status_reason = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing' AND display_key IS NULL",
  )
    .bind(digests.sha256, digests.md5, header.width, header.height, digests.bytes, AWAITING_DISPLAY, nowMs, row.id)
    .run()
  const hashed: ItemRow = { ...row, sha256: digests.sha256, md5: digests.md5, status_reason: AWAITING_DISPLAY }
  const matches = await matchHashes(env, { pdq: [], md5: digests.md5 }, PDQ_MATCH_DISTANCE)
  if (matches.length) return quarantine(env, hashed, matches, nowMs)
  return { action: 'awaiting_display' }
}

/**
 * Steps 2-5 on the packager's display rendition (a JPEG the API checked to be at most
 * MAX_FINGERPRINT_PIXELS with the original's aspect ratio). The original is never decoded; it is only
 * read (streamed) when its digests are missing, which the API's preconditions make a repair path.
 */
async function ingestDisplay(env: Env, row: ItemRow, nowMs: number): Promise<IngestOutcome> {
  if (!row.sha256 || !row.md5) {
    if (!row.original_key) return fail(env, row, 'original_missing', nowMs)
    const original = await env.MEDIA.get(row.original_key)
    if (!original) return fail(env, row, 'original_missing', nowMs)
    const digests = await digestStream(original.body)
    await env.DB.prepare("UPDATE media_items SET sha256 = ?, md5 = ?, size_bytes = COALESCE(size_bytes, ?), updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(digests.sha256, digests.md5, digests.bytes, nowMs, row.id).run()
    row = { ...row, sha256: digests.sha256, md5: digests.md5 }
  }
  const object = await env.MEDIA.get(row.display_key!)
  // the API stores the object before it records the key: a missing one was deleted, retrying cannot bring it back
  if (!object) return fail(env, row, 'display_missing', nowMs, { display_key: row.display_key! })
  const bytes = new Uint8Array(await object.arrayBuffer())
  let fp
  try {
    fp = await fingerprintImage(bytes, 'image/jpeg')
  } catch (error) {
    if (!(error instanceof ImageRejected)) throw error
    // the packager's output, not the creator's file, is at fault: a code of its own says so
    return fail(env, row, 'display_unreadable', nowMs, { display_key: row.display_key!, cause: error.code, detail: error.message.slice(0, 200) })
  }
  await env.DB.prepare("UPDATE media_items SET pdq_hex = ?, pdq_quality = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(fp.pdq, fp.quality, nowMs, row.id).run()
  const hashed: ItemRow = { ...row, pdq_hex: fp.pdq, pdq_quality: fp.quality }
  // the original's MD5 again: cheap, and the one match that counts if stage 1's died before matching
  const matches = await matchHashes(env, { pdq: fp.quality >= PDQ_MIN_QUALITY ? fp.dihedral : [], md5: row.md5 }, PDQ_MATCH_DISTANCE)
  if (matches.length) return quarantine(env, hashed, matches, nowMs)
  return toReview(env, hashed, () => stillOf(bytes, 'image/jpeg'), nowMs)
}

/** Video stage 1: digests streamed from R2, MD5 matched; then the item waits for the packager's frames. */
async function ingestVideoFile(env: Env, row: ItemRow, nowMs: number): Promise<IngestOutcome | ItemRow> {
  if (!row.original_key) return fail(env, row, 'original_missing', nowMs)
  const object = await env.MEDIA.get(row.original_key)
  if (!object) return fail(env, row, 'original_missing', nowMs)
  const digests = await digestStream(object.body)
  await env.DB.prepare("UPDATE media_items SET sha256 = ?, md5 = ?, size_bytes = COALESCE(size_bytes, ?), status_reason = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing'")
    .bind(digests.sha256, digests.md5, digests.bytes, AWAITING_FRAMES, nowMs, row.id)
    .run()
  const hashed: ItemRow = { ...row, sha256: digests.sha256, md5: digests.md5, status_reason: AWAITING_FRAMES }
  const matches = await matchHashes(env, { pdq: [], md5: digests.md5 }, PDQ_MATCH_DISTANCE)
  if (matches.length) return quarantine(env, hashed, matches, nowMs)
  return hashed
}

const FRAME_NAME = /(\d+)\.jpg$/

async function frameKeys(env: Env, itemId: string): Promise<Array<{ key: string; index: number }>> {
  // the folder of mediaKeys.frame(itemId, n), so the layout stays r2/keys.ts's
  const prefix = mediaKeys.frame(itemId, 0).replace(/[^/]+$/, '')
  const keys: Array<{ key: string; index: number }> = []
  let cursor: string | undefined
  do {
    const page = await env.MEDIA.list({ prefix, ...(cursor ? { cursor } : {}) })
    for (const o of page.objects) {
      const m = FRAME_NAME.exec(o.key)
      if (m) keys.push({ key: o.key, index: Number(m[1]) })
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return keys.sort((a, b) => a.index - b.index)
}

/** An unreadable frame is recorded with quality 0 (never matched) so it is not read again. */
const UNREADABLE_FRAME = '0'.repeat(64)

/** Video stage `frames` (see the module notes). */
async function ingestFrames(env: Env, row: ItemRow, nowMs: number, perDelivery: number): Promise<IngestOutcome> {
  if (!row.sha256) {
    const first = await ingestVideoFile(env, row, nowMs)
    if ('action' in first) return first
    row = first
  }
  const frames = await frameKeys(env, row.id)
  const done = new Set(
    (await env.DB.prepare('SELECT frame_index FROM media_frame_hashes WHERE item_id = ?').bind(row.id).all<{ frame_index: number }>()).results.map((r) => r.frame_index),
  )
  const todo = frames.filter((f) => !done.has(f.index))
  const chunk = todo.slice(0, perDelivery)
  const hashedNow: string[] = []
  for (const frame of chunk) {
    const object = await env.MEDIA.get(frame.key)
    if (!object) continue
    const bytes = new Uint8Array(await object.arrayBuffer())
    let pdq = UNREADABLE_FRAME
    let quality = 0
    try {
      const fp = await fingerprintImage(bytes, 'image/jpeg')
      pdq = fp.pdq
      quality = fp.quality
    } catch (error) {
      if (!(error instanceof ImageRejected)) throw error
      log('warn', 'info', 'media_frame_unreadable', { item_id: row.id, frame: frame.index, code: error.code })
    }
    // the packager extracts one keyframe per second: frame n is at n seconds
    await env.DB.prepare('INSERT INTO media_frame_hashes (item_id, frame_index, time_ms, pdq_hex, quality) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').bind(row.id, frame.index, frame.index * 1000, pdq, quality).run()
    if (quality >= PDQ_MIN_QUALITY) hashedNow.push(pdq)
  }
  if (hashedNow.length) {
    const early = await matchHashes(env, { pdq: hashedNow, md5: null }, PDQ_MATCH_DISTANCE)
    if (early.length) return quarantine(env, row, early, nowMs)
  }
  const remaining = todo.length - chunk.length
  if (remaining > 0) {
    await env.MEDIA_INGEST.send(ingestMessage(row.id, 'frames', `:${frames.length - remaining}`))
    return { action: 'frames_pending', hashed: frames.length - remaining, remaining }
  }
  // every frame hashed: one last match over all of them (a delivery may have died between storing a chunk and matching it)
  const all = (await env.DB.prepare('SELECT frame_index, pdq_hex FROM media_frame_hashes WHERE item_id = ? AND quality >= ? ORDER BY frame_index').bind(row.id, PDQ_MIN_QUALITY).all<{ frame_index: number; pdq_hex: string }>()).results
  if (all.length) {
    const matches = await matchHashes(env, { pdq: [...new Set(all.map((f) => f.pdq_hex))], md5: null }, PDQ_MATCH_DISTANCE)
    if (matches.length) return quarantine(env, row, matches, nowMs)
  }
  const middle = frames[Math.floor(frames.length / 2)]
  return toReview(env, row, async () => {
    if (!middle) return null
    const object = await env.MEDIA.get(middle.key)
    return object ? stillOf(new Uint8Array(await object.arrayBuffer()), 'image/jpeg') : null
  }, nowMs)
}

/** One delivery of `media.ingest`. */
export async function ingestItem(env: Env, payload: IngestPayload, options: { nowMs?: number; framesPerDelivery?: number } = {}): Promise<IngestOutcome> {
  const nowMs = options.nowMs ?? Date.now()
  const row = await itemRow(env, payload.itemId)
  if (!row) return { action: 'skipped', reason: 'no such item' }
  if (row.status !== 'processing') return { action: 'skipped', reason: `item is ${row.status}` }
  if (row.kind === 'image') {
    if (payload.stage === 'frames') return { action: 'skipped', reason: 'an image has no frames' }
    if (!row.display_key) {
      if (payload.stage === 'display') return { action: 'skipped', reason: 'no display rendition yet' }
      if (row.sha256 && row.status_reason === AWAITING_DISPLAY) return { action: 'skipped', reason: 'already waiting for the display rendition' }
    }
    return ingestImage(env, row, nowMs)
  }
  if (payload.stage === 'display') return { action: 'skipped', reason: 'a video has no display rendition' }
  if (payload.stage === 'frames') return ingestFrames(env, row, nowMs, Math.max(1, options.framesPerDelivery ?? FRAMES_PER_DELIVERY))
  if (row.sha256 && row.status_reason === AWAITING_FRAMES) return { action: 'skipped', reason: 'already waiting for frames' }
  const first = await ingestVideoFile(env, row, nowMs)
  return 'action' in first ? first : { action: 'awaiting_frames' }
}

/** The dead-letter hook: the queue gave up on an item's ingest; it is `failed` (the queue layer records the operator case). */
export async function markIngestExhausted(env: Env, itemId: string, context: { messageId: string; attempts: number }): Promise<void> {
  const nowMs = Date.now()
  const res = await env.DB.prepare("UPDATE media_items SET status = 'failed', status_reason = 'ingest_retries_exhausted', updated_at_ms = ? WHERE id = ? AND status = 'processing'").bind(nowMs, itemId).run()
  if (res.meta.changes === 1) await audit(ctxOf(env), 'media.item.failed', `media_item:${itemId}`, { code: 'ingest_retries_exhausted', message_id: context.messageId, attempts: context.attempts })
}
