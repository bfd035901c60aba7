/**
 * The review queue's reads and moderator actions: list (priority, then due time), claim (15 min,
 * exclusive), decide (approve / reject / escalate). Every write is one conditional statement or one
 * D1 batch, so two moderators racing for the same item cannot both win.
 * @module
 */
import { ProblemError } from '../../edge/problem'
import { decodeCursor, encodeCursor } from '../../lib/pagination'
import { z } from '@hono/zod-openapi'
import { openCaseStatement } from './cases'
import { CLAIM_MS, ESCALATED, slaState, type SlaState } from './queue'

/** Closed list of reason codes a moderator gives for a rejection or an escalation. */
export const REVIEW_REASONS = [
  'minor_suspected',
  'non_consensual',
  'violence',
  'illegal_content',
  'hate_or_harassment',
  'copyright',
  'terms_violation',
  'performer_records_missing',
  'poor_quality',
  'other',
] as const
export type ReviewReason = (typeof REVIEW_REASONS)[number]
export type Decision = 'approve' | 'reject' | 'escalate'

export interface QueueEntry {
  itemId: string
  kind: 'image' | 'video'
  title: string
  creatorId: string
  creatorName: string | null
  brandId: string
  priority: number
  status: 'queued' | 'claimed'
  claimedBy: string | null
  claimedUntilMs: number | null
  enqueuedAtMs: number
  dueAtMs: number
  sla: SlaState
  classifier: { verdict: string; scores: Record<string, number>; model: string; note?: string } | null
  openCases: number
}

interface QueueRow {
  item_id: string
  kind: 'image' | 'video'
  title: string
  creator_id: string
  display_name: string | null
  brand_id: string
  priority: number
  status: 'queued' | 'claimed'
  claimed_by: string | null
  claimed_until_ms: number | null
  enqueued_at_ms: number
  due_at_ms: number
  classifier_json: string | null
  open_cases: number
}

const QueueCursor = z.object({ p: z.number().int(), d: z.number().int(), i: z.string() })

function classifierOf(json: string | null): QueueEntry['classifier'] {
  if (!json) return null
  try {
    const parsed = JSON.parse(json) as QueueEntry['classifier']
    return parsed && typeof parsed.verdict === 'string' ? parsed : null
  } catch {
    return null
  }
}

/** Items waiting for a decision: most urgent first (priority, then due time, then id). */
export async function listQueue(d1: D1Database, options: { limit: number; cursor?: string | undefined; nowMs: number }): Promise<{ items: QueueEntry[]; nextCursor: string | null }> {
  const after = decodeCursor(options.cursor, QueueCursor)
  if (options.cursor && !after) throw new ProblemError('BAD_REQUEST', { detail: 'cursor is not valid', errors: [{ path: 'query.cursor', message: 'not a cursor from this list' }] })
  const keyset = after ? 'AND (r.priority > ?1 OR (r.priority = ?1 AND (r.due_at_ms > ?2 OR (r.due_at_ms = ?2 AND r.item_id > ?3))))' : ''
  const { results } = await d1
    .prepare(
      `SELECT r.item_id, i.kind, i.title, i.creator_id, c.display_name, i.brand_id, r.priority, r.status, r.claimed_by, r.claimed_until_ms, r.enqueued_at_ms, r.due_at_ms, i.classifier_json,
         (SELECT COUNT(*) FROM media_cases k WHERE k.item_id = r.item_id AND k.status = 'open') AS open_cases
       FROM media_reviews r JOIN media_items i ON i.id = r.item_id LEFT JOIN creators c ON c.id = i.creator_id
       WHERE r.status IN ('queued', 'claimed') AND i.status = 'in_review' ${keyset}
       ORDER BY r.priority, r.due_at_ms, r.item_id LIMIT ?4`,
    )
    .bind(after?.p ?? 0, after?.d ?? 0, after?.i ?? '', options.limit + 1)
    .all<QueueRow>()
  const rows = results.slice(0, options.limit)
  const items = rows.map((r) => {
    const liveClaim = r.status === 'claimed' && r.claimed_until_ms !== null && r.claimed_until_ms > options.nowMs
    return {
      itemId: r.item_id,
      kind: r.kind,
      title: r.title,
      creatorId: r.creator_id,
      creatorName: r.display_name,
      brandId: r.brand_id,
      priority: r.priority,
      status: liveClaim ? ('claimed' as const) : ('queued' as const),
      claimedBy: liveClaim ? r.claimed_by : null,
      claimedUntilMs: liveClaim ? r.claimed_until_ms : null,
      enqueuedAtMs: r.enqueued_at_ms,
      dueAtMs: r.due_at_ms,
      sla: slaState(r.enqueued_at_ms, r.due_at_ms, options.nowMs),
      classifier: classifierOf(r.classifier_json),
      openCases: r.open_cases,
    }
  })
  const last = rows.at(-1)
  return { items, nextCursor: results.length > options.limit && last ? encodeCursor({ p: last.priority, d: last.due_at_ms, i: last.item_id }) : null }
}

interface ReviewRow {
  item_id: string
  status: 'queued' | 'claimed' | 'decided'
  priority: number
  due_at_ms: number
  claimed_by: string | null
  claimed_until_ms: number | null
  item_status: string
  creator_id: string
}

async function reviewOr404(d1: D1Database, itemId: string): Promise<ReviewRow> {
  const row = await d1
    .prepare('SELECT r.item_id, r.status, r.priority, r.due_at_ms, r.claimed_by, r.claimed_until_ms, i.status AS item_status, i.creator_id FROM media_reviews r JOIN media_items i ON i.id = r.item_id WHERE r.item_id = ?')
    .bind(itemId)
    .first<ReviewRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `${itemId} is not in the review queue` })
  return row
}

function refuseIfNotOpen(row: ReviewRow, moderator: string, nowMs: number): void {
  if (row.status === 'decided' || row.item_status !== 'in_review') throw new ProblemError('CONFLICT', { detail: `${row.item_id} is no longer waiting for review (item ${row.item_status})` })
  if (row.status === 'claimed' && row.claimed_by !== moderator && (row.claimed_until_ms ?? 0) > nowMs) {
    throw new ProblemError('CONFLICT', {
      detail: `${row.item_id} is claimed by another moderator until ${new Date(row.claimed_until_ms!).toISOString()}`,
      extensions: { claimed_by: row.claimed_by, claimed_until: new Date(row.claimed_until_ms!).toISOString() },
    })
  }
}

/** Claims an item for `moderator` for CLAIM_MS (renewing one's own claim); another live claim -> 409. */
export async function claimReview(d1: D1Database, itemId: string, moderator: string, nowMs: number): Promise<{ claimedUntilMs: number; renewed: boolean }> {
  const row = await reviewOr404(d1, itemId)
  refuseIfNotOpen(row, moderator, nowMs)
  const until = nowMs + CLAIM_MS
  const res = await d1
    .prepare(
      "UPDATE media_reviews SET status = 'claimed', claimed_by = ?1, claimed_until_ms = ?2 WHERE item_id = ?3 AND status IN ('queued', 'claimed') AND (claimed_by IS NULL OR claimed_by = ?1 OR claimed_until_ms <= ?4)",
    )
    .bind(moderator, until, itemId, nowMs)
    .run()
  if (res.meta.changes !== 1) refuseIfNotOpen(await reviewOr404(d1, itemId), moderator, nowMs)
  if (res.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `${itemId} changed meanwhile; read the queue again` })
  return { claimedUntilMs: until, renewed: row.claimed_by === moderator && row.status === 'claimed' }
}

export interface DecisionInput {
  decision: Decision
  reasons: ReviewReason[]
  note: string | null
}

export type DecisionOutcome = { itemStatus: 'approved' | 'rejected' | 'in_review'; caseId: string | null }

/**
 * A moderator's decision (see the module notes): approve -> item `approved` (refused while a case
 * on it is open: compliance decides those); reject -> `rejected` with the first reason code;
 * escalate -> an escalation case, the item stays queued at priority 0, due within the hour.
 */
export async function decideReview(d1: D1Database, itemId: string, moderator: string, input: DecisionInput, nowMs: number): Promise<DecisionOutcome> {
  const row = await reviewOr404(d1, itemId)
  refuseIfNotOpen(row, moderator, nowMs)
  const claimFree = '(claimed_by IS NULL OR claimed_by = ?2 OR claimed_until_ms <= ?3)'
  if (input.decision === 'escalate') {
    const opened = openCaseStatement(d1, { itemId, kind: 'escalation', severity: 'high', details: { reasons: input.reasons, note: input.note, escalated_by: moderator } }, nowMs, { afterChange: true })
    const [moved] = await d1.batch([
      d1
        .prepare(`UPDATE media_reviews SET status = 'queued', priority = ?4, due_at_ms = MIN(due_at_ms, ?5), claimed_by = NULL, claimed_until_ms = NULL, reasons_json = ?6 WHERE item_id = ?1 AND status != 'decided' AND ${claimFree}`)
        .bind(itemId, moderator, nowMs, ESCALATED.priority, nowMs + ESCALATED.slaMs, JSON.stringify(input.reasons)),
      opened.statement,
    ])
    if (moved!.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `${itemId} changed meanwhile; read the queue again` })
    return { itemStatus: 'in_review', caseId: opened.id }
  }
  if (input.decision === 'approve') {
    const open = await d1.prepare("SELECT COUNT(*) AS n FROM media_cases WHERE item_id = ? AND status = 'open'").bind(itemId).first<{ n: number }>()
    if (open && open.n > 0) throw new ProblemError('CONFLICT', { detail: `${itemId} has ${open.n} open case(s): compliance resolves them before it can be approved`, extensions: { open_cases: open.n } })
  }
  const itemStatus = input.decision === 'approve' ? 'approved' : 'rejected'
  const reason = input.decision === 'reject' ? (input.reasons[0] ?? 'other') : null
  const [decided, moved] = await d1.batch([
    d1
      .prepare(`UPDATE media_reviews SET status = 'decided', decision = ?4, reasons_json = ?5, decided_by = ?2, decided_at_ms = ?3, claimed_by = NULL, claimed_until_ms = NULL WHERE item_id = ?1 AND status != 'decided' AND ${claimFree}`)
      .bind(itemId, moderator, nowMs, input.decision, JSON.stringify(input.reasons)),
    // only when this decision is the one recorded (decided_by and decided_at are this call's)
    d1
      .prepare(
        "UPDATE media_items SET status = ?1, status_reason = ?2, updated_at_ms = ?3 WHERE id = ?4 AND status = 'in_review' AND EXISTS (SELECT 1 FROM media_reviews WHERE item_id = ?4 AND status = 'decided' AND decided_by = ?5 AND decided_at_ms = ?3)",
      )
      .bind(itemStatus, reason, nowMs, itemId, moderator),
  ])
  if (decided!.meta.changes !== 1 || moved!.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `${itemId} changed meanwhile; read the queue again` })
  return { itemStatus, caseId: null }
}
