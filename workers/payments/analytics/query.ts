/**
 * Revenue and success-rate figures, computed in D1 SQL from `payments` (+ `disputes`).
 *
 * Attribution: a payment counts in the range its checkout was created in ([from, to), UTC), and
 * its later refunds, chargebacks and reinstatements count against that same payment (a cohort
 * view: "what did the payments of March become"), because `payments` keeps running totals, not
 * dated refund rows. Money is never summed across currencies: revenue is always grouped by
 * currency as well as by what was asked.
 *
 * - captured: status succeeded, partially_refunded, refunded or charged_back (the money was taken)
 * - charged back: the disputes' amounts (what each chargeback reversed); a charged-back payment
 *   without a dispute row (before disputes were recorded) counts its captured amount less refunds
 * - reinstated: the amounts of won disputes; net = gross - refunded - charged back + reinstated
 * - success rate: attempts = every payment that is no longer pending; approved = captured;
 *   declined = failed and not technical; technical errors = failed with failure_technical
 * @module
 */

export const DIMENSIONS = ['brand', 'gateway', 'mid', 'country', 'currency', 'method'] as const
export type Dimension = (typeof DIMENSIONS)[number]

const COLUMN: Record<Dimension, string> = {
  brand: 'p.brand_id',
  gateway: 'p.gateway',
  mid: 'p.mid_id',
  country: 'p.country',
  currency: 'p.currency',
  method: 'p.method',
}

const CAPTURED = `('succeeded', 'partially_refunded', 'refunded', 'charged_back')`

export interface AnalyticsQuery {
  fromMs: number
  toMs: number
  groupBy: Dimension[]
  filters: Partial<Record<Dimension, string>>
}

export type Group = Partial<Record<Dimension, string | null>>

export interface RevenueRow {
  group: Group
  currency: string
  sales: number
  gross_minor: number
  refunded_minor: number
  charged_back_minor: number
  reinstated_minor: number
  net_minor: number
}

export interface SuccessRow {
  group: Group
  attempts: number
  approved: number
  declined: number
  technical_errors: number
  /** approved / attempts in basis points, rounded half up */
  rate_bps: number
  /** the same as a decimal string with 4 places, e.g. "0.6667" */
  rate: string
}

function where(q: AnalyticsQuery): { sql: string; binds: unknown[] } {
  const clauses = ['p.created_at_ms >= ?', 'p.created_at_ms < ?']
  const binds: unknown[] = [q.fromMs, q.toMs]
  for (const dim of DIMENSIONS) {
    const value = q.filters[dim]
    if (value !== undefined) (clauses.push(`${COLUMN[dim]} = ?`), binds.push(value))
  }
  return { sql: clauses.join(' AND '), binds }
}

function selectDims(dims: readonly Dimension[]): string {
  return dims.map((d) => `${COLUMN[d]} AS g_${d}`).join(', ')
}

function groupOf(row: Record<string, unknown>, dims: readonly Dimension[]): Group {
  return Object.fromEntries(dims.map((d) => [d, (row[`g_${d}`] as string | null) ?? null]))
}

export async function revenue(d1: D1Database, q: AnalyticsQuery): Promise<RevenueRow[]> {
  // currency is always a grouping key for money; never twice
  const dims = q.groupBy.filter((d) => d !== 'currency')
  const keys = [...dims.map((d) => COLUMN[d]), 'p.currency']
  const w = where(q)
  const sql = `SELECT ${dims.length ? `${selectDims(dims)}, ` : ''}p.currency AS currency,
      COUNT(*) AS sales,
      SUM(p.amount_minor) AS gross_minor,
      SUM(p.refunded_minor) AS refunded_minor,
      SUM(COALESCE(d.charged_back, CASE WHEN p.status = 'charged_back' THEN p.amount_minor - p.refunded_minor ELSE 0 END)) AS charged_back_minor,
      SUM(COALESCE(d.reinstated, 0)) AS reinstated_minor
    FROM payments p
    LEFT JOIN (
      SELECT payment_id, SUM(amount_minor) AS charged_back, SUM(CASE WHEN status = 'won' THEN amount_minor ELSE 0 END) AS reinstated FROM disputes GROUP BY payment_id
    ) d ON d.payment_id = p.id
    WHERE ${w.sql} AND p.status IN ${CAPTURED}
    GROUP BY ${keys.join(', ')}
    ORDER BY ${keys.join(', ')}`
  const { results } = await d1.prepare(sql).bind(...w.binds).all<Record<string, unknown>>()
  return results.map((r) => {
    const gross = Number(r.gross_minor)
    const refunded = Number(r.refunded_minor)
    const chargedBack = Number(r.charged_back_minor)
    const reinstated = Number(r.reinstated_minor)
    return {
      group: groupOf({ ...r, g_currency: r.currency }, q.groupBy),
      currency: r.currency as string,
      sales: Number(r.sales),
      gross_minor: gross,
      refunded_minor: refunded,
      charged_back_minor: chargedBack,
      reinstated_minor: reinstated,
      net_minor: gross - refunded - chargedBack + reinstated,
    }
  })
}

/** approved / attempts in basis points, rounded half up, in integers only. */
export function rateBps(approved: number, attempts: number): number {
  if (attempts === 0) return 0
  return Math.floor((approved * 20_000 + attempts) / (2 * attempts))
}

export function bpsToDecimal(bps: number): string {
  return `${Math.floor(bps / 10_000)}.${String(bps % 10_000).padStart(4, '0')}`
}

export async function successRate(d1: D1Database, q: AnalyticsQuery): Promise<SuccessRow[]> {
  const dims = q.groupBy
  const keys = dims.map((d) => COLUMN[d])
  const w = where(q)
  const sql = `SELECT ${dims.length ? `${selectDims(dims)}, ` : ''}
      COUNT(*) AS attempts,
      SUM(CASE WHEN p.status IN ${CAPTURED} THEN 1 ELSE 0 END) AS approved,
      SUM(CASE WHEN p.status = 'failed' AND COALESCE(p.failure_technical, 0) = 0 THEN 1 ELSE 0 END) AS declined,
      SUM(CASE WHEN p.status = 'failed' AND p.failure_technical = 1 THEN 1 ELSE 0 END) AS technical_errors
    FROM payments p
    WHERE ${w.sql} AND p.status != 'pending'
    ${keys.length ? `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}` : ''}`
  const { results } = await d1.prepare(sql).bind(...w.binds).all<Record<string, unknown>>()
  // without grouping, an empty range still yields one row of zeros: leave it out
  return results
    .filter((r) => Number(r.attempts) > 0)
    .map((r) => {
      const attempts = Number(r.attempts)
      const approved = Number(r.approved)
      const bps = rateBps(approved, attempts)
      return { group: groupOf(r, dims), attempts, approved, declined: Number(r.declined), technical_errors: Number(r.technical_errors), rate_bps: bps, rate: bpsToDecimal(bps) }
    })
}
