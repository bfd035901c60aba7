/**
 * `/api/payouts/batches`: finance reads batches (payouts with masked method summaries, approvals,
 * totals), approves them (one or two distinct approvers with a strong, recent sign-in), cancels
 * them or removes a payout from a draft (the holds are voided: the money is available again) and
 * submits them (Idempotency-Key; `submitBatch`). Every change is audited.
 *
 * Lifecycle: draft -> approved (enough approvals) -> submitted -> settled / partially_failed /
 * failed (lifecycle.ts `refreshBatchState` as payouts finish); draft or approved -> cancelled.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { BATCH_STATES, PAYOUT_RAILS, PAYOUT_STATES } from '../../../d1/schema/payouts'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import type { RecentAuthPolicy } from '../../sso/roles/middleware'
import { permission, withAccess } from '../../sso/roles/access'
import { failPayout } from '../lifecycle'
import { submitBatch } from './submit'

/** Approving, submitting and resolving payouts: two factors within the last 15 minutes. */
export const PAYOUTS_STEP_UP: RecentAuthPolicy = { maxAgeS: 900, strong: true }

const tags = ['payouts']
const ULID = '[0-9A-HJKMNP-TV-Z]{26}'
export const BatchIdParam = z.object({ batchId: z.string().regex(new RegExp(`^pob_${ULID}$`), 'a batch id (pob_…)') })
const PayoutIdParam = z.object({ payoutId: z.string().regex(new RegExp(`^po_${ULID}$`), 'a payout id (po_…)') })

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

interface BatchRow {
  id: string
  run_id: string | null
  rail: string
  currency: string
  state: string
  count: number
  total_minor: number
  fee_minor: number
  approvals_required: number
  external_ref: string | null
  created_by: string
  created_at_ms: number
  submitted_at_ms: number | null
  finished_at_ms: number | null
  updated_at_ms: number
}

const Batch = z
  .object({
    id: z.string(),
    run_id: z.string().nullable(),
    rail: z.enum(PAYOUT_RAILS),
    currency: z.string(),
    state: z.enum(BATCH_STATES),
    count: z.number().int(),
    total_minor: z.number().int().openapi({ description: 'sum of the payouts’ amounts (taken from the creators’ balances)' }),
    fee_minor: z.number().int(),
    approvals_required: z.number().int(),
    external_ref: z.string().nullable().openapi({ description: 'the bank file id (file rails)' }),
    created_by: z.string(),
    created_at: z.iso.datetime(),
    submitted_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('PayoutBatch')

const batchView = (r: BatchRow): z.infer<typeof Batch> => ({
  id: r.id,
  run_id: r.run_id,
  rail: r.rail as z.infer<typeof Batch>['rail'],
  currency: r.currency,
  state: r.state as z.infer<typeof Batch>['state'],
  count: r.count,
  total_minor: r.total_minor,
  fee_minor: r.fee_minor,
  approvals_required: r.approvals_required,
  external_ref: r.external_ref,
  created_by: r.created_by,
  created_at: iso(r.created_at_ms)!,
  submitted_at: iso(r.submitted_at_ms),
  finished_at: iso(r.finished_at_ms),
})

const BatchPayout = z
  .object({
    id: z.string(),
    creator_id: z.string(),
    state: z.enum(PAYOUT_STATES),
    kind: z.string(),
    amount_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    method_id: z.string(),
    method_summary: z.string().nullable().openapi({ description: 'masked, e.g. "SEPA •••• 3000, DE"' }),
    attempts: z.number().int(),
    failure_code: z.string().nullable(),
    failure_reason: z.string().nullable(),
  })
  .openapi('PayoutBatchItem')

const Approval = z.object({ user_id: z.string(), roles: z.array(z.string()), at: z.iso.datetime() }).openapi('PayoutBatchApproval')

const BatchDetail = Batch.extend({
  payouts: z.array(BatchPayout),
  approvals: z.array(Approval),
  approvals_given: z.number().int(),
  totals: z.object({ amount_minor: z.number().int(), fee_minor: z.number().int(), net_minor: z.number().int(), by_state: z.record(z.string(), z.number().int()) }),
}).openapi('PayoutBatchDetail')

const Reason = z.object({ reason: z.string().trim().min(3, 'at least 3 characters').max(500) }).strict()

async function batchOr404(db: D1Database, batchId: string): Promise<BatchRow> {
  const row = await db.prepare('SELECT * FROM payout_batches WHERE id = ?').bind(batchId).first<BatchRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no batch ${batchId}` })
  return row
}

export async function batchDetail(db: D1Database, batchId: string): Promise<z.infer<typeof BatchDetail>> {
  const batch = await batchOr404(db, batchId)
  const [payouts, approvals] = await db.batch([
    db.prepare(
      'SELECT p.id, p.creator_id, p.state, p.kind, p.amount_minor, p.fee_minor, p.net_minor, p.method_id, m.summary AS method_summary, p.attempts, p.failure_code, p.failure_reason FROM payouts p LEFT JOIN payout_methods m ON m.id = p.method_id WHERE p.batch_id = ? ORDER BY p.id',
    ).bind(batchId),
    db.prepare('SELECT user_id, roles, at_ms FROM payout_batch_approvals WHERE batch_id = ? ORDER BY at_ms, user_id').bind(batchId),
  ])
  const items = (payouts!.results as Array<z.infer<typeof BatchPayout>>).map((p) => ({ ...p }))
  const byState: Record<string, number> = {}
  for (const p of items) byState[p.state] = (byState[p.state] ?? 0) + 1
  const live = items.filter((p) => p.state !== 'cancelled')
  const approvalRows = approvals!.results as Array<{ user_id: string; roles: string; at_ms: number }>
  return {
    ...batchView(batch),
    payouts: items,
    approvals: approvalRows.map((a) => ({ user_id: a.user_id, roles: JSON.parse(a.roles) as string[], at: iso(a.at_ms)! })),
    approvals_given: approvalRows.length,
    totals: {
      amount_minor: live.reduce((s, p) => s + p.amount_minor, 0),
      fee_minor: live.reduce((s, p) => s + p.fee_minor, 0),
      net_minor: live.reduce((s, p) => s + p.net_minor, 0),
      by_state: byState,
    },
  }
}

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/batches',
    tags,
    summary: 'Payout batches, newest first, by state, rail and currency',
    request: { query: PageQuery.extend({ state: z.enum(BATCH_STATES).optional(), rail: z.enum(PAYOUT_RAILS).optional(), currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code').optional() }) },
    responses: { 200: json('A page of batches', z.object({ items: z.array(Batch), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const viewRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/batches/{batchId}',
    tags,
    summary: 'One batch: its payouts with masked method summaries, approvals, totals and fee',
    request: { params: BatchIdParam },
    responses: { 200: json('The batch', BatchDetail), ...problemResponses(400, 401, 403, 404) },
  }),
)

const approveRoute = createRoute(
  withAccess(permission('payouts:approve', { stepUp: PAYOUTS_STEP_UP }), {
    method: 'post',
    path: '/batches/{batchId}/approve',
    tags,
    summary: 'Approve a draft batch (each approver once; a second, different approver above the configured amount)',
    request: { params: BatchIdParam },
    responses: { 200: json('The batch after the approval', BatchDetail), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const cancelRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUTS_STEP_UP }), {
      method: 'post',
      path: '/batches/{batchId}/cancel',
      tags,
      summary: 'Cancel a draft or approved batch: every payout is cancelled and its hold voided (Idempotency-Key)',
      request: { params: BatchIdParam, body: jsonBody(Reason) },
      responses: { 200: json('The cancelled batch', BatchDetail), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

const removeRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUTS_STEP_UP }), {
      method: 'post',
      path: '/batches/{batchId}/payouts/{payoutId}/remove',
      tags,
      summary: 'Take one payout out of a draft batch: it is cancelled, its hold voided, the totals recomputed and earlier approvals withdrawn (Idempotency-Key)',
      request: { params: BatchIdParam.extend(PayoutIdParam.shape), body: jsonBody(Reason) },
      responses: { 200: json('The batch after the removal', BatchDetail), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

const submitRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUTS_STEP_UP }), {
      method: 'post',
      path: '/batches/{batchId}/submit',
      tags,
      summary: 'Submit an approved batch: API rails are queued for their processors, file rails get their bank file; on a submitted batch, finishes a submit that broke off (Idempotency-Key)',
      request: { params: BatchIdParam },
      responses: {
        200: json('Submitted', z.object({ batch: BatchDetail, queued: z.number().int().openapi({ description: 'processor messages sent' }), file_id: z.string().nullable() })),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
  ),
)

/** Cancels every pending payout of a batch (each voids its hold); safe to repeat. */
async function cancelPayoutsOf(c: Parameters<typeof audit>[0], env: Env, batchId: string, reason: string): Promise<number> {
  const { results } = await env.DB.prepare("SELECT id FROM payouts WHERE batch_id = ? AND state = 'pending'").bind(batchId).all<{ id: string }>()
  for (const { id } of results) await failPayout(env, c, id, { code: 'batch_cancelled', reason, to: 'cancelled' })
  return results.length
}

export function registerBatches(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<BatchRow>(c.env.DB, { from: 'payout_batches', filters: [['state', q.state], ['rail', q.rail], ['currency', q.currency]], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(batchView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => c.json(await batchDetail(c.env.DB, c.req.valid('param').batchId), 200))

  app.openapi(approveRoute, async (c) => {
    const { batchId } = c.req.valid('param')
    const auth = authenticated(c)
    const batch = await batchOr404(c.env.DB, batchId)
    if (batch.state !== 'draft') throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: only a draft batch is approved` })
    const now = Date.now()
    const inserted = await c.env.DB.prepare('INSERT INTO payout_batch_approvals (batch_id, user_id, roles, at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (batch_id, user_id) DO NOTHING')
      .bind(batchId, auth.subject, JSON.stringify(auth.roles), now)
      .run()
    if (inserted.meta.changes !== 1) throw new ProblemError('CONFLICT', { detail: `you already approved batch ${batchId}: ${batch.approvals_required === 2 ? 'the second approval must come from another person' : 'one approval is enough'}` })
    const given = (await c.env.DB.prepare('SELECT COUNT(*) AS n FROM payout_batch_approvals WHERE batch_id = ?').bind(batchId).first<{ n: number }>())!.n
    let approved = false
    if (given >= batch.approvals_required) {
      approved = (await c.env.DB.prepare("UPDATE payout_batches SET state = 'approved', updated_at_ms = ? WHERE id = ? AND state = 'draft'").bind(now, batchId).run()).meta.changes === 1
    }
    await audit(c, 'payouts.batch.approve', `payout_batch:${batchId}`, { approvals_given: given, approvals_required: batch.approvals_required, now_approved: approved, total_minor: batch.total_minor, currency: batch.currency })
    return c.json(await batchDetail(c.env.DB, batchId), 200)
  })

  app.openapi(cancelRoute, async (c) => {
    const { batchId } = c.req.valid('param')
    const { reason } = c.req.valid('json')
    const batch = await batchOr404(c.env.DB, batchId)
    if (!['draft', 'approved', 'cancelled'].includes(batch.state)) throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: only a draft or approved batch can be cancelled` })
    const now = Date.now()
    // the batch first, so a concurrent submit (approved -> submitted) cannot take it afterwards;
    // a cancel killed half-way is finished by calling it again (cancelled batches are accepted)
    const moved = (await c.env.DB.prepare("UPDATE payout_batches SET state = 'cancelled', finished_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state IN ('draft', 'approved')").bind(now, now, batchId).run()).meta.changes === 1
    if (!moved && batch.state !== 'cancelled') throw new ProblemError('CONFLICT', { detail: `batch ${batchId} changed meanwhile; read it again` })
    const cancelled = await cancelPayoutsOf(c, c.env, batchId, reason)
    await audit(c, 'payouts.batch.cancel', `payout_batch:${batchId}`, { from: batch.state, payouts_cancelled: cancelled, reason })
    return c.json(await batchDetail(c.env.DB, batchId), 200)
  })

  app.openapi(removeRoute, async (c) => {
    const { batchId, payoutId } = c.req.valid('param')
    const { reason } = c.req.valid('json')
    const batch = await batchOr404(c.env.DB, batchId)
    if (batch.state !== 'draft') throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: payouts are removed only from a draft` })
    const payout = await c.env.DB.prepare('SELECT id, state FROM payouts WHERE id = ? AND batch_id = ?').bind(payoutId, batchId).first<{ id: string; state: string }>()
    if (!payout) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId} in batch ${batchId}` })
    if (payout.state !== 'pending' && payout.state !== 'cancelled') throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${payout.state}` })
    await failPayout(c.env, c, payoutId, { code: 'removed_from_batch', reason, to: 'cancelled' })
    const now = Date.now()
    const [, , sums] = await c.env.DB.batch([
      c.env.DB.prepare(
        "UPDATE payout_batches SET count = (SELECT COUNT(*) FROM payouts WHERE batch_id = ?1 AND state = 'pending'), total_minor = (SELECT COALESCE(SUM(amount_minor), 0) FROM payouts WHERE batch_id = ?1 AND state = 'pending'), fee_minor = (SELECT COALESCE(SUM(fee_minor), 0) FROM payouts WHERE batch_id = ?1 AND state = 'pending'), updated_at_ms = ?2 WHERE id = ?1 AND state = 'draft'",
      ).bind(batchId, now),
      // approvals were given for the batch as it was: whoever approved must look again
      c.env.DB.prepare("DELETE FROM payout_batch_approvals WHERE batch_id = ? AND EXISTS (SELECT 1 FROM payout_batches WHERE id = ? AND state = 'draft')").bind(batchId, batchId),
      c.env.DB.prepare('SELECT count, total_minor FROM payout_batches WHERE id = ?').bind(batchId),
    ])
    const after = (sums!.results as Array<{ count: number; total_minor: number }>)[0]!
    if (after.count === 0) await c.env.DB.prepare("UPDATE payout_batches SET state = 'cancelled', finished_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state = 'draft'").bind(now, now, batchId).run()
    await audit(c, 'payouts.batch.remove_payout', `payout_batch:${batchId}`, { payout_id: payoutId, reason, count: after.count, total_minor: after.total_minor })
    return c.json(await batchDetail(c.env.DB, batchId), 200)
  })

  app.openapi(submitRoute, async (c) => {
    const { batchId } = c.req.valid('param')
    const batch = await batchOr404(c.env.DB, batchId)
    // `submitted` too: a submit that broke off half-way is finished by submitting again
    if (batch.state !== 'approved' && batch.state !== 'submitted') throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: only an approved batch is submitted` })
    const result = await submitBatch(c.env, c, batchId)
    return c.json({ batch: await batchDetail(c.env.DB, batchId), queued: result.queued, file_id: result.fileId }, 200)
  })
}
