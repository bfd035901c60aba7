/**
 * `/api/payments/mids`: merchant IDs (list, view, create, update) and a MID's health by month.
 * Mount with `apiApp.route('/api/payments/mids', midsApi)`. Reads need `payments:mids:read`,
 * writes `payments:mids:manage` (finance; admins read). Every write is audited
 * (`payments.mid.create`, `payments.mid.update`); the health object audits its own alerts
 * (`payments.mid.alert`).
 *
 * `status`: operators set `active` or `disabled`; `draining` belongs to health monitoring (it moves
 * a MID between `active` and `draining` as its ratios near a threshold and recover), so a request
 * to make a draining MID `active` is refused, and re-enabling a disabled MID lands on `draining`
 * when its health says so.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import type { JsonObject } from '../../lib/json'
import { cursorOf, encodeCursor, PageQuery } from '../../lib/pagination'
import { createSurfaceApp } from '../../edge/surface'
import { permission, withAccess } from '../../sso/roles/access'
import { isCurrency } from '../currencies'
import { findMid, GATEWAYS, insertMid, listMids, midBrands, midCurrencies, replaceMid, unknownBrandIds, type MidRow } from './mids'
import type { Standing } from './thresholds'
import { isMonth, monthOf } from './thresholds'
import { merchantHealth } from './view'

export const midsApi = createSurfaceApp()

const readers = permission('payments:mids:read')
const managers = permission('payments:mids:manage')
const tags = ['payments']

const iso = (ms: number): string => new Date(ms).toISOString()

const CurrencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code in capitals, e.g. USD', abort: true })
  .refine(isCurrency, 'not an ISO 4217 currency')
  .openapi({ example: 'USD' })

const Currencies = z
  .array(CurrencyCode)
  .min(1)
  .max(30)
  .refine((list) => new Set(list).size === list.length, 'currencies must not repeat')

const BrandIds = z
  .array(z.string().regex(/^brd_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a brand id (brd_...)'))
  .max(50)
  .refine((list) => new Set(list).size === list.length, 'brand ids must not repeat')

const Cap = z
  .object({ amount_minor: z.number().int().safe().positive(), currency: CurrencyCode })
  .strict()
  .openapi('MidCap', { description: 'Monthly settled-volume cap in integer minor units of `currency` (one of the MID\'s currencies)' })

const Margins = {
  /** drain when a ratio is within this many basis points below a draining threshold */
  drain_margin_bps: z.number().int().min(0).max(1_000),
  /** ... and the counts within this many percent below their floors */
  floor_margin_pct: z.number().int().min(0).max(100),
}

const MidCreate = z
  .object({
    gateway: z.enum(GATEWAYS),
    /** what the cardholder's statement shows; card networks allow 22-25 characters */
    descriptor: z.string().trim().min(1).max(25),
    acquirer: z.string().trim().min(1).max(100),
    currencies: Currencies,
    brand_ids: BrandIds.default([]),
    monthly_cap: Cap.nullable().default(null),
    region: z.enum(['global', 'mena']).default('global'),
    drain_margin_bps: Margins.drain_margin_bps.optional(),
    floor_margin_pct: Margins.floor_margin_pct.optional(),
  })
  .strict()
  .openapi('MidCreate')

const MidUpdate = z
  .object({
    descriptor: z.string().trim().min(1).max(25),
    acquirer: z.string().trim().min(1).max(100),
    currencies: Currencies,
    brand_ids: BrandIds,
    monthly_cap: Cap.nullable(),
    region: z.enum(['global', 'mena']),
    status: z.enum(['active', 'disabled']),
    drain_margin_bps: Margins.drain_margin_bps,
    floor_margin_pct: Margins.floor_margin_pct,
  })
  .partial()
  .strict()
  .openapi('MidUpdate')

const MidSchema = z
  .object({
    id: z.string(),
    gateway: z.string(),
    descriptor: z.string(),
    acquirer: z.string(),
    currencies: z.array(z.string()),
    brand_ids: z.array(z.string()),
    monthly_cap: Cap.nullable(),
    region: z.enum(['global', 'mena']),
    status: z.enum(['active', 'draining', 'disabled']),
    drain_margin_bps: z.number().int(),
    floor_margin_pct: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Mid')

const RatioSchema = z.object({ numerator: z.number().int(), denominator: z.number().int(), bps: z.number().int().nullable() })

const StandingSchema = z
  .object({
    month: z.string(),
    region: z.enum(['global', 'mena']),
    drain: z.boolean(),
    reasons: z.array(z.string()),
    visa: z.object({
      programme: z.literal('vamp'),
      level: z.enum(['standard', 'excessive']),
      since: z.string(),
      count: z.number().int(),
      usd_minor: z.number().int(),
      ratio: RatioSchema,
      threshold_bps: z.number().int().nullable(),
      threshold_from: z.string().nullable(),
      floor_met: z.boolean(),
      drain: z.boolean(),
    }),
    mastercard: z.object({
      level: z.enum(['none', 'cmm', 'ecm', 'hecm']),
      since: z.string(),
      ctr: RatioSchema,
      in_excessive_programme: z.boolean(),
      months_below_exit: z.number().int(),
      efm: z.object({
        met: z.boolean(),
        since: z.string().nullable(),
        conditions: z.object({ prev_month_sales: z.boolean(), fraud_amount: z.boolean(), fraud_ratio: z.boolean(), three_ds_share: z.boolean() }),
        fraud_ratio: RatioSchema,
        three_ds_share: RatioSchema,
        fraud_usd_minor: z.number().int(),
      }),
      drain: z.boolean(),
    }),
  })
  .openapi('MidStanding')

const HealthSchema = z
  .object({
    mid_id: z.string(),
    month: z.string(),
    standing: StandingSchema,
    metrics: z.array(z.object({ network: z.string(), metric: z.string(), count: z.number().int(), usd_minor: z.number().int(), usd_unknown: z.number().int() })),
    sums: z.array(z.object({ network: z.string(), metric: z.string(), currency: z.string(), amount_minor: z.number().int() })),
  })
  .openapi('MidHealth')

const IdParam = z.object({ id: z.string().regex(/^mid_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a MID id (mid_...)') })

function standingJson(s: Standing): z.infer<typeof StandingSchema> {
  const e = s.mastercard.efm
  return {
    month: s.month,
    region: s.region,
    drain: s.drain,
    reasons: s.reasons,
    visa: {
      programme: 'vamp',
      level: s.visa.level,
      since: s.visa.since,
      count: s.visa.count,
      usd_minor: s.visa.usdMinor,
      ratio: s.visa.ratio,
      threshold_bps: s.visa.thresholdBps,
      threshold_from: s.visa.thresholdFrom,
      floor_met: s.visa.floorMet,
      drain: s.visa.drain,
    },
    mastercard: {
      level: s.mastercard.level,
      since: s.mastercard.since,
      ctr: s.mastercard.ctr,
      in_excessive_programme: s.mastercard.inExcessiveProgramme,
      months_below_exit: s.mastercard.monthsBelowExit,
      efm: {
        met: e.met,
        since: e.since,
        conditions: { prev_month_sales: e.conditions.prevMonthSales, fraud_amount: e.conditions.fraudAmount, fraud_ratio: e.conditions.fraudRatio, three_ds_share: e.conditions.threeDsShare },
        fraud_ratio: e.fraudRatio,
        three_ds_share: e.threeDsShare,
        fraud_usd_minor: e.fraudUsdMinor,
      },
      drain: s.mastercard.drain,
    },
  }
}

function midJson(row: MidRow, settings: { marginBps: number; floorMarginPct: number }): z.infer<typeof MidSchema> {
  return {
    id: row.id,
    gateway: row.gateway,
    descriptor: row.descriptor,
    acquirer: row.acquirer,
    currencies: midCurrencies(row),
    brand_ids: midBrands(row),
    monthly_cap: row.monthlyCapMinor !== null && row.capCurrency !== null ? { amount_minor: row.monthlyCapMinor, currency: row.capCurrency } : null,
    region: row.region,
    status: row.status,
    drain_margin_bps: settings.marginBps,
    floor_margin_pct: settings.floorMarginPct,
    created_at: iso(row.createdAtMs),
    updated_at: iso(row.updatedAtMs),
  }
}

function invalid(path: string, message: string): ProblemError {
  return new ProblemError('VALIDATION_FAILED', { detail: `invalid ${path}: ${message}`, errors: [{ path, message }] })
}

function notFound(id: string): ProblemError {
  return new ProblemError('NOT_FOUND', { detail: `no MID ${id}` })
}

async function assertBrands(c: Context<AppEnv>, ids: readonly string[]): Promise<void> {
  const unknown = await unknownBrandIds(c.env.DB, ids)
  if (!unknown.length) return
  const errors = unknown.map((id) => ({ path: `body.brand_ids.${ids.indexOf(id)}`, message: `no brand ${id}` }))
  throw new ProblemError('VALIDATION_FAILED', { detail: `unknown brand ids: ${unknown.join(', ')}`, errors })
}

function assertCapCurrency(cap: { currency: string } | null, currencies: readonly string[]): void {
  if (cap && !currencies.includes(cap.currency)) throw invalid('body.monthly_cap.currency', `must be one of the MID's currencies (${currencies.join(', ')})`)
}

async function configure(c: Context<AppEnv>, midId: string, settings: { marginBps: number; floorMarginPct: number }) {
  const result = await merchantHealth(c.env, midId).configure(settings)
  if (!result.ok) throw invalid('body.drain_margin_bps', result.message)
  return result.settings
}

midsApi.openapi(
  createRoute(
    withAccess(readers, {
      method: 'get',
      path: '/',
      tags,
      summary: 'List merchant IDs by id',
      request: { query: PageQuery.extend({ gateway: z.enum(GATEWAYS).optional(), status: z.enum(['active', 'draining', 'disabled']).optional() }) },
      responses: { 200: json('A page of MIDs', z.object({ items: z.array(MidSchema), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
    }),
  ),
  async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ id: z.string() }))
    const rows = await listMids(c.env.DB, { afterId: after?.id, limit: q.limit, gateway: q.gateway, status: q.status })
    const items = rows.slice(0, q.limit)
    const settings = await Promise.all(items.map((row) => merchantHealth(c.env, row.id).getSettings()))
    const last = items.at(-1)
    return c.json({ items: items.map((row, i) => midJson(row, settings[i]!)), next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
  },
)

midsApi.openapi(
  createRoute(
    withAccess(readers, {
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'One merchant ID',
      request: { params: IdParam },
      responses: { 200: json('The MID', MidSchema), ...problemResponses(400, 401, 403, 404) },
    }),
  ),
  async (c) => {
    const { id } = c.req.valid('param')
    const row = await findMid(c.env.DB, id)
    if (!row) throw notFound(id)
    return c.json(midJson(row, await merchantHealth(c.env, id).getSettings()), 200)
  },
)

midsApi.openapi(
  createRoute(
    withAccess(managers, {
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a merchant ID',
      request: { body: jsonBody(MidCreate) },
      responses: { 201: json('Created', MidSchema), ...problemResponses(400, 401, 403, 415, 422) },
    }),
  ),
  async (c) => {
    const body = c.req.valid('json')
    assertCapCurrency(body.monthly_cap, body.currencies)
    await assertBrands(c, body.brand_ids)
    const nowMs = Date.now()
    const row: MidRow = {
      id: newId('merchantId', nowMs),
      gateway: body.gateway,
      descriptor: body.descriptor,
      acquirer: body.acquirer,
      currenciesJson: JSON.stringify(body.currencies),
      brandsJson: JSON.stringify(body.brand_ids),
      monthlyCapMinor: body.monthly_cap?.amount_minor ?? null,
      capCurrency: body.monthly_cap?.currency ?? null,
      region: body.region,
      status: 'active',
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    }
    await insertMid(c.env.DB, row)
    const stub = merchantHealth(c.env, row.id)
    const current = await stub.getSettings()
    const settings =
      body.drain_margin_bps !== undefined || body.floor_margin_pct !== undefined
        ? await configure(c, row.id, { marginBps: body.drain_margin_bps ?? current.marginBps, floorMarginPct: body.floor_margin_pct ?? current.floorMarginPct })
        : current
    const created = midJson(row, settings)
    const { id: _id, created_at: _c, updated_at: _u, ...details } = created
    await audit(c, 'payments.mid.create', row.id, details as JsonObject)
    return c.json(created, 201)
  },
)

midsApi.openapi(
  createRoute(
    withAccess(managers, {
      method: 'patch',
      path: '/{id}',
      tags,
      summary: 'Update a merchant ID; `status` takes active or disabled (draining is set by health monitoring)',
      request: { params: IdParam, body: jsonBody(MidUpdate) },
      responses: { 200: json('Updated', MidSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    }),
  ),
  async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const current = await findMid(c.env.DB, id)
    if (!current) throw notFound(id)
    const stub = merchantHealth(c.env, id)
    const before = midJson(current, await stub.getSettings())

    const currencies = body.currencies ?? before.currencies
    const cap = body.monthly_cap !== undefined ? body.monthly_cap : before.monthly_cap
    if (body.currencies && !body.monthly_cap && cap) {
      if (!currencies.includes(cap.currency)) throw invalid('body.currencies', `the monthly cap is in ${cap.currency}: keep it or change the cap too`)
    }
    assertCapCurrency(body.monthly_cap ?? null, currencies)
    if (body.brand_ids) await assertBrands(c, body.brand_ids)

    let status = current.status
    if (body.status === 'disabled') status = 'disabled'
    else if (body.status === 'active' && current.status === 'draining') {
      throw new ProblemError('CONFLICT', { detail: 'this MID is draining by its health; it returns to active when its ratios recover' })
    } else if (body.status === 'active' && current.status === 'disabled') {
      const health = await stub.standing({})
      status = health.ok && health.standing.drain ? 'draining' : 'active'
    }

    const nowMs = Math.max(Date.now(), current.updatedAtMs + 1)
    const next: MidRow = {
      ...current,
      descriptor: body.descriptor ?? current.descriptor,
      acquirer: body.acquirer ?? current.acquirer,
      currenciesJson: JSON.stringify(currencies),
      brandsJson: body.brand_ids ? JSON.stringify(body.brand_ids) : current.brandsJson,
      monthlyCapMinor: cap?.amount_minor ?? null,
      capCurrency: cap?.currency ?? null,
      region: body.region ?? current.region,
      status,
      updatedAtMs: nowMs,
    }
    if (!(await replaceMid(c.env.DB, current, next))) throw new ProblemError('CONFLICT', { detail: `MID ${id} changed meanwhile; read it again and retry` })
    const settings =
      body.drain_margin_bps !== undefined || body.floor_margin_pct !== undefined
        ? await configure(c, id, { marginBps: body.drain_margin_bps ?? before.drain_margin_bps, floorMarginPct: body.floor_margin_pct ?? before.floor_margin_pct })
        : { marginBps: before.drain_margin_bps, floorMarginPct: before.floor_margin_pct }
    if (next.region !== current.region) await stub.refresh()
    const after = midJson(next, settings)

    const changes: JsonObject = {}
    for (const key of Object.keys(after) as Array<keyof typeof after>) {
      if (key === 'updated_at') continue
      if (JSON.stringify(after[key]) !== JSON.stringify(before[key])) changes[key] = { from: before[key], to: after[key] } as JsonObject
    }
    await audit(c, 'payments.mid.update', id, { changes })
    return c.json(after, 200)
  },
)

midsApi.openapi(
  createRoute(
    withAccess(readers, {
      method: 'get',
      path: '/{id}/health',
      tags,
      summary: "A MID's counts and standing for one month (default: the running month)",
      request: { params: IdParam, query: z.object({ month: z.string().optional().openapi({ example: '2026-04', description: 'YYYY-MM (UTC)' }) }) },
      responses: { 200: json('Counts and standing', HealthSchema), ...problemResponses(400, 401, 403, 404, 422) },
    }),
  ),
  async (c) => {
    const { id } = c.req.valid('param')
    const month = c.req.valid('query').month ?? monthOf(Date.now())
    if (!isMonth(month)) throw invalid('query.month', 'must be YYYY-MM')
    if (!(await findMid(c.env.DB, id))) throw notFound(id)
    const result = await merchantHealth(c.env, id).monthly(month)
    if (!result.ok) throw invalid('query.month', result.message)
    const m = result.monthly
    return c.json(
      {
        mid_id: id,
        month: m.month,
        standing: standingJson(m.standing),
        metrics: m.metrics.map((r) => ({ network: r.network, metric: r.metric, count: r.count, usd_minor: r.usdMinor, usd_unknown: r.usdUnknown })),
        sums: m.sums.map((r) => ({ network: r.network, metric: r.metric, currency: r.currency, amount_minor: r.amountMinor })),
      },
      200,
    )
  },
)
