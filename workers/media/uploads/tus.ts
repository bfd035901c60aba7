/**
 * tus 1.0.0 resumable uploads (tus.io/protocols/resumable-upload; media.md §5) for creators:
 * core (HEAD, PATCH), creation, creation-with-upload, creation-defer-length, expiration,
 * termination and checksum, on top of an R2 multipart upload (store.ts cuts every PATCH into the
 * upload's one part size).
 *
 * `OPTIONS /api/media/uploads/tus` (public: server capabilities), `POST` (create),
 * `HEAD|GET /api/media/uploads/tus/{id}` (offset; Hono answers HEAD with the GET route, so the
 * route is documented as GET), `PATCH` (append), `DELETE` (terminate).
 *
 * Every response but OPTIONS carries `Tus-Resumable: 1.0.0`, problems included. A request for
 * another protocol version is answered 412 after the access check (401/403 come first, like on
 * every other route). `Location` is relative: Node's tus-js-client cannot resolve `*.localhost`
 * hosts and resolves a relative location against the endpoint it was given.
 *
 * Checksum: a PATCH (or a creation-with-upload POST) may carry `Upload-Checksum: <algorithm>
 * <base64 digest of this body>` (algorithms in `Tus-Checksum-Algorithm`); an unknown algorithm or a
 * malformed header is 400 before a byte is read, a body with another digest is `460 Checksum
 * Mismatch` and nothing of it is appended, and neither is anything of a checksummed body that
 * breaks off (it cannot be verified).
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { PUBLIC, permission, withAccess } from '../../sso/roles/access'
import { ChecksumMismatch, parseUploadChecksum, TUS_CHECKSUM_ALGORITHMS } from './checksum'
import { uploadingCreator } from './creator'
import { assertFits, mediaLimits, quotaOf, quotaProblem, usedBytesSql } from './limits'
import { isUploadType, UPLOAD_TYPES } from './sniff'
import { mediaUploadStub } from '../../../durable-objects/media-upload'
import { openUpload, ownUpload, terminateUpload, uploadProblem, uploadState, writeTusPatch } from './store'

export const TUS_VERSION = '1.0.0'
export const TUS_EXTENSIONS = 'creation,creation-with-upload,creation-defer-length,expiration,termination,checksum'
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream'
const TUS_BASE = '/api/media/uploads/tus'

/** `Tus-Resumable` on every answer under /uploads/tus except OPTIONS (added after the handler, so thrown problems carry it too). */
export const tusResponseHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next()
  if (c.req.method !== 'OPTIONS') {
    c.res.headers.set('tus-resumable', TUS_VERSION)
    // a gated, per-creator resource: never stored by a shared cache (HEAD must not be cached at all)
    c.res.headers.set('cache-control', 'no-store')
  }
})

/** 412 for a client speaking another version of the protocol (or none). */
const tusVersion = createMiddleware<AppEnv>(async (c, next) => {
  const version = c.req.header('tus-resumable')
  if (version !== TUS_VERSION) {
    throw new ProblemError('PRECONDITION_FAILED', {
      detail: `this server speaks tus ${TUS_VERSION}; got ${version ?? 'no Tus-Resumable header'}`,
      errors: [{ path: 'header.tus-resumable', message: `must be ${TUS_VERSION}` }],
      headers: { 'tus-version': TUS_VERSION },
    })
  }
  await next()
})

/** 460 Checksum Mismatch: the body was not appended; `headers` say where the upload stands. */
function checksumMismatch(mismatch: ChecksumMismatch, headers: Record<string, string>): ProblemError {
  return new ProblemError('CHECKSUM_MISMATCH', {
    detail: `the body's ${mismatch.algorithm} digest is not the one in Upload-Checksum; nothing of it was appended: send it again from Upload-Offset ${mismatch.offset}`,
    errors: [{ path: 'header.upload-checksum', message: `does not match the body's ${mismatch.algorithm} digest` }],
    headers: { ...headers, 'upload-offset': String(mismatch.offset) },
  })
}

/** The two tus answers as OpenAPI declares them: problem+json with what they mean here. */
const wrongVersion = { 412: { ...problemResponses(412)[412]!, description: 'Tus-Resumable is not 1.0.0 (Tus-Version names the one spoken)' } }
const checksumMismatchResponse = { 460: { ...problemResponses(460)[460]!, description: 'Checksum Mismatch: the body does not have the digest in Upload-Checksum; nothing was appended (Upload-Offset unchanged)' } }

type Route = Parameters<typeof withAccess>[1]
function tusRoute<R extends Route>(route: R) {
  const declared = withAccess(permission('creator:content:write'), route)
  return { ...declared, middleware: [declared.middleware, tusVersion] as MiddlewareHandler<AppEnv>[] }
}

const TusHeaders = z.object({
  'tus-resumable': z.string().optional().openapi({ description: `must be ${TUS_VERSION} (412 otherwise)`, example: TUS_VERSION }),
})
const UploadChecksumHeader = z
  .string()
  .optional()
  .openapi({ description: `checksum extension: "<algorithm> <base64 digest of this request's body>", algorithm one of ${TUS_CHECKSUM_ALGORITHMS} (400 otherwise; 460 when the body has another digest)`, example: 'sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=' })
const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'upl_01JFANZ0000000000000000001' }) })
const binary = z.string().openapi({ type: 'string', format: 'binary' })

const headerProblem = (name: string, message: string, code: 'BAD_REQUEST' | 'UNSUPPORTED_MEDIA_TYPE' = 'BAD_REQUEST') =>
  new ProblemError(code, { detail: `${name}: ${message}`, errors: [{ path: `header.${name.toLowerCase()}`, message }] })

function nonNegativeInt(c: Context<AppEnv>, name: string): number | undefined {
  const raw = c.req.header(name)
  if (raw === undefined) return undefined
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw headerProblem(name, 'must be a non-negative integer')
  return Number(raw)
}

/** `Upload-Metadata`: comma-separated `key base64value` pairs (value optional), keys unique. */
export function parseUploadMetadata(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (raw === undefined || raw.trim() === '') return out
  for (const pair of raw.split(',')) {
    const [key, value, extra] = pair.trim().split(' ')
    if (!key || extra !== undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw headerProblem('Upload-Metadata', 'must be comma-separated "key base64value" pairs')
    if (Object.hasOwn(out, key)) throw headerProblem('Upload-Metadata', `key ${key} appears twice`)
    let decoded = ''
    if (value !== undefined && value !== '') {
      try {
        decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0)))
      } catch {
        throw headerProblem('Upload-Metadata', `the value of ${key} is not base64 of UTF-8 text`)
      }
    }
    if (decoded.length > 1000) throw headerProblem('Upload-Metadata', `the value of ${key} is longer than 1000 characters`)
    out[key] = decoded
  }
  return out
}

const httpDate = (ms: number) => new Date(ms).toUTCString()

function assertOffsetStream(c: Context<AppEnv>): void {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== TUS_CONTENT_TYPE) throw headerProblem('Content-Type', `must be ${TUS_CONTENT_TYPE}`, 'UNSUPPORTED_MEDIA_TYPE')
}

export function registerTus(app: OpenAPIHono<AppEnv>): void {
  app.use('/uploads/tus', tusResponseHeaders)
  app.use('/uploads/tus/*', tusResponseHeaders)

  app.openapi(
    createRoute(
      withAccess(PUBLIC, {
        method: 'options',
        path: '/uploads/tus',
        tags: ['media'],
        summary: 'tus server capabilities (version, extensions, largest upload)',
        responses: { 204: { description: 'Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm' } },
      }),
    ),
    (c) => {
      const limits = mediaLimits(c.env)
      return c.body(null, 204, {
        'tus-version': TUS_VERSION,
        'tus-extension': TUS_EXTENSIONS,
        'tus-max-size': String(Math.max(limits.maxImageBytes, limits.maxVideoBytes)),
        'tus-checksum-algorithm': TUS_CHECKSUM_ALGORITHMS,
      })
    },
  )

  app.openapi(
    createRoute(
      tusRoute({
        method: 'post',
        path: '/uploads/tus',
        tags: ['media'],
        summary: 'Create a tus upload (creation, creation-with-upload, creation-defer-length)',
        description: `Upload-Length (or Upload-Defer-Length: 1) and Upload-Metadata with \`filetype\` (${UPLOAD_TYPES.join(', ')}), optional \`filename\`, \`title\`, \`brand\` (slug or id, when you create on several brands). The file is private until published.`,
        request: {
          headers: TusHeaders.extend({
            'upload-length': z.string().optional(),
            'upload-defer-length': z.string().optional(),
            'upload-metadata': z.string().optional(),
            'upload-checksum': UploadChecksumHeader,
          }),
          body: { required: false, content: { [TUS_CONTENT_TYPE]: { schema: binary } } },
        },
        responses: {
          201: { description: 'Created: Location (relative), Upload-Expires, Upload-Offset when bytes came with it; Media-Item-Id names the item' },
          ...problemResponses(400, 401, 403, 409, 413, 415, 422),
          ...wrongVersion,
          ...checksumMismatchResponse,
        },
      }),
    ),
    async (c) => {
      const length = nonNegativeInt(c, 'Upload-Length')
      const defer = c.req.header('upload-defer-length')
      if (length === undefined && defer !== '1') throw headerProblem('Upload-Length', 'required (or Upload-Defer-Length: 1)')
      if (length !== undefined && defer !== undefined) throw headerProblem('Upload-Defer-Length', 'must not be sent with Upload-Length')
      if (length === 0) throw headerProblem('Upload-Length', 'must be at least 1 byte')
      const limits = mediaLimits(c.env)
      const maxSize = Math.max(limits.maxImageBytes, limits.maxVideoBytes)
      if (length !== undefined && length > maxSize) {
        throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `Upload-Length ${length} is above Tus-Max-Size ${maxSize}`, errors: [{ path: 'header.upload-length', message: `at most ${maxSize}` }], headers: { 'tus-max-size': String(maxSize) }, extensions: { limit: 'Tus-Max-Size', limit_bytes: maxSize } })
      }
      const metadata = parseUploadMetadata(c.req.header('upload-metadata'))
      const checksum = parseUploadChecksum(c.req.header('upload-checksum'))
      const filetype = metadata.filetype
      if (!filetype || !isUploadType(filetype)) {
        throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', {
          detail: `Upload-Metadata filetype ${filetype ? `${filetype} is not accepted` : 'is required'}; accepted: ${UPLOAD_TYPES.join(', ')}`,
          errors: [{ path: 'header.upload-metadata.filetype', message: `one of ${UPLOAD_TYPES.join(', ')}` }],
        })
      }
      const creator = await uploadingCreator(c, metadata.brand || undefined, 'header.upload-metadata.brand')
      const title = (metadata.title ?? metadata.filename ?? '').slice(0, 200)
      const opened = await openUpload(c, { creator, protocol: 'tus', type: filetype, length: length ?? null, title, metadata, lengthField: 'header.upload-length' })
      const location = `${TUS_BASE}/${opened.uploadId}`
      const headers: Record<string, string> = { location, 'upload-expires': httpDate(opened.expiresAtMs), 'media-item-id': opened.itemId }
      // creation-with-upload: the first bytes came with the POST
      if (c.req.raw.body && c.req.header('content-type') !== undefined) {
        assertOffsetStream(c)
        try {
          const written = await writeTusPatch(c, opened.uploadId, 0, c.req.raw.body, { checksum })
          headers['upload-offset'] = String(written.offset)
        } catch (err) {
          // the upload exists (Location) but holds none of these bytes
          if (err instanceof ChecksumMismatch) throw checksumMismatch(err, headers)
          throw err
        }
      }
      return c.body(null, 201, headers)
    },
  )

  app.openapi(
    createRoute(
      tusRoute({
        method: 'get',
        path: '/uploads/tus/{id}',
        tags: ['media'],
        summary: 'Offset of a tus upload (send HEAD, as tus clients do; GET answers the same)',
        request: { params: IdParam, headers: TusHeaders },
        responses: { 200: { description: 'Upload-Offset, Upload-Length (or Upload-Defer-Length), Upload-Expires; Cache-Control: no-store' }, ...problemResponses(401, 403, 404), 410: { description: 'Expired' }, ...wrongVersion },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      await ownUpload(c, id, 'tus')
      const state = await uploadState(c.env, id)
      if (state.status === 'expired') throw uploadProblem('expired', id, state)
      if (state.status === 'terminated') throw uploadProblem('terminated', id, state)
      const headers: Record<string, string> = { 'upload-offset': String(state.status === 'completed' ? (state.length ?? state.offset) : state.offset), 'upload-expires': httpDate(state.expiresAtMs), 'media-item-id': state.itemId }
      if (state.length === null) headers['upload-defer-length'] = '1'
      else headers['upload-length'] = String(state.length)
      return c.body(null, 200, headers)
    },
  )

  app.openapi(
    createRoute(
      tusRoute({
        method: 'patch',
        path: '/uploads/tus/{id}',
        tags: ['media'],
        summary: 'Append bytes to a tus upload at Upload-Offset',
        request: {
          params: IdParam,
          headers: TusHeaders.extend({ 'upload-offset': z.string().optional(), 'upload-length': z.string().optional(), 'upload-checksum': UploadChecksumHeader }),
          body: { required: true, content: { [TUS_CONTENT_TYPE]: { schema: binary } } },
        },
        responses: {
          204: { description: 'Upload-Offset: the new offset' },
          ...problemResponses(400, 401, 403, 404, 409, 413, 415),
          410: { description: 'Expired' },
          ...wrongVersion,
          ...checksumMismatchResponse,
        },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      assertOffsetStream(c)
      const offset = nonNegativeInt(c, 'Upload-Offset')
      if (offset === undefined) throw headerProblem('Upload-Offset', 'required')
      const checksum = parseUploadChecksum(c.req.header('upload-checksum'))
      const row = await ownUpload(c, id, 'tus')
      const length = nonNegativeInt(c, 'Upload-Length')
      if (length !== undefined) {
        const state = await uploadState(c.env, id)
        if (state.length === null) {
          if (length < state.offset) throw headerProblem('Upload-Length', `must be at least the bytes already received (${state.offset})`)
          await assertFits(c.env, row.creator_id, state.claimedType as Parameters<typeof assertFits>[2], length, 'header.upload-length')
          // reserved in the same statement that checks the quota (see openUpload), then given to the object
          const quota = await quotaOf(c.env, row.creator_id)
          const reserved = await c.env.DB.prepare(`UPDATE media_uploads SET declared_length = ?1 WHERE id = ?2 AND declared_length IS NULL AND ${usedBytesSql('?3')} + ?1 <= ?4`)
            .bind(length, id, row.creator_id, quota)
            .run()
          if (reserved.meta.changes === 0) throw await quotaProblem(c.env, row.creator_id, length, 'header.upload-length')
          const set = await mediaUploadStub(c.env, id).setLength(length, Date.now())
          if (!set.ok) {
            await c.env.DB.prepare('UPDATE media_uploads SET declared_length = NULL WHERE id = ?').bind(id).run()
            throw uploadProblem(set.code, id, set.state)
          }
        } else if (state.length !== length) {
          throw headerProblem('Upload-Length', `is ${state.length} for this upload and cannot change`)
        }
      }
      const contentLength = nonNegativeInt(c, 'Content-Length')
      if (contentLength !== undefined) {
        const state = await uploadState(c.env, id)
        if (state.length !== null && offset + contentLength > state.length) {
          throw new ProblemError('PAYLOAD_TOO_LARGE', {
            detail: `the upload is ${state.length} bytes long; ${contentLength} bytes at offset ${offset} would pass its end`,
            errors: [{ path: 'header.content-length', message: `at most ${Math.max(0, state.length - offset)} bytes at this offset` }],
          })
        }
      }
      // the work goes on when the client disconnects, so what arrived before the break is kept
      const work = writeTusPatch(c, id, offset, c.req.raw.body, { checksum })
      c.executionCtx.waitUntil(work.catch(() => undefined))
      let written: Awaited<typeof work>
      try {
        written = await work
      } catch (err) {
        if (err instanceof ChecksumMismatch) throw checksumMismatch(err, { 'upload-expires': httpDate((await uploadState(c.env, id)).expiresAtMs) })
        throw err
      }
      const expires = await uploadState(c.env, id)
      const headers = { 'upload-offset': String(written.offset), ...(written.completed ? {} : { 'upload-expires': httpDate(expires.expiresAtMs) }) }
      if (written.discarded) {
        throw new ProblemError('MALFORMED_BODY', {
          detail: `the body ended early, so its Upload-Checksum cannot be verified: nothing of it was kept; resume from Upload-Offset ${written.offset}`,
          errors: [{ path: 'body', message: 'shorter than sent; a checksummed body is kept only whole' }],
          headers,
        })
      }
      if (written.broken) {
        throw new ProblemError('MALFORMED_BODY', { detail: `the body ended early; ${written.offset} bytes are kept: resume from Upload-Offset ${written.offset}`, headers })
      }
      return c.body(null, 204, headers)
    },
  )

  app.openapi(
    createRoute(
      tusRoute({
        method: 'delete',
        path: '/uploads/tus/{id}',
        tags: ['media'],
        summary: 'Terminate a tus upload (its bytes are discarded)',
        request: { params: IdParam, headers: TusHeaders },
        responses: { 204: { description: 'Terminated' }, ...problemResponses(401, 403, 404, 409), 410: { description: 'Expired' }, ...wrongVersion },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param')
      await ownUpload(c, id, 'tus')
      const state = await uploadState(c.env, id)
      if (state.status !== 'open') throw state.status === 'completed' ? new ProblemError('CONFLICT', { detail: `upload ${id} is complete; delete its item (DELETE /api/media/items/${state.itemId}) instead` }) : uploadProblem(state.status, id, state)
      if (!(await terminateUpload(c, id, 'upload_terminated'))) throw uploadProblem('not_found', id)
      return c.body(null, 204)
    },
  )
}
