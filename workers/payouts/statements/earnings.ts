/**
 * A creator's earnings as the creator sees them, per currency: the ledger object's summary (the
 * truth: pending, available, reserve, on hold, debt), what has been paid out to date and what is on
 * its way (from `payouts`), the payout rule with the next date it implies, the payout methods
 * (masked) and the latest refusals in plain words. One reader for the API and the brand page.
 * @module
 */
import type { BalanceSummary } from '../../ledger/model'
import { methodsOf } from '../methods/store'
import { ledgerFor } from '../../ledger/stub'
import { refusalText } from './refusal-text'
import { ruleOf, type PayoutRule, type RuleRow } from '../rules/rules'
import { nextPayout, type NextPayout } from './schedule'

/** How many refusals the earnings view lists, newest first. */
export const LATEST_REFUSALS = 10

export interface CurrencyEarnings {
  currency: string
  pendingMinor: number
  availableMinor: number
  reserveMinor: number
  onHoldMinor: number
  debtMinor: number
  /** settled and not returned: amount taken from the balance, fees, what reached the creator */
  paidOut: { count: number; amountMinor: number; feeMinor: number; netMinor: number }
  /** pending, queued or submitted */
  inFlight: { count: number; amountMinor: number }
  /** true when the creator's rule (or the platform default) pays this currency */
  ruleCurrency: boolean
  next: NextPayout
}

export interface MethodView {
  id: string
  type: string
  rail: string
  currency: string
  summary: string
  isDefault: boolean
  usableFromMs: number
  createdAtMs: number
}

export interface RefusalView {
  id: string
  runId: string | null
  code: string
  /** plain words for the creator */
  message: string
  atMs: number
}

export interface Earnings {
  creatorId: string
  displayName: string
  currencies: CurrencyEarnings[]
  /** the creator's rule, or the platform default (`isDefault`) */
  rule: PayoutRule
  methods: MethodView[]
  refusals: RefusalView[]
}

interface Totals {
  currency: string
  paid_count: number
  paid_amount: number
  paid_fee: number
  paid_net: number
  flight_count: number
  flight_amount: number
}

const ZERO_SUMMARY = (currency: string): BalanceSummary => ({ currency, pendingMinor: 0, availableMinor: 0, reserveMinor: 0, onHoldMinor: 0, debtMinor: 0 })

/** Everything the earnings view shows for one creator (the caller has checked access). */
export async function creatorEarnings(env: Env, creatorId: string, nowMs = Date.now()): Promise<Earnings | null> {
  const [creator, totals, ruleRow, methods, refusals, balances] = await Promise.all([
    env.DB.prepare('SELECT display_name FROM creators WHERE id = ?').bind(creatorId).first<{ display_name: string }>(),
    env.DB.prepare(
      `SELECT currency,
         SUM(state = 'settled') AS paid_count,
         COALESCE(SUM(CASE WHEN state = 'settled' THEN amount_minor END), 0) AS paid_amount,
         COALESCE(SUM(CASE WHEN state = 'settled' THEN fee_minor END), 0) AS paid_fee,
         COALESCE(SUM(CASE WHEN state = 'settled' THEN net_minor END), 0) AS paid_net,
         SUM(state IN ('pending', 'queued', 'submitted')) AS flight_count,
         COALESCE(SUM(CASE WHEN state IN ('pending', 'queued', 'submitted') THEN amount_minor END), 0) AS flight_amount
       FROM payouts WHERE creator_id = ? GROUP BY currency`,
    )
      .bind(creatorId)
      .all<Totals>(),
    env.DB.prepare('SELECT kind, weekday, threshold_minor, dates_json, currency, method_id FROM payout_rules WHERE creator_id = ?').bind(creatorId).first<RuleRow>(),
    methodsOf(env, creatorId),
    env.DB.prepare('SELECT id, run_id, code, at_ms FROM payout_refusals WHERE creator_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?')
      .bind(creatorId, LATEST_REFUSALS)
      .all<{ id: string; run_id: string | null; code: string; at_ms: number }>(),
    ledgerFor(env, creatorId).balances(),
  ])
  if (!creator) return null
  const byCurrency = new Map(totals.results.map((t) => [t.currency, t]))
  // without a rule of their own: the platform default, in the default method's currency
  const rule = ruleOf(ruleRow, methods.find((m) => m.isDefault)?.currency ?? null)
  const currencies = [...new Set([...balances.summary.map((s) => s.currency), ...byCurrency.keys(), rule.currency])].sort()
  return {
    creatorId,
    displayName: creator.display_name,
    rule,
    currencies: currencies.map((currency) => {
      const s = balances.summary.find((b) => b.currency === currency) ?? ZERO_SUMMARY(currency)
      const t = byCurrency.get(currency)
      // a rule pays one currency (the run pays the available balance in the rule's currency)
      const own = rule.currency === currency
      return {
        currency,
        pendingMinor: s.pendingMinor,
        availableMinor: s.availableMinor,
        reserveMinor: s.reserveMinor,
        onHoldMinor: s.onHoldMinor,
        debtMinor: s.debtMinor,
        paidOut: { count: t?.paid_count ?? 0, amountMinor: t?.paid_amount ?? 0, feeMinor: t?.paid_fee ?? 0, netMinor: t?.paid_net ?? 0 },
        inFlight: { count: t?.flight_count ?? 0, amountMinor: t?.flight_amount ?? 0 },
        ruleCurrency: own,
        next: own ? nextPayout(rule, nowMs, s.availableMinor) : { kind: 'none', reason: 'not_the_rule_currency' },
      }
    }),
    methods: methods.map((m) => ({ id: m.id, type: m.type, rail: m.rail, currency: m.currency, summary: m.summary, isDefault: m.isDefault, usableFromMs: m.usableFromMs, createdAtMs: m.createdAtMs })),
    refusals: refusals.results.map((r) => ({ id: r.id, runId: r.run_id, code: r.code, message: refusalText(r.code), atMs: r.at_ms })),
  }
}
