/**
 * Submits an approved batch: `approved -> submitted` (one conditional UPDATE, so two submits race
 * safely), its payouts `pending -> queued`, then
 * - API rails: one `payout.execute` message per payout on the PAYOUTS queue (sendBatch, at most 100
 *   per call), executed by execution/consumer.ts;
 * - file rails: `writeBatchFile` (files/batch-file.ts), which writes the bank file and moves the
 *   payouts on to `submitted`.
 *
 * Idempotent: calling it again on a submitted batch moves any payout still `pending` (a run killed
 * half-way) and re-sends messages for queued payouts that were never attempted (a send that may
 * not have happened). A duplicate message is harmless: the consumer acts only on `queued` payouts
 * and the processor is asked with the payout's one idempotency key.
 *
 * Wise batch groups are not used for API payouts, on purpose: a group is completed and funded as a
 * whole, so one transfer that cannot be added (a recipient Wise refuses) or a version conflict holds
 * back every payout in it, and the group's fate cannot be retried or dead-lettered per creator. The
 * queue model gives each payout its own retries, backoff, dead-letter case and operator resolution;
 * Wise deduplicates each transfer by `customerTransactionId` (our idempotency key) and charges its
 * fee per transfer either way, so the group would save funding calls, not creators' money. The
 * batch-group calls stay in processors/wise.ts for a file-like run finance may choose later.
 * @module
 */
import type { PayoutRail } from '../../../d1/schema/payouts'
import { audit, type AuditContext } from '../../compliance/audit'
import { ProblemError } from '../../edge/problem'
import { payoutMessage } from '../execution/consumer'
import { writeBatchFile } from '../files/batch-file'
import { transitionPayout } from '../lifecycle'
import { isFileRail } from '../rails'

/** Cloudflare Queues: at most 100 messages per sendBatch. */
export const SEND_BATCH_MAX = 100

export interface SubmitResult {
  batchId: string
  state: string
  /** messages sent by this call */
  queued: number
  fileId: string | null
}

interface BatchRow {
  id: string
  rail: PayoutRail
  state: string
  external_ref: string | null
}

export async function submitBatch(env: Env, ctx: AuditContext, batchId: string, nowMs = Date.now()): Promise<SubmitResult> {
  const batch = await env.DB.prepare('SELECT id, rail, state, external_ref FROM payout_batches WHERE id = ?').bind(batchId).first<BatchRow>()
  if (!batch) throw new ProblemError('NOT_FOUND', { detail: `no batch ${batchId}` })

  let firstSubmit = false
  if (batch.state === 'approved') {
    const res = await env.DB.prepare("UPDATE payout_batches SET state = 'submitted', submitted_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state = 'approved'").bind(nowMs, nowMs, batchId).run()
    firstSubmit = res.meta.changes === 1
  } else if (batch.state !== 'submitted') {
    if (['settled', 'partially_failed', 'failed'].includes(batch.state)) return { batchId, state: batch.state, queued: 0, fileId: batch.external_ref }
    throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: only an approved batch can be submitted` })
  }

  const pending = await env.DB.prepare("SELECT id FROM payouts WHERE batch_id = ? AND state = 'pending' ORDER BY id").bind(batchId).all<{ id: string }>()
  const moved: string[] = []
  for (const { id } of pending.results) {
    if (await transitionPayout(env, id, ['pending'], 'queued', {}, nowMs)) moved.push(id)
  }

  let fileId: string | null = batch.external_ref
  let sent = 0
  if (isFileRail(batch.rail)) {
    const file = await writeBatchFile(env, ctx, batchId, nowMs)
    fileId = file.fileId
    await env.DB.prepare('UPDATE payout_batches SET external_ref = ?, updated_at_ms = ? WHERE id = ? AND external_ref IS NULL').bind(file.fileId, nowMs, batchId).run()
  } else {
    // never attempted = no message was consumed yet; on a repeat call those are the ones a lost send could leave behind
    const toSend = firstSubmit
      ? moved
      : (await env.DB.prepare("SELECT id FROM payouts WHERE batch_id = ? AND state = 'queued' AND attempts = 0 ORDER BY id").bind(batchId).all<{ id: string }>()).results.map((r) => r.id)
    for (let i = 0; i < toSend.length; i += SEND_BATCH_MAX) {
      await env.PAYOUTS.sendBatch(toSend.slice(i, i + SEND_BATCH_MAX).map((id) => ({ body: payoutMessage(id), contentType: 'json' as const })))
    }
    sent = toSend.length
  }

  if (firstSubmit) await audit(ctx, 'payouts.batch.submit', `payout_batch:${batchId}`, { rail: batch.rail, payouts: moved.length, messages: sent, file_id: fileId })
  const state = (await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!.state
  return { batchId, state, queued: sent, fileId }
}
