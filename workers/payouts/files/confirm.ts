/**
 * When a bank-file payout counts as paid. A file handed to the bank has left our hands but not yet
 * reached the creator; nothing from the bank tells us each credit landed, only what came back. So:
 * - written (files/batch-file.ts): payouts `submitted`, holds still pending (not available to the
 *   creator, not yet posted);
 * - finance confirms the bank accepted and executed the file (`POST /files/{id}/confirm`): every
 *   payout still `submitted` is settled, its hold posted (`settlePayout`); the batch becomes settled
 *   (or partially failed, when the bank rejected some before);
 * - a rejection before confirmation (pain.002 RJCT, an early ACH return) fails the payout and voids
 *   its hold; a return after confirmation (ACH R-code days later, a SEPA return) credits the creator
 *   back with `returnPayout`, once.
 * @module
 */
import { audit, type AuditContext } from '../../compliance/audit'
import { ProblemError } from '../../edge/problem'
import { settlePayout } from '../lifecycle'
import type { PayoutFileRow } from './batch-file'

export interface ConfirmResult {
  file_id: string
  batch_id: string
  settled: Array<{ payout_id: string; creator_id: string; net_minor: number; processor_ref: string | null }>
  /** payouts of the file already out of `submitted` (rejected before, or confirmed before) */
  unchanged: number
}

export async function confirmFile(env: Env, ctx: AuditContext, fileId: string, reason: string | null, nowMs = Date.now()): Promise<ConfirmResult> {
  const file = await env.DB.prepare('SELECT * FROM payout_files WHERE id = ?').bind(fileId).first<PayoutFileRow>()
  if (!file) throw new ProblemError('NOT_FOUND', { detail: `no payout file ${fileId}` })
  const batch = await env.DB.prepare('SELECT external_ref FROM payout_batches WHERE id = ?').bind(file.batch_id).first<{ external_ref: string | null }>()
  if (batch?.external_ref !== file.id) throw new ProblemError('CONFLICT', { detail: `file ${fileId} is still being written; submit the batch again to finish it` })
  const { results } = await env.DB.prepare(`SELECT id, creator_id, net_minor, processor_ref, state FROM payouts WHERE batch_id = ? ORDER BY id`)
    .bind(file.batch_id)
    .all<{ id: string; creator_id: string; net_minor: number; processor_ref: string | null; state: string }>()
  const settled: ConfirmResult['settled'] = []
  for (const p of results) {
    if (p.state !== 'submitted') continue
    const after = await settlePayout(env, ctx, p.id, { processorRef: p.processor_ref }, nowMs)
    if (after.state === 'settled') settled.push({ payout_id: p.id, creator_id: p.creator_id, net_minor: p.net_minor, processor_ref: p.processor_ref })
  }
  if (settled.length > 0) {
    await audit(ctx, 'payouts.file.confirm', `payout_file:${file.id}`, {
      batch_id: file.batch_id,
      sha256: file.sha256_hex,
      settled: settled.length,
      settled_net_minor: settled.reduce((s, p) => s + p.net_minor, 0),
      reason,
    })
  }
  return { file_id: file.id, batch_id: file.batch_id, settled, unchanged: results.length - settled.length }
}
