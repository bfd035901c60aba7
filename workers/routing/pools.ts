/**
 * `/api/routing/pools`: origin pools (CRUD), optionally created together with their origins. A pool
 * serves the requests of its brand (or of every brand when brand_id is null) whose path starts with
 * path_prefix; a pool named by a geo `route` rule serves only the visitors that rule routes.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { and, asc, eq, gt, inArray } from 'drizzle-orm'
import type { Context } from 'hono'
import { brands, geoRules, originHealthChecks, originPools, origins } from '../../d1/schema'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { chunks } from './bounded'
import { checkOriginUrl, OriginInput, originJson, type OriginRow } from './origin-input'
import { IdParam, iso, page, PathPrefix, PoolSchema } from './schemas'
import { committed, conflict, invalid, notFound } from './write'

type PoolRow = typeof originPools.$inferSelect

const poolFields = {
  name: z.string().trim().min(1).max(80),
  brand_id: z.string().min(1).max(64).nullable().openapi({ description: 'null: shared by every brand' }),
  path_prefix: PathPrefix,
  health_path: PathPrefix,
  expected_status: z.number().int().min(100).max(599),
  fail_threshold: z.number().int().min(1).max(20).openapi({ description: 'consecutive failed probes before an origin is marked down' }),
  ok_threshold: z.number().int().min(1).max(20).openapi({ description: 'consecutive good probes before a down origin is marked up' }),
  timeout_ms: z.number().int().min(100).max(30_000),
}

const PoolCreate = z
  .object({
    ...poolFields,
    brand_id: poolFields.brand_id.default(null),
    path_prefix: poolFields.path_prefix.default('/'),
    health_path: poolFields.health_path.default('/'),
    expected_status: poolFields.expected_status.default(200),
    fail_threshold: poolFields.fail_threshold.default(3),
    ok_threshold: poolFields.ok_threshold.default(2),
    timeout_ms: poolFields.timeout_ms.default(5000),
    origins: z.array(OriginInput).max(50).default([]),
  })
  .strict()
  .openapi('OriginPoolCreate')

const PoolUpdate = z.object(poolFields).partial().strict().openapi('OriginPoolUpdate')

export function poolJson(row: PoolRow, poolOrigins: OriginRow[]): z.infer<typeof PoolSchema> {
  return {
    id: row.id,
    name: row.name,
    brand_id: row.brandId,
    path_prefix: row.pathPrefix,
    health_path: row.healthPath,
    expected_status: row.expectedStatus,
    fail_threshold: row.failThreshold,
    ok_threshold: row.okThreshold,
    timeout_ms: row.timeoutMs,
    origins: poolOrigins
      .filter((o) => o.poolId === row.id)
      .sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1))
      .map(originJson),
    created_at: iso(row.createdAtMs),
    updated_at: iso(row.updatedAtMs),
  }
}

export async function findPool(d1: D1Database, id: string): Promise<{ pool: PoolRow; origins: OriginRow[] } | undefined> {
  const handle = db(d1)
  const [pool, rows] = await handle.batch([
    handle.select().from(originPools).where(eq(originPools.id, id)),
    handle.select().from(origins).where(eq(origins.poolId, id)).orderBy(asc(origins.priority), asc(origins.id)),
  ])
  return pool[0] ? { pool: pool[0], origins: rows } : undefined
}

async function assertBrandExists(c: Context<AppEnv>, brandId: string | null): Promise<void> {
  if (!brandId) return
  const row = await db(c.env.DB).select({ id: brands.id }).from(brands).where(eq(brands.id, brandId)).get()
  if (!row) throw invalid('body.brand_id', `no brand ${brandId}`)
}

const security = [{ bearer: [] }]
const tags = ['routing']

export function registerPoolRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools',
      tags,
      security,
      summary: 'List origin pools with their origins',
      request: { query: PageQuery.extend({ brand_id: z.string().max(64).optional() }) },
      responses: { 200: { description: 'A page of pools', content: { 'application/json': { schema: page(PoolSchema) } } }, ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const after = cursorOf(q.cursor, z.object({ id: z.string() }))
      const handle = db(c.env.DB)
      const rows = await handle
        .select()
        .from(originPools)
        .where(and(after ? gt(originPools.id, after.id) : undefined, q.brand_id ? eq(originPools.brandId, q.brand_id) : undefined))
        .orderBy(asc(originPools.id))
        .limit(q.limit + 1)
      const items = rows.slice(0, q.limit)
      const poolOrigins = (
        await Promise.all(chunks(items.map((p) => p.id), 90).map((ids) => handle.select().from(origins).where(inArray(origins.poolId, ids)).orderBy(asc(origins.priority), asc(origins.id))))
      ).flat()
      const last = items.at(-1)
      return c.json({ items: items.map((p) => poolJson(p, poolOrigins)), next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools/{id}',
      tags,
      security,
      summary: 'One origin pool with its origins',
      request: { params: IdParam },
      responses: { 200: json('The pool', PoolSchema), ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const found = await findPool(c.env.DB, id)
      if (!found) throw notFound('origin pool', id)
      return c.json(poolJson(found.pool, found.origins), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/pools',
      tags,
      security,
      summary: 'Create an origin pool, optionally with its origins',
      request: { body: jsonBody(PoolCreate) },
      responses: { 201: json('Created', PoolSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      await assertBrandExists(c, body.brand_id)
      const nowMs = Date.now()
      const pool: PoolRow = {
        id: newId('pool', nowMs),
        name: body.name,
        brandId: body.brand_id,
        pathPrefix: body.path_prefix,
        healthPath: body.health_path,
        expectedStatus: body.expected_status,
        failThreshold: body.fail_threshold,
        okThreshold: body.ok_threshold,
        timeoutMs: body.timeout_ms,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      }
      const seen = new Set<string>()
      const originRows: OriginRow[] = body.origins.map((o, i) => {
        const url = checkOriginUrl(c, o.url, `body.origins.${i}.url`)
        if (seen.has(url)) throw conflict(`origin ${url} is listed twice`)
        seen.add(url)
        return { id: newId('origin', nowMs), poolId: pool.id, url, region: o.region, priority: o.priority, status: 'up', consecutiveFailures: 0, consecutiveSuccesses: 0, lastCheckedAtMs: null, lastLatencyMs: null, lastError: null, createdAtMs: nowMs }
      })
      const handle = db(c.env.DB)
      await handle.batch([handle.insert(originPools).values(pool), ...originRows.map((o) => handle.insert(origins).values(o))])
      await committed(c, 'routing.pool.create', pool.id, { name: pool.name, brand_id: pool.brandId, path_prefix: pool.pathPrefix, origins: originRows.map((o) => ({ id: o.id, url: o.url, region: o.region, priority: o.priority })) })
      return c.json(poolJson(pool, originRows), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/pools/{id}',
      tags,
      security,
      summary: 'Update an origin pool',
      request: { params: IdParam, body: jsonBody(PoolUpdate) },
      responses: { 200: json('Updated', PoolSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const found = await findPool(c.env.DB, id)
      if (!found) throw notFound('origin pool', id)
      const brandId = body.brand_id === undefined ? found.pool.brandId : body.brand_id
      if (brandId !== found.pool.brandId) {
        await assertBrandExists(c, brandId)
        // a route rule for another brand would then point at a pool that cannot serve it
        const rules = await db(c.env.DB).select({ id: geoRules.id, brandId: geoRules.brandId }).from(geoRules).where(eq(geoRules.poolId, id))
        const clash = brandId ? rules.find((r) => r.brandId !== brandId) : undefined
        if (clash) throw conflict(`geo rule ${clash.id} routes ${clash.brandId ?? 'every brand'} to this pool`)
      }
      const next: PoolRow = {
        ...found.pool,
        name: body.name ?? found.pool.name,
        brandId,
        pathPrefix: body.path_prefix ?? found.pool.pathPrefix,
        healthPath: body.health_path ?? found.pool.healthPath,
        expectedStatus: body.expected_status ?? found.pool.expectedStatus,
        failThreshold: body.fail_threshold ?? found.pool.failThreshold,
        okThreshold: body.ok_threshold ?? found.pool.okThreshold,
        timeoutMs: body.timeout_ms ?? found.pool.timeoutMs,
        updatedAtMs: Date.now(),
      }
      const { id: _id, createdAtMs: _created, ...changes } = next
      await db(c.env.DB).update(originPools).set(changes).where(eq(originPools.id, id))
      await committed(c, 'routing.pool.update', id, { changes: { ...body } })
      return c.json(poolJson(next, found.origins), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/pools/{id}',
      tags,
      security,
      summary: 'Delete an origin pool with its origins and their health history (refused while a geo rule routes to it)',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const found = await findPool(c.env.DB, id)
      if (!found) throw notFound('origin pool', id)
      const handle = db(c.env.DB)
      const rule = await handle.select({ id: geoRules.id }).from(geoRules).where(eq(geoRules.poolId, id)).get()
      if (rule) throw conflict(`geo rule ${rule.id} routes to this pool; delete or change it first`)
      const originIds = found.origins.map((o) => o.id)
      await handle.batch([
        handle.delete(originHealthChecks).where(inArray(originHealthChecks.originId, handle.select({ id: origins.id }).from(origins).where(eq(origins.poolId, id)))),
        handle.delete(origins).where(eq(origins.poolId, id)),
        handle.delete(originPools).where(eq(originPools.id, id)),
      ])
      await committed(c, 'routing.pool.delete', id, { name: found.pool.name, origins: originIds })
      return c.body(null, 204)
    },
  )
}
