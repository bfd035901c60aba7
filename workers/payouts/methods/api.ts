/**
 * `/api/payouts/creators/{creatorId}/methods`: where a creator is paid. Only the creator
 * themself changes their methods (`payouts:self` on their own profile), each change behind a
 * strong step-up (two factors within 15 minutes, the vault's policy: whoever holds a stolen
 * session must not be able to redirect money), and each add or change starts the cool-off
 * (`PAYOUT_METHOD_COOL_OFF_HOURS`) before the first payout may go to it. Every add, change, removal
 * and default switch mails the creator (notify.ts) and is audited; details are sealed before D1
 * and answered masked. Operators read the masked list at `GET /api/payouts/methods?creator_id=`.
 *
 * Revealing the full details (`GET .../methods/{id}/details`) is the owner's alone, behind the
 * same step-up, audited, `Cache-Control: no-store`: a creator has to be able to check what they
 * entered (a typo in an account number is a lost payout), and a request that has passed the
 * step-up could just as well replace the method.
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
import { newId } from '../../lib/ids'
import { permission, withAccess } from '../../sso/roles/access'
import type { RecentAuthPolicy } from '../../sso/roles/middleware'
import { payoutCreator } from '../access'
import { payoutConfig } from '../config'
import { currenciesOf, feeSchedules } from '../fees/schedule'
import { notifyCreator, type NotifyResult } from '../notify'
import { railOf } from '../rails'
import { PayoutMethodInput, parsePayoutMethod, type PayoutMethod } from './methods'
import { everyMethodOf, insertMethod, MAX_ACTIVE_METHODS, methodById, methodsOf, type MethodRow, openMethodRow, payoutCurrencyOf, removeMethod, replaceMethod, setDefaultMethod } from './store'

/** Changing where money goes needs a sign-in at most 15 minutes old with two factors (as the vault). */
export const PAYOUT_METHOD_STEP_UP: RecentAuthPolicy = { maxAgeS: 900, strong: true }

const ULID = '[0-9A-HJKMNP-TV-Z]{26}'
export const CreatorId = z.string().regex(new RegExp(`^crt_${ULID}$`), 'must be a creator id')
const MethodId = z.string().regex(new RegExp(`^pm_${ULID}$`), 'must be a payout method id')
const CreatorParams = z.object({ creatorId: CreatorId })
const MethodParams = z.object({ creatorId: CreatorId, methodId: MethodId })

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export const PayoutMethodView = z
  .object({
    id: z.string(),
    creator_id: z.string(),
    type: z.string(),
    rail: z.string(),
    currency: z.string().openapi({ description: 'what the ledger debits for a payout to this method' }),
    summary: z.string().openapi({ example: 'SEPA •••• 3000 (DE)' }),
    default: z.boolean(),
    usable_from: z.iso.datetime().openapi({ description: 'end of the cool-off: no payout goes to the method before' }),
    usable: z.boolean().openapi({ description: 'in use and past its cool-off now' }),
    created_at: z.iso.datetime(),
    removed_at: z.iso.datetime().nullable(),
  })
  .openapi('PayoutMethod')

export function methodView(row: MethodRow, nowMs = Date.now()): z.infer<typeof PayoutMethodView> {
  return {
    id: row.id,
    creator_id: row.creatorId,
    type: row.type,
    rail: row.rail,
    currency: row.currency,
    summary: row.summary,
    default: row.isDefault,
    usable_from: new Date(row.usableFromMs).toISOString(),
    usable: row.removedAtMs === null && row.usableFromMs <= nowMs,
    created_at: new Date(row.createdAtMs).toISOString(),
    removed_at: iso(row.removedAtMs),
  }
}

const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD')

const MethodBody = z.object({
  method: PayoutMethodInput.openapi({ description: 'the method, by `type` (paxum, epayservice, wise, payoneer, crypto, ach, sepa, wire, check)' }),
  currency: Currency.optional().openapi({
    description: 'payout currency for paxum, epayservice, payoneer and wire (default USD); fixed for the others: wise its recipient currency, sepa EUR, ach/check/crypto USD',
  }),
})
const AddBody = MethodBody.extend({ default: z.boolean().optional().openapi({ description: 'make it the default (the first method always is)' }) })

const Changed = z.object({
  method: PayoutMethodView,
  cool_off_hours: z.number(),
  notified: z.boolean().openapi({ description: 'the creator was mailed about the change' }),
})

const methodsRoute = (method: 'get' | 'post' | 'delete', path: string, summary: string) => ({ method, path, tags: ['payouts'], summary, security: [{ bearer: [] }] })

const listRoute = createRoute(
  withAccess(permission('payouts:self'), {
    ...methodsRoute('get', '/creators/{creatorId}/methods', 'Your payout methods in use, masked, default first'),
    request: { params: CreatorParams },
    responses: { 200: json('Methods', z.object({ items: z.array(PayoutMethodView) })), ...problemResponses(400, 401, 403, 404) },
  }),
)

const addRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:self', { stepUp: PAYOUT_METHOD_STEP_UP }), {
      ...methodsRoute('post', '/creators/{creatorId}/methods', 'Add a payout method (strong step-up; starts the cool-off; the creator is mailed)'),
      request: { params: CreatorParams, body: jsonBody(AddBody) },
      responses: { 201: json('Added, cooling off until usable_from', Changed), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

const viewRoute = createRoute(
  withAccess(permission('payouts:self'), {
    ...methodsRoute('get', '/creators/{creatorId}/methods/{methodId}', 'One payout method, masked (removed and replaced ones too)'),
    request: { params: MethodParams },
    responses: { 200: json('The method', PayoutMethodView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const revealRoute = createRoute(
  withAccess(permission('payouts:self', { stepUp: PAYOUT_METHOD_STEP_UP }), {
    ...methodsRoute('get', '/creators/{creatorId}/methods/{methodId}/details', 'The full details of your own method (strong step-up, audited, not cached)'),
    request: { params: MethodParams },
    responses: {
      200: json('The method with its details', z.object({ method: PayoutMethodView, details: z.record(z.string(), z.unknown()).openapi({ description: 'as entered (validated form)' }) })),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
)

const replaceRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:self', { stepUp: PAYOUT_METHOD_STEP_UP }), {
      ...methodsRoute('post', '/creators/{creatorId}/methods/{methodId}/replace', 'Change a method: a new method replaces it (new cool-off; payouts made keep the old one)'),
      request: { params: MethodParams, body: jsonBody(MethodBody) },
      responses: { 201: json('The replacement, cooling off until usable_from', Changed.extend({ replaced: PayoutMethodView })), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

const removeRoute = createRoute(
  withAccess(permission('payouts:self', { stepUp: PAYOUT_METHOD_STEP_UP }), {
    ...methodsRoute('delete', '/creators/{creatorId}/methods/{methodId}', 'Remove a method (payouts already on their way are not affected)'),
    request: { params: MethodParams },
    responses: { 200: json('Removed', z.object({ method: PayoutMethodView, notified: z.boolean() })), ...problemResponses(400, 401, 403, 404) },
  }),
)

const defaultRoute = createRoute(
  withAccess(permission('payouts:self', { stepUp: PAYOUT_METHOD_STEP_UP }), {
    ...methodsRoute('post', '/creators/{creatorId}/methods/{methodId}/default', 'Make a method your default (strong step-up; the creator is mailed)'),
    request: { params: MethodParams },
    responses: { 200: json('Now the default', z.object({ method: PayoutMethodView, notified: z.boolean() })), ...problemResponses(400, 401, 403, 404) },
  }),
)

const operatorListRoute = createRoute(
  withAccess(permission('payouts:read'), {
    ...methodsRoute('get', '/methods', 'A creator’s payout methods, masked (operators)'),
    request: {
      query: z.object({
        creator_id: CreatorId,
        include_removed: z
          .enum(['true', 'false'])
          .default('false')
          .transform((v) => v === 'true'),
      }),
    },
    responses: { 200: json('Methods', z.object({ items: z.array(PayoutMethodView) })), ...problemResponses(400, 401, 403, 404) },
  }),
)

/** the method as entered, canonicalised (crypto addresses), or 422 naming body.method.x */
function validMethod(input: unknown): PayoutMethod {
  const parsed = parsePayoutMethod(input)
  if (!parsed.ok) {
    throw new ProblemError('VALIDATION_FAILED', { detail: 'the payout method is not valid', errors: parsed.errors.map((e) => ({ path: `body.method.${e.path}`, message: e.message })) })
  }
  return parsed.method
}

async function currencyFor(env: Env, method: PayoutMethod, requested: string | undefined): Promise<string> {
  const rail = railOf(method.type)
  const choice = payoutCurrencyOf(method, requested, currenciesOf(await feeSchedules(env), rail))
  if (!choice.ok) throw new ProblemError('VALIDATION_FAILED', { detail: choice.message, errors: [{ path: 'body.currency', message: choice.message }] })
  return choice.currency
}

async function ownMethod(c: Context<AppEnv>, creatorId: string, methodId: string, options: { write: boolean; inUse: boolean }): Promise<MethodRow> {
  await payoutCreator(c, creatorId, { write: options.write })
  const row = await methodById(c.env, methodId)
  if (!row || row.creatorId !== creatorId || (options.inUse && row.removedAtMs !== null)) {
    throw new ProblemError('NOT_FOUND', { detail: `no payout method ${methodId}${options.inUse ? ' in use' : ''} for creator ${creatorId}` })
  }
  return row
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'

function coolOffLine(row: MethodRow, coolOffMs: number): string {
  return coolOffMs > 0
    ? `For your protection no payout goes to it before ${when(row.usableFromMs)} (a ${coolOffMs / 3_600_000}-hour cool-off after every new or changed method).`
    : 'It can be used for payouts at once.'
}

const sent = (r: NotifyResult) => r.sent

async function auditMethod(c: Context<AppEnv>, action: 'add' | 'change' | 'remove' | 'default' | 'reveal', row: MethodRow, extra: Record<string, string | number | boolean | null> = {}) {
  await audit(c, `payouts.method.${action}`, `payout_method:${row.id}`, {
    creator_id: row.creatorId,
    type: row.type,
    rail: row.rail,
    currency: row.currency,
    summary: row.summary,
    usable_from_ms: row.usableFromMs,
    ...extra,
  })
}

export function registerMethods(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const creator = await payoutCreator(c, c.req.valid('param').creatorId)
    const nowMs = Date.now()
    return c.json({ items: (await methodsOf(c.env, creator.id)).map((r) => methodView(r, nowMs)) }, 200)
  })

  app.openapi(operatorListRoute, async (c) => {
    const q = c.req.valid('query')
    const creator = await payoutCreator(c, q.creator_id)
    const nowMs = Date.now()
    const items = q.include_removed ? await everyMethodOf(c.env, creator.id) : await methodsOf(c.env, creator.id)
    return c.json({ items: items.map((r) => methodView(r, nowMs)) }, 200)
  })

  app.openapi(addRoute, async (c) => {
    const { creatorId } = c.req.valid('param')
    const body = c.req.valid('json')
    const creator = await payoutCreator(c, creatorId, { write: true })
    const method = validMethod(body.method)
    const currency = await currencyFor(c.env, method, body.currency)
    const { coolOffMs } = payoutConfig(c.env)
    const nowMs = Date.now()
    const row = await insertMethod(c.env, {
      id: newId('payoutMethod'),
      creatorId: creator.id,
      method,
      currency,
      createdBy: authenticated(c).subject,
      nowMs,
      coolOffMs,
      makeDefault: body.default === true,
    })
    if (!row) throw new ProblemError('CONFLICT', { detail: `a creator keeps at most ${MAX_ACTIVE_METHODS} payout methods; remove one first` })
    const notified = await notifyCreator(c.env, creator.id, {
      subject: 'A payout method was added to your FANZ account',
      text: `On ${when(nowMs)} the payout method ${row.summary} (paid in ${row.currency}) was added to your account${row.isDefault ? ' as your default' : ''}.\n\n${coolOffLine(row, coolOffMs)}`,
      security: true,
    })
    await auditMethod(c, 'add', row, { default: row.isDefault, notified: sent(notified) })
    return c.json({ method: methodView(row, nowMs), cool_off_hours: coolOffMs / 3_600_000, notified: sent(notified) }, 201)
  })

  app.openapi(viewRoute, async (c) => {
    const { creatorId, methodId } = c.req.valid('param')
    const row = await ownMethod(c, creatorId, methodId, { write: false, inUse: false })
    return c.json(methodView(row), 200)
  })

  app.openapi(revealRoute, async (c) => {
    const { creatorId, methodId } = c.req.valid('param')
    const row = await ownMethod(c, creatorId, methodId, { write: true, inUse: false })
    const details = await openMethodRow(c.env, row)
    await auditMethod(c, 'reveal', row)
    c.header('cache-control', 'no-store')
    return c.json({ method: methodView(row), details: details as unknown as Record<string, unknown> }, 200)
  })

  app.openapi(replaceRoute, async (c) => {
    const { creatorId, methodId } = c.req.valid('param')
    const body = c.req.valid('json')
    const old = await ownMethod(c, creatorId, methodId, { write: true, inUse: true })
    const method = validMethod(body.method)
    const currency = await currencyFor(c.env, method, body.currency)
    const { coolOffMs } = payoutConfig(c.env)
    const nowMs = Date.now()
    const row = await replaceMethod(c.env, old.id, {
      id: newId('payoutMethod'),
      creatorId,
      method,
      currency,
      createdBy: authenticated(c).subject,
      nowMs,
      coolOffMs,
      makeDefault: false,
    })
    if (!row) throw new ProblemError('CONFLICT', { detail: `payout method ${old.id} was removed or replaced meanwhile` })
    const replaced = (await methodById(c.env, old.id)) ?? old
    const notified = await notifyCreator(c.env, creatorId, {
      subject: 'A payout method on your FANZ account was changed',
      text: `On ${when(nowMs)} your payout method ${old.summary} was replaced by ${row.summary} (paid in ${row.currency})${row.isDefault ? ', now your default' : ''}. Payouts already on their way keep going to the old method.\n\n${coolOffLine(row, coolOffMs)}`,
      security: true,
    })
    await auditMethod(c, 'change', row, { replaces: old.id, replaced_summary: old.summary, default: row.isDefault, notified: sent(notified) })
    return c.json({ method: methodView(row, nowMs), replaced: methodView(replaced, nowMs), cool_off_hours: coolOffMs / 3_600_000, notified: sent(notified) }, 201)
  })

  app.openapi(removeRoute, async (c) => {
    const { creatorId, methodId } = c.req.valid('param')
    const row = await ownMethod(c, creatorId, methodId, { write: true, inUse: true })
    const nowMs = Date.now()
    if (!(await removeMethod(c.env, creatorId, row.id, authenticated(c).subject, nowMs))) {
      throw new ProblemError('NOT_FOUND', { detail: `no payout method ${methodId} in use for creator ${creatorId}` })
    }
    const removed = (await methodById(c.env, row.id))!
    const notified = await notifyCreator(c.env, creatorId, {
      subject: 'A payout method was removed from your FANZ account',
      text: `On ${when(nowMs)} the payout method ${row.summary} was removed from your account.${row.isDefault ? ' It was your default: choose another default, or payouts wait until you do.' : ''} Payouts already on their way to it are not affected.`,
      security: true,
    })
    await auditMethod(c, 'remove', removed, { was_default: row.isDefault, notified: sent(notified) })
    return c.json({ method: methodView(removed, nowMs), notified: sent(notified) }, 200)
  })

  app.openapi(defaultRoute, async (c) => {
    const { creatorId, methodId } = c.req.valid('param')
    const row = await ownMethod(c, creatorId, methodId, { write: true, inUse: true })
    const nowMs = Date.now()
    if (!(await setDefaultMethod(c.env, creatorId, row.id))) {
      throw new ProblemError('NOT_FOUND', { detail: `no payout method ${methodId} in use for creator ${creatorId}` })
    }
    const updated = (await methodById(c.env, row.id))!
    const notified = await notifyCreator(c.env, creatorId, {
      subject: 'Your default payout method on FANZ was changed',
      text: `On ${when(nowMs)} ${updated.summary} became your default payout method.${updated.usableFromMs > nowMs ? ` No payout goes to it before ${when(updated.usableFromMs)} (its cool-off).` : ''}`,
      security: true,
    })
    await auditMethod(c, 'default', updated, { notified: sent(notified) })
    return c.json({ method: methodView(updated, nowMs), notified: sent(notified) }, 200)
  })
}
