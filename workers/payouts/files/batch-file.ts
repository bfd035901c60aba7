// SCAFFOLD (P4): writes the bank file of a submitted file-rail batch (NACHA, pain.001.001.09, wire or
// check register) to the EXPORTS bucket, records payout_files, moves its payouts queued -> submitted.
// Idempotent: a second call returns the file already written.
import type { AuditContext } from '../../compliance/audit'

export async function writeBatchFile(_env: Env, _ctx: AuditContext, _batchId: string, _nowMs = Date.now()): Promise<{ fileId: string; format: string; r2Key: string; entryCount: number; totalMinor: number }> {
  throw new Error('writeBatchFile: not built yet')
}
