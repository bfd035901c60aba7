/**
 * Payout history and remittance statements. A remittance advice tells the payee what was paid, when,
 * how and by whom: one per payout that left (settled, or settled and then returned), and a monthly
 * statement listing every payout of a creator dated in a UTC month, with integer totals per state.
 * The date of a payout is the day it settled, else the day it was created.
 * @module
 */
import type { PayoutState } from '../../../d1/schema/payouts'
import { newestFirstPage } from '../../lib/pagination'

/** The payer printed on every remittance advice. */
export const PAYER_NAME = 'FANZ'

/** A payout as the creator's history and the remittance show it. */
export interface PayoutLine {
  id: string
  creatorId: string
  batchId: string | null
  kind: string
  rail: string
  currency: string
  amountMinor: number
  feeMinor: number
  netMinor: number
  state: PayoutState
  methodId: string
  /** the masked method summary ("SEPA •••• 3000, DE"); null if the method row is gone */
  methodSummary: string | null
  processorRef: string | null
  failureCode: string | null
  failureReason: string | null
  createdAtMs: number
  settledAtMs: number | null
  /** when it came back (payout_returns.at_ms) */
  returnedAtMs: number | null
}

interface LineRow {
  id: string
  creator_id: string
  batch_id: string | null
  kind: string
  rail: string
  currency: string
  amount_minor: number
  fee_minor: number
  net_minor: number
  state: PayoutState
  method_id: string
  method_summary: string | null
  processor_ref: string | null
  failure_code: string | null
  failure_reason: string | null
  created_at_ms: number
  settled_at_ms: number | null
  returned_at_ms: number | null
}

/** payouts joined with their method summary and return date, as one table for `newestFirstPage` */
const LINES = `(SELECT p.id, p.creator_id, p.batch_id, p.kind, p.rail, p.currency, p.amount_minor, p.fee_minor, p.net_minor, p.state, p.method_id,
  m.summary AS method_summary, p.processor_ref, p.failure_code, p.failure_reason, p.created_at_ms, p.settled_at_ms, r.at_ms AS returned_at_ms
  FROM payouts p LEFT JOIN payout_methods m ON m.id = p.method_id LEFT JOIN payout_returns r ON r.payout_id = p.id)`

function line(r: LineRow): PayoutLine {
  return {
    id: r.id,
    creatorId: r.creator_id,
    batchId: r.batch_id,
    kind: r.kind,
    rail: r.rail,
    currency: r.currency,
    amountMinor: r.amount_minor,
    feeMinor: r.fee_minor,
    netMinor: r.net_minor,
    state: r.state,
    methodId: r.method_id,
    methodSummary: r.method_summary,
    processorRef: r.processor_ref,
    failureCode: r.failure_code,
    failureReason: r.failure_reason,
    createdAtMs: r.created_at_ms,
    settledAtMs: r.settled_at_ms,
    returnedAtMs: r.returned_at_ms,
  }
}

/** The date a payout is filed under: settled, else created. */
export function payoutDateMs(p: Pick<PayoutLine, 'settledAtMs' | 'createdAtMs'>): number {
  return p.settledAtMs ?? p.createdAtMs
}

/** A creator's payouts, newest first (payout ids are ULIDs: id order is creation order). */
export async function payoutHistory(d1: D1Database, creatorId: string, page: { cursor: string | undefined; limit: number; currency?: string }): Promise<{ items: PayoutLine[]; nextCursor: string | null }> {
  const result = await newestFirstPage<LineRow>(d1, {
    from: LINES,
    filters: [
      ['creator_id', creatorId],
      ['currency', page.currency],
    ],
    cursor: page.cursor,
    limit: page.limit,
  })
  return { items: result.rows.map(line), nextCursor: result.next_cursor }
}

export async function payoutLine(d1: D1Database, payoutId: string): Promise<PayoutLine | null> {
  const row = await d1.prepare(`SELECT * FROM ${LINES} WHERE id = ?`).bind(payoutId).first<LineRow>()
  return row ? line(row) : null
}

/** A payout has a remittance advice once it left: settled, or settled and returned. */
export function hasRemittance(state: PayoutState): boolean {
  return state === 'settled' || state === 'returned'
}

export interface Remittance {
  payer: { name: string; website: string }
  payee: { creatorId: string; displayName: string }
  payout: PayoutLine
  /** the payout's date (yyyy-mm-dd, UTC) */
  date: string
}

export async function remittanceOf(d1: D1Database, payoutId: string, platformDomain: string): Promise<Remittance | null> {
  const payout = await payoutLine(d1, payoutId)
  if (!payout) return null
  const creator = await d1.prepare('SELECT display_name FROM creators WHERE id = ?').bind(payout.creatorId).first<{ display_name: string }>()
  return {
    payer: { name: PAYER_NAME, website: platformDomain },
    payee: { creatorId: payout.creatorId, displayName: creator?.display_name ?? payout.creatorId },
    payout,
    date: new Date(payoutDateMs(payout)).toISOString().slice(0, 10),
  }
}

export interface StateTotal {
  count: number
  amountMinor: number
  feeMinor: number
  netMinor: number
}

export interface MonthlyRemittance {
  payer: { name: string; website: string }
  payee: { creatorId: string; displayName: string }
  month: string
  currency: string
  fromMs: number
  toMs: number
  /** oldest first */
  payouts: PayoutLine[]
  totals: {
    /** settled and still paid */
    paid: StateTotal
    /** settled, then came back: the creator was credited again */
    returned: StateTotal
    /** pending, queued, submitted */
    inFlight: StateTotal
    /** failed or cancelled: nothing left the balance */
    notPaid: StateTotal
  }
}

const ZERO = (): StateTotal => ({ count: 0, amountMinor: 0, feeMinor: 0, netMinor: 0 })

function add(total: StateTotal, p: PayoutLine): void {
  total.count += 1
  total.amountMinor += p.amountMinor
  total.feeMinor += p.feeMinor
  total.netMinor += p.netMinor
}

/** Bounds of a `yyyy-mm` UTC month: [from, to). */
export function monthBounds(month: string): { fromMs: number; toMs: number } {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return { fromMs: Date.UTC(y, m - 1, 1), toMs: Date.UTC(y, m, 1) }
}

/** Every payout of `creatorId` in `currency` dated in `month`, with totals (integers, per state). */
export async function monthlyRemittance(d1: D1Database, creatorId: string, month: string, currency: string, platformDomain: string): Promise<MonthlyRemittance> {
  const { fromMs, toMs } = monthBounds(month)
  const [creator, rows] = await Promise.all([
    d1.prepare('SELECT display_name FROM creators WHERE id = ?').bind(creatorId).first<{ display_name: string }>(),
    d1
      .prepare(`SELECT * FROM ${LINES} WHERE creator_id = ? AND currency = ? AND COALESCE(settled_at_ms, created_at_ms) >= ? AND COALESCE(settled_at_ms, created_at_ms) < ? ORDER BY COALESCE(settled_at_ms, created_at_ms), id`)
      .bind(creatorId, currency, fromMs, toMs)
      .all<LineRow>(),
  ])
  const payouts = rows.results.map(line)
  const totals = { paid: ZERO(), returned: ZERO(), inFlight: ZERO(), notPaid: ZERO() }
  for (const p of payouts) {
    if (p.state === 'settled') add(totals.paid, p)
    else if (p.state === 'returned') add(totals.returned, p)
    else if (p.state === 'failed' || p.state === 'cancelled') add(totals.notPaid, p)
    else add(totals.inFlight, p)
  }
  return {
    payer: { name: PAYER_NAME, website: platformDomain },
    payee: { creatorId, displayName: creator?.display_name ?? creatorId },
    month,
    currency,
    fromMs,
    toMs,
    payouts,
    totals,
  }
}
