/**
 * Payout runs and instant payouts:
 * - `POST /api/payouts/runs` (finance, `payouts:manage`, Idempotency-Key): run the rules now for a
 *   day (default today, UTC), or pay named creators on request (`creator_ids`); audited. 201 with
 *   the finished run, or 202 with the run `holding` when its ledger holds went to the PAYOUTS queue
 *   (more than INLINE_HOLDS_MAX payouts): poll `GET /runs/{runId}` until `done`
 * - `GET /api/payouts/runs`, `GET /api/payouts/runs/{runId}` (`payouts:read`): counts, batches,
 *   refusals by code and the per-batch fees the batching saved
 * - `POST /api/payouts/creators/{creatorId}/instant` (the creator, strong step-up, Idempotency-Key)
 * Also registers the refusal lists (eligibility/api.ts).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import type { RecentAuthPolicy } from '../../sso/roles/middleware'
import { payoutCreator } from '../access'
import { registerRefusals } from '../eligibility/api'
import { instantPayout } from './instant'
import { isoDay, runPayouts, runSummary, type RunRow } from './run'

/** instant payouts move money at once: two factors within 15 minutes, as for changing a method */
export const INSTANT_STEP_UP: RecentAuthPolicy = { maxAgeS: 900, strong: true }

const Batch = z.object({
  id: z.string(),
  rail: z.string(),
  currency: z.string(),
  state: z.string(),
  count: z.number().int(),
  total_minor: z.number().int(),
  fee_minor: z.number().int(),
  approvals_required: z.number().int(),
})

const RunStateField = z.string().openapi({ description: '`running` (evaluating), `holding` (ledger holds being placed by the queue), `batching` (forming the draft batches), `done`' })

const RunView = z
  .object({
    run_id: z.string(),
    run_date: z.string(),
    trigger: z.string(),
    state: RunStateField,
    already_done: z.boolean(),
    evaluated: z.number().int(),
    created: z.number().int(),
    refused: z.number().int(),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
    payouts_by_state: z.record(z.string(), z.number().int()),
    refusals_by_code: z.record(z.string(), z.number().int()),
    batches: z.array(Batch),
    batch_fees: z.array(
      z.object({
        rail: z.string(),
        currency: z.string(),
        batches: z.number().int(),
        payouts: z.number().int(),
        per_batch_fixed_minor: z.number().int(),
        paid_minor: z.number().int(),
        per_payout_batches_minor: z.number().int().openapi({ description: 'what one batch per payout would have cost' }),
        saved_minor: z.number().int(),
      }),
    ),
  })
  .openapi('PayoutRun')

const RunBody = z
  .strictObject({
    run_date: z.iso.date().optional().openapi({ description: 'UTC day whose rules run (default today)' }),
    creator_ids: z.array(z.string().regex(/^crt_[0-9A-Z]{26}$/, 'a creator id (crt_...)')).min(1).max(1000).optional().openapi({ description: 'pay exactly these creators now, on request (their rule timing is not consulted)' }),
  })
  .openapi('PayoutRunRequest')

const RunParams = z.object({ runId: z.string().regex(/^prn_[0-9A-Z]{26}$/, 'a payout run id (prn_...)').openapi({ param: { name: 'runId', in: 'path' } }) })

const startRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage'), {
      method: 'post',
      path: '/runs',
      tags: ['payouts'],
      summary: 'Run the payout rules now (or pay named creators on request): payouts, ledger holds, draft batches',
      description:
        'Small runs finish in the request (201, state `done`). A run with many payouts returns once they are created, with state `holding` (202): the ledger holds are placed by queue consumers in chunks, then the batches are formed (`batching`) and the run is `done`; follow it at `GET /api/payouts/runs/{runId}`.',
      security: [{ bearer: [] }],
      request: { body: jsonBody(RunBody) },
      responses: {
        201: json('The run, finished: payouts held and in draft batches', RunView),
        202: json('The run, accepted: payouts created, ledger holds and batching continue in the queue (state `holding`)', RunView),
        ...problemResponses(400, 401, 403, 409, 422),
      },
    }),
  ),
)

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/runs',
    tags: ['payouts'],
    summary: 'Payout runs, newest first',
    security: [{ bearer: [] }],
    request: { query: PageQuery.extend({ trigger: z.enum(['cron', 'operator', 'instant']).optional() }) },
    responses: {
      200: json(
        'A page of runs',
        z.object({
          items: z.array(z.object({ id: z.string(), run_date: z.string(), trigger: z.string(), state: RunStateField, evaluated: z.number().int(), created: z.number().int(), refused: z.number().int(), started_by: z.string(), started_at: z.iso.datetime(), finished_at: z.iso.datetime().nullable() })),
          next_cursor: z.string().nullable(),
        }),
      ),
      ...problemResponses(400, 401, 403),
    },
  }),
)

const viewRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/runs/{runId}',
    tags: ['payouts'],
    summary: 'One run: counts, batches, refusals by code, batch fees saved',
    security: [{ bearer: [] }],
    request: { params: RunParams },
    responses: { 200: json('The run', RunView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const InstantBody = z
  .strictObject({
    amount_minor: z.number().int().min(1).max(1_000_000_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code'),
    method_id: z.string().regex(/^pm_[0-9A-HJKMNP-TV-Z]{26}$/, 'a payout method id (pm_...)').optional().openapi({ description: 'default: your default method' }),
  })
  .openapi('InstantPayoutRequest')

const InstantView = z
  .object({
    payout_id: z.string(),
    batch_id: z.string(),
    run_id: z.string(),
    amount_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    currency: z.string(),
    method_id: z.string(),
    rail: z.string(),
    batch_state: z.string(),
    submitted: z.object({ state: z.string(), queued: z.number().int(), fileId: z.string().nullable() }),
  })
  .openapi('InstantPayout')

const instantRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:self', { stepUp: INSTANT_STEP_UP }), {
      method: 'post',
      path: '/creators/{creatorId}/instant',
      tags: ['payouts'],
      summary: 'Pay me now (rails with instant payment, instant fee; refusals answered with their reason)',
      security: [{ bearer: [] }],
      request: { params: z.object({ creatorId: z.string().regex(/^crt_[0-9A-Z]{26}$/, 'a creator id (crt_...)').openapi({ param: { name: 'creatorId', in: 'path' } }) }), body: jsonBody(InstantBody) },
      responses: { 201: json('Paid out: submitted to the rail', InstantView), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)


export function registerRuns(app: OpenAPIHono<AppEnv>): void {
  registerRefusals(app)

  app.openapi(startRoute, async (c) => {
    const body = c.req.valid('json')
    const now = Date.now()
    const actor = authenticated(c).subject
    if (body.creator_ids) {
      const { results } = await c.env.DB.prepare('SELECT id FROM creators WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(body.creator_ids)).all<{ id: string }>()
      const known = new Set(results.map((r) => r.id))
      const unknown = body.creator_ids.findIndex((id) => !known.has(id))
      if (unknown >= 0) throw new ProblemError('VALIDATION_FAILED', { detail: `no creator ${body.creator_ids[unknown]}`, errors: [{ path: `body.creator_ids.${unknown}`, message: 'no such creator' }] })
    }
    await audit(c, 'payouts.run.start', `payout_run_date:${body.run_date ?? isoDay(now)}`, { run_date: body.run_date ?? isoDay(now), creator_ids: body.creator_ids ?? null })
    const summary = await runPayouts(c.env, c, { trigger: 'operator', runDate: body.run_date ?? isoDay(now), nowMs: now, creatorIds: body.creator_ids, startedBy: actor })
    if (summary.state !== 'done') return c.json(summary, 202)
    return c.json(summary, 201)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<RunRow>(c.env.DB, { from: 'payout_runs', filters: [['trigger', q.trigger]], cursor: q.cursor, limit: q.limit })
    return c.json(
      {
        items: page.rows.map(({ started_at_ms, finished_at_ms, ...r }) => ({ ...r, started_at: new Date(started_at_ms).toISOString(), finished_at: finished_at_ms === null ? null : new Date(finished_at_ms).toISOString() })),
        next_cursor: page.next_cursor,
      },
      200,
    )
  })

  app.openapi(viewRoute, async (c) => {
    const { runId } = c.req.valid('param')
    const summary = await runSummary(c.env.DB, runId)
    if (!summary) throw new ProblemError('NOT_FOUND', { detail: `no payout run ${runId}` })
    return c.json(summary, 200)
  })

  app.openapi(instantRoute, async (c) => {
    const creator = await payoutCreator(c, c.req.valid('param').creatorId, { write: true })
    const body = c.req.valid('json')
    const result = await instantPayout(c.env, c, { creatorId: creator.id, amountMinor: body.amount_minor, currency: body.currency, methodId: body.method_id ?? null, actor: authenticated(c).subject })
    return c.json(result, 201)
  })
}
