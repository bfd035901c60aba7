/**
 * The human review queue's rules: which priority and SLA a classifier verdict gets, when an SLA is
 * at risk, how long a moderator's claim lasts, and the statements that put an item in the queue.
 *
 * | verdict | priority | decision due |
 * |---|---|---|
 * | block (also opens a classifier case) | 0 | 1 hour |
 * | review | 1 | 4 hours |
 * | allow | 2 | 24 hours |
 * | escalated by a moderator | 0 | 1 hour from the escalation (or sooner if already due) |
 *
 * A human always decides before publication; `allow` only means "not urgent".
 * @module
 */
import type { Verdict } from './classifier'

const HOUR = 3_600_000

export const REVIEW_SLA: Record<Verdict, { priority: number; slaMs: number }> = {
  block: { priority: 0, slaMs: 1 * HOUR },
  review: { priority: 1, slaMs: 4 * HOUR },
  allow: { priority: 2, slaMs: 24 * HOUR },
}

/** An escalated item: top of the queue, due within the hour. */
export const ESCALATED = { priority: 0, slaMs: 1 * HOUR }

/** A moderator's claim on an item keeps others off it for 15 minutes. */
export const CLAIM_MS = 15 * 60_000

/** Less than this share of the SLA window left: at risk. */
export const AT_RISK_SHARE = 0.25

export type SlaState = 'on_time' | 'at_risk' | 'breached'

export function slaState(enqueuedAtMs: number, dueAtMs: number, nowMs: number): SlaState {
  if (nowMs > dueAtMs) return 'breached'
  const window = Math.max(1, dueAtMs - enqueuedAtMs)
  return (dueAtMs - nowMs) / window < AT_RISK_SHARE ? 'at_risk' : 'on_time'
}

/**
 * Queues an item for review, once: only while the item is `in_review`, and a redelivered ingest
 * finds the row there and changes nothing.
 */
export function enqueueReviewStatement(d1: D1Database, itemId: string, verdict: Verdict, nowMs: number): D1PreparedStatement {
  const sla = REVIEW_SLA[verdict]
  return d1
    .prepare(
      "INSERT INTO media_reviews (item_id, priority, due_at_ms, status, enqueued_at_ms) SELECT ?1, ?2, ?3, 'queued', ?4 WHERE EXISTS (SELECT 1 FROM media_items WHERE id = ?1 AND status = 'in_review') ON CONFLICT (item_id) DO NOTHING",
    )
    .bind(itemId, sla.priority, nowMs + sla.slaMs, nowMs)
}

/** Puts an item back in the queue (a dismissed case): a decided row is reopened with a fresh SLA. */
export function requeueReviewStatement(d1: D1Database, itemId: string, verdict: Verdict, nowMs: number): D1PreparedStatement {
  const sla = REVIEW_SLA[verdict]
  return d1
    .prepare(
      `INSERT INTO media_reviews (item_id, priority, due_at_ms, status, enqueued_at_ms) SELECT ?1, ?2, ?3, 'queued', ?4 WHERE EXISTS (SELECT 1 FROM media_items WHERE id = ?1 AND status = 'in_review')
       ON CONFLICT (item_id) DO UPDATE SET status = 'queued', priority = excluded.priority, due_at_ms = excluded.due_at_ms, enqueued_at_ms = excluded.enqueued_at_ms,
         claimed_by = NULL, claimed_until_ms = NULL, decision = NULL, decided_by = NULL, decided_at_ms = NULL`,
    )
    .bind(itemId, sla.priority, nowMs + sla.slaMs, nowMs)
}
