/**
 * Creator earnings, payout history and remittance statements under `/api/payouts`:
 *
 * - `GET /creators/{creatorId}/earnings`: per currency the ledger object's balances, paid out to
 *   date, in flight, the rule's next payout date; the methods (masked) and the latest refusals
 * - `GET /creators/{creatorId}/payouts`: payout history, newest first, by cursor
 * - `GET /payouts/{payoutId}/remittance`: remittance advice of a payout that left (JSON, `?format=csv`,
 *   `?format=html` printable)
 * - `GET /creators/{creatorId}/remittances/{month}?currency=`: every payout dated in a UTC month,
 *   with integer totals per state (JSON or CSV)
 *
 * Access is declared as `payouts:self` (creators; finance and admins hold it too) and narrowed by
 * `payoutCreator`: the creator whose profile it is, or a holder of `payouts:read`; anyone else gets
 * 404, as for an unknown creator or payout. Read-only: nothing here changes state, so nothing is
 * audited.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { json, problemResponses } from '../../api/schemas'
import { PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { payoutCreator } from '../access'
import { creatorEarnings, type Earnings } from './earnings'
import { hasRemittance, monthlyRemittance, payoutHistory, payoutLine, remittanceOf, type MonthlyRemittance, type Remittance, type StateTotal } from './remittance'
import { monthlyCsv, monthlyHtml, payoutJson, remittanceCsv, remittanceHtml } from './render'
import { describeRule } from './schedule'

/** Declared permission of every statement route (narrowed per creator by `payoutCreator`). */
export const STATEMENTS_ACCESS = permission('payouts:self')

const CreatorParam = z.object({ creatorId: z.string().min(1).max(64).openapi({ param: { name: 'creatorId', in: 'path' }, example: 'crt_01JFANZ0000000000000000101' }) })
const PayoutParam = z.object({ payoutId: z.string().min(1).max(64).openapi({ param: { name: 'payoutId', in: 'path' }, example: 'po_01JFANZ00000000000000000AA' }) })
const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'yyyy-mm').openapi({ param: { name: 'month', in: 'path' }, example: '2026-11' })
const Currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, upper case')

const PayoutSchema = z
  .object({
    id: z.string(),
    batch_id: z.string().nullable(),
    kind: z.string(),
    rail: z.string(),
    currency: z.string(),
    amount_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    state: z.enum(['pending', 'queued', 'submitted', 'settled', 'failed', 'cancelled', 'returned']),
    method: z.object({ id: z.string(), summary: z.string().nullable() }),
    processor_ref: z.string().nullable(),
    failure: z.object({ code: z.string().nullable(), reason: z.string().nullable() }).nullable(),
    created_at: z.iso.datetime(),
    settled_at: z.iso.datetime().nullable(),
    returned_at: z.iso.datetime().nullable(),
  })
  .openapi('CreatorPayout')

const NextPayoutSchema = z
  .union([
    z.object({ kind: z.literal('date'), date: z.string(), at: z.iso.datetime() }),
    z.object({ kind: z.literal('threshold_not_reached'), threshold_minor: z.number().int() }),
    z.object({ kind: z.literal('none'), reason: z.enum(['manual', 'no_scheduled_date_left', 'not_the_rule_currency']) }),
  ])
  .openapi('NextPayout')

const EarningsSchema = z
  .object({
    creator_id: z.string(),
    display_name: z.string(),
    rule: z.object({
      kind: z.enum(['weekly', 'threshold', 'scheduled', 'manual']),
      weekday: z.number().int().nullable(),
      threshold_minor: z.number().int().nullable(),
      dates: z.array(z.string()),
      days_of_month: z.array(z.number().int()),
      currency: z.string(),
      method_id: z.string().nullable(),
      is_default: z.boolean().openapi({ description: 'the creator has no rule: the platform default (weekly on Tuesday)' }),
      description: z.string(),
    }),
    currencies: z.array(
      z.object({
        currency: z.string(),
        balances: z.object({ pending_minor: z.number().int(), available_minor: z.number().int(), reserve_minor: z.number().int(), on_hold_minor: z.number().int(), debt_minor: z.number().int() }),
        paid_out: z.object({ count: z.number().int(), amount_minor: z.number().int(), fee_minor: z.number().int(), net_minor: z.number().int() }).openapi({ description: 'settled payouts (returned ones excluded)' }),
        in_flight: z.object({ count: z.number().int(), amount_minor: z.number().int() }).openapi({ description: 'pending, queued and submitted payouts' }),
        next_payout: NextPayoutSchema,
      }),
    ),
    methods: z.array(
      z.object({ id: z.string(), type: z.string(), rail: z.string(), currency: z.string(), summary: z.string(), is_default: z.boolean(), usable_from: z.iso.datetime(), created_at: z.iso.datetime() }),
    ),
    refusals: z.array(z.object({ id: z.string(), run_id: z.string().nullable(), code: z.string(), message: z.string(), at: z.iso.datetime() })),
  })
  .openapi('CreatorEarnings')

const Party = z.object({ name: z.string(), website: z.string() })
const Payee = z.object({ creator_id: z.string(), display_name: z.string() })
const RemittanceSchema = z.object({ payer: Party, payee: Payee, date: z.string(), payout: PayoutSchema }).openapi('RemittanceAdvice')
const TotalSchema = z.object({ count: z.number().int(), amount_minor: z.number().int(), fee_minor: z.number().int(), net_minor: z.number().int() })
const MonthlySchema = z
  .object({
    payer: Party,
    payee: Payee,
    month: z.string(),
    currency: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    payouts: z.array(PayoutSchema),
    totals: z.object({ paid: TotalSchema, returned: TotalSchema, in_flight: TotalSchema, not_paid: TotalSchema }),
  })
  .openapi('MonthlyRemittanceStatement')

const iso = (ms: number) => new Date(ms).toISOString()

export function earningsJson(e: Earnings): z.infer<typeof EarningsSchema> {
  return {
    creator_id: e.creatorId,
    display_name: e.displayName,
    rule: {
      kind: e.rule.kind,
      weekday: e.rule.weekday,
      threshold_minor: e.rule.thresholdMinor,
      dates: e.rule.dates,
      days_of_month: e.rule.daysOfMonth,
      currency: e.rule.currency,
      method_id: e.rule.methodId,
      is_default: e.rule.isDefault,
      description: describeRule(e.rule),
    },
    currencies: e.currencies.map((c) => ({
      currency: c.currency,
      balances: { pending_minor: c.pendingMinor, available_minor: c.availableMinor, reserve_minor: c.reserveMinor, on_hold_minor: c.onHoldMinor, debt_minor: c.debtMinor },
      paid_out: { count: c.paidOut.count, amount_minor: c.paidOut.amountMinor, fee_minor: c.paidOut.feeMinor, net_minor: c.paidOut.netMinor },
      in_flight: { count: c.inFlight.count, amount_minor: c.inFlight.amountMinor },
      next_payout: c.next,
    })),
    methods: e.methods.map((m) => ({ id: m.id, type: m.type, rail: m.rail, currency: m.currency, summary: m.summary, is_default: m.isDefault, usable_from: iso(m.usableFromMs), created_at: iso(m.createdAtMs) })),
    refusals: e.refusals.map((r) => ({ id: r.id, run_id: r.runId, code: r.code, message: r.message, at: iso(r.atMs) })),
  }
}

function remittanceJson(r: Remittance): z.infer<typeof RemittanceSchema> {
  return { payer: r.payer, payee: { creator_id: r.payee.creatorId, display_name: r.payee.displayName }, date: r.date, payout: payoutJson(r.payout) }
}

const totalJson = (t: StateTotal) => ({ count: t.count, amount_minor: t.amountMinor, fee_minor: t.feeMinor, net_minor: t.netMinor })

function monthlyJson(m: MonthlyRemittance): z.infer<typeof MonthlySchema> {
  return {
    payer: m.payer,
    payee: { creator_id: m.payee.creatorId, display_name: m.payee.displayName },
    month: m.month,
    currency: m.currency,
    from: iso(m.fromMs),
    to: iso(m.toMs),
    payouts: m.payouts.map(payoutJson),
    totals: { paid: totalJson(m.totals.paid), returned: totalJson(m.totals.returned), in_flight: totalJson(m.totals.inFlight), not_paid: totalJson(m.totals.notPaid) },
  }
}

const CSV = 'text/csv; charset=utf-8; header=present'

export function registerStatements(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute(
      withAccess(STATEMENTS_ACCESS, {
        method: 'get',
        path: '/creators/{creatorId}/earnings',
        tags: ['payouts'],
        summary: "A creator's earnings per currency: ledger balances, paid out to date, in flight, the payout rule and its next date; methods (masked) and the latest refusals",
        request: { params: CreatorParam },
        responses: { 200: json('Earnings', EarningsSchema), ...problemResponses(401, 403, 404) },
      }),
    ),
    async (c) => {
      const creator = await payoutCreator(c, c.req.valid('param').creatorId)
      const earnings = await creatorEarnings(c.env, creator.id)
      if (!earnings) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creator.id}` })
      c.header('cache-control', 'private, no-store')
      return c.json(earningsJson(earnings), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(STATEMENTS_ACCESS, {
        method: 'get',
        path: '/creators/{creatorId}/payouts',
        tags: ['payouts'],
        summary: "A creator's payout history, newest first, by cursor: amount, fee, net, state, method summary, dates, failure or return reason",
        request: { params: CreatorParam, query: PageQuery.extend({ currency: Currency.optional() }) },
        responses: { 200: json('A page of payouts', z.object({ items: z.array(PayoutSchema), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403, 404) },
      }),
    ),
    async (c) => {
      const creator = await payoutCreator(c, c.req.valid('param').creatorId)
      const q = c.req.valid('query')
      const page = await payoutHistory(c.env.DB, creator.id, { cursor: q.cursor, limit: q.limit, currency: q.currency })
      c.header('cache-control', 'private, no-store')
      return c.json({ items: page.items.map(payoutJson), next_cursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(STATEMENTS_ACCESS, {
        method: 'get',
        path: '/payouts/{payoutId}/remittance',
        tags: ['payouts'],
        summary: 'Remittance advice of a payout that was paid (settled, or settled and returned): JSON, CSV (?format=csv) or printable HTML (?format=html)',
        request: { params: PayoutParam, query: z.object({ format: z.enum(['json', 'csv', 'html']).optional() }) },
        responses: {
          200: { description: 'The remittance advice', content: { 'application/json': { schema: RemittanceSchema }, 'text/csv': { schema: z.string() }, 'text/html': { schema: z.string() } } },
          ...problemResponses(400, 401, 403, 404, 409),
        },
      }),
    ),
    async (c) => {
      const { payoutId } = c.req.valid('param')
      const line = await payoutLine(c.env.DB, payoutId)
      if (!line) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
      // someone else's payout answers 404 like an unknown one
      await payoutCreator(c, line.creatorId)
      if (!hasRemittance(line.state)) throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${line.state}: a remittance advice exists once it is paid` })
      const r = (await remittanceOf(c.env.DB, payoutId, c.var.config.platformDomain))!
      c.header('cache-control', 'private, no-store')
      const format = c.req.valid('query').format
      if (format === 'csv') return c.body(remittanceCsv(r), 200, { 'content-type': CSV, 'content-disposition': `attachment; filename="remittance-${payoutId}.csv"` })
      if (format === 'html') return c.html(remittanceHtml(r), 200)
      return c.json(remittanceJson(r), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(STATEMENTS_ACCESS, {
        method: 'get',
        path: '/creators/{creatorId}/remittances/{month}',
        tags: ['payouts'],
        summary: 'Monthly remittance statement (UTC month, one currency): every payout dated in the month (settled date, else created) with totals per state; JSON or CSV (?format=csv)',
        request: { params: CreatorParam.extend({ month: Month }), query: z.object({ currency: Currency.default('USD'), format: z.enum(['json', 'csv', 'html']).optional() }) },
        responses: {
          200: { description: 'The statement', content: { 'application/json': { schema: MonthlySchema }, 'text/csv': { schema: z.string() }, 'text/html': { schema: z.string() } } },
          ...problemResponses(400, 401, 403, 404),
        },
      }),
    ),
    async (c) => {
      const { creatorId, month } = c.req.valid('param')
      const creator = await payoutCreator(c, creatorId)
      const q = c.req.valid('query')
      const m = await monthlyRemittance(c.env.DB, creator.id, month, q.currency, c.var.config.platformDomain)
      c.header('cache-control', 'private, no-store')
      if (q.format === 'csv') return c.body(monthlyCsv(m), 200, { 'content-type': CSV, 'content-disposition': `attachment; filename="remittances-${creator.id}-${month}-${q.currency}.csv"` })
      if (q.format === 'html') return c.html(monthlyHtml(m), 200)
      return c.json(monthlyJson(m), 200)
    },
  )
}
