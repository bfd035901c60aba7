/**
 * Compliance holds on a creator's payouts (`payout_compliance_holds`): open while `released_at_ms`
 * is null. A hold stops new payouts (the run and instant payouts read it through `openHold` /
 * `creatorsOnHold` and record a `compliance_hold` refusal); it does not touch money already in
 * flight, which ends by its own path (settled, failed, returned). A creator may carry several open
 * holds (fraud and legal, say), each released on its own; payouts resume when none is open.
 * @module
 */
import type { payoutComplianceHolds } from '../../../d1/schema/payouts'

export type HoldRow = typeof payoutComplianceHolds.$inferSelect

/** a `payout_compliance_holds` row as D1 returns it */
export interface RawHold {
  id: string
  creator_id: string
  reason: string
  placed_by: string
  placed_at_ms: number
  released_by: string | null
  released_at_ms: number | null
}

export const holdFromRaw = (r: RawHold): HoldRow => ({
  id: r.id,
  creatorId: r.creator_id,
  reason: r.reason,
  placedBy: r.placed_by,
  placedAtMs: r.placed_at_ms,
  releasedBy: r.released_by,
  releasedAtMs: r.released_at_ms,
})

/** the creator's oldest open hold, or null when payouts may go */
export async function openHold(env: Env, creatorId: string): Promise<HoldRow | null> {
  const row = await env.DB.prepare('SELECT * FROM payout_compliance_holds WHERE creator_id = ? AND released_at_ms IS NULL ORDER BY id LIMIT 1').bind(creatorId).first<RawHold>()
  return row ? holdFromRaw(row) : null
}

/**
 * Which of `creatorIds` are on hold, in one query whatever their number: open holds are few (an
 * operator placed each one), so they are read once and matched here instead of sending the ids.
 */
export async function creatorsOnHold(env: Env, creatorIds: Iterable<string>): Promise<Set<string>> {
  const { results } = await env.DB.prepare('SELECT DISTINCT creator_id FROM payout_compliance_holds WHERE released_at_ms IS NULL').all<{ creator_id: string }>()
  const open = new Set(results.map((r) => r.creator_id))
  const out = new Set<string>()
  for (const id of creatorIds) if (open.has(id)) out.add(id)
  return out
}

export async function holdById(env: Env, id: string): Promise<HoldRow | null> {
  const row = await env.DB.prepare('SELECT * FROM payout_compliance_holds WHERE id = ?').bind(id).first<RawHold>()
  return row ? holdFromRaw(row) : null
}

export async function placeComplianceHold(env: Env, hold: { id: string; creatorId: string; reason: string; placedBy: string; nowMs: number }): Promise<HoldRow> {
  await env.DB.prepare('INSERT INTO payout_compliance_holds (id, creator_id, reason, placed_by, placed_at_ms, released_by, released_at_ms) VALUES (?, ?, ?, ?, ?, NULL, NULL)')
    .bind(hold.id, hold.creatorId, hold.reason, hold.placedBy, hold.nowMs)
    .run()
  return { id: hold.id, creatorId: hold.creatorId, reason: hold.reason, placedBy: hold.placedBy, placedAtMs: hold.nowMs, releasedBy: null, releasedAtMs: null }
}

/** Releases an open hold; null when there is no such hold, the row unchanged when it was already released. */
export async function releaseComplianceHold(env: Env, id: string, by: string, nowMs: number): Promise<{ released: boolean; hold: HoldRow } | null> {
  const result = await env.DB.prepare('UPDATE payout_compliance_holds SET released_by = ?, released_at_ms = ? WHERE id = ? AND released_at_ms IS NULL').bind(by, nowMs, id).run()
  const hold = await holdById(env, id)
  if (!hold) return null
  return { released: result.meta.changes === 1, hold }
}
