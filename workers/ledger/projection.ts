/**
 * The D1 projection of ledger balances (`ledger_balances`), written by the `CreatorLedger` object
 * after each committed write. Each row carries the ledger sequence number of the write that produced
 * it, and an upsert only lands when its sequence is newer than the stored one, so projection writes
 * arriving out of order never move a balance back in time. The ledger object stays the truth.
 * @module
 */

export interface ProjectedBalance {
  currency: string
  account: string
  postedMinor: number
  pendingMinor: number
  ledgerSeq: number
}

const UPSERT = `INSERT INTO ledger_balances (creator_id, currency, account, posted_minor, pending_minor, ledger_seq, updated_at_ms)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (creator_id, currency, account) DO UPDATE SET
    posted_minor = excluded.posted_minor,
    pending_minor = excluded.pending_minor,
    ledger_seq = excluded.ledger_seq,
    updated_at_ms = excluded.updated_at_ms
  WHERE excluded.ledger_seq > ledger_balances.ledger_seq`

/** Upserts `rows` for `creatorId` in one atomic D1 batch; older sequences than the stored ones are ignored. */
export async function projectBalances(db: D1Database, creatorId: string, rows: readonly ProjectedBalance[], nowMs: number): Promise<void> {
  if (!rows.length) return
  const stmt = db.prepare(UPSERT)
  await db.batch(rows.map((r) => stmt.bind(creatorId, r.currency, r.account, r.postedMinor, r.pendingMinor, r.ledgerSeq, nowMs)))
}

export interface ProjectedRow extends ProjectedBalance {
  creatorId: string
  updatedAtMs: number
}

/** The projected balances of one creator (dashboards and queries read these, never the object). */
export async function readProjection(db: D1Database, creatorId: string): Promise<ProjectedRow[]> {
  const { results } = await db
    .prepare('SELECT creator_id, currency, account, posted_minor, pending_minor, ledger_seq, updated_at_ms FROM ledger_balances WHERE creator_id = ? ORDER BY currency, account')
    .bind(creatorId)
    .all<{ creator_id: string; currency: string; account: string; posted_minor: number; pending_minor: number; ledger_seq: number; updated_at_ms: number }>()
  return results.map((r) => ({ creatorId: r.creator_id, currency: r.currency, account: r.account, postedMinor: r.posted_minor, pendingMinor: r.pending_minor, ledgerSeq: r.ledger_seq, updatedAtMs: r.updated_at_ms }))
}
