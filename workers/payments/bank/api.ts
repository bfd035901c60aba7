/**
 * `/api/payments/bank-statements`: finance imports the receiving account's bank statements
 * (camt.053 XML or CSV, body = the file) and the credits are matched to pending bank-transfer
 * payments by their ISO 11649 reference (reconcile.ts); unmatched and mismatched entries are listed
 * and matched by hand with a reason. Imports and manual matches move money: Idempotency-Key, audit.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { parseCamt053 } from './camt053'
import { CSV_COLUMNS, parseCsvStatement } from './csv'
import { type EntryStatus, importStatement, manualMatch, statementEntries } from './reconcile'
import { type ParsedStatement, StatementError } from './statement'

/** The API's body limit (api/app.ts) is 256 KiB; a statement is held to the same. */
export const MAX_STATEMENT_BYTES = 8 * 1024 * 1024

const STATUSES = ['matched', 'unmatched', 'amount_mismatch', 'duplicate', 'manual'] as const

const Entry = z
  .object({
    entry_ref: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    booked_at: z.iso.datetime(),
    remittance: z.string(),
    debtor_name: z.string().nullable(),
    status: z.enum(STATUSES),
    payment_id: z.string().nullable(),
    detail: z.string().nullable(),
  })
  .openapi('BankStatementEntry')

const Statement = z
  .object({
    id: z.string(),
    format: z.enum(['camt053', 'csv']),
    statement_ref: z.string(),
    account_iban: z.string().nullable(),
    entries: z.number().int().openapi({ description: 'booked credit entries in the file, duplicates included' }),
    matched: z.number().int(),
    imported_by: z.string().nullable(),
    imported_at: z.iso.datetime(),
  })
  .openapi('BankStatement')

const StatementId = z.string().regex(/^bst_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a bank statement id')

export const importRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:bank:reconcile'), {
      method: 'post',
      path: '/bank-statements',
      tags: ['payments'],
      summary: 'Import a bank statement (camt.053 XML or CSV) and match its credits to pending bank transfers',
      description: [
        'Body = the file. `application/xml`: ISO 20022 camt.053.001.02 or later, one statement (account) per file; booked credits (CRDT, BOOK) only.',
        `\`text/csv\`: header line with columns ${CSV_COLUMNS.join(', ')} (debtor optional; any order; other columns ignored); date YYYY-MM-DD, amount with "." decimals (negative = debit, skipped), currency ISO 4217.`,
        'A statement imports once (camt Stmt/Id, or the CSV file\'s SHA-256): again -> 409. Entries seen in an earlier statement are `duplicate` and move nothing.',
        'Each credit with a valid ISO 11649 reference (structured, or anywhere in the free text, any case or spacing) of a pending bank-transfer payment and the exact amount is `matched` and credited to the ledger once; a different amount is `amount_mismatch`, no reference `unmatched`.',
      ].join(' '),
      security: [{ bearer: [] }],
      request: {
        body: {
          required: true,
          content: {
            'application/xml': { schema: z.string().openapi({ description: 'camt.053 document' }) },
            'text/csv': { schema: z.string().openapi({ description: `CSV with header ${CSV_COLUMNS.join(',')}` }) },
          },
        },
      },
      responses: {
        201: json('Imported: the statement and every credit entry with its outcome', z.object({ statement: Statement.extend({ skipped_debits_or_unbooked: z.number().int() }), entries: z.array(Entry) })),
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422),
      },
    }),
  ),
)

export const listRoute = createRoute(withAccess(permission('payments:bank:reconcile'), {
  method: 'get',
  path: '/bank-statements',
  tags: ['payments'],
  summary: 'Imported bank statements, newest first',
  security: [{ bearer: [] }],
  request: { query: PageQuery },
  responses: { 200: json('A page of statements', z.object({ items: z.array(Statement), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
}))

export const viewRoute = createRoute(withAccess(permission('payments:bank:reconcile'), {
  method: 'get',
  path: '/bank-statements/{id}',
  tags: ['payments'],
  summary: 'One statement with its entries and their status (an entry seen in an earlier statement is listed as `duplicate`)',
  security: [{ bearer: [] }],
  request: { params: z.object({ id: StatementId }), query: z.object({ status: z.enum(STATUSES).optional() }) },
  responses: { 200: json('The statement', Statement.extend({ items: z.array(Entry) })), ...problemResponses(400, 401, 403, 404) },
}))

export const matchRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:bank:reconcile'), {
      method: 'post',
      path: '/bank-statements/{id}/entries/{entry_ref}/match',
      tags: ['payments'],
      summary: 'Match an unmatched or amount-mismatched entry to a pending bank-transfer payment by hand; the ledger is credited the amount received',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ id: StatementId, entry_ref: z.string().min(1).max(160) }),
        body: jsonBody(z.object({ payment_id: z.string().regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payment id'), reason: z.string().trim().min(3).max(500) }).strict()),
      },
      responses: {
        200: json('Matched; the sale went to the ledger', z.object({ entry: Entry, ledger: z.object({ status: z.string(), detail: z.string().nullable() }) })),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
)

type StatementRow = { id: string; format: 'camt053' | 'csv'; statement_ref: string; account_iban: string | null; entries: number; matched: number; imported_by: string | null; imported_at_ms: number }
const view = ({ imported_at_ms, ...rest }: StatementRow) => ({ ...rest, imported_at: new Date(imported_at_ms).toISOString() })
const COLUMNS = 'id, format, statement_ref, account_iban, entries, matched, imported_by, imported_at_ms'

function parseBody(contentType: string, raw: string): ParsedStatement {
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  if (type === 'application/xml' || type === 'text/xml') return parseCamt053(raw)
  if (type === 'text/csv') return parseCsvStatement(raw)
  throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'send the statement as application/xml (camt.053) or text/csv' })
}

export function registerBankTransfers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(importRoute, async (c) => {
    const declared = Number(c.req.header('content-length') ?? '0')
    if (declared > MAX_STATEMENT_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `statements are at most ${MAX_STATEMENT_BYTES} bytes: split the file` })
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    if (bytes.byteLength > MAX_STATEMENT_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `statements are at most ${MAX_STATEMENT_BYTES} bytes: split the file` })
    let raw: string
    try {
      raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
    } catch {
      throw new ProblemError('BAD_REQUEST', { detail: 'the statement is not UTF-8 text', errors: [{ path: 'body', message: 'not UTF-8' }] })
    }
    let parsed: ParsedStatement
    try {
      parsed = parseBody(c.req.header('content-type') ?? '', raw)
    } catch (err) {
      if (err instanceof StatementError) {
        throw new ProblemError('BAD_REQUEST', { detail: `the statement could not be read: ${err.message}`.slice(0, 1000), errors: err.issues.map((i) => ({ path: `body: ${i.path}`, message: i.message })) })
      }
      throw err
    }
    return c.json(await importStatement(c, parsed, raw), 201)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<StatementRow>(c.env.DB, { from: 'bank_statements', columns: COLUMNS, filters: [], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(view), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await c.env.DB.prepare(`SELECT ${COLUMNS} FROM bank_statements WHERE id = ?`).bind(id).first<StatementRow>()
    if (!row) throw new ProblemError('NOT_FOUND', { detail: `no bank statement ${id}` })
    return c.json({ ...view(row), items: await statementEntries(c.env.DB, id, c.req.valid('query').status as EntryStatus | undefined) }, 200)
  })

  app.openapi(matchRoute, async (c) => {
    const { id, entry_ref } = c.req.valid('param')
    const body = c.req.valid('json')
    return c.json(await manualMatch(c, id, entry_ref, body.payment_id, body.reason), 200)
  })
}
