/**
 * `/api/payments/subscriptions` and creators' subscription prices (registered in ../api.ts).
 *
 * Access: the fan-facing routes are declared with `payments:checkout` (every account is a fan) and
 * narrowed in the handler: a fan sees and cancels their own subscriptions; holders of
 * `payments:subscriptions:read` see every one (filters by creator, brand, fan, status), holders of
 * `payments:subscriptions:manage` cancel any. Someone else's subscription answers 404, like an
 * unknown one, so ids cannot be probed. A price is set by the creator who owns the profile
 * (`creators.user_id` = token subject) or a holder of `payments:subscriptions:manage`; reading it
 * is public (it is on every creator page).
 *
 * Cancelling asks the gateway (cancel.ts) and needs an Idempotency-Key.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { forbidden, holds } from '../../sso/roles/middleware'
import { permission, PUBLIC, withAccess } from '../../sso/roles/access'
import { cancelRequested, requestCancel } from './cancel'
import type { SubscriptionRow } from './lifecycle'
import { priceBounds, setSubscriptionPrice, subscriptionPrice } from './pricing'
import { CURRENCY_EXPONENTS } from '../currencies'
import { isSupportedCurrency } from '../gateways/money'

const ULID = '[0-9A-HJKMNP-TV-Z]{26}'
const STATUSES = ['pending', 'active', 'past_due', 'cancelled', 'expired'] as const
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const Subscription = z
  .object({
    id: z.string(),
    brand_id: z.string(),
    creator_id: z.string(),
    fan_user_id: z.string(),
    gateway: z.string(),
    gateway_subscription_id: z.string().nullable(),
    initial_payment_id: z.string(),
    price_minor: z.number().int(),
    currency: z.string(),
    period_days: z.number().int(),
    status: z.enum(STATUSES),
    current_period_end: z.iso.datetime().nullable().openapi({ description: 'paid until: renews then while active, access ends then once cancelled' }),
    rebills: z.number().int(),
    cancel_requested: z.boolean().openapi({ description: 'a cancel was asked of a gateway without a cancel API; the row changes on its postback' }),
    cancelled_at: z.iso.datetime().nullable(),
    cancel_reason: z.string().nullable(),
    expired_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Subscription')

export function subscriptionView(r: SubscriptionRow): z.infer<typeof Subscription> {
  return {
    id: r.id,
    brand_id: r.brand_id,
    creator_id: r.creator_id,
    fan_user_id: r.fan_user_id,
    gateway: r.gateway,
    gateway_subscription_id: r.gateway_subscription_id,
    initial_payment_id: r.initial_payment_id,
    price_minor: r.price_minor,
    currency: r.currency,
    period_days: r.period_days,
    status: r.status,
    current_period_end: iso(r.current_period_end_ms),
    rebills: r.rebills,
    cancel_requested: cancelRequested(r),
    cancelled_at: iso(r.cancelled_at_ms),
    cancel_reason: r.cancel_reason,
    expired_at: iso(r.expired_at_ms),
    created_at: new Date(r.created_at_ms).toISOString(),
    updated_at: new Date(r.updated_at_ms).toISOString(),
  }
}

const SubscriptionPayment = z.object({
  id: z.string(),
  kind: z.string(),
  amount_minor: z.number().int(),
  currency: z.string(),
  status: z.string(),
  refunded_minor: z.number().int(),
  gateway_transaction_id: z.string().nullable(),
  created_at: z.iso.datetime(),
})

const Id = z.object({ id: z.string().regex(new RegExp(`^sub_${ULID}$`), 'must be a subscription id') })
const CreatorId = z.object({ creator_id: z.string().regex(new RegExp(`^crt_${ULID}$`), 'must be a creator id') })

const Price = z
  .object({
    creator_id: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    period_days: z.number().int(),
    custom: z.boolean().openapi({ description: "false: the creator has not set a price, the platform default applies" }),
  })
  .openapi('SubscriptionPrice')

const PriceRequest = z
  .object({
    amount_minor: z.number().int().positive().openapi({ description: 'integer minor units of `currency`, from 3.00 to 100.00 in its major unit' }),
    currency: z.string().refine((code) => Object.hasOwn(CURRENCY_EXPONENTS, code) && isSupportedCurrency(code), 'must be an ISO 4217 code the gateways settle in'),
  })
  .strict()
  .openapi('SubscriptionPriceRequest')

export const listRoute = createRoute(
  withAccess(permission('payments:checkout'), {
    method: 'get',
    path: '/subscriptions',
    tags: ['payments'],
    summary: "Subscriptions, newest first: a fan's own; every one with payments:subscriptions:read",
    security: [{ bearer: [] }],
    request: {
      query: PageQuery.extend({
        creator_id: z.string().max(64).optional(),
        brand_id: z.string().max(64).optional(),
        fan_user_id: z.string().max(64).optional().openapi({ description: 'staff only; a fan always sees their own' }),
        status: z.enum(STATUSES).optional(),
      }),
    },
    responses: { 200: json('A page of subscriptions', z.object({ items: z.array(Subscription), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

export const viewRoute = createRoute(
  withAccess(permission('payments:checkout'), {
    method: 'get',
    path: '/subscriptions/{id}',
    tags: ['payments'],
    summary: 'One subscription with its payments (the first sale and every rebill)',
    security: [{ bearer: [] }],
    request: { params: Id },
    responses: { 200: json('The subscription', Subscription.extend({ payments: z.array(SubscriptionPayment) })), ...problemResponses(400, 401, 403, 404) },
  }),
)

export const cancelRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:checkout'), {
      method: 'post',
      path: '/subscriptions/{id}/cancel',
      tags: ['payments'],
      summary: 'Ask the gateway to stop renewing (the fan keeps access until the paid period ends)',
      security: [{ bearer: [] }],
      request: { params: Id, body: jsonBody(z.object({ reason: z.string().trim().min(3).max(200).optional() }).strict()) },
      responses: {
        200: json('Cancelled at the gateway (its postback has landed)', z.object({ status: z.enum(['cancelled', 'requested']), subscription: Subscription })),
        202: json('Asked of a gateway without a cancel API: the row changes on its cancellation postback', z.object({ status: z.enum(['cancelled', 'requested']), subscription: Subscription })),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
)

export const getPriceRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/creators/{creator_id}/subscription-price',
    tags: ['payments'],
    summary: "What a subscription to the creator costs (the creator's price, else the platform default)",
    request: { params: CreatorId },
    responses: { 200: json('The price', Price), ...problemResponses(400, 404) },
  }),
)

export const putPriceRoute = createRoute(
  withAccess(permission('payments:checkout'), {
    method: 'put',
    path: '/creators/{creator_id}/subscription-price',
    tags: ['payments'],
    summary: 'Set the monthly price of new subscriptions (the owning creator, or payments:subscriptions:manage); running ones keep theirs',
    security: [{ bearer: [] }],
    request: { params: CreatorId, body: jsonBody(PriceRequest) },
    responses: { 200: json('The new price', Price), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

/** The subscription `id` when the caller may see it (owner, or `permission` holder); 404 otherwise. */
async function subscriptionFor(c: Context<AppEnv>, id: string, staff: 'payments:subscriptions:read' | 'payments:subscriptions:manage'): Promise<SubscriptionRow> {
  const auth = authenticated(c)
  const row = await c.env.DB.prepare('SELECT * FROM subscriptions WHERE id = ?').bind(id).first<SubscriptionRow>()
  if (row && (row.fan_user_id === auth.subject || holds(auth, staff))) return row
  throw new ProblemError('NOT_FOUND', { detail: `no subscription ${id} for you` })
}

async function priceView(d1: D1Database, creatorId: string): Promise<z.infer<typeof Price>> {
  const row = await d1.prepare('SELECT subscription_price_minor FROM creators WHERE id = ?').bind(creatorId).first<{ subscription_price_minor: number | null }>()
  const price = await subscriptionPrice(d1, creatorId)
  return { creator_id: creatorId, amount_minor: price.amountMinor, currency: price.currency, period_days: price.periodDays, custom: row?.subscription_price_minor !== null && row?.subscription_price_minor !== undefined }
}

export function registerSubscriptions(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const auth = authenticated(c)
    const q = c.req.valid('query')
    // a fan sees their own; staff may narrow to one fan
    const fan = holds(auth, 'payments:subscriptions:read') ? q.fan_user_id : auth.subject
    const page = await newestFirstPage<SubscriptionRow>(c.env.DB, {
      from: 'subscriptions',
      filters: [['fan_user_id', fan], ['creator_id', q.creator_id], ['brand_id', q.brand_id], ['status', q.status]],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(subscriptionView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const row = await subscriptionFor(c, c.req.valid('param').id, 'payments:subscriptions:read')
    const { results } = await c.env.DB.prepare(
      `SELECT id, kind, amount_minor, currency, status, refunded_minor, gateway_transaction_id, created_at_ms FROM payments WHERE subscription_id = ?1 OR id = ?2 ORDER BY created_at_ms, id`,
    )
      .bind(row.id, row.initial_payment_id)
      .all<Omit<z.infer<typeof SubscriptionPayment>, 'created_at'> & { created_at_ms: number }>()
    const payments = results.map(({ created_at_ms, ...p }) => ({ ...p, created_at: new Date(created_at_ms).toISOString() }))
    return c.json({ ...subscriptionView(row), payments }, 200)
  })

  app.openapi(cancelRoute, async (c) => {
    const row = await subscriptionFor(c, c.req.valid('param').id, 'payments:subscriptions:manage')
    const body = c.req.valid('json')
    const byFan = row.fan_user_id === authenticated(c).subject
    const result = await requestCancel(c, row, body.reason ?? (byFan ? 'cancelled by the fan' : 'cancelled by support'))
    return c.json({ status: result.status, subscription: subscriptionView(result.subscription) }, result.status === 'cancelled' ? 200 : 202)
  })

  app.openapi(getPriceRoute, async (c) => {
    const { creator_id } = c.req.valid('param')
    const exists = await c.env.DB.prepare('SELECT 1 AS one FROM creators WHERE id = ?').bind(creator_id).first()
    if (!exists) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creator_id}` })
    return c.json(await priceView(c.env.DB, creator_id), 200)
  })

  app.openapi(putPriceRoute, async (c) => {
    const auth = authenticated(c)
    const { creator_id } = c.req.valid('param')
    const body = c.req.valid('json')
    const creator = await c.env.DB.prepare('SELECT id, user_id FROM creators WHERE id = ?').bind(creator_id).first<{ id: string; user_id: string | null }>()
    if (!creator) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creator_id}` })
    const owner = creator.user_id !== null && creator.user_id === auth.subject
    if (!owner && !holds(auth, 'payments:subscriptions:manage')) throw forbidden('payments:subscriptions:manage')
    const bounds = priceBounds(body.currency)
    if (body.amount_minor < bounds.minMinor || body.amount_minor > bounds.maxMinor) {
      throw new ProblemError('VALIDATION_FAILED', {
        detail: `a subscription costs from ${bounds.minMinor} to ${bounds.maxMinor} minor units of ${body.currency}`,
        errors: [{ path: 'body.amount_minor', message: `must be from ${bounds.minMinor} to ${bounds.maxMinor} (${body.currency} minor units)` }],
      })
    }
    const before = await priceView(c.env.DB, creator_id)
    await setSubscriptionPrice(c.env.DB, creator_id, { amountMinor: body.amount_minor, currency: body.currency })
    const after = await priceView(c.env.DB, creator_id)
    await audit(c, 'payments.subscription_price.set', `creator:${creator_id}`, {
      amount_minor: after.amount_minor,
      currency: after.currency,
      previous_amount_minor: before.amount_minor,
      previous_currency: before.currency,
      previous_custom: before.custom,
      by_owner: owner,
    })
    return c.json(after, 200)
  })
}
