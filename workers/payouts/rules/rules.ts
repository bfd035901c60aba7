/**
 * Payout rules: when a creator is paid. One rule per creator (`payout_rules`):
 *
 * - `weekly`     on one UTC weekday (0 = Sunday .. 6 = Saturday)
 * - `threshold`  on any run day when the available balance is at or above `threshold_minor`
 * - `scheduled`  on explicit UTC dates (`yyyy-mm-dd`) and/or days of the month; a day of month the
 *                month does not have (29, 30, 31) falls on the month's last day, so "the 31st" pays
 *                every month
 * - `manual`     never by itself: only when asked (an operator run naming the creator, or an instant
 *                payout requested by the creator)
 *
 * A creator without a rule has the platform default: WEEKLY ON TUESDAY (UTC), in the currency of
 * the creator's default payout method (USD when the creator has none yet), to the default method.
 * Tuesday because Monday's run would carry the weekend's chargebacks and bank holidays most often
 * fall on a Monday; the run itself is the daily 09:00 UTC cron.
 *
 * What is paid: the whole available balance in the rule's currency (after the rolling reserve: the
 * ledger keeps the reserve in its own account, so "available" already excludes it), capped at the
 * rail's maximum payout when it has one (the rest goes with the next run).
 * @module
 */
import { z } from '@hono/zod-openapi'

export const RULE_KINDS = ['weekly', 'threshold', 'scheduled', 'manual'] as const
export type RuleKind = (typeof RULE_KINDS)[number]

/** The platform default: weekly on Tuesday. */
export const DEFAULT_WEEKDAY = 2
export const DEFAULT_CURRENCY = 'USD'

/** A rule as the run evaluates it (a stored rule, or the default). */
export interface PayoutRule {
  kind: RuleKind
  weekday: number | null
  thresholdMinor: number | null
  /** explicit `yyyy-mm-dd` dates (scheduled) */
  dates: string[]
  /** days of the month 1..31 (scheduled) */
  daysOfMonth: number[]
  currency: string
  methodId: string | null
  /** true when the creator has no rule of their own */
  isDefault: boolean
}

/** The row columns of `payout_rules` (null when the creator has no rule). */
export interface RuleRow {
  kind: RuleKind | null
  weekday: number | null
  threshold_minor: number | null
  dates_json: string | null
  currency: string | null
  method_id: string | null
}

const IsoDate = z.iso.date()

/** `dates_json` holds one array: strings are dates, numbers days of the month. */
export function encodeDates(dates: readonly string[], daysOfMonth: readonly number[]): string {
  return JSON.stringify([...[...dates].sort(), ...[...daysOfMonth].sort((a, b) => a - b)])
}

export function decodeDates(json: string | null): { dates: string[]; daysOfMonth: number[] } {
  const dates: string[] = []
  const daysOfMonth: number[] = []
  if (!json) return { dates, daysOfMonth }
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return { dates, daysOfMonth }
  }
  if (!Array.isArray(parsed)) return { dates, daysOfMonth }
  for (const v of parsed) {
    if (typeof v === 'string' && IsoDate.safeParse(v).success) dates.push(v)
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 31) daysOfMonth.push(v)
  }
  return { dates, daysOfMonth }
}

/** The stored rule of a creator, or the default one (`defaultCurrency`: the default method's currency). */
export function ruleOf(row: RuleRow | null, defaultCurrency: string | null): PayoutRule {
  if (!row || !row.kind || !row.currency) {
    return { kind: 'weekly', weekday: DEFAULT_WEEKDAY, thresholdMinor: null, dates: [], daysOfMonth: [], currency: defaultCurrency ?? DEFAULT_CURRENCY, methodId: null, isDefault: true }
  }
  const { dates, daysOfMonth } = decodeDates(row.dates_json)
  return { kind: row.kind, weekday: row.weekday, thresholdMinor: row.threshold_minor, dates, daysOfMonth, currency: row.currency, methodId: row.method_id, isDefault: false }
}

function lastDayOfMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate()
}

/** `yyyy-mm-dd` (UTC) -> its weekday and day of month. */
export function dayFacts(runDate: string): { weekday: number; day: number; lastDay: number } {
  const [y, m, d] = runDate.split('-').map(Number) as [number, number, number]
  const at = new Date(Date.UTC(y, m - 1, d))
  return { weekday: at.getUTCDay(), day: d, lastDay: lastDayOfMonth(y, m - 1) }
}

/**
 * Whether the rule pays on `runDate`. Threshold rules are due by amount: `available` is the
 * creator's available balance in the rule's currency.
 */
export function ruleDue(rule: PayoutRule, runDate: string, available: number): { due: true } | { due: false; reason: 'not_due' | 'below_threshold' } {
  const day = dayFacts(runDate)
  switch (rule.kind) {
    case 'weekly':
      return rule.weekday === day.weekday ? { due: true } : { due: false, reason: 'not_due' }
    case 'threshold':
      return available >= (rule.thresholdMinor ?? Number.MAX_SAFE_INTEGER) ? { due: true } : { due: false, reason: 'below_threshold' }
    case 'scheduled': {
      if (rule.dates.includes(runDate)) return { due: true }
      // the 29th..31st of a shorter month fall on its last day
      const hit = rule.daysOfMonth.some((d) => d === day.day || (d > day.lastDay && day.day === day.lastDay))
      return hit ? { due: true } : { due: false, reason: 'not_due' }
    }
    case 'manual':
      return { due: false, reason: 'not_due' }
  }
}

/** `PUT /creators/{id}/rule` body: one variant per kind, every field named in errors. */
const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD')
const MethodId = z.string().regex(/^pm_[0-9A-HJKMNP-TV-Z]{26}$/, 'a payout method id (pm_...)')
const common = { currency: Currency, method_id: MethodId.nullable().optional().openapi({ description: 'null or absent: the default method' }) }

export const RuleInput = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('weekly'), weekday: z.number().int().min(0).max(6).openapi({ description: '0 = Sunday .. 6 = Saturday (UTC)' }), ...common }),
    z.strictObject({ kind: z.literal('threshold'), threshold_minor: z.number().int().min(1).max(1_000_000_000_000), ...common }),
    z
      .strictObject({
        kind: z.literal('scheduled'),
        dates: z.array(IsoDate).max(366).optional().openapi({ description: 'UTC dates yyyy-mm-dd' }),
        days_of_month: z.array(z.number().int().min(1).max(31)).max(31).optional().openapi({ description: '1..31; 29-31 fall on the last day of shorter months' }),
        ...common,
      })
      .refine((v) => (v.dates?.length ?? 0) + (v.days_of_month?.length ?? 0) > 0, { message: 'give dates or days_of_month', path: ['dates'] }),
    z.strictObject({ kind: z.literal('manual'), ...common }),
  ])
  .openapi('PayoutRuleInput')
export type RuleInput = z.infer<typeof RuleInput>

export const RuleView = z
  .object({
    creator_id: z.string(),
    kind: z.enum(RULE_KINDS),
    weekday: z.number().int().nullable(),
    threshold_minor: z.number().int().nullable(),
    dates: z.array(z.string()),
    days_of_month: z.array(z.number().int()),
    currency: z.string(),
    method_id: z.string().nullable(),
    is_default: z.boolean().openapi({ description: 'true: the creator has no rule; this is the platform default (weekly on Tuesday)' }),
    updated_at: z.iso.datetime().nullable(),
  })
  .openapi('PayoutRule')

export function ruleView(creatorId: string, rule: PayoutRule, updatedAtMs: number | null): z.infer<typeof RuleView> {
  return {
    creator_id: creatorId,
    kind: rule.kind,
    weekday: rule.weekday,
    threshold_minor: rule.thresholdMinor,
    dates: rule.dates,
    days_of_month: rule.daysOfMonth,
    currency: rule.currency,
    method_id: rule.methodId,
    is_default: rule.isDefault,
    updated_at: updatedAtMs === null ? null : new Date(updatedAtMs).toISOString(),
  }
}
