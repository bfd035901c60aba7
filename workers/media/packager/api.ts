/**
 * The packager's side of the API (`media:package`, the `service` role): the offline ffmpeg job
 * (scripts/packager.mjs) polls for videos to package, downloads the original, uploads one neutral
 * playlist, one init segment, variants A and B of every segment and 1 fps keyframes, then completes:
 *
 *   GET  /api/media/packager/jobs                              videos in `processing` without HLS, oldest first
 *   GET  /api/media/packager/items/{id}/original               the original (Range supported)
 *   PUT  /api/media/packager/items/{id}/hls/{file}             init.mp4 | playlist.m3u8
 *   PUT  /api/media/packager/items/{id}/hls/{variant}/{segment} a|b, {index}.m4s
 *   PUT  /api/media/packager/items/{id}/frames/{frame}         {index}.jpg
 *   POST /api/media/packager/items/{id}/complete               verify every object, record, hand over to ingest
 *
 * Every upload is checked by its bytes (ISO BMFF box types, JPEG magic, a parseable media
 * playlist), never by its name. Objects are stored with their SHA-256 (R2 verifies it on write), which
 * `complete` gathers into the manifest leak tracing compares leaked segments with.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { mediaKeys } from '../../../r2/keys'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { bytesToHex as hex } from '@noble/hashes/utils.js'
import { permission, withAccess } from '../../sso/roles/access'
import { writeManifest } from '../ab/manifest'
import { neutralPlaylist } from '../ab/playlist'
import { serveObject } from '../ab/r2-range'

const tags = ['media-packager']
const access = permission('media:package')
const binary = { type: 'string' as const, format: 'binary' }
const ItemParam = z.object({ id: z.string().regex(/^med_[0-9A-Za-z]{1,40}$/, 'must be a media item id') })
const indexed = (ext: string) =>
  z
    .string()
    .regex(new RegExp(`^\\d{1,5}\\.${ext}$`), `must be {index}.${ext}`)
    .transform((file) => Number(file.slice(0, -(ext.length + 1))))

/** Upper bounds per object: generous for 2 s segments at high bitrates, far below the 96 MiB body limit. */
export const MAX_SEGMENT_BYTES = 64 * 1024 * 1024
export const MAX_INIT_BYTES = 1024 * 1024
export const MAX_PLAYLIST_BYTES = 1024 * 1024
export const MAX_FRAME_BYTES = 16 * 1024 * 1024
export const MAX_JOBS = 50

const Job = z.object({ id: z.string(), creator_id: z.string(), brand_id: z.string(), mime: z.string().nullable(), size_bytes: z.number().int().nullable(), created_at_ms: z.number().int() })
const Stored = z.object({ key: z.string(), size: z.number().int(), sha256: z.string() })
const CompleteBody = z
  .object({
    segments: z.number().int().min(1).max(99_999),
    frames: z.number().int().min(0).max(99_999),
    duration_ms: z.number().int().positive(),
    width: z.number().int().min(1).max(16_384),
    height: z.number().int().min(1).max(16_384),
  })
  .strict()
const Completed = z.object({ id: z.string(), hls_segments: z.number().int(), frames: z.number().int(), duration_ms: z.number().int(), width: z.number().int(), height: z.number().int() })

const uploadBody = (type: string) => ({ required: true, content: { [type]: { schema: binary } } })
const putResponses = { 201: json('Stored', Stored), ...problemResponses(400, 401, 403, 404, 409, 413, 422) }

const jobsRoute = createRoute(
  withAccess(access, {
    method: 'get',
    path: '/packager/jobs',
    tags,
    summary: 'Videos waiting for the packager (processing, no HLS yet), oldest first',
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_JOBS).optional() }) },
    responses: { 200: json('Jobs', z.object({ jobs: z.array(Job) })), ...problemResponses(400, 401, 403) },
  }),
)

const originalRoute = createRoute(
  withAccess(access, {
    method: 'get',
    path: '/packager/items/{id}/original',
    tags,
    summary: "A video's original bytes (Range supported)",
    request: { params: ItemParam },
    responses: { 200: { description: 'The original', content: { 'application/octet-stream': { schema: binary } } }, 206: { description: 'A byte range of it' }, 416: { description: 'Range not satisfiable' }, ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const sharedRoute = createRoute(
  withAccess(access, {
    method: 'put',
    path: '/packager/items/{id}/hls/{file}',
    tags,
    summary: 'Upload the init segment (init.mp4, an ISO BMFF file starting with ftyp) or the media playlist (playlist.m3u8, fMP4, VOD)',
    request: { params: ItemParam.extend({ file: z.enum(['init.mp4', 'playlist.m3u8']) }), body: uploadBody('application/octet-stream') },
    responses: putResponses,
  }),
)

const segmentRoute = createRoute(
  withAccess(access, {
    method: 'put',
    path: '/packager/items/{id}/hls/{variant}/{segment}',
    tags,
    summary: 'Upload variant a or b of segment {index}.m4s (an fMP4 media segment: styp/moof first)',
    request: { params: ItemParam.extend({ variant: z.enum(['a', 'b']), segment: indexed('m4s') }), body: uploadBody('application/octet-stream') },
    responses: putResponses,
  }),
)

const frameRoute = createRoute(
  withAccess(access, {
    method: 'put',
    path: '/packager/items/{id}/frames/{frame}',
    tags,
    summary: 'Upload keyframe {index}.jpg (1 per second, JPEG)',
    request: { params: ItemParam.extend({ frame: indexed('jpg') }), body: uploadBody('image/jpeg') },
    responses: putResponses,
  }),
)

const completeRoute = createRoute(
  withAccess(access, {
    method: 'post',
    path: '/packager/items/{id}/complete',
    tags,
    summary: 'Check that every uploaded object is there (A and B of every segment), record the stream and hand the keyframes to ingest',
    request: { params: ItemParam, body: jsonBody(CompleteBody) },
    responses: { 200: json('Recorded', Completed), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

interface VideoRow {
  id: string
  kind: string
  status: string
  original_key: string | null
  hls_segments: number | null
}

async function videoFor(c: Context<AppEnv>, id: string): Promise<VideoRow> {
  const row = await c.env.DB.prepare('SELECT id, kind, status, original_key, hls_segments FROM media_items WHERE id = ?').bind(id).first<VideoRow>()
  if (!row || row.kind !== 'video') throw new ProblemError('NOT_FOUND', { detail: `no video ${id}` })
  return row
}

/** Uploads are accepted only while the item waits for packaging; a packaged stream is evidence and never rewritten. */
async function writableVideo(c: Context<AppEnv>, id: string): Promise<VideoRow> {
  const row = await videoFor(c, id)
  if (row.hls_segments !== null) throw new ProblemError('CONFLICT', { detail: `${id} is already packaged (${row.hls_segments} segments); its stream is not rewritten` })
  if (row.status !== 'processing') throw new ProblemError('CONFLICT', { detail: `${id} is ${row.status}; only videos in processing are packaged` })
  return row
}

async function readBody(c: Context<AppEnv>, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > max) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `at most ${max} bytes` })
  const bytes = new Uint8Array(await c.req.raw.arrayBuffer())
  if (bytes.length > max) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `at most ${max} bytes` })
  if (bytes.length === 0) throw new ProblemError('VALIDATION_FAILED', { detail: 'the body is empty', errors: [{ path: 'body', message: 'must not be empty' }] })
  return bytes
}

const boxType = (bytes: Uint8Array, at = 0): string => (bytes.length >= at + 8 ? String.fromCharCode(...bytes.subarray(at + 4, at + 8)) : '')
const SEGMENT_FIRST_BOXES = new Set(['styp', 'moof', 'sidx', 'emsg', 'prft'])
const refuse = (message: string): never => {
  throw new ProblemError('VALIDATION_FAILED', { detail: `the body ${message}`, errors: [{ path: 'body', message }] })
}

async function store(env: Env, key: string, bytes: Uint8Array, contentType: string, extra: Record<string, string> = {}): Promise<z.infer<typeof Stored>> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  const sha256 = hex(digest)
  await env.MEDIA.put(key, bytes, { sha256: digest, httpMetadata: { contentType }, customMetadata: { sha256, ...extra } })
  return { key, size: bytes.length, sha256 }
}

/** Every object under `prefix` (R2 lists at most 1000 per call) with its stored digest. */
async function listed(bucket: R2Bucket, prefix: string): Promise<Map<string, { size: number; sha256: string | undefined }>> {
  const out = new Map<string, { size: number; sha256: string | undefined }>()
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix, cursor, include: ['customMetadata'] })
    for (const o of page.objects) out.set(o.key, { size: o.size, sha256: o.customMetadata?.sha256 })
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return out
}

const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1)

export function registerPackager(app: OpenAPIHono<AppEnv>): void {
  app.openapi(jobsRoute, async (c) => {
    const limit = c.req.valid('query').limit ?? 10
    const rows = await c.env.DB.prepare(
      "SELECT id, creator_id, brand_id, mime, size_bytes, created_at_ms FROM media_items WHERE kind = 'video' AND status = 'processing' AND hls_segments IS NULL AND original_key IS NOT NULL ORDER BY created_at_ms, id LIMIT ?",
    )
      .bind(limit)
      .all<z.infer<typeof Job>>()
    return c.json({ jobs: rows.results }, 200, { 'cache-control': 'no-store' })
  })

  app.openapi(originalRoute, async (c) => {
    const row = await writableVideo(c, c.req.valid('param').id)
    if (!row.original_key) throw new ProblemError('NOT_FOUND', { detail: `${row.id} has no original yet` })
    const response = await serveObject(c.env.MEDIA, row.original_key, c.req.header('range'), { 'content-type': 'application/octet-stream', 'cache-control': 'private, no-store' })
    if (!response) throw new ProblemError('NOT_FOUND', { detail: `the original of ${row.id} is missing from storage` })
    return response
  })

  app.openapi(sharedRoute, async (c) => {
    const { id, file } = c.req.valid('param')
    await writableVideo(c, id)
    if (file === 'init.mp4') {
      const bytes = await readBody(c, MAX_INIT_BYTES)
      if (boxType(bytes) !== 'ftyp') refuse('is not an fMP4 init segment (ISO BMFF starting with an ftyp box)')
      return c.json(await store(c.env, mediaKeys.hlsShared(id, 'init.mp4'), bytes, 'video/mp4'), 201)
    }
    const bytes = await readBody(c, MAX_PLAYLIST_BYTES)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
    } catch {
      return refuse('is not UTF-8 text')
    }
    const checked = neutralPlaylist(text)
    if (!checked.ok) return refuse(checked.message)
    const stored = await store(c.env, mediaKeys.hlsShared(id, 'playlist.m3u8'), new TextEncoder().encode(checked.playlist.text), 'application/vnd.apple.mpegurl', {
      segments: String(checked.playlist.segments),
      duration_ms: String(checked.playlist.durationMs),
    })
    return c.json(stored, 201)
  })

  app.openapi(segmentRoute, async (c) => {
    const { id, variant, segment } = c.req.valid('param')
    await writableVideo(c, id)
    const bytes = await readBody(c, MAX_SEGMENT_BYTES)
    if (!SEGMENT_FIRST_BOXES.has(boxType(bytes))) refuse('is not an fMP4 media segment (ISO BMFF starting with styp, sidx or moof)')
    return c.json(await store(c.env, mediaKeys.hlsSegment(id, variant, segment), bytes, 'video/iso.segment'), 201)
  })

  app.openapi(frameRoute, async (c) => {
    const { id, frame } = c.req.valid('param')
    await writableVideo(c, id)
    const bytes = await readBody(c, MAX_FRAME_BYTES)
    if (!(bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)) refuse('is not a JPEG (FF D8 FF)')
    return c.json(await store(c.env, mediaKeys.frame(id, frame), bytes, 'image/jpeg'), 201)
  })

  app.openapi(completeRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    await writableVideo(c, id)
    const errors: { path: string; message: string }[] = []
    const playlist = await c.env.MEDIA.head(mediaKeys.hlsShared(id, 'playlist.m3u8'))
    const init = await c.env.MEDIA.head(mediaKeys.hlsShared(id, 'init.mp4'))
    if (!playlist) errors.push({ path: 'body.segments', message: 'playlist.m3u8 was not uploaded' })
    else if (Number(playlist.customMetadata?.segments) !== body.segments) errors.push({ path: 'body.segments', message: `the playlist lists ${playlist.customMetadata?.segments} segments` })
    const initSha256 = init?.customMetadata?.sha256
    if (!initSha256) errors.push({ path: 'body.segments', message: 'init.mp4 was not uploaded' })

    const a = await listed(c.env.MEDIA, folderOf(mediaKeys.hlsSegment(id, 'a', 0)))
    const b = await listed(c.env.MEDIA, folderOf(mediaKeys.hlsSegment(id, 'b', 0)))
    const frames = await listed(c.env.MEDIA, folderOf(mediaKeys.frame(id, 0)))
    const digests = { a: [] as string[], b: [] as string[] }
    for (const variant of ['a', 'b'] as const) {
      const objects = variant === 'a' ? a : b
      const missing: number[] = []
      for (let i = 0; i < body.segments; i++) {
        const o = objects.get(mediaKeys.hlsSegment(id, variant, i))
        if (!o?.sha256) missing.push(i)
        else digests[variant].push(o.sha256)
      }
      if (missing.length) errors.push({ path: 'body.segments', message: `variant ${variant.toUpperCase()} is missing segment${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}` })
      if (objects.size > body.segments) errors.push({ path: 'body.segments', message: `variant ${variant.toUpperCase()} has ${objects.size} segments, more than ${body.segments}` })
    }
    if (a.size !== b.size) errors.push({ path: 'body.segments', message: `variants differ in count: A has ${a.size}, B has ${b.size}` })
    const missingFrames: number[] = []
    for (let i = 0; i < body.frames; i++) if (!frames.has(mediaKeys.frame(id, i))) missingFrames.push(i)
    if (missingFrames.length) errors.push({ path: 'body.frames', message: `frames missing: ${missingFrames.slice(0, 10).join(', ')}${missingFrames.length > 10 ? ', ...' : ''}` })
    if (errors.length) throw new ProblemError('VALIDATION_FAILED', { detail: 'the uploaded stream is incomplete', errors })

    const nowMs = Date.now()
    // written on every attempt while the item is unpackaged: a retry after re-uploaded segments must
    // not leave the digests of an earlier encode behind
    await writeManifest(c.env, id, {
      v: 1,
      segments: body.segments,
      frames: body.frames,
      duration_ms: body.duration_ms,
      width: body.width,
      height: body.height,
      init_sha256: initSha256!,
      a: digests.a,
      b: digests.b,
      created_at_ms: nowMs,
    })
    const updated = await c.env.DB.prepare(
      "UPDATE media_items SET hls_segments = ?, duration_ms = ?, width = ?, height = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing' AND hls_segments IS NULL",
    )
      .bind(body.segments, body.duration_ms, body.width, body.height, nowMs, id)
      .run()
    if (!updated.meta.changes) throw new ProblemError('CONFLICT', { detail: `${id} changed while completing; it is no longer waiting for the packager` })
    await c.env.MEDIA_INGEST.send({ type: 'media.ingest', id: `${id}:frames`, payload: { itemId: id, stage: 'frames' } })
    await audit(c, 'media.packager.complete', `media_item:${id}`, { segments: body.segments, frames: body.frames, duration_ms: body.duration_ms, width: body.width, height: body.height })
    return c.json({ id, hls_segments: body.segments, frames: body.frames, duration_ms: body.duration_ms, width: body.width, height: body.height }, 200)
  })
}
