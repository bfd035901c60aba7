/**
 * Refusals: why a creator was not paid (`payout_refusals`), kept for the creator and operators.
 * Written in bulk (one INSERT ... SELECT FROM json_each per 500), at most one per creator and run:
 * a resumed run that evaluates a creator again does not record the refusal twice.
 * @module
 */
import { newId } from '../../lib/ids'
import type { Refusal } from './decide'

const CHUNK = 500

export async function recordRefusals(db: D1Database, runId: string | null, refusals: readonly Pick<Refusal, 'creatorId' | 'code' | 'detail'>[], nowMs: number): Promise<void> {
  const stmt = db.prepare(
    `INSERT INTO payout_refusals (id, run_id, creator_id, code, detail, at_ms)
     SELECT json_extract(j.value, '$[0]'), ?1, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), ?2
     FROM json_each(?3) AS j
     WHERE ?1 IS NULL OR NOT EXISTS (SELECT 1 FROM payout_refusals x WHERE x.creator_id = json_extract(j.value, '$[1]') AND x.run_id = ?1)`,
  )
  const statements: D1PreparedStatement[] = []
  for (let i = 0; i < refusals.length; i += CHUNK) {
    const rows = refusals.slice(i, i + CHUNK).map((r) => [newId('payoutRefusal', nowMs), r.creatorId, r.code, r.detail.slice(0, 500)])
    statements.push(stmt.bind(runId, nowMs, JSON.stringify(rows)))
  }
  for (let i = 0; i < statements.length; i += 50) await db.batch(statements.slice(i, i + 50))
}

export interface RefusalRow {
  id: string
  run_id: string | null
  creator_id: string
  code: string
  detail: string
  at_ms: number
}

export function refusalView(r: RefusalRow) {
  return { id: r.id, run_id: r.run_id, creator_id: r.creator_id, code: r.code, detail: r.detail, at: new Date(r.at_ms).toISOString() }
}
