/**
 * `/api/payouts/creators/{creatorId}/rule`: when a creator is paid (rules.ts). The creator reads
 * and sets their own (`payouts:self`); operators read any creator's at `GET /api/payouts/rules/{creatorId}`
 * (`payouts:read`). A creator without a rule is shown the platform default (weekly on Tuesday,
 * `is_default: true`). Setting a rule checks what a run would check later, so the creator hears it
 * now: the method is theirs and in use, its rail pays the currency, and a threshold is not below
 * the rail's minimum payout for that currency (each answered 422 naming the body field).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { permission, withAccess } from '../../sso/roles/access'
import { payoutCreator } from '../access'
import { defaultMethod, factsForCreators } from '../eligibility/facts'
import { feeSchedules } from '../fees/schedule'
import { encodeDates, RuleInput, ruleOf, RuleView, ruleView, type RuleRow } from './rules'

const CreatorParams = z.object({
  creatorId: z.string().regex(/^crt_[0-9A-Z]{26}$/, 'a creator id (crt_...)').openapi({ param: { name: 'creatorId', in: 'path' }, example: 'crt_01JFANZ0000000000000000101' }),
})

const route = (method: 'get' | 'put', path: string, summary: string) => ({ method, path, tags: ['payouts'], summary, security: [{ bearer: [] }] })

const getOwnRoute = createRoute(
  withAccess(permission('payouts:self'), {
    ...route('get', '/creators/{creatorId}/rule', 'Your payout rule (or the platform default: weekly on Tuesday)'),
    request: { params: CreatorParams },
    responses: { 200: json('The rule', RuleView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const putRoute = createRoute(
  withAccess(permission('payouts:self'), {
    ...route('put', '/creators/{creatorId}/rule', 'Set your payout rule: weekly, threshold, scheduled or manual'),
    request: { params: CreatorParams, body: jsonBody(RuleInput) },
    responses: { 200: json('The rule as stored', RuleView), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

const getOperatorRoute = createRoute(
  withAccess(permission('payouts:read'), {
    ...route('get', '/rules/{creatorId}', 'A creator’s payout rule (operators)'),
    request: { params: CreatorParams },
    responses: { 200: json('The rule', RuleView), ...problemResponses(400, 401, 403, 404) },
  }),
)

async function currentRule(env: Env, creatorId: string) {
  const [facts] = await factsForCreators(env.DB, [creatorId])
  if (!facts) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId}` })
  return ruleView(creatorId, facts.rule, facts.ruleUpdatedAtMs)
}

const invalid = (path: string, message: string) => new ProblemError('VALIDATION_FAILED', { detail: message, errors: [{ path, message }] })

export function registerRules(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getOwnRoute, async (c) => {
    // the creator, or an operator holding payouts:read
    const creator = await payoutCreator(c, c.req.valid('param').creatorId)
    return c.json(await currentRule(c.env, creator.id), 200)
  })

  app.openapi(getOperatorRoute, async (c) => {
    const creator = await payoutCreator(c, c.req.valid('param').creatorId)
    return c.json(await currentRule(c.env, creator.id), 200)
  })

  app.openapi(putRoute, async (c) => {
    const creator = await payoutCreator(c, c.req.valid('param').creatorId, { write: true })
    const body = c.req.valid('json')
    const [facts] = await factsForCreators(c.env.DB, [creator.id])
    const methods = facts?.methods ?? []
    const method = body.method_id ? methods.find((m) => m.id === body.method_id) : defaultMethod(methods)
    if (body.method_id && !method) throw invalid('body.method_id', `${body.method_id} is not one of your payout methods in use`)
    const schedules = await feeSchedules(c.env)
    const forCurrency = [...schedules.values()].filter((s) => s.currency === body.currency)
    if (!forCurrency.length) throw invalid('body.currency', `no rail pays ${body.currency}`)
    const schedule = method ? schedules.get(`${method.rail}:${body.currency}`) : undefined
    if (method && !schedule) throw invalid(body.method_id ? 'body.method_id' : 'body.currency', `${method.rail} (method ${method.id}) does not pay ${body.currency}`)
    if (body.kind === 'threshold') {
      // without a method yet, the lowest minimum of any rail paying the currency; the run checks the method's
      const min = schedule ? schedule.minPayoutMinor : Math.min(...forCurrency.map((s) => s.minPayoutMinor))
      if (body.threshold_minor < min) throw invalid('body.threshold_minor', `the minimum ${schedule ? `${schedule.rail} ` : ''}payout in ${body.currency} is ${min} minor units`)
    }
    const now = Date.now()
    const row: RuleRow & { updated_at_ms: number } = {
      kind: body.kind,
      weekday: body.kind === 'weekly' ? body.weekday : null,
      threshold_minor: body.kind === 'threshold' ? body.threshold_minor : null,
      dates_json: body.kind === 'scheduled' ? encodeDates([...new Set(body.dates ?? [])], [...new Set(body.days_of_month ?? [])]) : null,
      currency: body.currency,
      method_id: body.method_id ?? null,
      updated_at_ms: now,
    }
    const actor = authenticated(c).subject
    await c.env.DB.prepare(
      `INSERT INTO payout_rules (creator_id, kind, weekday, threshold_minor, dates_json, currency, method_id, updated_by, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (creator_id) DO UPDATE SET kind = excluded.kind, weekday = excluded.weekday, threshold_minor = excluded.threshold_minor, dates_json = excluded.dates_json,
         currency = excluded.currency, method_id = excluded.method_id, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms`,
    )
      .bind(creator.id, row.kind, row.weekday, row.threshold_minor, row.dates_json, row.currency, row.method_id, actor, now)
      .run()
    const view = ruleView(creator.id, ruleOf(row, null), now)
    const previous = facts ? ruleView(creator.id, facts.rule, facts.ruleUpdatedAtMs) : null
    await audit(c, 'payouts.rule.set', `creator:${creator.id}`, {
      kind: view.kind,
      weekday: view.weekday,
      threshold_minor: view.threshold_minor,
      dates: view.dates,
      days_of_month: view.days_of_month,
      currency: view.currency,
      method_id: view.method_id,
      previous_kind: previous?.kind ?? null,
      previous_was_default: previous?.is_default ?? true,
    })
    return c.json(view, 200)
  })
}
