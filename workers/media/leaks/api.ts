/**
 * `/api/media/leaks/*` (`media:leaks:trace`: compliance officers, admins): who leaked a copy.
 * - `POST /leaks/image`: a leaked image (raw JPEG/PNG body, or multipart part `file`; the type is
 *   read from the bytes) -> the serial of its invisible mark -> item, creator and viewer.
 * - `POST /leaks/video`: the A/B variant sequence observed in a leaked stream (segment digests, or
 *   the bits read from it) -> the viewer whose pattern it spells (workers/media/ab/trace.ts).
 * Every trace is audited (`media.leak.traced`), found or not: who looked for whom is evidence too.
 * @module
 */
import type { ZodRequestBody } from '@asteasolutions/zod-to-openapi'
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { readFileBody } from '../../api/file-body'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { sha256Hex } from '../../lib/encoding'
import { permission, withAccess } from '../../sso/roles/access'
import { traceAbLeak } from '../ab/trace'
import { markBySerial } from '../marks'
import { traceLeakedImage } from './image'

const tags = ['media']

/** A leaked image is at most what an upload may be (MEDIA_MAX_IMAGE_BYTES); the route body limit is 52 MiB. */
function maxImageBytes(env: Pick<Env, 'MEDIA_MAX_IMAGE_BYTES'>): number {
  const parsed = z.coerce.number().int().positive().safeParse(env.MEDIA_MAX_IMAGE_BYTES)
  if (!parsed.success) throw new Error(`MEDIA_MAX_IMAGE_BYTES must be a positive integer; got ${env.MEDIA_MAX_IMAGE_BYTES}`)
  return parsed.data
}

const ImageTraceResult = z
  .object({
    serial: z.number().int(),
    confidence: z.number().openapi({ description: 'how clearly the mark was read, 0-1' }),
    item_id: z.string(),
    creator_id: z.string(),
    viewer_id: z.string().nullable().openapi({ description: "the account the copy was delivered to; null: the creator's own copy" }),
    kind: z.enum(['image', 'ab']),
    marked_at: z.iso.datetime().openapi({ description: 'when this copy was first handed out' }),
  })
  .openapi('MediaImageLeakTrace')

const binary = { type: 'string' as const, format: 'binary' }
const leakedImageBody: ZodRequestBody = {
  required: true,
  description: 'The leaked image: raw bytes, or multipart/form-data with one part `file`. JPEG or PNG, told apart by the bytes, not the declared type.',
  content: {
    'image/jpeg': { schema: binary },
    'image/png': { schema: binary },
    'application/octet-stream': { schema: binary },
    'multipart/form-data': { schema: { type: 'object', properties: { file: binary }, required: ['file'] } },
  },
}

const imageRoute = createRoute(
  withAccess(permission('media:leaks:trace'), {
    method: 'post',
    path: '/leaks/image',
    tags,
    summary: 'Trace a leaked image to the viewer its copy was delivered to (raw image/jpeg or image/png body, or multipart `file`); audited',
    // plain OpenAPI schemas (not zod): the handler reads the bytes itself, no validator may consume the body
    request: { body: leakedImageBody },
    responses: { 200: json('The copy the image was made from', ImageTraceResult), ...problemResponses(400, 401, 403, 404, 413, 415, 422) },
  }),
)

/** 20,000 two-second segments: an eleven-hour stream. */
export const MAX_LEAK_SEGMENTS = 20_000

const VideoLeak = z
  .object({
    item_id: z.string().regex(/^med_[0-9A-Za-z]{1,40}$/, 'must be a media item id'),
    segments: z
      .array(
        z
          .object({
            index: z.number().int().min(0).max(MAX_LEAK_SEGMENTS - 1),
            sha256: z.string().regex(/^[0-9A-Fa-f]{64}$/, 'must be a SHA-256 in hex').transform((h) => h.toLowerCase()),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_LEAK_SEGMENTS)
      .optional()
      .openapi({ description: "SHA-256 of each media segment of the leaked copy, by its position in the stream" }),
    bits: z
      .string()
      .min(1)
      .max(MAX_LEAK_SEGMENTS)
      .regex(/^[01?]+$/, "must be '0' (variant A), '1' (variant B) or '?' (unknown) per segment")
      .optional()
      .openapi({ description: "the variant read at each segment position: '0' = A, '1' = B, '?' = unknown", example: '0110?10' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.segments === undefined) === (body.bits === undefined)) ctx.addIssue({ code: 'custom', path: ['segments'], message: 'give exactly one of segments or bits' })
  })
  .openapi('MediaVideoLeak')

const VideoTraceResult = z
  .object({
    item_id: z.string(),
    creator_id: z.string(),
    serial: z.number().int(),
    viewer_id: z.string().nullable().openapi({ description: "the account whose pattern the leak spells; null: the creator's own copy, or a serial never issued for this item (then not confident)" }),
    confident: z.boolean().openapi({ description: 'false: a best guess, not an attribution to act on' }),
    distance: z.number().int().openapi({ description: 'observed segments that disagree with the pattern' }),
    margin: z.number(),
    observed: z.number().int().openapi({ description: 'segments whose variant was known' }),
    false_accusation_probability: z.number(),
    decoded_by: z.string(),
    marked_at: z.iso.datetime().nullable(),
  })
  .openapi('MediaVideoLeakTrace')

const videoRoute = createRoute(
  withAccess(permission('media:leaks:trace'), {
    method: 'post',
    path: '/leaks/video',
    tags,
    summary: "Trace a leaked video to the viewer whose A/B segment pattern it carries (segment digests, or the variant bits read from it); audited",
    request: { body: jsonBody(VideoLeak) },
    responses: { 200: json('The best attribution (act only when confident)', VideoTraceResult), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

/** The submitted bytes: a multipart `file` part, or the raw body (whatever its declared type). */
async function submittedImage(c: Context<AppEnv>, max: number): Promise<{ bytes: Uint8Array; field: string }> {
  const { bytes, field } = await readFileBody(c, max, 'a leaked image')
  if (bytes.length > max) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `a leaked image is at most ${max} bytes; got ${bytes.length}` })
  if (bytes.length === 0) throw new ProblemError('VALIDATION_FAILED', { detail: 'the image is empty', errors: [{ path: field, message: 'is empty' }] })
  return { bytes, field }
}

export function registerLeaks(app: OpenAPIHono<AppEnv>): void {
  app.openapi(videoRoute, async (c) => {
    const body = c.req.valid('json')
    const item = await c.env.DB.prepare('SELECT id, creator_id, kind FROM media_items WHERE id = ?').bind(body.item_id).first<{ id: string; creator_id: string; kind: string }>()
    if (!item) throw new ProblemError('NOT_FOUND', { detail: `no media item ${body.item_id}` })
    if (item.kind !== 'video') throw new ProblemError('VALIDATION_FAILED', { detail: `media item ${item.id} is not a video`, errors: [{ path: 'body.item_id', message: 'is not a video' }] })
    const observations = body.bits !== undefined ? [...body.bits].map((bit, index) => ({ index, variant: bit === '0' ? ('a' as const) : bit === '1' ? ('b' as const) : null })) : { segments: body.segments! }
    const trace = await traceAbLeak(c.env, item.id, observations)
    const mark = trace ? await markBySerial(c.env, trace.serial) : null
    // a serial never issued for this item's stream (decoded from the code alone) names nobody
    const issuedHere = mark !== null && mark.itemId === item.id && mark.kind === 'ab'
    const viewerId = issuedHere ? mark.viewerId : null
    await audit(c, 'media.leak.traced', `media_item:${item.id}`, {
      kind: 'video',
      found: trace !== null,
      input: body.bits !== undefined ? 'bits' : 'segments',
      positions: body.bits !== undefined ? body.bits.length : body.segments!.length,
      serial: trace?.serial ?? null,
      viewer_id: viewerId,
      confident: (trace?.confident ?? false) && issuedHere,
      distance: trace?.distance ?? null,
      observed: trace?.observed ?? 0,
    })
    c.header('cache-control', 'no-store')
    if (!trace) throw new ProblemError('NOT_FOUND', { detail: 'no A/B pattern could be read from these segments' })
    return c.json(
      {
        item_id: item.id,
        creator_id: item.creator_id,
        serial: trace.serial,
        viewer_id: viewerId,
        confident: trace.confident && issuedHere,
        distance: trace.distance,
        margin: trace.margin,
        observed: trace.observed,
        false_accusation_probability: trace.falseAccusationProbability,
        decoded_by: trace.decodedBy,
        marked_at: issuedHere ? new Date(mark.createdAtMs).toISOString() : null,
      },
      200,
    )
  })

  app.openapi(imageRoute, async (c) => {
    const { bytes, field } = await submittedImage(c, maxImageBytes(c.env))
    const sha256 = sha256Hex(bytes)
    const trace = await traceLeakedImage(c.env, bytes, field, (err) =>
      log('warn', c.var.config.logLevel, 'media_leak_decode_failed', { request_id: c.var.requestId, sha256, error: err instanceof Error ? err.message : String(err) }),
    )
    const confidence = trace.confidence === null ? null : Math.round(trace.confidence * 10_000) / 10_000
    const mark = trace.mark
    await audit(c, 'media.leak.traced', mark ? `media_item:${mark.itemId}` : `leak:${sha256}`, {
      kind: 'image',
      found: trace.found,
      sha256,
      bytes: bytes.length,
      type: trace.mime,
      serial: trace.serial,
      confidence,
      item_id: mark?.itemId ?? null,
      creator_id: mark?.creatorId ?? null,
      viewer_id: mark?.viewerId ?? null,
    })
    c.header('cache-control', 'no-store')
    if (!mark || trace.serial === null || confidence === null) {
      throw new ProblemError('NOT_FOUND', {
        detail: trace.serial === null ? 'no mark found in this image' : `a mark (serial ${trace.serial}) was read, but no copy with that serial was ever delivered`,
        extensions: { serial: trace.serial, confidence },
      })
    }
    return c.json(
      {
        serial: trace.serial,
        confidence,
        item_id: mark.itemId,
        creator_id: mark.creatorId,
        viewer_id: mark.viewerId,
        kind: mark.kind,
        marked_at: new Date(mark.createdAtMs).toISOString(),
      },
      200,
    )
  })
}
