/**
 * A/B HLS delivery (ETSI TS 104 002 sequencing done by the Worker as the edge):
 *
 *   GET /api/media/delivery/{token}/hls/playlist.m3u8        the neutral playlist (same bytes for every viewer)
 *   GET /api/media/delivery/{token}/hls/init.mp4             the fMP4 init segment (identical for A and B)
 *   GET /api/media/delivery/{token}/hls/segments/{n}.m4s     variant A or B of segment n, by bit n of the
 *                                                            pattern of the token's mark serial (range-capable)
 *
 * and, for compliance tracing a re-encoded leak (scripts/leak-trace.mjs compares decoded frames):
 *
 *   GET /api/media/hls/{id}/manifest                          segment count and the A/B digests
 *   GET /api/media/hls/{id}/init.mp4, /api/media/hls/{id}/{a|b}/{n}.m4s   reference bytes
 *
 * The token in the path is the only credential a player has (it follows URIs, it sends no bearer
 * header), so the delivery routes are public and every request re-checks the token and whether the
 * item may still be delivered. Gated bytes: `Cache-Control: private, no-store` on every answer.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { mediaKeys } from '../../../r2/keys'
import { problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { permission, PUBLIC, withAccess } from '../../sso/roles/access'
import { deliverableStream, streamClaims } from './deliverable'
import { readManifest } from './manifest'
import { variantAt } from './pattern'
import { serveObject } from './r2-range'

const tags = ['media-streaming']
const PRIVATE = { 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff' }
export const SEGMENT_CONTENT_TYPE = 'video/iso.segment'
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl'

const TokenParam = z.object({ token: z.string().min(1).max(2048) })
const SegmentFile = z
  .string()
  .regex(/^\d{1,5}\.m4s$/, 'must be {index}.m4s')
  .transform((file) => Number(file.slice(0, -4)))
const ItemParam = z.object({ id: z.string().regex(/^med_[0-9A-Za-z]{1,40}$/, 'must be a media item id') })
const binary = { type: 'string' as const, format: 'binary' }
const bytesResponse = (description: string, type: string) => ({ description, content: { [type]: { schema: binary } } })
const streamErrors = {
  ...problemResponses(400, 404),
  410: problemResponses(404)[404]!,
  451: problemResponses(404)[404]!,
}

const playlistRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/delivery/{token}/hls/playlist.m3u8',
    tags,
    summary: 'The neutral HLS media playlist of an A/B-watermarked video (same for every viewer; URIs relative to this path)',
    request: { params: TokenParam },
    responses: { 200: bytesResponse('The media playlist', PLAYLIST_CONTENT_TYPE), ...streamErrors },
  }),
)

const initRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/delivery/{token}/hls/init.mp4',
    tags,
    summary: 'The fMP4 initialization segment (identical in both variants)',
    request: { params: TokenParam },
    responses: { 200: bytesResponse('The init segment', 'video/mp4'), 206: bytesResponse('A byte range of it', 'video/mp4'), 416: { description: 'Range not satisfiable' }, ...streamErrors },
  }),
)

const segmentRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/delivery/{token}/hls/segments/{segment}',
    tags,
    summary: "Segment {index}.m4s: variant A or B as the bit at this position of the viewer's mark pattern says (Range supported)",
    request: { params: TokenParam.extend({ segment: SegmentFile }) },
    responses: { 200: bytesResponse('The segment', SEGMENT_CONTENT_TYPE), 206: bytesResponse('A byte range of it', SEGMENT_CONTENT_TYPE), 416: { description: 'Range not satisfiable' }, ...streamErrors },
  }),
)

const manifestRoute = createRoute(
  withAccess(permission('media:leaks:trace'), {
    method: 'get',
    path: '/hls/{id}/manifest',
    tags,
    summary: "A packaged video's segment count and the SHA-256 of each A and B segment (leak tracing)",
    request: { params: ItemParam },
    responses: {
      200: { description: 'The manifest', content: { 'application/json': { schema: z.object({ segments: z.number().int(), a: z.array(z.string()), b: z.array(z.string()) }).passthrough() } } },
      ...problemResponses(400, 401, 403, 404),
    },
  }),
)

const referenceInitRoute = createRoute(
  withAccess(permission('media:leaks:trace'), {
    method: 'get',
    path: '/hls/{id}/init.mp4',
    tags,
    summary: 'The init segment of a packaged video (reference for leak tracing)',
    request: { params: ItemParam },
    responses: { 200: bytesResponse('The init segment', 'video/mp4'), ...problemResponses(400, 401, 403, 404) },
  }),
)

const referenceSegmentRoute = createRoute(
  withAccess(permission('media:leaks:trace'), {
    method: 'get',
    path: '/hls/{id}/{variant}/{segment}',
    tags,
    summary: 'Variant A or B of one segment of a packaged video (reference for tracing a re-encoded leak)',
    request: { params: ItemParam.extend({ variant: z.enum(['a', 'b']), segment: SegmentFile }) },
    responses: { 200: bytesResponse('The segment', SEGMENT_CONTENT_TYPE), 206: bytesResponse('A byte range of it', SEGMENT_CONTENT_TYPE), ...problemResponses(400, 401, 403, 404) },
  }),
)

async function served(response: Response | null, what: string): Promise<Response> {
  if (!response) throw new ProblemError('NOT_FOUND', { detail: `${what} is missing from storage` })
  return response
}

async function packagedItem(c: Context<AppEnv>, id: string): Promise<{ hlsSegments: number }> {
  const row = await c.env.DB.prepare("SELECT hls_segments FROM media_items WHERE id = ? AND kind = 'video'").bind(id).first<{ hls_segments: number | null }>()
  if (!row?.hls_segments) throw new ProblemError('NOT_FOUND', { detail: `no packaged video ${id}` })
  return { hlsSegments: row.hls_segments }
}

export function registerHls(app: OpenAPIHono<AppEnv>): void {
  app.openapi(playlistRoute, async (c) => {
    const claims = await streamClaims(c.env, c.req.valid('param').token)
    const item = await deliverableStream(c, claims)
    const response = await serveObject(c.env.MEDIA, mediaKeys.hlsShared(item.id, 'playlist.m3u8'), undefined, { ...PRIVATE, 'content-type': PLAYLIST_CONTENT_TYPE })
    return served(response, 'the playlist')
  })

  app.openapi(initRoute, async (c) => {
    const claims = await streamClaims(c.env, c.req.valid('param').token)
    const item = await deliverableStream(c, claims)
    return served(await serveObject(c.env.MEDIA, mediaKeys.hlsShared(item.id, 'init.mp4'), c.req.header('range'), { ...PRIVATE, 'content-type': 'video/mp4' }), 'the init segment')
  })

  app.openapi(segmentRoute, async (c) => {
    const { token, segment: index } = c.req.valid('param')
    const claims = await streamClaims(c.env, token)
    const item = await deliverableStream(c, claims)
    if (index >= item.hlsSegments) throw new ProblemError('NOT_FOUND', { detail: `the stream has ${item.hlsSegments} segments (0-${item.hlsSegments - 1})` })
    const key = mediaKeys.hlsSegment(item.id, variantAt(claims.s, index), index)
    return served(await serveObject(c.env.MEDIA, key, c.req.header('range'), { ...PRIVATE, 'content-type': SEGMENT_CONTENT_TYPE }), `segment ${index}`)
  })

  app.openapi(manifestRoute, async (c) => {
    const { id } = c.req.valid('param')
    await packagedItem(c, id)
    const manifest = await readManifest(c.env, id)
    if (!manifest) throw new ProblemError('NOT_FOUND', { detail: `no manifest for ${id}` })
    return c.json(manifest, 200, PRIVATE)
  })

  app.openapi(referenceInitRoute, async (c) => {
    const { id } = c.req.valid('param')
    await packagedItem(c, id)
    return served(await serveObject(c.env.MEDIA, mediaKeys.hlsShared(id, 'init.mp4'), c.req.header('range'), { ...PRIVATE, 'content-type': 'video/mp4' }), 'the init segment')
  })

  app.openapi(referenceSegmentRoute, async (c) => {
    const { id, variant, segment: index } = c.req.valid('param')
    const item = await packagedItem(c, id)
    if (index >= item.hlsSegments) throw new ProblemError('NOT_FOUND', { detail: `${id} has ${item.hlsSegments} segments` })
    return served(await serveObject(c.env.MEDIA, mediaKeys.hlsSegment(id, variant, index), c.req.header('range'), { ...PRIVATE, 'content-type': SEGMENT_CONTENT_TYPE }), `segment ${variant}/${index}`)
  })
}
