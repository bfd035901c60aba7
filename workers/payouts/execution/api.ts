/**
 * `/api/payouts/payouts`: payouts as operators see them (list and view with every attempt), the
 * creator's own payout, and the operator's resolution of a payout whose retries ran out
 * (`resolve`: ask the processor by the idempotency key, queue it once more, or mark it failed, which
 * voids the hold). Plus, outside production only, `POST /sandbox/outcomes` to choose what the sandbox
 * processor does with a payout.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { PAYOUT_RAILS, PAYOUT_STATES } from '../../../d1/schema/payouts'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { payoutCreator } from '../access'
import { PAYOUTS_STEP_UP } from '../batches/api'
import { failPayout } from '../lifecycle'
import { setSandboxOutcome } from '../processors/sandbox-store'
import { processorFor } from '../processors/registry'
import { applyOutcome, executableRow, payoutMessage, payoutRequest, RETRIES_EXHAUSTED } from './consumer'

const tags = ['payouts']
const ULID = '[0-9A-HJKMNP-TV-Z]{26}'
const PayoutIdParam = z.object({ payoutId: z.string().regex(new RegExp(`^po_${ULID}$`), 'a payout id (po_…)') })
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

interface PayoutRowView {
  id: string
  creator_id: string
  batch_id: string | null
  run_id: string | null
  method_id: string
  rail: string
  kind: string
  currency: string
  amount_minor: number
  fee_minor: number
  net_minor: number
  state: string
  processor_ref: string | null
  attempts: number
  next_attempt_at_ms: number | null
  failure_code: string | null
  failure_reason: string | null
  created_at_ms: number
  updated_at_ms: number
  settled_at_ms: number | null
}

const Payout = z
  .object({
    id: z.string(),
    creator_id: z.string(),
    batch_id: z.string().nullable(),
    run_id: z.string().nullable(),
    method_id: z.string(),
    rail: z.enum(PAYOUT_RAILS),
    kind: z.string(),
    currency: z.string(),
    amount_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    state: z.enum(PAYOUT_STATES),
    processor_ref: z.string().nullable(),
    attempts: z.number().int(),
    next_attempt_at: z.iso.datetime().nullable(),
    failure_code: z.string().nullable().openapi({ description: '`retries_exhausted`: waiting for an operator (`resolve`)' }),
    failure_reason: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    settled_at: z.iso.datetime().nullable(),
  })
  .openapi('Payout')

const Attempt = z.object({ attempt: z.number().int(), outcome: z.string(), code: z.string().nullable(), detail: z.string().nullable(), at: z.iso.datetime() }).openapi('PayoutAttempt')

const payoutView = (r: PayoutRowView): z.infer<typeof Payout> => ({
  id: r.id,
  creator_id: r.creator_id,
  batch_id: r.batch_id,
  run_id: r.run_id,
  method_id: r.method_id,
  rail: r.rail as z.infer<typeof Payout>['rail'],
  kind: r.kind,
  currency: r.currency,
  amount_minor: r.amount_minor,
  fee_minor: r.fee_minor,
  net_minor: r.net_minor,
  state: r.state as z.infer<typeof Payout>['state'],
  processor_ref: r.processor_ref,
  attempts: r.attempts,
  next_attempt_at: iso(r.next_attempt_at_ms),
  failure_code: r.failure_code,
  failure_reason: r.failure_reason,
  created_at: iso(r.created_at_ms)!,
  updated_at: iso(r.updated_at_ms)!,
  settled_at: iso(r.settled_at_ms),
})

const COLUMNS = 'id, creator_id, batch_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, processor_ref, attempts, next_attempt_at_ms, failure_code, failure_reason, created_at_ms, updated_at_ms, settled_at_ms'

async function payoutWithAttempts(db: D1Database, payoutId: string): Promise<(z.infer<typeof Payout> & { attempt_log: Array<z.infer<typeof Attempt>> }) | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM payouts WHERE id = ?`).bind(payoutId).first<PayoutRowView>()
  if (!row) return null
  const { results } = await db.prepare('SELECT attempt, outcome, code, detail, at_ms FROM payout_attempts WHERE payout_id = ? ORDER BY attempt').bind(payoutId).all<{ attempt: number; outcome: string; code: string | null; detail: string | null; at_ms: number }>()
  return { ...payoutView(row), attempt_log: results.map(({ at_ms, ...a }) => ({ ...a, at: iso(at_ms)! })) }
}

const PayoutDetail = Payout.extend({ attempt_log: z.array(Attempt).openapi({ description: 'every processor attempt, in order (append-only)' }) }).openapi('PayoutDetail')

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/payouts',
    tags,
    summary: 'Payouts, newest first, by creator, state, batch or rail',
    request: {
      query: PageQuery.extend({
        creator_id: z.string().regex(new RegExp(`^crt_${ULID}$`), 'a creator id').optional(),
        state: z.enum(PAYOUT_STATES).optional(),
        batch_id: z.string().regex(new RegExp(`^pob_${ULID}$`), 'a batch id').optional(),
        rail: z.enum(PAYOUT_RAILS).optional(),
        failure_code: z.string().regex(/^[a-z_]{1,40}$/).optional().openapi({ description: 'e.g. retries_exhausted: the operator queue' }),
      }),
    },
    responses: { 200: json('A page of payouts', z.object({ items: z.array(Payout), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

// `payouts:self` is held by creators and by the operators who read payouts; payoutCreator() then
// narrows it to the payout's own creator or an operator holding payouts:read
const viewRoute = createRoute(
  withAccess(permission('payouts:self'), {
    method: 'get',
    path: '/payouts/{payoutId}',
    tags,
    summary: 'One payout with its attempts (its creator, or payouts:read)',
    request: { params: PayoutIdParam },
    responses: { 200: json('The payout', PayoutDetail), ...problemResponses(400, 401, 403, 404) },
  }),
)

const Resolve = z
  .object({
    action: z.enum(['check_status', 'retry', 'mark_failed']).openapi({ description: 'check_status asks the processor by the idempotency key and applies a definitive answer; retry queues the payout once more (same key); mark_failed voids the hold' }),
    reason: z.string().trim().min(3, 'at least 3 characters').max(500),
  })
  .strict()
  .openapi('PayoutResolve')

const resolveRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUTS_STEP_UP }), {
      method: 'post',
      path: '/payouts/{payoutId}/resolve',
      tags,
      summary: 'Resolve a stuck payout (retries exhausted, or submitted too long): check status, retry or mark failed (Idempotency-Key)',
      request: { params: PayoutIdParam, body: jsonBody(Resolve) },
      responses: {
        200: json('What was done', z.object({ action: z.string(), result: z.string().openapi({ description: 'settled, submitted, failed, queued, or unknown (the processor gave no definitive answer)' }), processor: z.unknown().nullable(), payout: PayoutDetail })),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
)

const SandboxDirective = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('success'), feeMinor: z.number().int().min(0).optional() }).strict(),
  z.object({ outcome: z.literal('decline'), code: z.string().max(60).optional(), reason: z.string().max(200).optional() }).strict(),
  z.object({ outcome: z.literal('timeout'), accepted: z.boolean().optional(), attempts: z.number().int().min(1).max(100).optional() }).strict(),
  z.object({ outcome: z.literal('unavailable'), attempts: z.number().int().min(1).max(100).optional(), retryAfterS: z.number().int().min(0).max(43_200).optional() }).strict(),
  z.object({ outcome: z.literal('delayed'), afterMs: z.number().int().min(0).max(30 * 86_400_000), then: z.enum(['settled', 'declined']).optional() }).strict(),
])

const sandboxRoute = createRoute(
  withAccess(permission('payouts:manage', { devOnly: true }), {
    method: 'post',
    path: '/sandbox/outcomes',
    tags,
    summary: 'Dev only: choose what the sandbox processor does with a payout (success, decline, timeout, 503, delayed settlement)',
    request: { body: jsonBody(z.object({ payout_id: z.string().regex(new RegExp(`^po_${ULID}$`), 'a payout id'), directive: SandboxDirective }).strict()) },
    responses: { 200: json('Stored', z.object({ payout_id: z.string(), directive: z.unknown() })), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

/** Closes the payout's open dead-letter case(s) with the operator's resolution. */
async function closeCases(env: Env, payoutId: string, resolution: string, nowMs: number): Promise<void> {
  await env.DB.prepare("UPDATE dead_letters SET status = 'resolved', resolved_at_ms = ?, resolution = ? WHERE status = 'open' AND json_extract(body_json, '$.type') = 'payout.execute' AND json_extract(body_json, '$.payload.payoutId') = ?")
    .bind(nowMs, resolution.slice(0, 500), payoutId)
    .run()
}

export function registerPayouts(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<PayoutRowView>(c.env.DB, {
      from: 'payouts',
      columns: COLUMNS,
      filters: [['creator_id', q.creator_id], ['state', q.state], ['batch_id', q.batch_id], ['rail', q.rail], ['failure_code', q.failure_code]],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(payoutView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const { payoutId } = c.req.valid('param')
    const payout = await payoutWithAttempts(c.env.DB, payoutId)
    if (!payout) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
    await payoutCreator(c, payout.creator_id)
    return c.json(payout, 200)
  })

  app.openapi(resolveRoute, async (c) => {
    const { payoutId } = c.req.valid('param')
    const { action, reason } = c.req.valid('json')
    const env = c.env
    const now = Date.now()
    const row = await executableRow(env, payoutId)
    if (!row) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
    if (row.state !== 'queued' && row.state !== 'submitted') throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${row.state}: nothing to resolve` })
    let result: string
    let processor: unknown = null

    if (action === 'mark_failed') {
      await failPayout(env, c, payoutId, { code: 'operator_marked_failed', reason })
      result = 'failed'
    } else if (action === 'retry') {
      if (row.state !== 'queued') throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is submitted: the processor has it; use check_status` })
      await env.DB.prepare("UPDATE payouts SET failure_code = NULL, failure_reason = NULL, next_attempt_at_ms = NULL, updated_at_ms = ? WHERE id = ? AND state = 'queued'").bind(now, payoutId).run()
      await env.PAYOUTS.send(payoutMessage(payoutId), { contentType: 'json' })
      result = 'queued'
    } else {
      const resolution = await processorFor(env, row.rail, { payoutId })
      if (!resolution.ok) throw new ProblemError('CONFLICT', { detail: `cannot ask the processor: ${resolution.reason}` })
      const { processor: adapter, settings, transport } = resolution.resolved
      const outcome = await adapter.status(settings, await payoutRequest(env, row), row.processor_ref, transport)
      processor = outcome
      const applied = await applyOutcome(env, c, row, outcome, now)
      result = applied === 'pending' ? (outcome.status === 'submitted' ? 'submitted' : 'unknown') : applied
      if (applied === 'submitted' && row.failure_code === RETRIES_EXHAUSTED) {
        // the processor has it: the poller follows it from now on
        await env.DB.prepare("UPDATE payouts SET failure_code = NULL, failure_reason = NULL WHERE id = ? AND failure_code = ?").bind(payoutId, RETRIES_EXHAUSTED).run()
      }
    }
    if (result !== 'unknown') await closeCases(env, payoutId, `${action}: ${result} by ${c.var.auth?.subject ?? 'unknown'}: ${reason}`, now)
    await audit(c, 'payouts.payout.resolve', `payout:${payoutId}`, { action, result, reason, processor_status: processor && typeof processor === 'object' && 'status' in processor ? String((processor as { status: string }).status) : null })
    return c.json({ action, result, processor, payout: (await payoutWithAttempts(env.DB, payoutId))! }, 200)
  })

  app.openapi(sandboxRoute, async (c) => {
    const { payout_id, directive } = c.req.valid('json')
    await setSandboxOutcome(c.env, payout_id, directive)
    await audit(c, 'payouts.sandbox.outcome', `payout:${payout_id}`, { directive: directive as unknown as Record<string, string> })
    return c.json({ payout_id, directive }, 200)
  })
}
