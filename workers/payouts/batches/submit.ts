// SCAFFOLD (P3): submits an approved batch: API rails -> one `payout.execute` message per payout on
// the PAYOUTS queue; file rails -> writeBatchFile (files/batch-file.ts). Idempotent.
import type { AuditContext } from '../../compliance/audit'

export async function submitBatch(_env: Env, _ctx: AuditContext, _batchId: string, _nowMs = Date.now()): Promise<{ batchId: string; state: string; queued: number; fileId: string | null }> {
  throw new Error('submitBatch: not built yet')
}
