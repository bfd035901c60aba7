/**
 * `/api/payouts/returns/*` and `/api/payouts/payouts/{id}/return`: what came back from the banks.
 * Finance uploads ACH return files (NACHA with addenda 99, and notifications of change with addenda
 * 98, which correct the creator's ACH method: noc.ts) and SEPA pain.002 status reports, or
 * records one return by hand; each return finds its payout by the reference written into the bank
 * file and fails it (not yet confirmed: hold voided) or returns it (confirmed: credited back once).
 * Imports are kept in R2 as received (content-addressed) and audited; the answer lists what was
 * matched, what had already been returned, and what matched nothing, with codes and reasons.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { payoutFileKeys } from '../../../r2/keys'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { sha256Hex } from '../../lib/encoding'
import { MAX_STORED_BODY_BYTES, withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { PAYOUT_FILES_STEP_UP } from '../files/api'
import { payoutRow } from '../lifecycle'
import { isFileRail } from '../rails'
import { importAchReturns } from './ach'
import { applyReturn } from './apply'
import { achReturnText, sepaReasonText } from './codes'
import { importPain002 } from './pain002'

const tags = ['payouts']
/** The ceiling of a return file: the same as the route's body limit (LARGE_BODY_ROUTES in api/app.ts). */
export const MAX_RETURN_FILE_BYTES = 8 * 1024 * 1024

const Outcome = z.object({ payout_id: z.string(), status: z.string(), state: z.string(), creator_id: z.string(), amount_minor: z.number().int(), currency: z.string() })
const AchItem = z.object({ original_trace: z.string(), return_trace: z.string(), code: z.string(), reason: z.string(), amount_minor: z.number().int(), date_of_death: z.string().nullable(), addenda_information: z.string() })
const AchNotificationOfChange = z
  .object({
    original_trace: z.string().openapi({ description: 'trace number of the entry we sent' }),
    noc_trace: z.string().openapi({ description: 'trace number of the COR entry' }),
    change_code: z.string().openapi({ example: 'C01' }),
    meaning: z.string().openapi({ example: 'Incorrect DFI account number' }),
    corrects: z.array(z.enum(['routing_number', 'account_number', 'account_type', 'account_holder_name'])).openapi({ description: 'the method fields the change code corrects' }),
    status: z.enum(['applied', 'already_applied', 'not_applicable', 'unmatched', 'invalid']).openapi({
      description:
        'applied: the method was replaced by the corrected one (usable at once); already_applied: an earlier import did it, or the method in use already carries it; not_applicable: nothing on a payout method to change (e.g. C09), or the creator replaced the method since; unmatched: no payout carries the trace; invalid: the corrected data is malformed or the corrected method does not validate (e.g. a wrong routing check digit): not applied',
    }),
    detail: z.string(),
    payout_id: z.string().nullable(),
    creator_id: z.string().nullable(),
    old_method_id: z.string().nullable(),
    new_method_id: z.string().nullable(),
    old_summary: z.string().nullable().openapi({ description: 'masked', example: 'ACH checking •••• 6789' }),
    new_summary: z.string().nullable().openapi({ description: 'masked' }),
    notified: z.boolean().openapi({ description: 'the creator was mailed about the correction' }),
  })
  .openapi('AchNotificationOfChange')
const AchResult = z
  .object({
    sha256: z.string(),
    entries: z.number().int(),
    matched: z.array(AchItem.extend(Outcome.shape)),
    already_returned: z.array(AchItem.extend(Outcome.shape)),
    unmatched: z.array(AchItem.extend({ why: z.string(), detail: z.string(), payout_id: z.string().nullable() })),
    notifications_of_change: z.array(AchNotificationOfChange),
  })
  .openapi('AchReturnImport')
const SepaItem = z.object({ level: z.enum(['group', 'instruction', 'transaction']), end_to_end_id: z.string().nullable(), status: z.string(), code: z.string(), reason: z.string() })
const SepaResult = z
  .object({
    sha256: z.string(),
    original_message_id: z.string(),
    file_id: z.string().nullable(),
    group_status: z.string().nullable(),
    matched: z.array(SepaItem.extend(Outcome.shape)),
    already_returned: z.array(SepaItem.extend(Outcome.shape)),
    unmatched: z.array(SepaItem.extend({ why: z.string(), detail: z.string(), payout_id: z.string().nullable() })),
    informational: z.array(z.object({ level: z.string(), end_to_end_id: z.string().nullable(), status: z.string() })),
  })
  .openapi('SepaStatusImport')

const FileBody = z.object({ file: z.string().min(1).max(MAX_RETURN_FILE_BYTES) }).strict()

const achRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage'), {
      method: 'post',
      path: '/returns/ach',
      tags,
      summary: 'Import an ACH return file (NACHA, addenda 99 returns and addenda 98 notifications of change): each matched to its payout by the original trace number',
      description:
        'Body: the file as `text/plain`, or JSON `{ "file": "..." }`. Returns of confirmed (settled) payouts credit the creator back once; returns of payouts not yet confirmed fail them (hold voided). Notifications of change (COR entries) correct the creator\'s ACH payout method the payout went to (a new method replaces it, usable at once, the creator is mailed); a file may hold only those. A second import of the same file changes nothing (`already_returned`, `already_applied`).',
      request: {
        body: {
          // not `required`: @hono/zod-openapi would then validate every body as JSON, text ones too
          required: false,
          content: { 'text/plain': { schema: z.string().openapi({ description: 'NACHA return file' }) }, 'application/json': { schema: FileBody } },
        },
      },
      responses: { 200: json('What each return did', AchResult), ...problemResponses(400, 401, 403, 413, 415, 422) },
    }),
    { maxStoredBodyBytes: MAX_STORED_BODY_BYTES },
  ),
)

const sepaRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage'), {
      method: 'post',
      path: '/returns/sepa',
      tags,
      summary: 'Import a SEPA payment status report (pain.002): rejected transactions (TxSts RJCT), instructions or whole files fail or return their payouts',
      description: 'Body: the XML as `application/xml`, or JSON `{ "file": "..." }`. Matched by OrgnlEndToEndId (and OrgnlMsgId for group or instruction rejections).',
      request: {
        body: {
          // not `required`: @hono/zod-openapi would then validate every body as JSON, text ones too
          required: false,
          content: { 'application/xml': { schema: z.string().openapi({ description: 'pain.002 document' }) }, 'application/json': { schema: FileBody } },
        },
      },
      responses: { 200: json('What each rejection did', SepaResult), ...problemResponses(400, 401, 403, 413, 415, 422) },
    }),
    { maxStoredBodyBytes: MAX_STORED_BODY_BYTES },
  ),
)

const manualRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUT_FILES_STEP_UP }), {
      method: 'post',
      path: '/payouts/{payoutId}/return',
      tags,
      summary: 'Record a return by hand (a bank letter, a call): a settled payout is credited back once; a bank-file payout not yet confirmed is failed (hold voided)',
      request: {
        params: z.object({ payoutId: z.string().regex(/^po_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payout id') }),
        body: jsonBody(
          z
            .object({
              code: z.string().trim().regex(/^(R[0-9A-Z]{2}|[A-Z0-9]{4})$/, 'an ACH return code (R01 ..) or an ISO 20022 reason code (AC01 ..)'),
              reason: z.string().trim().min(3).max(500),
            })
            .strict(),
        ),
      },
      responses: { 200: json('What the return did', Outcome.extend({ code: z.string(), code_text: z.string() })), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
  ),
)

const Return = z.object({ id: z.string(), payout_id: z.string(), source: z.string(), code: z.string(), reason: z.string(), recorded_by: z.string(), at: z.iso.datetime() }).openapi('PayoutReturn')

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/returns',
    tags,
    summary: 'Recorded returns and rejections, newest first',
    request: { query: PageQuery.extend({ payout_id: z.string().max(64).optional(), source: z.enum(['ach_return', 'sepa_reject', 'processor', 'manual']).optional() }) },
    responses: { 200: json('A page of returns', z.object({ items: z.array(Return), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

/** The uploaded file's text: `text/plain` / XML bodies as sent, JSON as `{ file }`. */
async function uploadedText(c: Context<AppEnv>, kinds: readonly string[]): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json') {
    const parsed = FileBody.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw new ProblemError('VALIDATION_FAILED', { detail: 'send { "file": "<the file text>" }', errors: parsed.error.issues.map((i) => ({ path: `body.${i.path.join('.')}`, message: i.message })) })
    return parsed.data.file
  }
  if (!kinds.includes(type)) throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: `send the file as ${kinds.join(' or ')}, or JSON { "file": "..." }` })
  const bytes = new Uint8Array(await c.req.arrayBuffer())
  if (bytes.byteLength > MAX_RETURN_FILE_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `return files are at most ${MAX_RETURN_FILE_BYTES} bytes here: split the file` })
  if (bytes.byteLength === 0) throw new ProblemError('VALIDATION_FAILED', { detail: 'the body is empty', errors: [{ path: 'body', message: 'empty' }] })
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new ProblemError('VALIDATION_FAILED', { detail: 'the file is not UTF-8 text', errors: [{ path: 'body', message: 'not UTF-8' }] })
  }
}

/** Kept as received, by content: the evidence for every return it moved. */
async function keep(env: Env, source: 'ach' | 'sepa', text: string, nowMs: number): Promise<string> {
  const bytes = new TextEncoder().encode(text)
  const sha = sha256Hex(bytes)
  await env.EXPORTS.put(payoutFileKeys.returnFile(source, nowMs, sha), bytes, { sha256: sha, httpMetadata: { contentType: source === 'ach' ? 'text/plain' : 'application/xml' } })
  return sha
}

export function registerReturns(app: OpenAPIHono<AppEnv>): void {
  app.openapi(achRoute, async (c) => {
    const text = await uploadedText(c, ['text/plain'])
    const nowMs = Date.now()
    const sha = await keep(c.env, 'ach', text, nowMs)
    const result = await importAchReturns(c.env, c, text, authenticated(c).subject, sha, nowMs)
    return c.json({ sha256: sha, ...result }, 200)
  })

  app.openapi(sepaRoute, async (c) => {
    const text = await uploadedText(c, ['application/xml', 'text/xml'])
    const nowMs = Date.now()
    const sha = await keep(c.env, 'sepa', text, nowMs)
    const result = await importPain002(c.env, c, text, authenticated(c).subject, sha, nowMs)
    return c.json({ sha256: sha, ...result }, 200)
  })

  app.openapi(manualRoute, async (c) => {
    const { payoutId } = c.req.valid('param')
    const body = c.req.valid('json')
    const p = await payoutRow(c.env, payoutId)
    if (!p) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
    // a processor payout still on its way may yet be paid: only its processor's answer ends it
    if (p.state !== 'settled' && p.state !== 'returned' && !(p.state === 'submitted' && isFileRail(p.rail as never))) {
      throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${p.state} on ${p.rail}: only a settled payout, or a bank-file payout not yet confirmed, can be returned` })
    }
    const codeText = body.code.startsWith('R') ? achReturnText(body.code) : sepaReasonText(body.code)
    const outcome = await applyReturn(c.env, c, payoutId, { source: 'manual', code: body.code, reason: body.reason, recordedBy: authenticated(c).subject })
    return c.json({ ...outcome, code: body.code, code_text: codeText }, 200)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<{ id: string; payout_id: string; source: string; code: string; reason: string; recorded_by: string; at_ms: number }>(c.env.DB, {
      from: 'payout_returns',
      filters: [
        ['payout_id', q.payout_id],
        ['source', q.source],
      ],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(({ at_ms, ...r }) => ({ ...r, at: new Date(at_ms).toISOString() })), next_cursor: page.next_cursor }, 200)
  })
}
