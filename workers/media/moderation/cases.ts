/**
 * Media cases: what ingest and moderators open for compliance (`media_cases`), never deleted.
 *
 * | kind | opened by | severity |
 * |---|---|---|
 * | hash_match | ingest: a PDQ (<= 31 bits) or MD5 match on an NCII / illegal-content list | critical |
 * | hash_match | ingest: a match on a manual list | high |
 * | reupload | ingest: a match on the platform's own list (`hl_platform_removed`) | high |
 * | classifier | ingest: the classifier said `block` | critical |
 * | escalation | a moderator escalated the item | high |
 *
 * Opening is idempotent (a redelivered ingest or a repeated escalation adds nothing while an open
 * case of the same kind and list exists for the item).
 * @module
 */
import { PLATFORM_LIST_ID, type HashMatch } from '../hashlists/match'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'

export type CaseKind = 'hash_match' | 'classifier' | 'escalation' | 'reupload'
export type CaseSeverity = 'critical' | 'high' | 'normal'

export { PLATFORM_LIST_ID }

export function caseKindFor(match: Pick<HashMatch, 'source' | 'listId'>): CaseKind {
  return match.source === 'platform_removed' || match.listId === PLATFORM_LIST_ID ? 'reupload' : 'hash_match'
}

export function severityFor(match: Pick<HashMatch, 'source' | 'listId'>): CaseSeverity {
  if (match.source === 'ncii' || match.source === 'illegal_content') return 'critical'
  return 'high'
}

export interface CaseInput {
  itemId: string
  kind: CaseKind
  severity: CaseSeverity
  listId?: string | null
  matchedHash?: string | null
  distance?: number | null
  details?: Record<string, unknown>
}

/** The closest match per list (one case per list an item matched). */
export function bestMatchPerList(matches: readonly HashMatch[]): HashMatch[] {
  const best = new Map<string, HashMatch>()
  for (const m of matches) {
    const seen = best.get(m.listId)
    if (!seen || m.distance < seen.distance || (m.distance === seen.distance && m.kind === 'md5')) best.set(m.listId, m)
  }
  return [...best.values()].sort((a, b) => a.listId.localeCompare(b.listId))
}

/**
 * INSERT of a case unless an open one of the same kind (and list) exists for the item. Guards, for
 * use in a D1 batch right after the statement that moves the item or its review (statements of a
 * batch run in order in one transaction): `itemStatus` opens it only while the item is in that
 * state; `afterChange` only when the statement just before changed a row (SQLite `changes()`), so
 * a caller that lost a race opens nothing.
 */
export function openCaseStatement(d1: D1Database, input: CaseInput, nowMs: number, guard: { itemStatus?: string; afterChange?: boolean } = {}): { id: string; statement: D1PreparedStatement } {
  const id = newId('mediaCase', nowMs)
  const statement = d1
    .prepare(
      `INSERT INTO media_cases (id, item_id, kind, status, severity, list_id, matched_hash, distance, details_json, opened_at_ms)
       SELECT ?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, ?9
       WHERE NOT EXISTS (SELECT 1 FROM media_cases WHERE item_id = ?2 AND kind = ?3 AND status = 'open' AND COALESCE(list_id, '') = COALESCE(?5, ''))
         AND (?10 IS NULL OR EXISTS (SELECT 1 FROM media_items WHERE id = ?2 AND status = ?10))${guard.afterChange ? ' AND changes() = 1' : ''}`,
    )
    .bind(id, input.itemId, input.kind, input.severity, input.listId ?? null, input.matchedHash ?? null, input.distance ?? null, JSON.stringify(input.details ?? {}), nowMs, guard.itemStatus ?? null)
  return { id, statement }
}

export async function openCaseCount(d1: D1Database, itemId?: string): Promise<number> {
  const row = itemId
    ? await d1.prepare("SELECT COUNT(*) AS n FROM media_cases WHERE status = 'open' AND item_id = ?").bind(itemId).first<{ n: number }>()
    : await d1.prepare("SELECT COUNT(*) AS n FROM media_cases WHERE status = 'open'").first<{ n: number }>()
  return row?.n ?? 0
}

export interface CaseRow {
  id: string
  item_id: string
  kind: CaseKind
  status: 'open' | 'confirmed' | 'dismissed'
  severity: CaseSeverity
  list_id: string | null
  matched_hash: string | null
  distance: number | null
  details_json: string
  opened_at_ms: number
  resolved_by: string | null
  resolved_at_ms: number | null
  resolution_note: string | null
}

export type Resolution = 'confirmed' | 'dismissed'

/** Appended to a confirmed critical case: the evidence stays (media.md §1.1 CSAM handling: block, preserve, report). */
export const EVIDENCE_NOTE = 'Evidence preserved: the original stays in R2 and is never deleted; report to NCMEC / the list provider as required.'

/**
 * Resolves an open case (compliance):
 * - hash_match / reupload: confirmed keeps the item quarantined (critical: evidence preserved, noted
 *   in the case); dismissed sends it to the review queue when no other list case on it is open;
 * - classifier / escalation: confirmed rejects the item (`compliance_confirmed`); dismissed leaves
 *   the review where it is (a moderator may now approve).
 * Returns what happened to the item.
 */
export async function resolveCase(
  d1: D1Database,
  caseId: string,
  input: { resolution: Resolution; note: string; by: string },
  nowMs: number,
  requeue: (itemId: string) => D1PreparedStatement,
): Promise<{ row: CaseRow; itemStatus: string | null }> {
  const row = await d1.prepare('SELECT * FROM media_cases WHERE id = ?').bind(caseId).first<CaseRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no case ${caseId}` })
  if (row.status !== 'open') throw new ProblemError('CONFLICT', { detail: `case ${caseId} is already ${row.status}` })
  const listCase = row.kind === 'hash_match' || row.kind === 'reupload'
  const note = input.resolution === 'confirmed' && listCase && row.severity === 'critical' ? `${input.note}\n${EVIDENCE_NOTE}` : input.note
  const close = d1
    .prepare("UPDATE media_cases SET status = ?1, resolved_by = ?2, resolved_at_ms = ?3, resolution_note = ?4 WHERE id = ?5 AND status = 'open'")
    .bind(input.resolution, input.by, nowMs, note, caseId)
  const follow: D1PreparedStatement[] = []
  if (listCase && input.resolution === 'dismissed') {
    // back to review only when no other list case on the item is still open (this one is closed by then)
    const noOtherOpen = "NOT EXISTS (SELECT 1 FROM media_cases WHERE item_id = ?2 AND status = 'open' AND kind IN ('hash_match', 'reupload'))"
    follow.push(d1.prepare(`UPDATE media_items SET status = 'in_review', status_reason = NULL, updated_at_ms = ?1 WHERE id = ?2 AND status = 'quarantined' AND ${noOtherOpen}`).bind(nowMs, row.item_id), requeue(row.item_id))
  }
  if (!listCase && input.resolution === 'confirmed') {
    follow.push(
      d1.prepare("UPDATE media_items SET status = 'rejected', status_reason = 'compliance_confirmed', updated_at_ms = ?1 WHERE id = ?2 AND status IN ('in_review', 'approved')").bind(nowMs, row.item_id),
      d1
        .prepare("UPDATE media_reviews SET status = 'decided', decision = 'reject', reasons_json = ?1, decided_by = ?2, decided_at_ms = ?3, claimed_by = NULL, claimed_until_ms = NULL WHERE item_id = ?4 AND status != 'decided'")
        .bind(JSON.stringify([row.kind === 'classifier' ? 'classifier_confirmed' : 'escalation_confirmed']), input.by, nowMs, row.item_id),
    )
  }
  const [closed] = await d1.batch([close, ...follow])
  if (closed!.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `case ${caseId} was resolved meanwhile` })
  const item = await d1.prepare('SELECT status FROM media_items WHERE id = ?').bind(row.item_id).first<{ status: string }>()
  return { row: { ...row, status: input.resolution, resolved_by: input.by, resolved_at_ms: nowMs, resolution_note: note }, itemStatus: item?.status ?? null }
}
