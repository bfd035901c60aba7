/**
 * 28 CFR 75.4's second clock: when the producer ceases business (or the organisation dissolves),
 * every 2257 record is kept at least 5 years after that date, even if its own 7 years end sooner.
 * Recording the event extends every record and its sealed objects at once; records created or
 * amended later take the floor into account too (`retentionFloorMs`).
 * @module
 */
export const CESSATION_YEARS = 5
export const CESSATION_BASIS = '28 CFR 75.4: kept 5 years after the producer ceased business or the organisation dissolved'

export type CessationKind = 'business_ceased' | 'organisation_dissolved'

export interface RetentionEvent {
  id: number
  kind: CessationKind
  effective_on: string
  note: string
  recorded_by: string
  recorded_at_ms: number
}

/** effective date + 5 calendar years, as epoch ms. */
export function cessationFloor(effectiveOn: string): number {
  const d = new Date(`${effectiveOn}T00:00:00Z`)
  d.setUTCFullYear(d.getUTCFullYear() + CESSATION_YEARS)
  return d.getTime()
}

/** The latest floor any recorded event sets (0 when none). */
export async function retentionFloorMs(db: D1Database): Promise<number> {
  const events = await retentionEvents(db)
  return Math.max(0, ...events.map((e) => cessationFloor(e.effective_on)))
}

export async function retentionEvents(db: D1Database): Promise<RetentionEvent[]> {
  return (await db.prepare('SELECT * FROM records_retention_events ORDER BY id').all<RetentionEvent>()).results
}

/**
 * Records the event and raises every record's (and its sealed objects') retention to the floor in
 * one batch; answers how many records were extended.
 */
export async function recordCessation(db: D1Database, input: { kind: CessationKind; effectiveOn: string; note: string; actor: string }, nowMs = Date.now()): Promise<{ event: RetentionEvent; floorMs: number; extended: number }> {
  const floor = cessationFloor(input.effectiveOn)
  const [inserted, extended] = await db.batch([
    db
      .prepare('INSERT INTO records_retention_events (kind, effective_on, note, recorded_by, recorded_at_ms) VALUES (?, ?, ?, ?, ?) RETURNING *')
      .bind(input.kind, input.effectiveOn, input.note, input.actor, nowMs),
    db.prepare('UPDATE performer_records SET retain_until_ms = ? WHERE retain_until_ms < ?').bind(floor, floor),
    // the records' own objects and the documents they reference carry a 75.4 basis
    db
      // the basis grows (an erasure request's note stays), it is never replaced
      .prepare("UPDATE vault_objects SET retain_until_ms = ?, retention_basis = retention_basis || '; ' || ? WHERE retention_basis LIKE '28 CFR 75.4%' AND destroyed_at_ms IS NULL AND (retain_until_ms IS NULL OR retain_until_ms < ?)")
      .bind(floor, CESSATION_BASIS, floor),
  ])
  return { event: (inserted!.results as RetentionEvent[])[0]!, floorMs: floor, extended: extended!.meta.changes }
}
