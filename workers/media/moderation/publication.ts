/**
 * Publication and removal of a creator's item.
 *
 * Publication (the creator): only an `approved` item without an open case, and only when every
 * performer linked to it (`media_item_performers`, at least one) has a 2257 record in HubVault
 * (`performer_records`) and a link of that record to this item (`performer_media`, which the vault
 * refuses for anyone under 18 on the production date) whose signed consent and model release are
 * stored and not destroyed (`vault_objects`). Otherwise a 409 names each performer and what is
 * missing.
 *
 * Removal (DMCA / terms / legal by compliance; consent withdrawal by compliance or the creator):
 * the item's hashes join the platform's own list first (so a re-upload, even re-encoded and
 * resized, is quarantined at ingest), then the item becomes `removed`, then every marked copy
 * handed out is deleted from R2. The original stays: it is evidence for a counter-notice and part
 * of the 2257 records. Each step is safe to repeat; a removal that broke off is finished by
 * sending it again.
 * @module
 */
import { mediaKeys } from '../../../r2/keys'
import { ProblemError } from '../../edge/problem'
import { addToPlatformList } from '../hashlists/match'
import { PDQ_MIN_QUALITY } from '../pdq/fingerprint'

export type PerformerLack = 'record' | 'media_link' | 'consent' | 'model_release'
export interface PerformerGap {
  performer_id: string
  lacks: PerformerLack[]
}

interface GapRow {
  performer_id: string
  record_id: string | null
  linked: string | null
  consent_ok: number
  release_ok: number
}

/** What stands between an item and publication, per performer (empty: nothing). */
export async function performerGaps(d1: D1Database, itemId: string): Promise<{ performers: number; gaps: PerformerGap[] }> {
  const { results } = await d1
    .prepare(
      `SELECT mip.performer_id, pr.id AS record_id, pm.media_id AS linked,
         (co.id IS NOT NULL AND co.destroyed_at_ms IS NULL) AS consent_ok,
         (ro.id IS NOT NULL AND ro.destroyed_at_ms IS NULL) AS release_ok
       FROM media_item_performers mip
       LEFT JOIN performer_records pr ON pr.id = mip.performer_id
       LEFT JOIN performer_media pm ON pm.performer_id = mip.performer_id AND pm.media_id = mip.item_id
       LEFT JOIN vault_objects co ON co.id = pm.consent_object_id
       LEFT JOIN vault_objects ro ON ro.id = pm.release_object_id
       WHERE mip.item_id = ? ORDER BY mip.performer_id`,
    )
    .bind(itemId)
    .all<GapRow>()
  const gaps: PerformerGap[] = []
  for (const r of results) {
    const lacks: PerformerLack[] = []
    if (!r.record_id) lacks.push('record')
    if (!r.linked) lacks.push('media_link')
    else {
      if (!r.consent_ok) lacks.push('consent')
      if (!r.release_ok) lacks.push('model_release')
    }
    if (lacks.length) gaps.push({ performer_id: r.performer_id, lacks })
  }
  return { performers: results.length, gaps }
}

const LACK_TEXT: Record<PerformerLack, string> = {
  record: 'no 2257 performer record',
  media_link: 'no 2257 link of the record to this item (custodian: link it with consent and model release)',
  consent: 'no signed consent on file',
  model_release: 'no model release on file',
}

export interface PublishableItem {
  id: string
  status: string
}

/** Publishes an approved item (see the module notes); an already published item answers as it is. */
export async function publishItem(d1: D1Database, item: PublishableItem, nowMs: number): Promise<{ published: boolean; publishedAtMs: number }> {
  if (item.status === 'published') {
    const row = await d1.prepare('SELECT published_at_ms FROM media_items WHERE id = ?').bind(item.id).first<{ published_at_ms: number }>()
    return { published: false, publishedAtMs: row!.published_at_ms }
  }
  if (item.status !== 'approved') throw new ProblemError('CONFLICT', { detail: `${item.id} is ${item.status}: only an item a moderator approved can be published` })
  const open = await d1.prepare("SELECT COUNT(*) AS n FROM media_cases WHERE item_id = ? AND status = 'open'").bind(item.id).first<{ n: number }>()
  if (open && open.n > 0) throw new ProblemError('CONFLICT', { detail: `${item.id} has an open compliance case` })
  const { performers, gaps } = await performerGaps(d1, item.id)
  if (performers === 0) {
    throw new ProblemError('CONFLICT', { detail: `${item.id} names no performer: link every performer depicted (each with a 2257 record and consent) before publishing`, errors: [{ path: 'performers', message: 'at least one performer' }] })
  }
  if (gaps.length) {
    throw new ProblemError('CONFLICT', {
      detail: `publication needs a complete 2257 record and consent for every performer: ${gaps.map((g) => `${g.performer_id} lacks ${g.lacks.join(', ')}`).join('; ')}`,
      errors: gaps.map((g) => ({ path: `performers.${g.performer_id}`, message: g.lacks.map((l) => LACK_TEXT[l]).join('; ') })),
      extensions: { performers: gaps },
    })
  }
  const res = await d1.prepare("UPDATE media_items SET status = 'published', published_at_ms = ?1, status_reason = NULL, updated_at_ms = ?1 WHERE id = ?2 AND status = 'approved'").bind(nowMs, item.id).run()
  if (res.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `${item.id} changed meanwhile; read it again` })
  return { published: true, publishedAtMs: nowMs }
}

export const REMOVAL_REASONS = ['dmca', 'consent_withdrawn', 'terms', 'legal'] as const
export type RemovalReason = (typeof REMOVAL_REASONS)[number]
/** Items that can be taken down; a quarantined item is already held under a case, a processing one has no hashes yet. */
const REMOVABLE = ['in_review', 'approved', 'published', 'rejected']

export interface RemovableItem {
  id: string
  status: string
  pdq_hex: string | null
  pdq_quality: number | null
  md5: string | null
}

/** Deletes every marked copy of an item (`renditions/{id}/marked/`); returns how many. */
export async function deleteMarkedCopies(bucket: R2Bucket, itemId: string): Promise<number> {
  const prefix = mediaKeys.markedCopy(itemId, 0).replace(/[^/]+$/, '')
  let deleted = 0
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix, limit: 1000, ...(cursor ? { cursor } : {}) })
    if (page.objects.length) {
      await bucket.delete(page.objects.map((o) => o.key))
      deleted += page.objects.length
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return deleted
}

export async function removeItem(env: Env, item: RemovableItem, reason: RemovalReason, nowMs: number): Promise<{ removed: boolean; markedCopiesDeleted: number }> {
  if (item.status !== 'removed' && !REMOVABLE.includes(item.status)) throw new ProblemError('CONFLICT', { detail: `${item.id} is ${item.status}: it cannot be removed in this state` })
  // a low-quality PDQ would match unrelated pictures: the platform list gets it only when usable
  const pdq = item.pdq_hex && (item.pdq_quality ?? 0) >= PDQ_MIN_QUALITY ? [item.pdq_hex] : []
  // a video's keyframes: a re-upload that re-encodes it still shares its frames
  const frames = await env.DB.prepare('SELECT DISTINCT pdq_hex FROM media_frame_hashes WHERE item_id = ? AND quality >= ?').bind(item.id, PDQ_MIN_QUALITY).all<{ pdq_hex: string }>()
  await addToPlatformList(env, { itemId: item.id, pdq: [...pdq, ...frames.results.map((f) => f.pdq_hex)], md5: item.md5, reason })
  let removed = false
  if (item.status !== 'removed') {
    const res = await env.DB.prepare(`UPDATE media_items SET status = 'removed', status_reason = ?1, removed_at_ms = ?2, updated_at_ms = ?2 WHERE id = ?3 AND status IN (${REMOVABLE.map((s) => `'${s}'`).join(', ')})`)
      .bind(reason, nowMs, item.id)
      .run()
    if (res.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `${item.id} changed meanwhile; send the removal again` })
    removed = true
  }
  const markedCopiesDeleted = await deleteMarkedCopies(env.MEDIA, item.id)
  return { removed, markedCopiesDeleted }
}
