/**
 * Payout fees: the schedule per rail and currency, public (`GET /api/payouts/fees`: a creator, or
 * someone deciding whether to become one, sees what each way of being paid costs before signing
 * in; nothing in it is private), edited by finance (`PUT /api/payouts/fees/{rail}/{currency}`,
 * strong step-up, audited with the schedule before and after), and the creator's fee preview
 * (`GET /api/payouts/creators/{creatorId}/fee-preview`): for an amount and currency, what every rail
 * paying that currency and every method of theirs would charge, with minimums, instant
 * availability and the FX spread where the rail converts. All figures come from `quoteFee`, the
 * same arithmetic the payout run charges.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { PAYOUT_RAILS, type PayoutRail } from '../../../d1/schema/payouts'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import type { JsonObject } from '../../lib/json'
import { isCurrency } from '../../payments/currencies'
import { permission, PUBLIC, withAccess } from '../../sso/roles/access'
import { payoutCreator } from '../access'
import { CreatorId, PAYOUT_METHOD_STEP_UP } from '../methods/api'
import type { PayoutMethodType } from '../methods/methods'
import { methodsOf } from '../methods/store'
import { RAIL_OF_METHOD } from '../rails'
import { isFeeRefusal, quoteFee, type FeeSchedule } from './fees'
import { feeSchedule, feeSchedules, railConverts, scheduleKey } from './schedule'

const Currency = z.string().refine(isCurrency, 'an ISO 4217 currency code in capitals, e.g. USD')

/** the method types each rail pays (the sandbox pays none: it stands in for API rails outside production) */
function methodTypesOf(rail: PayoutRail): PayoutMethodType[] {
  return (Object.entries(RAIL_OF_METHOD) as Array<[PayoutMethodType, PayoutRail]>).filter(([, r]) => r === rail).map(([t]) => t)
}

const FeeScheduleView = z
  .object({
    rail: z.enum(PAYOUT_RAILS),
    currency: z.string(),
    method_types: z.array(z.string()),
    fixed_minor: z.number().int(),
    percent_bps: z.number().int(),
    fx_spread_bps: z.number().int(),
    converts: z.boolean().openapi({ description: 'paying this currency through the rail converts (the FX spread applies)' }),
    instant: z.object({ fixed_minor: z.number().int(), percent_bps: z.number().int() }).nullable().openapi({ description: 'null: the rail does not pay instantly' }),
    min_payout_minor: z.number().int(),
    max_payout_minor: z.number().int().nullable(),
    per_batch_fixed_minor: z.number().int().openapi({ description: 'charged to the platform once per batch, not to creators' }),
    updated_at: z.iso.datetime(),
  })
  .openapi('PayoutFeeSchedule')

function scheduleView(s: FeeSchedule): z.infer<typeof FeeScheduleView> {
  return {
    rail: s.rail,
    currency: s.currency,
    method_types: methodTypesOf(s.rail),
    fixed_minor: s.fixedMinor,
    percent_bps: s.percentBps,
    fx_spread_bps: s.fxSpreadBps,
    converts: railConverts(s.rail, s.currency),
    instant: s.instantFixedMinor !== null && s.instantPercentBps !== null ? { fixed_minor: s.instantFixedMinor, percent_bps: s.instantPercentBps } : null,
    min_payout_minor: s.minPayoutMinor,
    max_payout_minor: s.maxPayoutMinor,
    per_batch_fixed_minor: s.perBatchFixedMinor,
    updated_at: new Date(s.updatedAtMs).toISOString(),
  }
}

/** the audited form: every figure, nothing derived */
const auditForm = (s: FeeSchedule | null): JsonObject | null =>
  s && {
    fixed_minor: s.fixedMinor,
    percent_bps: s.percentBps,
    fx_spread_bps: s.fxSpreadBps,
    instant_fixed_minor: s.instantFixedMinor,
    instant_percent_bps: s.instantPercentBps,
    min_payout_minor: s.minPayoutMinor,
    max_payout_minor: s.maxPayoutMinor,
    per_batch_fixed_minor: s.perBatchFixedMinor,
  }

const Minor = z.number().int('whole minor units').min(0).max(1_000_000_000_000)
const Bps = z.number().int('whole basis points').min(0).max(10_000, 'at most 10000 (100%)')

const ScheduleBody = z
  .object({
    fixed_minor: Minor,
    percent_bps: Bps,
    fx_spread_bps: Bps.default(0),
    instant_fixed_minor: Minor.nullable().default(null),
    instant_percent_bps: Bps.nullable().default(null),
    min_payout_minor: Minor.min(1, 'at least 1'),
    max_payout_minor: Minor.nullable().default(null),
    per_batch_fixed_minor: Minor.default(0),
  })
  .superRefine((b, ctx) => {
    if ((b.instant_fixed_minor === null) !== (b.instant_percent_bps === null)) {
      ctx.addIssue({ code: 'custom', path: [b.instant_fixed_minor === null ? 'instant_fixed_minor' : 'instant_percent_bps'], message: 'give both instant figures, or neither (no instant payouts)' })
    }
    if (b.max_payout_minor !== null && b.max_payout_minor < b.min_payout_minor) {
      ctx.addIssue({ code: 'custom', path: ['max_payout_minor'], message: 'must not be below min_payout_minor' })
    }
  })

const listRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/fees',
    tags: ['payouts'],
    summary: 'Payout fee schedules per rail and currency (public)',
    request: { query: z.object({ rail: z.enum(PAYOUT_RAILS).optional(), currency: Currency.optional() }) },
    responses: { 200: json('Schedules', z.object({ items: z.array(FeeScheduleView) })), ...problemResponses(400) },
  }),
)

const putRoute = createRoute(
  withAccess(permission('payouts:manage', { stepUp: PAYOUT_METHOD_STEP_UP }), {
    method: 'put',
    path: '/fees/{rail}/{currency}',
    tags: ['payouts'],
    summary: 'Set the fee schedule of a rail and currency (creating it lets the rail pay that currency); strong step-up, audited',
    security: [{ bearer: [] }],
    request: { params: z.object({ rail: z.enum(PAYOUT_RAILS), currency: Currency }), body: jsonBody(ScheduleBody) },
    responses: {
      200: json('Updated', z.object({ schedule: FeeScheduleView, created: z.literal(false) })),
      201: json('Created', z.object({ schedule: FeeScheduleView, created: z.literal(true) })),
      ...problemResponses(400, 401, 403, 422),
    },
  }),
)

const Quote = z.object({
  fee_minor: z.number().int(),
  net_minor: z.number().int(),
  parts: z.object({ fixed_minor: z.number().int(), percent_minor: z.number().int(), fx_minor: z.number().int() }),
})
const Refusal = z.object({ code: z.string(), detail: z.string() })

const RailPreview = z.object({
  rail: z.enum(PAYOUT_RAILS),
  method_types: z.array(z.string()),
  currency: z.string(),
  minimum_minor: z.number().int(),
  maximum_minor: z.number().int().nullable(),
  instant_available: z.boolean(),
  converts: z.boolean(),
  fx_spread_bps: z.number().int().openapi({ description: 'charged only when `converts`' }),
  quote: Quote.nullable(),
  refusal: Refusal.nullable().openapi({ description: 'why this amount cannot be paid this way (below_minimum, instant_not_offered, ...)' }),
})

const MethodPreview = RailPreview.omit({ method_types: true }).extend({
  method_id: z.string(),
  summary: z.string(),
  usable_from: z.iso.datetime(),
})

const previewRoute = createRoute(
  withAccess(permission('payouts:self'), {
    method: 'get',
    path: '/creators/{creatorId}/fee-preview',
    tags: ['payouts'],
    summary: 'What a payout of an amount would cost by every rail paying its currency, and by each of your methods',
    security: [{ bearer: [] }],
    request: {
      params: z.object({ creatorId: CreatorId }),
      query: z.object({
        amount_minor: z.coerce.number().int('whole minor units').min(1, 'at least 1').max(1_000_000_000_000),
        currency: Currency,
        instant: z
          .enum(['true', 'false'])
          .default('false')
          .transform((v) => v === 'true'),
      }),
    },
    responses: {
      200: json(
        'The preview',
        z.object({ amount_minor: z.number().int(), currency: z.string(), instant: z.boolean(), rails: z.array(RailPreview), methods: z.array(MethodPreview) }),
      ),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
)

function preview(schedule: FeeSchedule, amountMinor: number, instant: boolean): Omit<z.infer<typeof RailPreview>, 'method_types'> {
  const converts = railConverts(schedule.rail, schedule.currency)
  const q = quoteFee(schedule, amountMinor, { instant, converts })
  return {
    rail: schedule.rail,
    currency: schedule.currency,
    minimum_minor: schedule.minPayoutMinor,
    maximum_minor: schedule.maxPayoutMinor,
    instant_available: schedule.instantFixedMinor !== null && schedule.instantPercentBps !== null,
    converts,
    fx_spread_bps: schedule.fxSpreadBps,
    quote: isFeeRefusal(q) ? null : { fee_minor: q.feeMinor, net_minor: q.netMinor, parts: { fixed_minor: q.parts.fixedMinor, percent_minor: q.parts.percentMinor, fx_minor: q.parts.fxMinor } },
    refusal: isFeeRefusal(q) ? { code: q.code, detail: q.detail } : null,
  }
}

export function registerFees(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const all = [...(await feeSchedules(c.env)).values()].filter((s) => (q.rail === undefined || s.rail === q.rail) && (q.currency === undefined || s.currency === q.currency))
    return c.json({ items: all.map(scheduleView) }, 200)
  })

  app.openapi(putRoute, async (c) => {
    const { rail, currency } = c.req.valid('param')
    const b = c.req.valid('json')
    const before = await feeSchedule(c.env, rail, currency)
    const by = authenticated(c).subject
    const nowMs = Date.now()
    await c.env.DB.prepare(
      `INSERT INTO payout_fee_schedules (rail, currency, fixed_minor, percent_bps, fx_spread_bps, instant_fixed_minor, instant_percent_bps, min_payout_minor, max_payout_minor, per_batch_fixed_minor, updated_by, updated_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (rail, currency) DO UPDATE SET fixed_minor = excluded.fixed_minor, percent_bps = excluded.percent_bps, fx_spread_bps = excluded.fx_spread_bps,
         instant_fixed_minor = excluded.instant_fixed_minor, instant_percent_bps = excluded.instant_percent_bps, min_payout_minor = excluded.min_payout_minor,
         max_payout_minor = excluded.max_payout_minor, per_batch_fixed_minor = excluded.per_batch_fixed_minor, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms`,
    )
      .bind(rail, currency, b.fixed_minor, b.percent_bps, b.fx_spread_bps, b.instant_fixed_minor, b.instant_percent_bps, b.min_payout_minor, b.max_payout_minor, b.per_batch_fixed_minor, by, nowMs)
      .run()
    const after = (await feeSchedule(c.env, rail, currency))!
    await audit(c, 'payouts.fee_schedule.set', `payout_fee_schedule:${scheduleKey(rail, currency)}`, { rail, currency, before: auditForm(before), after: auditForm(after) })
    return before ? c.json({ schedule: scheduleView(after), created: false as const }, 200) : c.json({ schedule: scheduleView(after), created: true as const }, 201)
  })

  app.openapi(previewRoute, async (c) => {
    const { creatorId } = c.req.valid('param')
    const q = c.req.valid('query')
    const creator = await payoutCreator(c, creatorId)
    const schedules = await feeSchedules(c.env)
    const rails = [...schedules.values()]
      .filter((s) => s.currency === q.currency && methodTypesOf(s.rail).length > 0)
      .map((s) => ({ ...preview(s, q.amount_minor, q.instant), method_types: methodTypesOf(s.rail) }))
    const methods = (await methodsOf(c.env, creator.id)).map((m) => {
      const own = { method_id: m.id, summary: m.summary, usable_from: new Date(m.usableFromMs).toISOString() }
      const schedule = schedules.get(scheduleKey(m.rail, m.currency))
      if (m.currency !== q.currency || !schedule) {
        return {
          ...own,
          rail: m.rail,
          currency: m.currency,
          minimum_minor: schedule?.minPayoutMinor ?? 0,
          maximum_minor: schedule?.maxPayoutMinor ?? null,
          instant_available: schedule ? schedule.instantFixedMinor !== null && schedule.instantPercentBps !== null : false,
          converts: railConverts(m.rail, m.currency),
          fx_spread_bps: schedule?.fxSpreadBps ?? 0,
          quote: null,
          refusal: schedule
            ? { code: 'other_currency', detail: `this method is paid in ${m.currency}, not ${q.currency}` }
            : { code: 'no_fee_schedule', detail: `${m.rail} has no fee schedule for ${m.currency}` },
        }
      }
      return { ...own, ...preview(schedule, q.amount_minor, q.instant) }
    })
    return c.json({ amount_minor: q.amount_minor, currency: q.currency, instant: q.instant, rails, methods }, 200)
  })
}
