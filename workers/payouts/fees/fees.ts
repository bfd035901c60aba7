/**
 * Payout fee arithmetic: integer minor units only. fee = fixed + ceil(amount * percent_bps / 10^4)
 * + ceil(amount * fx_spread_bps / 10^4) when the payout converts; instant payouts use the instant
 * fixed and percentage instead. Rounding is up (the fee never undercharges what the rail costs) and
 * the fee never exceeds the amount. A batch fee of the rail (`per_batch_fixed_minor`) is the
 * platform's cost, not charged to creators; batching choices lower it (see batching).
 * @module
 */
import type { payoutFeeSchedules } from '../../../d1/schema/payouts'

export type FeeSchedule = typeof payoutFeeSchedules.$inferSelect

export interface FeeQuote {
  amountMinor: number
  feeMinor: number
  netMinor: number
  currency: string
  parts: { fixedMinor: number; percentMinor: number; fxMinor: number }
  instant: boolean
}

export type FeeRefusal = { code: 'instant_not_offered' | 'below_minimum' | 'above_maximum' | 'fee_exceeds_amount'; detail: string }

const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b)

/** the fee of paying `amountMinor` through a schedule, or why it cannot be paid */
export function quoteFee(schedule: FeeSchedule, amountMinor: number, options: { instant?: boolean; converts?: boolean } = {}): FeeQuote | FeeRefusal {
  const instant = options.instant === true
  if (instant && (schedule.instantFixedMinor === null || schedule.instantPercentBps === null)) {
    return { code: 'instant_not_offered', detail: `${schedule.rail} does not pay ${schedule.currency} instantly` }
  }
  if (amountMinor < schedule.minPayoutMinor) return { code: 'below_minimum', detail: `the minimum ${schedule.rail} payout is ${schedule.minPayoutMinor} ${schedule.currency} minor units` }
  if (schedule.maxPayoutMinor !== null && amountMinor > schedule.maxPayoutMinor) return { code: 'above_maximum', detail: `the maximum ${schedule.rail} payout is ${schedule.maxPayoutMinor} ${schedule.currency} minor units` }
  const fixedMinor = instant ? schedule.instantFixedMinor! : schedule.fixedMinor
  const bps = instant ? schedule.instantPercentBps! : schedule.percentBps
  // amount <= 10^12 and bps <= 10^4 keep the products below 2^53
  const percentMinor = ceilDiv(amountMinor * bps, 10_000)
  const fxMinor = options.converts ? ceilDiv(amountMinor * schedule.fxSpreadBps, 10_000) : 0
  const feeMinor = fixedMinor + percentMinor + fxMinor
  if (feeMinor >= amountMinor) return { code: 'fee_exceeds_amount', detail: `the fee ${feeMinor} would take the whole payout of ${amountMinor}` }
  return { amountMinor, feeMinor, netMinor: amountMinor - feeMinor, currency: schedule.currency, parts: { fixedMinor, percentMinor, fxMinor }, instant }
}

export function isFeeRefusal(q: FeeQuote | FeeRefusal): q is FeeRefusal {
  return 'code' in q
}
