/**
 * `/api/payouts/files`: the bank files written for file-rail batches (files/batch-file.ts). Finance
 * lists and reads their metadata (`payouts:read`), downloads the bytes (`payouts:files:download`
 * with a recent two-factor sign-in; every download audited with the file's sha256, the bytes
 * re-hashed before they are served and never served when they differ from what was recorded), and
 * confirms that the bank executed a file (`payouts:manage`, step-up, Idempotency-Key), which settles
 * its payouts (files/confirm.ts says why settlement is tied to that confirmation).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { sha256Hex } from '../../lib/encoding'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import type { RecentAuthPolicy } from '../../sso/roles/middleware'
import type { PayoutFileRow } from './batch-file'
import { confirmFile } from './confirm'

/** Bank files carry every creator's account number: a two-factor sign-in within 15 minutes. */
export const PAYOUT_FILES_STEP_UP: RecentAuthPolicy = { maxAgeS: 900, strong: true }

const FORMATS = ['nacha', 'pain.001.001.09', 'wire_csv', 'check_csv'] as const
const CONTENT_TYPES: Record<(typeof FORMATS)[number], { type: string; ext: string }> = {
  nacha: { type: 'text/plain; charset=us-ascii', ext: 'ach' },
  'pain.001.001.09': { type: 'application/xml; charset=utf-8', ext: 'xml' },
  wire_csv: { type: 'text/csv; charset=utf-8; header=present', ext: 'csv' },
  check_csv: { type: 'text/csv; charset=utf-8; header=present', ext: 'csv' },
}

export const FileId = z.string().regex(/^pof_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payout file id')
const tags = ['payouts']

const PayoutFile = z
  .object({
    id: z.string(),
    batch_id: z.string(),
    format: z.enum(FORMATS),
    sha256: z.string(),
    byte_length: z.number().int(),
    entry_count: z.number().int(),
    total_minor: z.number().int().openapi({ description: 'sum of the payouts\' net amounts in the file' }),
    currency: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('PayoutFile')

const Status = z.enum(['awaiting_confirmation', 'confirmed', 'rejected'])

const FileDetail = PayoutFile.extend({
  status: Status.openapi({ description: 'awaiting_confirmation while any payout is submitted; confirmed once finance confirmed (payouts settled, possibly returned later); rejected when the bank refused every payout' }),
  batch_state: z.string(),
  states: z.record(z.string(), z.object({ count: z.number().int(), net_minor: z.number().int() })),
  payouts: z.array(z.object({ payout_id: z.string(), creator_id: z.string(), processor_ref: z.string().nullable(), net_minor: z.number().int(), state: z.string(), failure_code: z.string().nullable() })),
}).openapi('PayoutFileDetail')

type Row = PayoutFileRow & { currency: string | null }
const COLUMNS = 'f.id, f.batch_id, f.format, f.r2_key, f.sha256_hex, f.byte_length, f.entry_count, f.total_minor, f.created_at_ms, b.currency'
const view = (r: Row) => ({
  id: r.id,
  batch_id: r.batch_id,
  format: r.format,
  sha256: r.sha256_hex,
  byte_length: r.byte_length,
  entry_count: r.entry_count,
  total_minor: r.total_minor,
  currency: r.currency,
  created_at: new Date(r.created_at_ms).toISOString(),
})

async function fileOr404(env: Env, id: string): Promise<Row> {
  const row = await env.DB.prepare(`SELECT ${COLUMNS} FROM payout_files f LEFT JOIN payout_batches b ON b.id = f.batch_id WHERE f.id = ?`).bind(id).first<Row>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no payout file ${id}` })
  return row
}

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/files',
    tags,
    summary: 'Bank files written for payout batches, newest first',
    request: { query: PageQuery.extend({ batch_id: z.string().max(64).optional(), format: z.enum(FORMATS).optional() }) },
    responses: { 200: json('A page of files', z.object({ items: z.array(PayoutFile), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const viewRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/files/{fileId}',
    tags,
    summary: "A bank file's metadata, its payouts (references, amounts, states; never account details) and whether it is confirmed",
    request: { params: z.object({ fileId: FileId }) },
    responses: { 200: json('The file', FileDetail), ...problemResponses(400, 401, 403, 404) },
  }),
)

const downloadRoute = createRoute(
  withAccess(permission('payouts:files:download', { stepUp: PAYOUT_FILES_STEP_UP }), {
    method: 'get',
    path: '/files/{fileId}/download',
    tags,
    summary: 'The file as an attachment (recent two-factor sign-in); audited with its sha256; ETag = sha256; never served when the stored bytes no longer hash to it',
    request: { params: z.object({ fileId: FileId }) },
    responses: {
      200: {
        description: 'The bank file',
        content: {
          'text/plain': { schema: z.string().openapi({ description: 'NACHA' }) },
          'application/xml': { schema: z.string().openapi({ description: 'pain.001.001.09' }) },
          'text/csv': { schema: z.string().openapi({ description: 'wire or check register' }) },
        },
      },
      ...problemResponses(400, 401, 403, 404, 409),
    },
  }),
)

const confirmRoute = createRoute(
  withIdempotency(
    withAccess(permission('payouts:manage', { stepUp: PAYOUT_FILES_STEP_UP }), {
      method: 'post',
      path: '/files/{fileId}/confirm',
      tags,
      summary: 'Finance confirms the bank executed the file: every payout still submitted in it settles (hold posted); returns after this credit the creator back',
      request: { params: z.object({ fileId: FileId }), body: jsonBody(z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict()) },
      responses: {
        200: json('Confirmed', z.object({ file_id: z.string(), batch_id: z.string(), settled: z.array(z.object({ payout_id: z.string(), creator_id: z.string(), net_minor: z.number().int(), processor_ref: z.string().nullable() })), unchanged: z.number().int() })),
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
  ),
)

export function registerFiles(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<Row>(c.env.DB, {
      // a derived table: the pagination's bare `id` must name the file's
      from: `(SELECT ${COLUMNS} FROM payout_files f LEFT JOIN payout_batches b ON b.id = f.batch_id)`,
      filters: [
        ['batch_id', q.batch_id],
        ['format', q.format],
      ],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(view), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(viewRoute, async (c) => {
    const row = await fileOr404(c.env, c.req.valid('param').fileId)
    const batch = await c.env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(row.batch_id).first<{ state: string }>()
    const { results } = await c.env.DB.prepare('SELECT id, creator_id, processor_ref, net_minor, state, failure_code FROM payouts WHERE batch_id = ? AND processor_ref IS NOT NULL ORDER BY id')
      .bind(row.batch_id)
      .all<{ id: string; creator_id: string; processor_ref: string | null; net_minor: number; state: string; failure_code: string | null }>()
    const states: Record<string, { count: number; net_minor: number }> = {}
    for (const p of results) {
      const s = (states[p.state] ??= { count: 0, net_minor: 0 })
      s.count += 1
      s.net_minor += p.net_minor
    }
    const status = states.submitted || states.pending || states.queued ? 'awaiting_confirmation' : states.settled || states.returned ? 'confirmed' : 'rejected'
    return c.json(
      {
        ...view(row),
        status,
        batch_state: batch?.state ?? 'unknown',
        states,
        payouts: results.map((p) => ({ payout_id: p.id, creator_id: p.creator_id, processor_ref: p.processor_ref, net_minor: p.net_minor, state: p.state, failure_code: p.failure_code })),
      } as const,
      200,
    )
  })

  app.openapi(downloadRoute, async (c) => {
    const row = await fileOr404(c.env, c.req.valid('param').fileId)
    const object = await c.env.EXPORTS.get(row.r2_key)
    const bytes = object ? new Uint8Array(await object.arrayBuffer()) : null
    const actual = bytes ? sha256Hex(bytes) : null
    if (!bytes || actual !== row.sha256_hex) {
      // never the bytes: a file that changed after it was recorded is an incident, not a download
      const reason = bytes ? 'the stored bytes no longer match the recorded sha256' : 'the stored file is missing'
      await audit(c, 'payouts.file.integrity_failure', `payout_file:${row.id}`, { severity: 'critical', reason, recorded_sha256: row.sha256_hex, actual_sha256: actual })
      log('error', c.var.config.logLevel, 'payout_file_integrity_failure', { request_id: c.var.requestId, file_id: row.id, reason })
      throw new ProblemError('CONFLICT', { detail: `payout file ${row.id}: ${reason}; it is not served (an operator must look)` })
    }
    await audit(c, 'payouts.file.download', `payout_file:${row.id}`, { batch_id: row.batch_id, format: row.format, sha256: row.sha256_hex, byte_length: row.byte_length })
    const type = CONTENT_TYPES[row.format]
    return new Response(bytes, {
      status: 200,
      headers: {
        'content-type': type.type,
        'content-length': String(bytes.byteLength),
        'content-disposition': `attachment; filename="${row.id}.${type.ext}"`,
        etag: `"${row.sha256_hex}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    })
  })

  app.openapi(confirmRoute, async (c) => {
    const { fileId } = c.req.valid('param')
    const body = c.req.valid('json')
    return c.json(await confirmFile(c.env, c, fileId, body.reason ?? null), 200)
  })
}
