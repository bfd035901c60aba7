/**
 * The fee schedules (`payout_fee_schedules`, one row per rail and currency): read one, or all at
 * once for set-based runs. A rail pays a currency exactly when it has a schedule for it: the table
 * is the list of what can be paid where, so adding a row (PUT /api/payouts/fees/{rail}/{currency})
 * is how a rail starts paying a currency.
 *
 * Conversion: a payout converts (and pays the schedule's FX spread) when its currency is not one the
 * rail is funded in. Wise holds a balance per currency and the sandbox converts nothing; the other
 * API rails are funded in USD (the platform's Paxum, ePayService and Payoneer accounts, the crypto
 * custodian); bank files are paid from the account of their own currency (NACHA USD, SEPA EUR) and
 * wires and checks leave the USD operating account.
 * @module
 */
import type { PayoutRail } from '../../../d1/schema/payouts'
import type { FeeSchedule } from './fees'

export type { FeeSchedule }

/** the currencies each rail is funded in; `*` = every currency it pays (no conversion) */
export const RAIL_FUNDING_CURRENCIES: { readonly [R in PayoutRail]: readonly string[] | '*' } = {
  paxum: ['USD'],
  epayservice: ['USD'],
  payoneer: ['USD'],
  crypto_custodian: ['USD'],
  wise: '*',
  sandbox: '*',
  nacha: ['USD'],
  sepa: ['EUR'],
  wire: ['USD'],
  check: ['USD'],
}

/** true when paying `currency` through `rail` converts (and so costs the schedule's FX spread) */
export function railConverts(rail: PayoutRail, currency: string): boolean {
  const funded = RAIL_FUNDING_CURRENCIES[rail]
  return funded !== '*' && !funded.includes(currency)
}

export const scheduleKey = (rail: string, currency: string) => `${rail}:${currency}`

interface ScheduleRow {
  rail: PayoutRail
  currency: string
  fixed_minor: number
  percent_bps: number
  fx_spread_bps: number
  instant_fixed_minor: number | null
  instant_percent_bps: number | null
  min_payout_minor: number
  max_payout_minor: number | null
  per_batch_fixed_minor: number
  updated_by: string
  updated_at_ms: number
}

const COLUMNS =
  'rail, currency, fixed_minor, percent_bps, fx_spread_bps, instant_fixed_minor, instant_percent_bps, min_payout_minor, max_payout_minor, per_batch_fixed_minor, updated_by, updated_at_ms'

function fromRow(r: ScheduleRow): FeeSchedule {
  return {
    rail: r.rail,
    currency: r.currency,
    fixedMinor: r.fixed_minor,
    percentBps: r.percent_bps,
    fxSpreadBps: r.fx_spread_bps,
    instantFixedMinor: r.instant_fixed_minor,
    instantPercentBps: r.instant_percent_bps,
    minPayoutMinor: r.min_payout_minor,
    maxPayoutMinor: r.max_payout_minor,
    perBatchFixedMinor: r.per_batch_fixed_minor,
    updatedBy: r.updated_by,
    updatedAtMs: r.updated_at_ms,
  }
}

/** the schedule of one rail and currency, or null when the rail does not pay that currency */
export async function feeSchedule(env: Env, rail: PayoutRail, currency: string): Promise<FeeSchedule | null> {
  const row = await env.DB.prepare(`SELECT ${COLUMNS} FROM payout_fee_schedules WHERE rail = ? AND currency = ?`).bind(rail, currency).first<ScheduleRow>()
  return row ? fromRow(row) : null
}

/** every schedule, keyed `rail:currency` (scheduleKey), in one query: for runs over many creators */
export async function feeSchedules(env: Env): Promise<Map<string, FeeSchedule>> {
  const { results } = await env.DB.prepare(`SELECT ${COLUMNS} FROM payout_fee_schedules ORDER BY rail, currency`).all<ScheduleRow>()
  return new Map(results.map((r) => [scheduleKey(r.rail, r.currency), fromRow(r)]))
}

/** the currencies a rail pays (those with a schedule) */
export function currenciesOf(schedules: ReadonlyMap<string, FeeSchedule>, rail: PayoutRail): string[] {
  return [...schedules.values()].filter((s) => s.rail === rail).map((s) => s.currency)
}
