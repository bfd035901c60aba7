/**
 * `/api/payments/transactions`: payments with their gateway events (finance, admin), and refunds.
 * A refund is asked of the gateway; the money moves when the gateway's refund postback arrives
 * (webhooks -> apply.ts -> ledger), the same path a refund made in a gateway's own console takes,
 * so the ledger has one source of truth for every refund.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../api/schemas'
import { audit } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { withIdempotency } from '../lib/idempotency'
import { newestFirstPage, PageQuery } from '../lib/pagination'
import { platformFetch } from '../lib/platform-fetch'
import { permission, withAccess } from '../sso/roles/access'

const Payment = z
  .object({
    id: z.string(),
    kind: z.string(),
    brand_id: z.string(),
    creator_id: z.string(),
    fan_user_id: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    refunded_minor: z.number().int(),
    gateway: z.string(),
    mid_id: z.string().nullable(),
    status: z.string(),
    gateway_transaction_id: z.string().nullable(),
    method: z.enum(['card', 'crypto', 'ach', 'sepa', 'wire']),
    country: z.string().openapi({ description: 'the fan\'s country at checkout (ISO 3166-1 alpha-2, XX unknown)' }),
    retry_of: z.string().nullable().openapi({ description: 'the technically failed payment this one retried on another gateway' }),
    failure_code: z.string().nullable().openapi({ description: 'the gateway\'s failure code or reason, when it failed' }),
    failure_technical: z.boolean().nullable().openapi({ description: 'the failure was the gateway\'s or network\'s (retried elsewhere), not a decline' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Payment')

const GatewayEvent = z.object({ event_id: z.string(), type: z.string(), status: z.string(), detail: z.string().nullable(), amount_minor: z.number().int().nullable(), received_at: z.iso.datetime() })

type PaymentRow = Omit<z.infer<typeof Payment>, 'created_at' | 'updated_at' | 'failure_technical'> & { failure_technical: number | null; created_at_ms: number; updated_at_ms: number }

const view = (r: PaymentRow): z.infer<typeof Payment> => {
  const { created_at_ms, updated_at_ms, failure_technical, ...rest } = r
  return { ...rest, failure_technical: failure_technical === null ? null : failure_technical === 1, created_at: new Date(created_at_ms).toISOString(), updated_at: new Date(updated_at_ms).toISOString() }
}

const COLUMNS =
  'id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, refunded_minor, gateway, mid_id, status, gateway_transaction_id, method, country, retry_of, failure_code, failure_technical, created_at_ms, updated_at_ms'
async function paymentOr404(d1: D1Database, id: string): Promise<PaymentRow> {
  const row = await d1.prepare(`SELECT ${COLUMNS} FROM payments WHERE id = ?`).bind(id).first<PaymentRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no payment ${id}` })
  return row
}

const Id = z.object({ id: z.string().regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payment id') })

export const listRoute = createRoute(withAccess(permission('payments:read'), {
  method: 'get',
  path: '/transactions',
  tags: ['payments'],
  summary: 'Payments, newest first, filtered by creator or status',
  security: [{ bearer: [] }],
  request: { query: PageQuery.extend({ creator_id: z.string().max(64).optional(), status: z.enum(['pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'charged_back']).optional() }) },
  responses: { 200: json('A page of payments', z.object({ items: z.array(Payment), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
}))

export const viewRoute = createRoute(withAccess(permission('payments:read'), {
  method: 'get',
  path: '/transactions/{id}',
  tags: ['payments'],
  summary: 'One payment with every gateway event about it (the evidence trail)',
  security: [{ bearer: [] }],
  request: { params: Id },
  responses: { 200: json('The payment', Payment.extend({ events: z.array(GatewayEvent) })), ...problemResponses(400, 401, 403, 404) },
}))

export const refundRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:refund'), {
      method: 'post',
      path: '/transactions/{id}/refund',
      tags: ['payments'],
      summary: "Ask the payment's gateway for a refund; the ledger moves when the gateway confirms",
      security: [{ bearer: [] }],
      request: { params: Id, body: jsonBody(z.object({ amount_minor: z.number().int().positive(), reason: z.string().trim().min(3).max(500) }).strict()) },
      responses: {
        202: json('Requested from the gateway', z.object({ status: z.literal('requested'), payment_id: z.string(), amount_minor: z.number().int() })),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
)

export function registerTransactions(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<PaymentRow>(c.env.DB, { from: 'payments', columns: COLUMNS, filters: [['creator_id', q.creator_id], ['status', q.status]], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(view), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await paymentOr404(c.env.DB, id)
    const { results } = await c.env.DB.prepare(
      `SELECT event_id, type, status, detail, amount_minor, received_at_ms FROM gateway_events WHERE payment_id = ? OR (gateway = ? AND original_transaction_id = ?) ORDER BY occurred_at_ms, event_id`,
    )
      .bind(id, row.gateway, row.gateway_transaction_id ?? '')
      .all<{ event_id: string; type: string; status: string; detail: string | null; amount_minor: number | null; received_at_ms: number }>()
    const events = results.map(({ received_at_ms, ...e }) => ({ ...e, received_at: new Date(received_at_ms).toISOString() }))
    return c.json({ ...view(row), events }, 200)
  })

  app.openapi(refundRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const row = await paymentOr404(c.env.DB, id)
    if (row.status !== 'succeeded' && row.status !== 'partially_refunded') throw new ProblemError('CONFLICT', { detail: `a ${row.status} payment cannot be refunded` })
    if (body.amount_minor > row.amount_minor - row.refunded_minor) {
      throw new ProblemError('VALIDATION_FAILED', { detail: 'more than is left to refund', errors: [{ path: 'body.amount_minor', message: `at most ${row.amount_minor - row.refunded_minor}` }] })
    }
    if (row.gateway !== 'sandbox' || !row.gateway_transaction_id) {
      // the adapters carry no refund API yet: the refund is made in the gateway's console and its postback moves the ledger
      throw new ProblemError('CONFLICT', { detail: `refunds through ${row.gateway} are made in its merchant console; the refund postback updates the ledger` })
    }
    const sandbox = `${c.var.config.issuer.replace('//sso.', '//')}/sandbox-gateway/refunds`
    const res = await platformFetch(c.env, c.executionCtx as ExecutionContext)(sandbox, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction_id: row.gateway_transaction_id, amount_minor: String(body.amount_minor) }),
    })
    await res.body?.cancel()
    if (!res.ok) throw new ProblemError('UPSTREAM_ERROR', { detail: `the gateway refused the refund (${res.status})` })
    await audit(c, 'payments.refund.request', `payment:${id}`, { amount_minor: body.amount_minor, reason: body.reason, gateway: row.gateway })
    return c.json({ status: 'requested' as const, payment_id: id, amount_minor: body.amount_minor }, 202)
  })
}
