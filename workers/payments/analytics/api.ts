/**
 * `/api/payments/analytics/revenue` and `/api/payments/analytics/success-rate` (finance, operators):
 * figures over [from, to) grouped by any of brand, gateway, mid, country, currency, method, with
 * optional filters on the same dimensions. How each figure is defined: analytics/query.ts.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { permission, withAccess } from '../../sso/roles/access'
import { type AnalyticsQuery, type Dimension, DIMENSIONS, revenue, successRate } from './query'

const DAY_MS = 86_400_000
export const DEFAULT_RANGE_DAYS = 30
export const MAX_RANGE_DAYS = 366

/** `2026-03-01` (UTC midnight) or an RFC 3339 date-time; null when it is neither. */
export function parseInstant(value: string): number | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`)
    // Date.parse rolls 2026-02-30 over to March: refuse dates that do not round-trip
    return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === value ? ms : null
  }
  if (!z.iso.datetime({ offset: true }).safeParse(value).success) return null
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : null
}

const Instant = z.string().max(40).refine((v) => parseInstant(v) !== null, 'an ISO 8601 date (2026-03-01) or date-time')

/** The range asked for, defaults applied: the last 30 days up to now. */
export function rangeOf(q: { from?: string; to?: string }, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = q.to ? parseInstant(q.to)! : nowMs
  const fromMs = q.from ? parseInstant(q.from)! : toMs - DEFAULT_RANGE_DAYS * DAY_MS
  return { fromMs, toMs }
}

const GroupBy = z
  .string()
  .max(100)
  .transform((value, ctx) => {
    const parts = value.split(',').map((p) => p.trim()).filter(Boolean)
    for (const part of parts) {
      if (!(DIMENSIONS as readonly string[]).includes(part)) ctx.addIssue({ code: 'custom', message: `${part} is not one of ${DIMENSIONS.join(', ')}` })
    }
    if (new Set(parts).size !== parts.length) ctx.addIssue({ code: 'custom', message: 'a dimension is named twice' })
    return parts as Dimension[]
  })
  .openapi({ type: 'string', description: `comma-separated: ${DIMENSIONS.join(', ')}`, example: 'brand,gateway' })

const Query = z
  .object({
    from: Instant.optional().openapi({ description: `inclusive; default: ${DEFAULT_RANGE_DAYS} days before \`to\`` }),
    to: Instant.optional().openapi({ description: 'exclusive; default: now' }),
    group_by: GroupBy.optional(),
    brand: z.string().regex(/^brd_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a brand id').optional(),
    gateway: z.string().regex(/^[a-z_]{2,32}$/, 'a gateway id').optional(),
    mid: z.string().regex(/^mid_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a merchant id').optional(),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 (XX: unknown)').optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code').optional(),
    method: z.enum(['card', 'crypto', 'ach', 'sepa', 'wire']).optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.from && parseInstant(q.from) === null) || (q.to && parseInstant(q.to) === null)) return
    const { fromMs, toMs } = rangeOf(q, Date.now())
    if (toMs <= fromMs) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' })
    else if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: `the range is at most ${MAX_RANGE_DAYS} days` })
  })

const GroupKey = z.record(z.string(), z.string().nullable()).openapi({ description: 'the value of each group_by dimension (mid null: no merchant ID)' })
const Range = { from: z.iso.datetime(), to: z.iso.datetime(), group_by: z.array(z.enum(DIMENSIONS)) }

const RevenueGroup = z
  .object({
    group: GroupKey,
    currency: z.string(),
    sales: z.number().int(),
    gross_minor: z.number().int(),
    refunded_minor: z.number().int(),
    charged_back_minor: z.number().int(),
    reinstated_minor: z.number().int().openapi({ description: 'won disputes' }),
    net_minor: z.number().int().openapi({ description: 'gross - refunded - charged back + reinstated' }),
  })
  .openapi('RevenueGroup')

const SuccessGroup = z
  .object({
    group: GroupKey,
    attempts: z.number().int().openapi({ description: 'payments no longer pending' }),
    approved: z.number().int(),
    declined: z.number().int(),
    technical_errors: z.number().int(),
    rate: z.string().openapi({ example: '0.6667', description: 'approved / attempts, 4 decimals' }),
    rate_bps: z.number().int().openapi({ example: 6667 }),
  })
  .openapi('SuccessRateGroup')

export const revenueRoute = createRoute(withAccess(permission('payments:analytics:read'), {
  method: 'get',
  path: '/analytics/revenue',
  tags: ['payments'],
  summary: 'Revenue per group and currency over [from, to): gross, refunded, charged back, reinstated, net, sales',
  security: [{ bearer: [] }],
  request: { query: Query },
  responses: { 200: json('Revenue (minor units; never summed across currencies)', z.object({ ...Range, groups: z.array(RevenueGroup) })), ...problemResponses(400, 401, 403) },
}))

export const successRateRoute = createRoute(withAccess(permission('payments:analytics:read'), {
  method: 'get',
  path: '/analytics/success-rate',
  tags: ['payments'],
  summary: 'Approval rate per group over [from, to): attempts, approved, declined, technical errors',
  security: [{ bearer: [] }],
  request: { query: Query },
  responses: { 200: json('Success rates', z.object({ ...Range, groups: z.array(SuccessGroup) })), ...problemResponses(400, 401, 403) },
}))

function analyticsQuery(q: z.infer<typeof Query>, nowMs: number): AnalyticsQuery {
  const filters: AnalyticsQuery['filters'] = {}
  for (const dim of DIMENSIONS) if (q[dim] !== undefined) filters[dim] = q[dim]
  return { ...rangeOf(q, nowMs), groupBy: q.group_by ?? [], filters }
}

const echo = (q: AnalyticsQuery) => ({ from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), group_by: q.groupBy })

export function registerAnalytics(app: OpenAPIHono<AppEnv>): void {
  app.openapi(revenueRoute, async (c) => {
    const q = analyticsQuery(c.req.valid('query'), Date.now())
    return c.json({ ...echo(q), groups: await revenue(c.env.DB, q) }, 200)
  })
  app.openapi(successRateRoute, async (c) => {
    const q = analyticsQuery(c.req.valid('query'), Date.now())
    return c.json({ ...echo(q), groups: await successRate(c.env.DB, q) }, 200)
  })
}
