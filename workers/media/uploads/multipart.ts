/**
 * Direct multipart uploads for API clients that cut files themselves: the server chooses one part
 * size (R2: every non-final part the same length, >= 5 MiB, <= 10,000 parts), the client PUTs parts
 * 1..n in any order (again to replace one), then completes. Part 1 is checked by magic numbers as
 * soon as it arrives. Create and complete honour `Idempotency-Key`.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { mediaUploadStub, type UploadState } from '../../../durable-objects/media-upload'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { permission, withAccess } from '../../sso/roles/access'
import { uploadingCreator } from './creator'
import { partCountFor } from './limits'
import { UPLOAD_TYPES } from './sniff'
import { assertSniffed, finishUpload, openUpload, ownUpload, terminateUpload, uploadProblem, uploadState } from './store'

const ACCESS = permission('creator:content:write')

const CreateBody = z
  .object({
    type: z.enum(UPLOAD_TYPES).openapi({ description: 'what the file is; checked against its first bytes' }),
    size: z.number().int().min(1).openapi({ description: 'bytes', example: 20_971_520 }),
    filename: z.string().max(255).optional(),
    title: z.string().max(200).optional(),
    brand: z.string().min(1).max(64).optional().openapi({ description: 'brand slug or id, when you create on several brands' }),
  })
  .strict()

const UploadView = z
  .object({
    upload_id: z.string(),
    item_id: z.string(),
    status: z.enum(['open', 'completed', 'terminated', 'expired']),
    size: z.number().int(),
    part_size: z.number().int(),
    part_count: z.number().int(),
    parts_received: z.array(z.object({ part_number: z.number().int(), size: z.number().int() })),
    received_bytes: z.number().int(),
    expires_at: z.string(),
  })
  .openapi('MediaMultipartUpload')

const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'upl_01JFANZ0000000000000000001' }) })
const PartParam = IdParam.extend({ n: z.coerce.number().int().min(1).max(10_000).openapi({ param: { name: 'n', in: 'path' }, example: 1 }) })

function view(state: UploadState): z.infer<typeof UploadView> {
  const size = state.length ?? 0
  return {
    upload_id: state.uploadId,
    item_id: state.itemId,
    status: state.status,
    size,
    part_size: state.partSize,
    part_count: partCountFor(size, state.partSize),
    parts_received: state.parts.map((p) => ({ part_number: p.partNumber, size: p.size })),
    received_bytes: state.offset,
    expires_at: new Date(state.expiresAtMs).toISOString(),
  }
}

/** The exact size part `n` must have. */
function expectedPartSize(state: UploadState, n: number): number {
  const size = state.length ?? 0
  const count = partCountFor(size, state.partSize)
  return n < count ? state.partSize : size - (count - 1) * state.partSize
}

export function registerMultipart(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute(
      withIdempotency(
        withAccess(ACCESS, {
          method: 'post',
          path: '/uploads/multipart',
          tags: ['media'],
          summary: 'Start a multipart upload: the server chooses the part size',
          request: { body: jsonBody(CreateBody) },
          responses: { 201: json('The upload, its part size and part count', UploadView), ...problemResponses(401, 403, 413, 415, 422) },
        }),
        { required: false },
      ),
    ),
    async (c) => {
      const body = c.req.valid('json')
      const creator = await uploadingCreator(c, body.brand, 'body.brand')
      const metadata: Record<string, string> = { filetype: body.type, ...(body.filename ? { filename: body.filename } : {}) }
      const opened = await openUpload(c, { creator, protocol: 'multipart', type: body.type, length: body.size, title: body.title ?? body.filename ?? '', metadata, lengthField: 'body.size' })
      return c.json(view(await uploadState(c.env, opened.uploadId)), 201, { location: `/api/media/uploads/multipart/${opened.uploadId}` })
    },
  )

  app.openapi(
    createRoute(
      withAccess(ACCESS, {
        method: 'put',
        path: '/uploads/multipart/{id}/parts/{n}',
        tags: ['media'],
        summary: 'Send part n (1-based); every part but the last exactly part_size bytes',
        request: { params: PartParam, body: { required: true, content: { 'application/octet-stream': { schema: z.string().openapi({ type: 'string', format: 'binary' }) } } } },
        responses: { 200: json('The upload after this part', UploadView), ...problemResponses(400, 401, 403, 404, 409, 415), 410: { description: 'Expired' } },
      }),
    ),
    async (c) => {
      const { id, n } = c.req.valid('param')
      await ownUpload(c, id, 'multipart')
      const state = await uploadState(c.env, id)
      if (state.status !== 'open') throw uploadProblem(state.status, id, state)
      const count = partCountFor(state.length ?? 0, state.partSize)
      if (n > count) throw new ProblemError('BAD_REQUEST', { detail: `this upload has ${count} parts`, errors: [{ path: 'params.n', message: `at most ${count}` }] })
      const bytes = new Uint8Array(await c.req.arrayBuffer())
      const expected = expectedPartSize(state, n)
      if (bytes.byteLength !== expected) {
        throw new ProblemError('BAD_REQUEST', { detail: `part ${n} must be exactly ${expected} bytes; got ${bytes.byteLength}`, errors: [{ path: 'body', message: `must be ${expected} bytes` }] })
      }
      if (n === 1) await assertSniffed(c, state, bytes.subarray(0, 64))
      const part = await c.env.MEDIA.resumeMultipartUpload(state.objectKey, state.r2UploadId).uploadPart(n, bytes)
      const recorded = await mediaUploadStub(c.env, id).recordPart({ partNumber: n, etag: part.etag, size: bytes.byteLength }, Date.now())
      if (!recorded.ok) throw uploadProblem(recorded.code, id, recorded.state)
      await c.env.DB.prepare("UPDATE media_uploads SET received_bytes = ?, expires_at_ms = ? WHERE id = ? AND status = 'open'").bind(recorded.value.offset, recorded.value.expiresAtMs, id).run()
      return c.json(view(recorded.value), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(ACCESS, {
        method: 'get',
        path: '/uploads/multipart/{id}',
        tags: ['media'],
        summary: 'A multipart upload and the parts received',
        request: { params: IdParam },
        responses: { 200: json('The upload', UploadView), ...problemResponses(401, 403, 404) },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      await ownUpload(c, id, 'multipart')
      return c.json(view(await uploadState(c.env, id)), 200, { 'cache-control': 'no-store' })
    },
  )

  app.openapi(
    createRoute(
      withIdempotency(
        withAccess(ACCESS, {
          method: 'post',
          path: '/uploads/multipart/{id}/complete',
          tags: ['media'],
          summary: 'Complete a multipart upload: the item goes to ingest',
          request: { params: IdParam },
          responses: { 200: json('The completed upload', UploadView), ...problemResponses(401, 403, 404, 409), 410: { description: 'Expired' } },
        }),
        { required: false },
      ),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      await ownUpload(c, id, 'multipart')
      const state = await uploadState(c.env, id)
      // completing twice is answered like the first time: the client may not have seen the answer
      if (state.status === 'completed') return c.json(view(state), 200)
      if (state.status !== 'open') throw uploadProblem(state.status, id, state)
      const count = partCountFor(state.length ?? 0, state.partSize)
      const have = new Map(state.parts.map((p) => [p.partNumber, p.size]))
      const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => have.get(n) !== expectedPartSize(state, n))
      if (missing.length) {
        throw new ProblemError('CONFLICT', { detail: `parts missing: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`, extensions: { missing_parts: missing.slice(0, 100) } })
      }
      await finishUpload(c, state)
      return c.json(view(await uploadState(c.env, id)), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(ACCESS, {
        method: 'delete',
        path: '/uploads/multipart/{id}',
        tags: ['media'],
        summary: 'Abort a multipart upload (its parts are discarded)',
        request: { params: IdParam },
        responses: { 204: { description: 'Aborted' }, ...problemResponses(401, 403, 404, 409), 410: { description: 'Expired' } },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      await ownUpload(c, id, 'multipart')
      const state = await uploadState(c.env, id)
      if (state.status !== 'open') throw state.status === 'completed' ? new ProblemError('CONFLICT', { detail: `upload ${id} is complete; delete its item instead` }) : uploadProblem(state.status, id, state)
      await terminateUpload(c, id, 'upload_terminated')
      return c.body(null, 204)
    },
  )
}
