/**
 * `/api/routing/geo-rules`: operator rules by visitor location. `block` answers 451, `age_gate`
 * forces the age gate, `route` sends the visitor's brand traffic to an origin pool. Rules only
 * tighten the statutory policy (see edge/jurisdiction.ts, which applies them from the snapshot).
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { and, asc, eq, gt, isNull, type SQL } from 'drizzle-orm'
import type { Context } from 'hono'
import { brands, geoRules, originPools } from '../../d1/schema'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { Country, GeoRuleSchema, IdParam, iso, page, Region } from './schemas'
import { committed, conflict, invalid, notFound } from './write'

type GeoRuleRow = typeof geoRules.$inferSelect

const Action = z.enum(['route', 'block', 'age_gate'])

const fields = {
  brand_id: z.string().min(1).max(64).nullable().openapi({ description: 'null: every brand' }),
  country: Country,
  region: Region.nullable().openapi({ description: 'null: the whole country' }),
  action: Action,
  pool_id: z.string().min(1).max(64).nullable().openapi({ description: 'required for `route`, absent otherwise' }),
  note: z.string().max(500),
}

const GeoRuleCreate = z
  .object({ ...fields, brand_id: fields.brand_id.default(null), region: fields.region.default(null), pool_id: fields.pool_id.default(null), note: fields.note.default('') })
  .strict()
  .openapi('GeoRuleCreate')

const GeoRuleUpdate = z.object(fields).partial().strict().openapi('GeoRuleUpdate')

function ruleJson(row: GeoRuleRow): z.infer<typeof GeoRuleSchema> {
  return { id: row.id, brand_id: row.brandId, country: row.country, region: row.region, action: row.action, pool_id: row.poolId, note: row.note, created_at: iso(row.createdAtMs) }
}

const orNull = <T>(column: Parameters<typeof eq>[0], value: T | null): SQL => (value === null ? isNull(column) : eq(column, value))

/** Checks references and the action/pool pairing, then refuses an exact duplicate. */
async function checkRule(c: Context<AppEnv>, rule: GeoRuleRow): Promise<void> {
  if (rule.action === 'route' && !rule.poolId) throw invalid('body.pool_id', 'required when action is route')
  if (rule.action !== 'route' && rule.poolId) throw invalid('body.pool_id', 'only allowed when action is route')
  const handle = db(c.env.DB)
  const [brand, pool, same] = await handle.batch([
    handle.select({ id: brands.id }).from(brands).where(eq(brands.id, rule.brandId ?? '')),
    handle.select({ id: originPools.id, brandId: originPools.brandId }).from(originPools).where(eq(originPools.id, rule.poolId ?? '')),
    handle
      .select({ id: geoRules.id })
      .from(geoRules)
      .where(and(orNull(geoRules.brandId, rule.brandId), eq(geoRules.country, rule.country), orNull(geoRules.region, rule.region), eq(geoRules.action, rule.action))),
  ])
  if (rule.brandId && !brand[0]) throw invalid('body.brand_id', `no brand ${rule.brandId}`)
  if (rule.poolId) {
    const target = pool[0]
    if (!target) throw invalid('body.pool_id', `no origin pool ${rule.poolId}`)
    if (target.brandId && target.brandId !== rule.brandId) throw invalid('body.pool_id', `pool ${target.id} serves only brand ${target.brandId}`)
  }
  const duplicate = same.find((r) => r.id !== rule.id)
  if (duplicate) throw conflict(`rule ${duplicate.id} already does ${rule.action} for ${rule.country}${rule.region ? `-${rule.region}` : ''}`)
}

const security = [{ bearer: [] }]
const tags = ['routing']

export function registerGeoRuleRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/geo-rules',
      tags,
      security,
      summary: 'List geo rules, optionally of one brand or country',
      request: { query: PageQuery.extend({ brand_id: z.string().max(64).optional(), country: Country.optional() }) },
      responses: { 200: { description: 'A page of rules', content: { 'application/json': { schema: page(GeoRuleSchema) } } }, ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const after = cursorOf(q.cursor, z.object({ id: z.string() }))
      const rows = await db(c.env.DB)
        .select()
        .from(geoRules)
        .where(and(after ? gt(geoRules.id, after.id) : undefined, q.brand_id ? eq(geoRules.brandId, q.brand_id) : undefined, q.country ? eq(geoRules.country, q.country) : undefined))
        .orderBy(asc(geoRules.id))
        .limit(q.limit + 1)
      const items = rows.slice(0, q.limit)
      const last = items.at(-1)
      return c.json({ items: items.map(ruleJson), next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/geo-rules/{id}',
      tags,
      security,
      summary: 'One geo rule',
      request: { params: IdParam },
      responses: { 200: json('The rule', GeoRuleSchema), ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const row = await db(c.env.DB).select().from(geoRules).where(eq(geoRules.id, id)).get()
      if (!row) throw notFound('geo rule', id)
      return c.json(ruleJson(row), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/geo-rules',
      tags,
      security,
      summary: 'Create a geo rule',
      request: { body: jsonBody(GeoRuleCreate) },
      responses: { 201: json('Created', GeoRuleSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const nowMs = Date.now()
      const row: GeoRuleRow = { id: newId('geoRule', nowMs), brandId: body.brand_id, country: body.country, region: body.region, action: body.action, poolId: body.pool_id, note: body.note, createdAtMs: nowMs }
      await checkRule(c, row)
      await db(c.env.DB).insert(geoRules).values(row)
      await committed(c, 'routing.geo_rule.create', row.id, { brand_id: row.brandId, country: row.country, region: row.region, action: row.action, pool_id: row.poolId })
      return c.json(ruleJson(row), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/geo-rules/{id}',
      tags,
      security,
      summary: 'Update a geo rule',
      request: { params: IdParam, body: jsonBody(GeoRuleUpdate) },
      responses: { 200: json('Updated', GeoRuleSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const current = await db(c.env.DB).select().from(geoRules).where(eq(geoRules.id, id)).get()
      if (!current) throw notFound('geo rule', id)
      const action = body.action ?? current.action
      const next: GeoRuleRow = {
        ...current,
        brandId: body.brand_id === undefined ? current.brandId : body.brand_id,
        country: body.country ?? current.country,
        region: body.region === undefined ? current.region : body.region,
        action,
        // switching away from `route` drops the pool unless the caller names one (which is then refused)
        poolId: body.pool_id === undefined ? (action === 'route' ? current.poolId : null) : body.pool_id,
        note: body.note ?? current.note,
      }
      await checkRule(c, next)
      const { id: _id, createdAtMs: _created, ...changes } = next
      await db(c.env.DB).update(geoRules).set(changes).where(eq(geoRules.id, id))
      await committed(c, 'routing.geo_rule.update', id, { changes: { ...body } })
      return c.json(ruleJson(next), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/geo-rules/{id}',
      tags,
      security,
      summary: 'Delete a geo rule',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const current = await db(c.env.DB).select().from(geoRules).where(eq(geoRules.id, id)).get()
      if (!current) throw notFound('geo rule', id)
      await db(c.env.DB).delete(geoRules).where(eq(geoRules.id, id))
      await committed(c, 'routing.geo_rule.delete', id, { brand_id: current.brandId, country: current.country, region: current.region, action: current.action, pool_id: current.poolId })
      return c.body(null, 204)
    },
  )
}
