/**
 * `/api/ledger/*` (mounted by workers/api/app.ts): a creator's balances, history, monthly statements
 * (JSON or CSV) and admin adjustments, read from and written to the creator's `CreatorLedger`
 * object, which is the truth (the D1 projection serves dashboards, not these routes).
 *
 * Access: reads are declared with `ledger:read_own` (held by creators and by everyone holding
 * `ledger:read`); the handler then narrows it: a holder of `ledger:read` reads any creator, anyone
 * else only a creator whose `creators.user_id` is the token subject. Someone else's creator answers
 * 404, the same as an unknown one, so ids cannot be probed. Adjustments need `ledger:adjust`.
 *
 * Idempotency: POST adjustments requires `Idempotency-Key` (sf-string, payments.md §5) and passes it
 * to the object as the operation id (`api:adjust:<key>`), whose own idempotency makes a replay
 * return the first result and a reuse with another body a 422. NOTE for the integrator: the generic
 * Idempotency-Key middleware (stored response replay, 409 while in flight) is being built in
 * parallel; when it lands, put it in front of this route — the object's check stays as the
 * backstop, so a replay is safe with or without it.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { authenticated } from '../edge/auth'
import { ProblemError } from '../edge/problem'
import { createSurfaceApp } from '../edge/surface'
import { audit } from '../compliance/audit'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { holds } from '../sso/roles/middleware'
import { permission, withAccess } from '../sso/roles/access'
import { json, jsonBody, problemResponses } from '../api/schemas'
import { CREATOR_ACCOUNTS, MAX_AMOUNT, type OpFailure, type OpResult, type Statement, type TransferView } from './model'
import { statementCsv } from './statement-csv'
import { ledgerFor } from './stub'

export const ledgerApi = createSurfaceApp()

/** Reads: creators for themselves, `ledger:read` for anyone (narrowed in `readableCreator`). */
export const LEDGER_READ_ACCESS = permission('ledger:read_own')
export const LEDGER_ADJUST_ACCESS = permission('ledger:adjust')

const CreatorParam = z.object({ creatorId: z.string().min(1).max(64).openapi({ param: { name: 'creatorId', in: 'path' }, example: 'crt_01JFANZ0000000000000000101' }) })
const Currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, upper case')

const AccountSchema = z
  .object({
    currency: z.string(),
    account: z.string(),
    normal: z.enum(['credit', 'debit']),
    debits_pending: z.number().int(),
    debits_posted: z.number().int(),
    credits_pending: z.number().int(),
    credits_posted: z.number().int(),
    posted_minor: z.number().int(),
    pending_minor: z.number().int(),
  })
  .openapi('LedgerAccount')
const SummarySchema = z
  .object({ currency: z.string(), pending_minor: z.number().int(), available_minor: z.number().int(), reserve_minor: z.number().int(), on_hold_minor: z.number().int(), debt_minor: z.number().int() })
  .openapi('LedgerBalanceSummary')
const BalancesSchema = z.object({ creator_id: z.string(), seq: z.number().int(), summary: z.array(SummarySchema), accounts: z.array(AccountSchema) }).openapi('LedgerBalances')
const TransferSchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    op_id: z.string(),
    debit_account: z.string(),
    credit_account: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    code: z.string(),
    flags: z.array(z.string()),
    pending_id: z.string().nullable(),
    payment_id: z.string().nullable(),
    at: z.iso.datetime(),
    note: z.string().nullable(),
  })
  .openapi('LedgerTransfer')
const Balances5 = z.object(Object.fromEntries(CREATOR_ACCOUNTS.map((a) => [a, z.number().int()])) as Record<(typeof CREATOR_ACCOUNTS)[number], z.ZodNumber>)
const StatementSchema = z
  .object({
    creator_id: z.string(),
    month: z.string(),
    currency: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    opening: Balances5,
    closing: Balances5,
    opening_total_minor: z.number().int(),
    closing_total_minor: z.number().int(),
    lines: z.array(
      z.object({
        seq: z.number().int(),
        transfer_id: z.string(),
        at: z.iso.datetime(),
        code: z.string(),
        payment_id: z.string().nullable(),
        account: z.string(),
        amount_minor: z.number().int(),
        balance_after_minor: z.number().int(),
        note: z.string().nullable(),
      }),
    ),
  })
  .openapi('LedgerStatement')
const AdjustmentBody = z
  .object({
    currency: Currency,
    direction: z.enum(['credit', 'debit']).openapi({ description: 'credit: the creator receives; debit: the creator gives back (never below zero)' }),
    amount_minor: z.number().int().positive().max(MAX_AMOUNT),
    reason: z.string().trim().min(3).max(500),
  })
  .openapi('LedgerAdjustmentRequest')
const OpResultSchema = z
  .object({ op_id: z.string(), seq: z.number().int(), transfer_ids: z.array(z.string()), replayed: z.boolean() })
  .openapi('LedgerOperationResult')

/** The creator `creatorId` if the caller may read its ledger; 404 otherwise (unknown or not theirs). */
async function readableCreator(c: Context<AppEnv>, creatorId: string): Promise<string> {
  const auth = authenticated(c)
  const row = await c.env.DB.prepare('SELECT id, user_id FROM creators WHERE id = ?').bind(creatorId).first<{ id: string; user_id: string | null }>()
  if (row && (holds(auth, 'ledger:read') || (row.user_id !== null && row.user_id === auth.subject))) return row.id
  throw new ProblemError('NOT_FOUND', { detail: `no creator ledger ${creatorId} for you` })
}

ledgerApi.openapi(
  createRoute(
    withAccess(LEDGER_READ_ACCESS, {
      method: 'get',
      path: '/creators/{creatorId}/balances',
      tags: ['ledger'],
      summary: "A creator's balances per currency: summary (pending, available, reserve, on hold, debt) and every account",
      request: { params: CreatorParam, query: z.object({ currency: Currency.optional() }) },
      responses: { 200: json('Balances from the ledger object', BalancesSchema), ...problemResponses(401, 403, 404, 422) },
    }),
  ),
  async (c) => {
    const creatorId = await readableCreator(c, c.req.valid('param').creatorId)
    const b = await ledgerFor(c.env, creatorId).balances(c.req.valid('query').currency)
    return c.json(
      {
        creator_id: creatorId,
        seq: b.seq,
        summary: b.summary.map((s) => ({ currency: s.currency, pending_minor: s.pendingMinor, available_minor: s.availableMinor, reserve_minor: s.reserveMinor, on_hold_minor: s.onHoldMinor, debt_minor: s.debtMinor })),
        accounts: b.accounts.map((a) => ({
          currency: a.currency,
          account: a.account,
          normal: a.normal,
          debits_pending: a.debitsPending,
          debits_posted: a.debitsPosted,
          credits_pending: a.creditsPending,
          credits_posted: a.creditsPosted,
          posted_minor: a.postedMinor,
          pending_minor: a.pendingMinor,
        })),
      },
      200,
    )
  },
)

ledgerApi.openapi(
  createRoute(
    withAccess(LEDGER_READ_ACCESS, {
      method: 'get',
      path: '/creators/{creatorId}/history',
      tags: ['ledger'],
      summary: "A creator's transfers, newest first, by cursor",
      request: { params: CreatorParam, query: PageQuery },
      responses: { 200: json('A page of transfers', z.object({ items: z.array(TransferSchema), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403, 404, 422) },
    }),
  ),
  async (c) => {
    const creatorId = await readableCreator(c, c.req.valid('param').creatorId)
    const q = c.req.valid('query')
    const before = cursorOf(q.cursor, z.object({ before: z.number().int().min(1) }))
    const page = await ledgerFor(c.env, creatorId).history({ cursor: before?.before ?? null, limit: q.limit })
    return c.json({ items: page.items.map(transferJson), next_cursor: page.nextCursor === null ? null : encodeCursor({ before: page.nextCursor }) }, 200)
  },
)

ledgerApi.openapi(
  createRoute(
    withAccess(LEDGER_READ_ACCESS, {
      method: 'get',
      path: '/creators/{creatorId}/statements/{month}',
      tags: ['ledger'],
      summary: 'A monthly statement (UTC month): opening balances, posted movements, closing balances; JSON, or CSV with ?format=csv or Accept: text/csv',
      request: {
        params: CreatorParam.extend({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'yyyy-mm').openapi({ param: { name: 'month', in: 'path' }, example: '2026-11' }) }),
        query: z.object({ currency: Currency.default('USD'), format: z.enum(['json', 'csv']).optional() }),
      },
      responses: {
        200: { description: 'The statement', content: { 'application/json': { schema: StatementSchema }, 'text/csv': { schema: z.string() } } },
        ...problemResponses(401, 403, 404, 422),
      },
    }),
  ),
  async (c) => {
    const { creatorId: requested, month } = c.req.valid('param')
    const creatorId = await readableCreator(c, requested)
    const q = c.req.valid('query')
    const s = await ledgerFor(c.env, creatorId).statement(month, q.currency)
    if ('ok' in s) throw new ProblemError('VALIDATION_FAILED', { detail: s.detail })
    const csv = q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/i.test(c.req.header('accept') ?? ''))
    if (csv) {
      return c.body(statementCsv(s), 200, {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': `attachment; filename="statement-${creatorId}-${month}-${s.currency}.csv"`,
      })
    }
    return c.json(statementJson(creatorId, s), 200)
  },
)

ledgerApi.openapi(
  createRoute(
    withAccess(LEDGER_ADJUST_ACCESS, {
      method: 'post',
      path: '/creators/{creatorId}/adjustments',
      tags: ['ledger'],
      summary: "An admin adjustment of a creator's available balance, with a reason; requires Idempotency-Key",
      request: {
        params: CreatorParam,
        headers: z.object({ 'idempotency-key': z.string().max(300).optional().openapi({ description: 'sf-string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324" (required)' }) }),
        body: jsonBody(AdjustmentBody),
      },
      responses: {
        201: json('Adjustment recorded (or the first result again for a replay of the same key and body)', OpResultSchema),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
  async (c) => {
    const key = idempotencyKey(c.req.header('idempotency-key'))
    const auth = authenticated(c)
    const { creatorId: requested } = c.req.valid('param')
    const creator = await c.env.DB.prepare('SELECT id FROM creators WHERE id = ?').bind(requested).first<{ id: string }>()
    if (!creator) throw new ProblemError('NOT_FOUND', { detail: `no creator ${requested}` })
    const body = c.req.valid('json')
    const result = await ledgerFor(c.env, creator.id).adjust({ opId: `api:adjust:${key}`, currency: body.currency, direction: body.direction, amountMinor: body.amount_minor, reason: body.reason, actor: auth.subject })
    if (!result.ok) throw problemOf(result)
    if (!result.replayed) {
      await audit(c, 'payments.ledger.adjust', `creator:${creator.id}`, { currency: body.currency, direction: body.direction, amount_minor: body.amount_minor, reason: body.reason, op_id: result.opId, seq: result.seq })
    }
    return c.json(resultJson(result), 201)
  },
)

/**
 * `Idempotency-Key` as an sf-string (draft-ietf-httpapi-idempotency-key-header §2): `"..."` of
 * printable ASCII; a bare token is accepted too. Missing -> 400, malformed -> 400.
 */
export function idempotencyKey(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new ProblemError('IDEMPOTENCY_KEY_MISSING', { detail: 'send Idempotency-Key: "<unique value>" with every adjustment' })
  const raw = header.trim()
  const quoted = /^"((?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(raw)
  const value = quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : raw
  if (!/^[A-Za-z0-9._:@#/-]{8,160}$/.test(value)) {
    throw new ProblemError('BAD_REQUEST', { detail: 'Idempotency-Key must be 8-160 characters of [A-Za-z0-9._:@#/-] (a UUID is ideal)', errors: [{ path: 'header.idempotency-key', message: 'not a usable key' }] })
  }
  return value
}

function problemOf(r: OpFailure): ProblemError {
  const extensions = { ledger_code: r.code }
  if (r.code.startsWith('exists_with_different_')) return new ProblemError('IDEMPOTENCY_KEY_REUSED', { detail: `this Idempotency-Key was used for another request (${r.code})`, extensions })
  if (r.code === 'insufficient_funds') return new ProblemError('CONFLICT', { detail: r.detail, extensions })
  return new ProblemError('VALIDATION_FAILED', { detail: r.detail, extensions })
}

function resultJson(r: Extract<OpResult, { ok: true }>) {
  return { op_id: r.opId, seq: r.seq, transfer_ids: r.transferIds, replayed: r.replayed }
}

function transferJson(t: TransferView) {
  return {
    seq: t.seq,
    id: t.id,
    op_id: t.opId,
    debit_account: t.debitAccount,
    credit_account: t.creditAccount,
    amount_minor: t.amountMinor,
    currency: t.currency,
    code: t.code,
    flags: t.flags,
    pending_id: t.pendingId,
    payment_id: t.paymentId,
    at: new Date(t.atMs).toISOString(),
    note: t.note,
  }
}

function statementJson(creatorId: string, s: Statement) {
  return {
    creator_id: creatorId,
    month: s.month,
    currency: s.currency,
    from: new Date(s.fromMs).toISOString(),
    to: new Date(s.toMs).toISOString(),
    opening: s.opening,
    closing: s.closing,
    opening_total_minor: s.openingTotalMinor,
    closing_total_minor: s.closingTotalMinor,
    lines: s.lines.map((l) => ({
      seq: l.seq,
      transfer_id: l.transferId,
      at: new Date(l.atMs).toISOString(),
      code: l.code,
      payment_id: l.paymentId,
      account: l.account,
      amount_minor: l.amountMinor,
      balance_after_minor: l.accountBalanceAfterMinor,
      note: l.note,
    })),
  }
}
