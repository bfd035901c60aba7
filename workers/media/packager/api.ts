/**
 * The packager's side of the API (`media:package`, the `service` role): the offline ffmpeg job
 * (scripts/packager.mjs) polls for work, downloads the original and uploads what the job asks for.
 * A video (`job: hls`): one neutral playlist, one init segment, variants A and B of every segment and
 * 1 fps keyframes, then `complete`. An image above MAX_FINGERPRINT_PIXELS (`job: display`, ingest
 * left it `awaiting_display`): one JPEG display rendition, which ingest fingerprints and delivery
 * marks instead of the original (never decoded in a Worker).
 *
 *   GET  /api/media/packager/jobs                              videos without HLS and images awaiting a display rendition, oldest first
 *   GET  /api/media/packager/items/{id}/original               the original (Range supported)
 *   PUT  /api/media/packager/items/{id}/display                an image's display rendition (JPEG), handed to ingest
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
import { AWAITING_DISPLAY, ingestMessage } from '../ingest/ingest'
import { checkedHeader, ImageRejected, MAX_FINGERPRINT_PIXELS } from '../pdq/fingerprint'
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
/** A display rendition: at most MAX_FINGERPRINT_PIXELS is 2-6 MB as a JPEG at quality 90; noise at quality 100 stays under this. */
export const MAX_DISPLAY_BYTES = 32 * 1024 * 1024
/** Viewers receive the rendition, so it must stay a full-size picture: at least half the decode limit. */
export const MIN_DISPLAY_PIXELS = MAX_FINGERPRINT_PIXELS / 2
/** The rendition's width/height may differ from the original's by this fraction (integer rounding of a downscale). */
export const DISPLAY_ASPECT_TOLERANCE = 0.01

// the first six fields are the video job as it always was: an older packager reads them unchanged
const Job = z.object({
  id: z.string(),
  creator_id: z.string(),
  brand_id: z.string(),
  mime: z.string().nullable(),
  size_bytes: z.number().int().nullable(),
  created_at_ms: z.number().int(),
  kind: z.enum(['video', 'image']),
  job: z.enum(['hls', 'display']).openapi({
    description: "`hls`: A/B HLS variants and keyframes, then `complete`; `display`: one JPEG of at most `max_pixels` with the original's aspect ratio, PUT to `items/{id}/display`",
  }),
  width: z.number().int().nullable().openapi({ description: "display jobs: the original's width from its header (before any EXIF rotation)" }),
  height: z.number().int().nullable(),
  max_pixels: z.number().int().nullable().openapi({ description: 'display jobs: the rendition may have at most this many pixels' }),
})
const DisplayStored = z.object({ key: z.string(), size: z.number().int(), sha256: z.string(), width: z.number().int(), height: z.number().int() })
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
    summary: 'Work for the packager, oldest first: videos in processing without HLS (job hls), images awaiting their display rendition (job display)',
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_JOBS).optional(), kind: z.enum(['video', 'image']).optional() }) },
    responses: { 200: json('Jobs', z.object({ jobs: z.array(Job) })), ...problemResponses(400, 401, 403) },
  }),
)

const originalRoute = createRoute(
  withAccess(access, {
    method: 'get',
    path: '/packager/items/{id}/original',
    tags,
    summary: "The original bytes of a video waiting for HLS or an image waiting for its display rendition (Range supported)",
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

const displayRoute = createRoute(
  withAccess(access, {
    method: 'put',
    path: '/packager/items/{id}/display',
    tags,
    summary: `Upload the display rendition of an image awaiting one: a JPEG of ${MIN_DISPLAY_PIXELS}-${MAX_FINGERPRINT_PIXELS} pixels with the original's aspect ratio (within 1%, either orientation); ingest fingerprints it. The same bytes again answer 200`,
    request: { params: ItemParam, body: uploadBody('image/jpeg') },
    responses: { 201: json('Stored and handed to ingest', DisplayStored), 200: json('Already stored (the same bytes)', DisplayStored), ...problemResponses(400, 401, 403, 404, 409, 413, 422) },
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

interface PackagerRow {
  id: string
  kind: string
  status: string
  status_reason: string | null
  original_key: string | null
  hls_segments: number | null
  display_key: string | null
  width: number | null
  height: number | null
}

async function itemFor(c: Context<AppEnv>, id: string): Promise<PackagerRow | null> {
  return c.env.DB.prepare('SELECT id, kind, status, status_reason, original_key, hls_segments, display_key, width, height FROM media_items WHERE id = ?').bind(id).first<PackagerRow>()
}

async function videoFor(c: Context<AppEnv>, id: string): Promise<PackagerRow> {
  const row = await itemFor(c, id)
  if (!row || row.kind !== 'video') throw new ProblemError('NOT_FOUND', { detail: `no video ${id}` })
  return row
}

async function imageFor(c: Context<AppEnv>, id: string): Promise<PackagerRow> {
  const row = await itemFor(c, id)
  if (!row || row.kind !== 'image') throw new ProblemError('NOT_FOUND', { detail: `no image ${id}` })
  return row
}

/** Only an image ingest left waiting (digests and the original's dimensions stored, no rendition yet) takes one. */
function assertAwaitingDisplay(row: PackagerRow): asserts row is PackagerRow & { width: number; height: number } {
  if (row.display_key !== null) throw new ProblemError('CONFLICT', { detail: `${row.id} already has its display rendition; it is not replaced` })
  if (row.status !== 'processing') throw new ProblemError('CONFLICT', { detail: `${row.id} is ${row.status}; only images in processing take a display rendition` })
  if (row.status_reason !== AWAITING_DISPLAY || row.width === null || row.height === null) {
    throw new ProblemError('CONFLICT', { detail: `${row.id} is not waiting for a display rendition (only images above ${MAX_FINGERPRINT_PIXELS} pixels are, once ingest has read them)` })
  }
}

/** Uploads are accepted only while the item waits for packaging; a packaged stream is evidence and never rewritten. */
async function writableVideo(c: Context<AppEnv>, id: string): Promise<PackagerRow> {
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

/** The header of a display rendition, or a 422 naming the body: a JPEG within the pixel window, complete, decodable by the Worker's codec. */
function displayHeader(bytes: Uint8Array): { width: number; height: number } {
  if (!(bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)) return refuse('is not a JPEG (FF D8 FF)')
  let header
  try {
    header = checkedHeader(bytes, 'image/jpeg')
  } catch (error) {
    if (!(error instanceof ImageRejected)) throw error
    return refuse(error.code === 'image_too_large' ? `has too many pixels: ${error.message}` : `is not a usable JPEG (${error.code}): ${error.message}`)
  }
  const pixels = header.width * header.height
  if (pixels < MIN_DISPLAY_PIXELS) refuse(`is ${header.width}x${header.height} = ${pixels} pixels; a display rendition has at least ${MIN_DISPLAY_PIXELS}`)
  return { width: header.width, height: header.height }
}

/**
 * Same picture, scaled: the aspect ratio within DISPLAY_ASPECT_TOLERANCE of the original's, or of its
 * transpose, because ffmpeg applies the EXIF orientation (5-8 turn the picture a quarter) and the
 * original's dimensions come from its header, before that rotation.
 */
function assertSameAspect(rendition: { width: number; height: number }, original: { width: number; height: number }): void {
  const got = rendition.width / rendition.height
  const want = original.width / original.height
  const off = (ratio: number) => Math.abs(got - ratio) / ratio
  if (off(want) <= DISPLAY_ASPECT_TOLERANCE || off(1 / want) <= DISPLAY_ASPECT_TOLERANCE) return
  refuse(`is ${rendition.width}x${rendition.height} (aspect ${got.toFixed(4)}); the original is ${original.width}x${original.height} (${want.toFixed(4)}, or ${(1 / want).toFixed(4)} turned): at most 1% apart`)
}

/** What was stored under `key` (for a replay of the same upload). */
async function storedDisplay(env: Env, key: string): Promise<z.infer<typeof DisplayStored> | null> {
  const head = await env.MEDIA.head(key)
  if (!head?.customMetadata?.sha256) return null
  return { key, size: head.size, sha256: head.customMetadata.sha256, width: Number(head.customMetadata.width), height: Number(head.customMetadata.height) }
}

export function registerPackager(app: OpenAPIHono<AppEnv>): void {
  app.openapi(jobsRoute, async (c) => {
    const { limit = 10, kind } = c.req.valid('query')
    const rows = await c.env.DB.prepare(
      `SELECT id, creator_id, brand_id, kind, mime, size_bytes, created_at_ms, width, height FROM media_items
        WHERE status = 'processing' AND original_key IS NOT NULL
          AND ((kind = 'video' AND hls_segments IS NULL) OR (kind = 'image' AND display_key IS NULL AND status_reason = ?))
          ${kind ? 'AND kind = ?' : ''}
        ORDER BY created_at_ms, id LIMIT ?`,
    )
      .bind(AWAITING_DISPLAY, ...(kind ? [kind] : []), limit)
      .all<{ id: string; creator_id: string; brand_id: string; kind: 'video' | 'image'; mime: string | null; size_bytes: number | null; created_at_ms: number; width: number | null; height: number | null }>()
    const jobs: z.infer<typeof Job>[] = rows.results.map((r) =>
      r.kind === 'video'
        ? { ...r, job: 'hls' as const, width: null, height: null, max_pixels: null }
        : { ...r, job: 'display' as const, max_pixels: MAX_FINGERPRINT_PIXELS },
    )
    return c.json({ jobs }, 200, { 'cache-control': 'no-store' })
  })

  app.openapi(originalRoute, async (c) => {
    const { id } = c.req.valid('param')
    const found = await itemFor(c, id)
    let row: PackagerRow
    if (found?.kind === 'image') {
      assertAwaitingDisplay(found)
      row = found
    } else {
      row = await writableVideo(c, id)
    }
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

  app.openapi(displayRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await imageFor(c, id)
    if (row.display_key === null) assertAwaitingDisplay(row)
    const bytes = await readBody(c, MAX_DISPLAY_BYTES)
    const sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
    const key = mediaKeys.display(id, sha256)
    if (row.display_key !== null) {
      // a retry of the upload that was recorded (its answer lost): the same answer; any other bytes are refused
      const stored = row.display_key === key ? await storedDisplay(c.env, key) : null
      if (!stored) throw new ProblemError('CONFLICT', { detail: `${id} already has another display rendition; it is not replaced` })
      if (row.status === 'processing') await c.env.MEDIA_INGEST.send(ingestMessage(id, 'display'))
      return c.json(stored, 200)
    }
    const size = displayHeader(bytes)
    assertSameAspect(size, { width: row.width!, height: row.height! })
    const stored = await store(c.env, key, bytes, 'image/jpeg', { width: String(size.width), height: String(size.height), item_id: id })
    const nowMs = Date.now()
    const updated = await c.env.DB.prepare("UPDATE media_items SET display_key = ?, updated_at_ms = ? WHERE id = ? AND status = 'processing' AND display_key IS NULL AND status_reason = ?")
      .bind(key, nowMs, id, AWAITING_DISPLAY)
      .run()
    if (!updated.meta.changes) {
      // a concurrent upload of the same bytes won: the same result; anything else leaves our object an orphan
      const now = await itemFor(c, id)
      if (now?.display_key === key) return c.json({ ...stored, ...size }, 200)
      await c.env.MEDIA.delete(key)
      throw new ProblemError('CONFLICT', { detail: `${id} changed while its display rendition was stored (now ${now?.status ?? 'gone'}); nothing was recorded` })
    }
    // after the key is recorded: a send that fails answers 500, and the packager's retry (same bytes) sends again
    await c.env.MEDIA_INGEST.send(ingestMessage(id, 'display'))
    await audit(c, 'media.packager.display', `media_item:${id}`, { key, sha256, bytes: bytes.length, width: size.width, height: size.height, original_width: row.width, original_height: row.height })
    return c.json({ ...stored, ...size }, 201)
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
