/**
 * Signed delivery (registered under `/api/media`):
 * - `POST /items/{id}/delivery`: a signed-in viewer asks for a short-lived URL bound to them and to
 *   one forensic mark (policy.ts decides who may); images get `/api/media/delivery/{token}`, videos
 *   the HLS playlist under it (served by the A/B part, workers/media/ab/).
 * - `GET|HEAD /delivery/{token}`: the image copy marked for that viewer; no bearer header (an
 *   `<img>` follows it), the token is the authorisation. Byte ranges, ETag / If-None-Match, and
 *   `private, no-store`: gated, per-viewer bytes are never kept by a shared cache.
 * Also registers the creators' geo-block routes (../geo/api.ts).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, problemResponses } from '../../api/schemas'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { PUBLIC, permission, withAccess } from '../../sso/roles/access'
import { mediaKeys } from '../../../r2/keys'
import { registerGeoBlocks } from '../geo/api'
import { markFor } from '../marks'
import { markedCopy, MARKED_COPY_TYPE } from './marked-copy'
import { assertAgeGate, assertAgeGateAtFetch, assertEntitled, assertIssuable, assertNotGeoBlocked, assertPlaceNotBlocked, assertServable, deliveryItem, viewerRole } from './policy'
import { decideRange, ifRangeAllows, noneMatchHits } from './ranges'
import { signDeliveryToken, verifyDeliveryToken } from './token'

const tags = ['media']

/** token.ts format: base64url(claims) "." base64url(HMAC-SHA-256) (43 characters) */
export const DELIVERY_TOKEN = /^[A-Za-z0-9_-]{1,1024}\.[A-Za-z0-9_-]{43}$/

/** How long a delivery URL lives, from MEDIA_DELIVERY_TTL_SECONDS (300 s in every environment). */
export function deliveryTtlSeconds(env: Pick<Env, 'MEDIA_DELIVERY_TTL_SECONDS'>): number {
  const parsed = z.coerce.number().int().min(10).max(3600).safeParse(env.MEDIA_DELIVERY_TTL_SECONDS)
  if (!parsed.success) throw new Error(`MEDIA_DELIVERY_TTL_SECONDS must be 10-3600 seconds; got ${env.MEDIA_DELIVERY_TTL_SECONDS}`)
  return parsed.data
}

export const deliveryPath = (token: string, kind: 'image' | 'ab') => (kind === 'image' ? `/api/media/delivery/${token}` : `/api/media/delivery/${token}/hls/playlist.m3u8`)

const ItemId = z.object({ id: z.string().regex(/^med_[0-9A-Za-z]{1,40}$/, 'must be a media item id') })

const Delivery = z
  .object({
    url: z.string().openapi({ description: 'on the host that was asked (same origin as the brand page); follow it without a bearer header', example: 'https://boyfanz.com/api/media/delivery/eyJ2Ijox….abc' }),
    expires_at: z.iso.datetime(),
    kind: z.enum(['image', 'hls']).openapi({ description: '`image`: the URL is a JPEG; `hls`: the URL is an HLS playlist' }),
    item_id: z.string(),
  })
  .openapi('MediaDelivery')

const issueRoute = createRoute(
  // every account is a fan (payments:checkout): any signed-in viewer may ask; policy.ts narrows
  withAccess(permission('payments:checkout'), {
    method: 'post',
    path: '/items/{id}/delivery',
    tags,
    summary: 'A short-lived URL of the item for you: published items for the creator, subscribers and (public items) everyone; previews for its creator and media:read',
    request: { params: ItemId },
    responses: {
      200: json('The URL (Cache-Control: no-store)', Delivery),
      ...problemResponses(400, 401, 403, 404, 409),
      410: problemResponses(404)[404]!,
      451: { description: 'The creator does not deliver to your location, or an operator rule blocks it', content: problemResponses(403)[403]!.content },
    },
  }),
)

const serveRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/delivery/{token}',
    tags,
    summary: 'The image copy marked for the viewer the URL was issued to (Range, If-None-Match; private, no-store)',
    request: { params: z.object({ token: z.string().regex(DELIVERY_TOKEN, 'must be a delivery token') }) },
    responses: {
      200: { description: 'The marked copy (JPEG)', content: { [MARKED_COPY_TYPE]: { schema: z.string().openapi({ format: 'binary' }) } } },
      206: { description: 'One byte range of it (Content-Range)' },
      304: { description: 'Your copy is current (If-None-Match)' },
      416: { description: 'The range is outside the copy (Content-Range: bytes */size)' },
      ...problemResponses(400, 403, 404),
      410: { description: 'The URL expired, or the item was removed' },
      451: { description: 'The creator does not deliver to your location' },
    },
  }),
)

export function registerDelivery(app: OpenAPIHono<AppEnv>): void {
  registerGeoBlocks(app)

  app.openapi(issueRoute, async (c) => {
    const auth = authenticated(c)
    const { id } = c.req.valid('param')
    const item = await deliveryItem(c.env, id)
    if (!item) throw new ProblemError('NOT_FOUND', { detail: `no media item ${id}` })
    const role = viewerRole(auth, item)
    const nowMs = Date.now()
    assertIssuable(item, role)
    // 451s first: nobody is sent to verify their age for media they may not see there anyway
    assertPlaceNotBlocked(c)
    await assertNotGeoBlocked(c, item, auth.subject, 'issue')
    assertAgeGate(c, auth)
    await assertEntitled(c.env, item, auth, role, nowMs)
    const kind = item.kind === 'video' ? 'ab' : 'image'
    if (kind === 'ab' && !item.hlsSegments) throw new ProblemError('CONFLICT', { detail: `video ${item.id} is not packaged for streaming yet`, extensions: { status: item.status } })
    // the creator's own copies carry the creator's mark (viewer null); everyone else's name them
    const mark = await markFor(c.env, { itemId: item.id, creatorId: item.creatorId, viewerId: role === 'creator' ? null : auth.subject, kind }, nowMs)
    const expiresS = Math.floor(nowMs / 1000) + deliveryTtlSeconds(c.env)
    const country = c.var.geo.country
    const token = await signDeliveryToken(c.env, {
      v: 1,
      i: item.id,
      u: auth.subject,
      s: mark.serial,
      k: kind,
      e: expiresS,
      ...(country && /^[A-Z]{2}$/.test(country) ? { c: country } : {}),
      ...(auth.ageVerified ? { a: 1 as const } : {}),
    })
    c.header('cache-control', 'no-store')
    return c.json({ url: new URL(deliveryPath(token, kind), c.req.url).toString(), expires_at: new Date(expiresS * 1000).toISOString(), kind: kind === 'ab' ? ('hls' as const) : ('image' as const), item_id: item.id }, 200)
  })

  app.openapi(serveRoute, async (c) => {
    const claims = await verifyDeliveryToken(c.env, c.req.valid('param').token)
    if (claims.k !== 'image') throw new ProblemError('NOT_FOUND', { detail: 'this URL is a video: its playlist is hls/playlist.m3u8 under it' })
    const item = await deliveryItem(c.env, claims.i)
    assertServable(item, claims.i)
    if (item.kind !== 'image') throw new ProblemError('NOT_FOUND', { detail: `media item ${item.id} is not an image` })
    assertPlaceNotBlocked(c)
    await assertNotGeoBlocked(c, item, claims.u, 'fetch')
    assertAgeGateAtFetch(c, claims)
    const copy = await markedCopy(c.env, item, claims.s)
    const etag = copy.httpEtag
    const headers = new Headers({
      'cache-control': 'private, no-store',
      etag,
      'accept-ranges': 'bytes',
      'content-type': MARKED_COPY_TYPE,
      'content-disposition': `inline; filename="${item.id}.jpg"`,
      'x-content-type-options': 'nosniff',
    })
    if (noneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers })
    let range = decideRange(c.req.header('range'), copy.size)
    if (range.kind !== 'full' && !ifRangeAllows(c.req.header('if-range'), etag)) range = { kind: 'full' }
    if (range.kind === 'unsatisfiable') {
      headers.set('content-range', `bytes */${copy.size}`)
      headers.delete('content-type')
      return new Response(null, { status: 416, headers })
    }
    const head = c.req.method === 'HEAD'
    const key = mediaKeys.markedCopy(item.id, claims.s)
    if (range.kind === 'partial') {
      const length = range.end - range.start + 1
      headers.set('content-range', `bytes ${range.start}-${range.end}/${copy.size}`)
      headers.set('content-length', String(length))
      if (head) return new Response(null, { status: 206, headers })
      const part = await c.env.MEDIA.get(key, { range: { offset: range.start, length } })
      if (!part) throw new Error(`marked copy ${key} vanished while serving`)
      return new Response(part.body, { status: 206, headers })
    }
    headers.set('content-length', String(copy.size))
    if (head) return new Response(null, { status: 200, headers })
    const whole = await c.env.MEDIA.get(key)
    if (!whole) throw new Error(`marked copy ${key} vanished while serving`)
    return new Response(whole.body, { status: 200, headers })
  })
}
