/**
 * The hourly sweep of idle uploads (tus expiration extension): an upload untouched for
 * UPLOAD_IDLE_MS is expired: its R2 multipart upload aborted, its spill deleted, its row `expired`
 * and its item `failed` (reason `upload_expired`). The D1 index only nominates candidates; the
 * upload's own object decides, because a PATCH may have moved the expiry since the index was written.
 * @module
 */
import { mediaUploadStub } from '../../../durable-objects/media-upload'
import { audit } from '../../compliance/audit'
import { discardBytes } from './store'

/** Candidates per run; the next run takes the rest. */
export const EXPIRE_BATCH = 200

export interface ExpireReport {
  expired: string[]
  /** still active (index refreshed) */
  extended: number
}

export async function expireUploadsJob(env: Env, nowMs: number): Promise<ExpireReport> {
  const { results } = await env.DB.prepare("SELECT id, item_id FROM media_uploads WHERE status = 'open' AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?")
    .bind(nowMs, EXPIRE_BATCH)
    .all<{ id: string; item_id: string }>()
  const report: ExpireReport = { expired: [], extended: 0 }
  for (const row of results) {
    const res = await mediaUploadStub(env, row.id).expireIfIdle(nowMs)
    if (!res.ok) {
      if (res.code === 'not_open' && res.state) {
        const status = res.state.status === 'open' ? 'open' : res.state.status
        await env.DB.prepare('UPDATE media_uploads SET expires_at_ms = ?, status = ? WHERE id = ?').bind(res.state.expiresAtMs, status, row.id).run()
        report.extended++
        continue
      }
      // no object: the creation broke off before it existed; nothing in R2 is referenced
      await env.DB.prepare("UPDATE media_uploads SET status = 'expired' WHERE id = ? AND status = 'open'").bind(row.id).run()
    } else {
      await discardBytes(env, res.value)
    }
    await env.DB.prepare("UPDATE media_items SET status = 'failed', status_reason = 'upload_expired', original_key = NULL, updated_at_ms = ? WHERE id = ? AND status = 'uploading'").bind(nowMs, row.item_id).run()
    await env.DB.prepare("UPDATE media_uploads SET status = 'expired' WHERE id = ? AND status = 'open'").bind(row.id).run()
    report.expired.push(row.id)
  }
  if (report.expired.length) await audit({ env, actor: 'system:cron' }, 'media.upload.expire', 'media_uploads', { upload_ids: report.expired })
  return report
}
