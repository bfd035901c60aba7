/**
 * Origins of a pool (add, read, change, remove) and each origin's probe history, newest first.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { and, asc, desc, eq, lt, or } from 'drizzle-orm'
import { originHealthChecks, originPools, origins } from '../../d1/schema'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { checkOriginUrl, OriginInput, originJson, OriginUpdate, type OriginRow } from './origin-input'
import { HealthCheckSchema, IdParam, iso, OriginSchema, page } from './schemas'
import { committed, conflict, notFound } from './write'

async function findOrigin(d1: D1Database, id: string): Promise<OriginRow | undefined> {
  return db(d1).select().from(origins).where(eq(origins.id, id)).get()
}

async function assertUrlFree(d1: D1Database, poolId: string, url: string, exceptId?: string): Promise<void> {
  const same = await db(d1).select({ id: origins.id }).from(origins).where(and(eq(origins.poolId, poolId), eq(origins.url, url))).get()
  if (same && same.id !== exceptId) throw conflict(`origin ${same.id} of this pool already has url ${url}`)
}

const security = [{ bearer: [] }]
const tags = ['routing']

export function registerOriginRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools/{id}/origins',
      tags,
      security,
      summary: "A pool's origins, by priority",
      request: { params: IdParam },
      responses: { 200: { description: 'The origins', content: { 'application/json': { schema: z.object({ items: z.array(OriginSchema) }) } } }, ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const handle = db(c.env.DB)
      const [pool, rows] = await handle.batch([
        handle.select({ id: originPools.id }).from(originPools).where(eq(originPools.id, id)),
        handle.select().from(origins).where(eq(origins.poolId, id)).orderBy(asc(origins.priority), asc(origins.id)),
      ])
      if (!pool[0]) throw notFound('origin pool', id)
      return c.json({ items: rows.map(originJson) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/pools/{id}/origins',
      tags,
      security,
      summary: 'Add an origin to a pool (it starts up; probes take it down if it fails)',
      request: { params: IdParam, body: jsonBody(OriginInput) },
      responses: { 201: json('Added', OriginSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    }),
    async (c) => {
      const { id: poolId } = c.req.valid('param')
      const body = c.req.valid('json')
      const pool = await db(c.env.DB).select({ id: originPools.id }).from(originPools).where(eq(originPools.id, poolId)).get()
      if (!pool) throw notFound('origin pool', poolId)
      const url = checkOriginUrl(c, body.url, 'body.url')
      await assertUrlFree(c.env.DB, poolId, url)
      const nowMs = Date.now()
      const row: OriginRow = { id: newId('origin', nowMs), poolId, url, region: body.region, priority: body.priority, status: 'up', consecutiveFailures: 0, consecutiveSuccesses: 0, lastCheckedAtMs: null, lastLatencyMs: null, lastError: null, createdAtMs: nowMs }
      await db(c.env.DB).insert(origins).values(row)
      await committed(c, 'routing.origin.create', row.id, { pool_id: poolId, url, region: row.region, priority: row.priority })
      return c.json(originJson(row), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/origins/{id}',
      tags,
      security,
      summary: 'One origin with its current health',
      request: { params: IdParam },
      responses: { 200: json('The origin', OriginSchema), ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const row = await findOrigin(c.env.DB, id)
      if (!row) throw notFound('origin', id)
      return c.json(originJson(row), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/origins/{id}',
      tags,
      security,
      summary: 'Change an origin; a new url restarts its probe counters',
      request: { params: IdParam, body: jsonBody(OriginUpdate) },
      responses: { 200: json('Updated', OriginSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const current = await findOrigin(c.env.DB, id)
      if (!current) throw notFound('origin', id)
      const url = body.url === undefined ? current.url : checkOriginUrl(c, body.url, 'body.url')
      if (url !== current.url) await assertUrlFree(c.env.DB, current.poolId, url, id)
      const moved = url !== current.url
      const next: OriginRow = {
        ...current,
        url,
        region: body.region ?? current.region,
        priority: body.priority ?? current.priority,
        // what was learnt about the old address says nothing about the new one
        consecutiveFailures: moved ? 0 : current.consecutiveFailures,
        consecutiveSuccesses: moved ? 0 : current.consecutiveSuccesses,
      }
      const { id: _id, poolId: _pool, createdAtMs: _created, ...changes } = next
      await db(c.env.DB).update(origins).set(changes).where(eq(origins.id, id))
      await committed(c, 'routing.origin.update', id, { pool_id: current.poolId, changes: { ...body, ...(moved ? { url } : {}) } })
      return c.json(originJson(next), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/origins/{id}',
      tags,
      security,
      summary: 'Remove an origin and its probe history',
      request: { params: IdParam },
      responses: { 204: { description: 'Removed' }, ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const current = await findOrigin(c.env.DB, id)
      if (!current) throw notFound('origin', id)
      const handle = db(c.env.DB)
      await handle.batch([handle.delete(originHealthChecks).where(eq(originHealthChecks.originId, id)), handle.delete(origins).where(eq(origins.id, id))])
      await committed(c, 'routing.origin.delete', id, { pool_id: current.poolId, url: current.url })
      return c.body(null, 204)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/origins/{id}/health',
      tags,
      security,
      summary: "An origin's probe history, newest first",
      request: { params: IdParam, query: PageQuery },
      responses: { 200: { description: 'A page of probes', content: { 'application/json': { schema: page(HealthCheckSchema) } } }, ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const q = c.req.valid('query')
      const before = cursorOf(q.cursor, z.object({ at: z.number().int(), id: z.string() }))
      if (!(await findOrigin(c.env.DB, id))) throw notFound('origin', id)
      const t = originHealthChecks
      const rows = await db(c.env.DB)
        .select()
        .from(t)
        .where(and(eq(t.originId, id), before ? or(lt(t.checkedAtMs, before.at), and(eq(t.checkedAtMs, before.at), lt(t.id, before.id))) : undefined))
        .orderBy(desc(t.checkedAtMs), desc(t.id))
        .limit(q.limit + 1)
      const items = rows.slice(0, q.limit)
      const last = items.at(-1)
      return c.json(
        {
          items: items.map((r) => ({ id: r.id, origin_id: r.originId, checked_at: iso(r.checkedAtMs), ok: r.ok, status_code: r.statusCode, latency_ms: r.latencyMs, error: r.error, transition: r.transition })),
          next_cursor: rows.length > q.limit && last ? encodeCursor({ at: last.checkedAtMs, id: last.id }) : null,
        },
        200,
      )
    },
  )
}
