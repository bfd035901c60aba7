/**
 * When a creator's rule next pays, as shown to the creator: the first run of the daily payout cron
 * (09:00 UTC) on or after now whose date the rule selects, decided by the same `ruleDue` the run
 * uses (workers/payouts/rules/rules.ts, which also defines the platform default: weekly on Tuesday).
 * It is the date the rule implies, not a promise: eligibility (KYC, holds, cool-off, minimums) is
 * decided by that run, and its refusal is shown beside it.
 * @module
 */
import { formatMinor } from '../../payments/gateways/money'
import { ruleDue, type PayoutRule } from '../rules/rules'

/** Hour (UTC) at which the daily payout run evaluates the rules (workers/jobs: `0 9 * * *`). */
export const PAYOUT_RUN_HOUR_UTC = 9

/** How far ahead a schedule is searched: past a year, a schedule has no date left. */
const HORIZON_DAYS = 400

export type NextPayout =
  /** the run on `date` (yyyy-mm-dd, UTC) at `at` (ISO instant) pays by this rule */
  | { kind: 'date'; date: string; at: string }
  /** a threshold rule whose available balance is below the threshold: no date until it is reached */
  | { kind: 'threshold_not_reached'; threshold_minor: number }
  /** manual rule; a schedule with no date left; a currency the rule does not pay */
  | { kind: 'none'; reason: 'manual' | 'no_scheduled_date_left' | 'not_the_rule_currency' }

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const

const DAY_MS = 86_400_000

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** The next run that pays by `rule` after `nowMs`; `availableMinor` is what a threshold compares. */
export function nextPayout(rule: PayoutRule, nowMs: number, availableMinor: number): NextPayout {
  if (rule.kind === 'manual') return { kind: 'none', reason: 'manual' }
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS
  const runOf = (day: number) => day + PAYOUT_RUN_HOUR_UTC * 3_600_000
  // the first run not yet started: today's before 09:00 UTC, else tomorrow's
  const first = nowMs < runOf(today) ? today : today + DAY_MS
  for (let day = first; day < first + HORIZON_DAYS * DAY_MS; day += DAY_MS) {
    const due = ruleDue(rule, isoDay(day), availableMinor)
    if (due.due) return { kind: 'date', date: isoDay(day), at: new Date(runOf(day)).toISOString() }
    if (due.reason === 'below_threshold') return { kind: 'threshold_not_reached', threshold_minor: rule.thresholdMinor ?? 0 }
  }
  return { kind: 'none', reason: 'no_scheduled_date_left' }
}

/** The rule in plain words, e.g. "Every Tuesday (platform default)". */
export function describeRule(rule: PayoutRule): string {
  const suffix = rule.isDefault ? ' (platform default)' : ''
  switch (rule.kind) {
    case 'weekly':
      return `Every ${WEEKDAYS[rule.weekday ?? 2]}${suffix}`
    case 'threshold':
      return `When your available balance reaches ${formatMinor({ minor: rule.thresholdMinor ?? 0, currency: rule.currency })} ${rule.currency}`
    case 'manual':
      return 'Only when you ask for a payout'
    case 'scheduled': {
      const parts = [...(rule.daysOfMonth.length ? [`on day ${rule.daysOfMonth.join(', ')} of each month`] : []), ...(rule.dates.length ? [`on ${rule.dates.join(', ')}`] : [])]
      return parts.length ? `Scheduled ${parts.join(' and ')}` : 'Scheduled (no dates set)'
    }
  }
}
