/**
 * `/api/media/geo-blocks`: a creator lists the places their media is never delivered to.
 *
 * - `GET /geo-blocks?creator_id=` and `PUT /geo-blocks` (`creator:content:write`): the creator's own
 *   profile only (`creators.user_id` = token subject); another creator's answers 404 like an unknown
 *   one, so profiles cannot be probed. A PUT replaces the whole set and is audited with before/after.
 * - `GET /geo-blocks/{creator_id}` (`media:read`): operators read any creator's.
 *
 * Registered by `registerDelivery` (the media API's list of parts is fixed; geo-blocks belong to delivery).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { permission, withAccess } from '../../sso/roles/access'
import { holds } from '../../sso/roles/middleware'
import { geoBlocksOf, MAX_GEO_BLOCKS, RegionCode } from './regions'

const tags = ['media']
const CreatorIdField = z.string().regex(/^crt_[0-9A-Za-z]{1,40}$/, 'must be a creator id')

const GeoBlocks = z
  .object({
    creator_id: z.string(),
    regions: z.array(z.string()).openapi({ description: 'ISO 3166-1 countries and ISO 3166-2 subdivisions, sorted', example: ['DE', 'US-TX'] }),
  })
  .openapi('MediaGeoBlocks')

const GeoBlocksUpdate = z
  .object({
    creator_id: CreatorIdField,
    regions: z.array(RegionCode).max(MAX_GEO_BLOCKS),
  })
  .strict()
  .openapi('MediaGeoBlocksUpdate')

const ownGetRoute = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'get',
    path: '/geo-blocks',
    tags,
    summary: 'Where your media is never delivered (your own creator profile)',
    request: { query: z.object({ creator_id: CreatorIdField }) },
    responses: { 200: json('The creator’s geo-blocks', GeoBlocks), ...problemResponses(400, 401, 403, 404) },
  }),
)

const putRoute = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'put',
    path: '/geo-blocks',
    tags,
    summary: 'Replace where your media is never delivered (countries `DE`, subdivisions `US-TX`); audited',
    request: { body: jsonBody(GeoBlocksUpdate) },
    responses: { 200: json('The creator’s geo-blocks now', GeoBlocks), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

const operatorGetRoute = createRoute(
  withAccess(permission('media:read'), {
    method: 'get',
    path: '/geo-blocks/{creator_id}',
    tags,
    summary: "Any creator's geo-blocks (operators)",
    request: { params: z.object({ creator_id: CreatorIdField }) },
    responses: { 200: json('The creator’s geo-blocks', GeoBlocks), ...problemResponses(400, 401, 403, 404) },
  }),
)

/** The creator profile when it is the caller's own; 404 otherwise (as an unknown one). */
async function ownCreator(c: Context<AppEnv>, creatorId: string): Promise<string> {
  const auth = authenticated(c)
  const row = await c.env.DB.prepare('SELECT id, user_id FROM creators WHERE id = ?').bind(creatorId).first<{ id: string; user_id: string | null }>()
  if (row && row.user_id !== null && row.user_id === auth.subject && holds(auth, 'creator:content:write')) return row.id
  throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId} for you` })
}

export function registerGeoBlocks(app: OpenAPIHono<AppEnv>): void {
  app.openapi(ownGetRoute, async (c) => {
    const creatorId = await ownCreator(c, c.req.valid('query').creator_id)
    c.header('cache-control', 'no-store')
    return c.json({ creator_id: creatorId, regions: await geoBlocksOf(c.env, creatorId) }, 200)
  })

  app.openapi(operatorGetRoute, async (c) => {
    const { creator_id } = c.req.valid('param')
    const exists = await c.env.DB.prepare('SELECT 1 AS one FROM creators WHERE id = ?').bind(creator_id).first()
    if (!exists) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creator_id}` })
    c.header('cache-control', 'no-store')
    return c.json({ creator_id, regions: await geoBlocksOf(c.env, creator_id) }, 200)
  })

  app.openapi(putRoute, async (c) => {
    const body = c.req.valid('json')
    const creatorId = await ownCreator(c, body.creator_id)
    const auth = authenticated(c)
    const before = await geoBlocksOf(c.env, creatorId)
    const after = [...new Set(body.regions)].sort()
    const added = after.filter((r) => !before.includes(r))
    const removed = before.filter((r) => !after.includes(r))
    if (added.length || removed.length) {
      const nowMs = Date.now()
      // one atomic batch: a failed write leaves the old set whole; rows that stay keep who added them and when
      await c.env.DB.batch([
        ...removed.map((region) => c.env.DB.prepare('DELETE FROM media_geo_blocks WHERE creator_id = ? AND region = ?').bind(creatorId, region)),
        ...added.map((region) =>
          c.env.DB.prepare('INSERT INTO media_geo_blocks (creator_id, region, created_by, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').bind(creatorId, region, auth.subject, nowMs),
        ),
      ])
      await audit(c, 'media.geo_blocks.update', `creator:${creatorId}`, { before, after, added, removed })
    }
    c.header('cache-control', 'no-store')
    return c.json({ creator_id: creatorId, regions: after }, 200)
  })
}
