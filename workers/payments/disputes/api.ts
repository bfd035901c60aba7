/**
 * `/api/payments/disputes`: chargebacks as cases (finance). Disputes are opened by the gateways'
 * chargeback postbacks (apply.ts -> cases.ts); here people read them with the payment and its
 * gateway event trail, prefill and submit the representment (kept in R2, see evidence.ts), or
 * accept the loss. Winning is never a button here: only the gateway's `chargeback_reversal`
 * postback reinstates money, so the ledger follows the acquirer's decision and nothing else.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newId } from '../../lib/ids'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { disputeById, type DisputeRow, loseDispute } from './cases'
import { Draft, evidenceDraft, evidenceKey, Representment } from './evidence'

const STATUSES = ['open', 'evidence_submitted', 'won', 'lost'] as const

const Dispute = z
  .object({
    id: z.string(),
    payment_id: z.string(),
    brand_id: z.string(),
    creator_id: z.string(),
    gateway: z.string(),
    mid_id: z.string().nullable(),
    opened_by_event_id: z.string(),
    network: z.string().nullable(),
    reason_code: z.string().nullable(),
    amount_minor: z.number().int(),
    currency: z.string(),
    status: z.enum(STATUSES),
    respond_by: z.iso.datetime().nullable(),
    evidence_key: z.string().nullable().openapi({ description: 'R2 EXPORTS key of the submitted bundle' }),
    evidence_submitted_at: z.iso.datetime().nullable(),
    resolved_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Dispute')

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function disputeView(r: DisputeRow): z.infer<typeof Dispute> {
  return {
    id: r.id,
    payment_id: r.payment_id,
    brand_id: r.brand_id,
    creator_id: r.creator_id,
    gateway: r.gateway,
    mid_id: r.mid_id,
    opened_by_event_id: r.opened_by_event_id,
    network: r.network,
    reason_code: r.reason_code,
    amount_minor: r.amount_minor,
    currency: r.currency,
    status: r.status,
    respond_by: iso(r.respond_by_ms),
    evidence_key: r.evidence_key,
    evidence_submitted_at: iso(r.evidence_submitted_at_ms),
    resolved_at: iso(r.resolved_at_ms),
    created_at: new Date(r.created_at_ms).toISOString(),
    updated_at: new Date(r.updated_at_ms).toISOString(),
  }
}

const DisputedPayment = z.object({
  id: z.string(),
  kind: z.string(),
  fan_user_id: z.string(),
  amount_minor: z.number().int(),
  refunded_minor: z.number().int(),
  currency: z.string(),
  status: z.string(),
  method: z.string(),
  country: z.string(),
  gateway_transaction_id: z.string().nullable(),
  subscription_id: z.string().nullable(),
  created_at: z.iso.datetime(),
})

const GatewayEvent = z.object({
  event_id: z.string(),
  type: z.string(),
  status: z.string(),
  detail: z.string().nullable(),
  amount_minor: z.number().int().nullable(),
  occurred_at: z.iso.datetime(),
  received_at: z.iso.datetime(),
  evidence_key: z.string().openapi({ description: 'R2 key of the raw postback' }),
})

const Id = z.object({ id: z.string().regex(/^dsp_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a dispute id') })

async function disputeOr404(d1: D1Database, id: string): Promise<DisputeRow> {
  const row = await disputeById(d1, id)
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no dispute ${id}` })
  return row
}

export const listRoute = createRoute(withAccess(permission('payments:disputes:read'), {
  method: 'get',
  path: '/disputes',
  tags: ['payments'],
  summary: 'Disputes, newest first, filtered by status, brand, gateway or merchant ID',
  security: [{ bearer: [] }],
  request: {
    query: PageQuery.extend({
      status: z.enum(STATUSES).optional(),
      brand: z.string().regex(/^brd_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a brand id').optional(),
      gateway: z.string().regex(/^[a-z_]{2,32}$/, 'a gateway id').optional(),
      mid: z.string().regex(/^mid_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a merchant id').optional(),
    }),
  },
  responses: { 200: json('A page of disputes', z.object({ items: z.array(Dispute), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
}))

export const viewRoute = createRoute(withAccess(permission('payments:disputes:read'), {
  method: 'get',
  path: '/disputes/{id}',
  tags: ['payments'],
  summary: 'One dispute with its payment and the payment’s gateway event trail',
  security: [{ bearer: [] }],
  request: { params: Id },
  responses: {
    200: json('The dispute', Dispute.extend({ payment: DisputedPayment, events: z.array(GatewayEvent), evidence: z.unknown().nullable().openapi({ description: 'the submitted bundle, when there is one' }) })),
    ...problemResponses(400, 401, 403, 404),
  },
}))

export const draftRoute = createRoute(withAccess(permission('payments:disputes:read'), {
  method: 'get',
  path: '/disputes/{id}/evidence-draft',
  tags: ['payments'],
  summary: 'A representment prefilled with what the platform knows (payment, events, subscription, earlier payments)',
  security: [{ bearer: [] }],
  request: { params: Id },
  responses: { 200: json('The draft; `gaps` says what is left to add', Draft), ...problemResponses(400, 401, 403, 404) },
}))

export const evidenceRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:disputes:manage'), {
      method: 'post',
      path: '/disputes/{id}/evidence',
      tags: ['payments'],
      summary: 'Submit the representment (stored in R2); only while the dispute is open and before respond_by',
      security: [{ bearer: [] }],
      request: { params: Id, body: jsonBody(Representment) },
      responses: { 200: json('Evidence submitted', Dispute), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

export const acceptRoute = createRoute(withAccess(permission('payments:disputes:manage'), {
  method: 'post',
  path: '/disputes/{id}/accept',
  tags: ['payments'],
  summary: 'Accept the loss: the dispute closes lost; no money moves (the chargeback already moved it)',
  security: [{ bearer: [] }],
  request: { params: Id },
  responses: { 200: json('Closed lost', Dispute), ...problemResponses(400, 401, 403, 404, 409) },
}))

export function registerDisputes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<DisputeRow>(c.env.DB, {
      from: 'disputes',
      filters: [['status', q.status], ['brand_id', q.brand], ['gateway', q.gateway], ['mid_id', q.mid]],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(disputeView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const dispute = await disputeOr404(c.env.DB, c.req.valid('param').id)
    const payment = await c.env.DB.prepare(
      'SELECT id, kind, fan_user_id, amount_minor, refunded_minor, currency, status, method, country, gateway, gateway_transaction_id, subscription_id, created_at_ms FROM payments WHERE id = ?',
    )
      .bind(dispute.payment_id)
      .first<Omit<z.infer<typeof DisputedPayment>, 'created_at'> & { gateway: string; created_at_ms: number }>()
    if (!payment) throw new ProblemError('NOT_FOUND', { detail: `the payment of dispute ${dispute.id} is gone` })
    const { results } = await c.env.DB.prepare(
      `SELECT event_id, type, status, detail, amount_minor, occurred_at_ms, received_at_ms, evidence_key FROM gateway_events WHERE payment_id = ? OR (gateway = ? AND original_transaction_id = ?) ORDER BY occurred_at_ms, event_id`,
    )
      .bind(payment.id, payment.gateway, payment.gateway_transaction_id ?? '')
      .all<{ event_id: string; type: string; status: string; detail: string | null; amount_minor: number | null; occurred_at_ms: number; received_at_ms: number; evidence_key: string }>()
    const stored = dispute.evidence_key ? await c.env.EXPORTS.get(dispute.evidence_key) : null
    const { created_at_ms, gateway: _gateway, ...rest } = payment
    return c.json(
      {
        ...disputeView(dispute),
        payment: { ...rest, created_at: new Date(created_at_ms).toISOString() },
        events: results.map(({ occurred_at_ms, received_at_ms, ...e }) => ({ ...e, occurred_at: new Date(occurred_at_ms).toISOString(), received_at: new Date(received_at_ms).toISOString() })),
        evidence: stored ? ((await stored.json()) as unknown) : null,
      },
      200,
    )
  })

  app.openapi(draftRoute, async (c) => {
    const dispute = await disputeOr404(c.env.DB, c.req.valid('param').id)
    return c.json(await evidenceDraft(c.env.DB, dispute), 200)
  })

  app.openapi(evidenceRoute, async (c) => {
    const dispute = await disputeOr404(c.env.DB, c.req.valid('param').id)
    const representment = c.req.valid('json')
    const now = Date.now()
    if (dispute.status !== 'open') throw new ProblemError('CONFLICT', { detail: `dispute ${dispute.id} is ${dispute.status}: evidence is taken only while it is open` })
    if (dispute.respond_by_ms !== null && now > dispute.respond_by_ms) {
      throw new ProblemError('CONFLICT', { detail: `the evidence deadline passed at ${new Date(dispute.respond_by_ms).toISOString()}` })
    }
    // a fresh ULID per submission: sortable, and never the key of another submission
    const submissionId = newId('dispute', now).slice('dsp_'.length)
    const key = evidenceKey(dispute.id, submissionId)
    const bundle = {
      version: 1,
      dispute: disputeView(dispute),
      representment,
      submitted_by: c.var.auth?.subject ?? null,
      submitted_at: new Date(now).toISOString(),
      request_id: c.var.requestId,
    }
    // the bytes first: a dispute never says "submitted" without its bundle in place
    await c.env.EXPORTS.put(key, JSON.stringify(bundle), { httpMetadata: { contentType: 'application/json' }, customMetadata: { dispute_id: dispute.id, payment_id: dispute.payment_id } })
    const updated = await c.env.DB.prepare(
      `UPDATE disputes SET status = 'evidence_submitted', evidence_key = ?, evidence_submitted_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status = 'open' AND (respond_by_ms IS NULL OR respond_by_ms >= ?) RETURNING *`,
    )
      .bind(key, now, now, dispute.id, now)
      .first<DisputeRow>()
    if (!updated) {
      // another submission (or a decision) got there first: this bundle is not the dispute's
      await c.env.EXPORTS.delete(key)
      throw new ProblemError('CONFLICT', { detail: `dispute ${dispute.id} is no longer open` })
    }
    await audit(c, 'payments.dispute.evidence_submit', `dispute:${dispute.id}`, {
      payment_id: dispute.payment_id,
      category: representment.category,
      evidence_key: key,
      items: {
        access_log: representment.evidence.access_log.length,
        delivery: representment.evidence.delivery.length,
        consent: representment.evidence.consent.length,
        prior_payments: representment.evidence.prior_payments.length,
        subscription: representment.evidence.subscription ? 1 : 0,
      },
    })
    return c.json(disputeView(updated), 200)
  })

  app.openapi(acceptRoute, async (c) => {
    const { id } = c.req.valid('param')
    const closed = await loseDispute(c, c.env, id, 'merchant_accept')
    if (!closed.ok && closed.code === 'not_found') throw new ProblemError('NOT_FOUND', { detail: `no dispute ${id}` })
    if (!closed.ok) throw new ProblemError('CONFLICT', { detail: `dispute ${id} is ${closed.status}: only an open dispute, or one awaiting the decision, can be accepted` })
    return c.json(disputeView(closed.dispute), 200)
  })
}
