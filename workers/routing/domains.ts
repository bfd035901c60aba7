/**
 * `/api/routing/domains`: attach a hostname to a brand (apex, www or alias), detach it, list them.
 * A hostname belongs to at most one brand (it is the table's key): attaching it elsewhere is a 409.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { and, asc, eq, gt } from 'drizzle-orm'
import { brands, domains } from '../../d1/schema'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { db } from '../lib/db'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { DomainSchema, Hostname, iso, page } from './schemas'
import { assertNotPlatformHost, committed, conflict, invalid, isConstraintError, notFound } from './write'

type DomainRow = typeof domains.$inferSelect

const DomainAttach = z
  .object({
    hostname: Hostname,
    brand_id: z.string().min(1).max(64),
    kind: z.enum(['apex', 'www', 'alias']),
  })
  .strict()
  .openapi('DomainAttach')

const HostnameParam = z.object({ hostname: Hostname })

function domainJson(row: DomainRow): z.infer<typeof DomainSchema> {
  return { hostname: row.hostname, brand_id: row.brandId, kind: row.kind, created_at: iso(row.createdAtMs) }
}

const security = [{ bearer: [] }]
const tags = ['routing']

export function registerDomainRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/domains',
      tags,
      security,
      summary: 'List attached hostnames, optionally of one brand',
      request: { query: PageQuery.extend({ brand_id: z.string().max(64).optional() }) },
      responses: { 200: { description: 'A page of domains', content: { 'application/json': { schema: page(DomainSchema) } } }, ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const after = cursorOf(q.cursor, z.object({ hostname: z.string() }))
      const rows = await db(c.env.DB)
        .select()
        .from(domains)
        .where(and(after ? gt(domains.hostname, after.hostname) : undefined, q.brand_id ? eq(domains.brandId, q.brand_id) : undefined))
        .orderBy(asc(domains.hostname))
        .limit(q.limit + 1)
      const items = rows.slice(0, q.limit)
      const last = items.at(-1)
      return c.json({ items: items.map(domainJson), next_cursor: rows.length > q.limit && last ? encodeCursor({ hostname: last.hostname }) : null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/domains/{hostname}',
      tags,
      security,
      summary: 'One attached hostname',
      request: { params: HostnameParam },
      responses: { 200: json('The domain', DomainSchema), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { hostname } = c.req.valid('param')
      const row = await db(c.env.DB).select().from(domains).where(eq(domains.hostname, hostname)).get()
      if (!row) throw notFound('domain', hostname)
      return c.json(domainJson(row), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/domains',
      tags,
      security,
      summary: 'Attach a hostname to a brand',
      request: { body: jsonBody(DomainAttach) },
      responses: { 201: json('Attached', DomainSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      assertNotPlatformHost(c, body.hostname, 'body.hostname')
      const handle = db(c.env.DB)
      const [brand, existing] = await handle.batch([
        handle.select({ id: brands.id }).from(brands).where(eq(brands.id, body.brand_id)),
        handle.select().from(domains).where(eq(domains.hostname, body.hostname)),
      ])
      if (!brand[0]) throw invalid('body.brand_id', `no brand ${body.brand_id}`)
      const current = existing[0]
      if (current) {
        throw conflict(current.brandId === body.brand_id ? `${body.hostname} is already attached to this brand (${current.kind})` : `${body.hostname} is attached to brand ${current.brandId}`)
      }
      const row: DomainRow = { hostname: body.hostname, brandId: body.brand_id, kind: body.kind, createdAtMs: Date.now() }
      try {
        await handle.insert(domains).values(row)
      } catch (err) {
        if (isConstraintError(err, 'UNIQUE')) throw conflict(`${body.hostname} was attached meanwhile`)
        throw err
      }
      await committed(c, 'routing.domain.attach', row.hostname, { brand_id: row.brandId, kind: row.kind })
      return c.json(domainJson(row), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/domains/{hostname}',
      tags,
      security,
      summary: "Detach a hostname (not the brand's primary domain)",
      request: { params: HostnameParam },
      responses: { 204: { description: 'Detached' }, ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { hostname } = c.req.valid('param')
      const handle = db(c.env.DB)
      const row = await handle.select().from(domains).where(eq(domains.hostname, hostname)).get()
      if (!row) throw notFound('domain', hostname)
      const brand = await handle.select({ primaryDomain: brands.primaryDomain }).from(brands).where(eq(brands.id, row.brandId)).get()
      if (brand?.primaryDomain === hostname) throw conflict(`${hostname} is the primary domain of brand ${row.brandId}; choose another primary domain first`)
      await handle.delete(domains).where(eq(domains.hostname, hostname))
      await committed(c, 'routing.domain.detach', hostname, { brand_id: row.brandId, kind: row.kind })
      return c.body(null, 204)
    },
  )
}
