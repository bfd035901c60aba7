/**
 * `/api/routing/brands`: list, get, create, update. Creating a brand attaches its primary domain as
 * the apex in the same batch, so a new brand is reachable the moment it exists.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { and, asc, eq, gt } from 'drizzle-orm'
import { brands, domains } from '../../d1/schema'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import type { JsonObject } from '../lib/json'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { Custodian, DmcaAgent } from './brand-view'
import { BrandSchema, Hostname, IdParam, iso, page, ThemeInput } from './schemas'
import { assertNotPlatformHost, assertThemeContrast, committed, conflict, invalid, isConstraintError, notFound } from './write'

// the money split columns keep their defaults here; payments owns them
type BrandRow = Omit<typeof brands.$inferSelect, 'platformFeeBps' | 'reserveBps' | 'reserveDays' | 'pendingDays'>

const Slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'must be 1-32 lower-case letters, digits or hyphens')
const Status = z.enum(['active', 'suspended'])

const BrandCreate = z
  .object({
    slug: Slug,
    name: z.string().trim().min(1).max(80),
    primary_domain: Hostname,
    status: Status.default('active'),
    tagline: z.string().max(200).default(''),
    theme: ThemeInput,
    custodian: Custodian.strict(),
    dmca_agent: DmcaAgent.strict(),
  })
  .strict()
  .openapi('BrandCreate')

const BrandUpdate = z
  .object({
    name: z.string().trim().min(1).max(80),
    primary_domain: Hostname,
    status: Status,
    tagline: z.string().max(200),
    /** merged into the current theme, then checked as a whole */
    theme: ThemeInput.partial().strict(),
    custodian: Custodian.strict(),
    dmca_agent: DmcaAgent.strict(),
  })
  .partial()
  .strict()
  .openapi('BrandUpdate')

export function brandJson(row: BrandRow): z.infer<typeof BrandSchema> {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    primary_domain: row.primaryDomain,
    status: row.status,
    tagline: row.tagline,
    theme: JSON.parse(row.themeJson) as z.infer<typeof BrandSchema>['theme'],
    custodian: JSON.parse(row.custodianJson) as Record<string, string>,
    dmca_agent: JSON.parse(row.dmcaAgentJson) as Record<string, string>,
    created_at: iso(row.createdAtMs),
    updated_at: iso(row.updatedAtMs),
  }
}

export async function findBrand(d1: D1Database, id: string): Promise<BrandRow | undefined> {
  return db(d1).select().from(brands).where(eq(brands.id, id)).get()
}

const security = [{ bearer: [] }]
const tags = ['routing']

export function registerBrandRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/brands',
      tags,
      security,
      summary: 'List brands by id',
      request: { query: PageQuery.extend({ status: Status.optional() }) },
      responses: { 200: { description: 'A page of brands', content: { 'application/json': { schema: page(BrandSchema) } } }, ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const after = cursorOf(q.cursor, z.object({ id: z.string() }))
      const rows = await db(c.env.DB)
        .select()
        .from(brands)
        .where(and(after ? gt(brands.id, after.id) : undefined, q.status ? eq(brands.status, q.status) : undefined))
        .orderBy(asc(brands.id))
        .limit(q.limit + 1)
      const items = rows.slice(0, q.limit)
      const last = items.at(-1)
      return c.json({ items: items.map(brandJson), next_cursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/brands/{id}',
      tags,
      security,
      summary: 'One brand',
      request: { params: IdParam },
      responses: { 200: json('The brand', BrandSchema), ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const row = await findBrand(c.env.DB, id)
      if (!row) throw notFound('brand', id)
      return c.json(brandJson(row), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/brands',
      tags,
      security,
      summary: 'Create a brand and attach its primary domain as the apex',
      request: { body: jsonBody(BrandCreate) },
      responses: { 201: json('Created', BrandSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      assertThemeContrast(body.theme)
      assertNotPlatformHost(c, body.primary_domain, 'body.primary_domain')
      const handle = db(c.env.DB)
      const [sameSlug, attached] = await handle.batch([
        handle.select({ id: brands.id }).from(brands).where(eq(brands.slug, body.slug)),
        handle.select({ brandId: domains.brandId }).from(domains).where(eq(domains.hostname, body.primary_domain)),
      ])
      if (sameSlug[0]) throw conflict(`slug ${body.slug} is taken by brand ${sameSlug[0].id}`)
      if (attached[0]) throw conflict(`${body.primary_domain} is already attached to brand ${attached[0].brandId}`)
      const nowMs = Date.now()
      const row: BrandRow = {
        id: newId('brand', nowMs),
        slug: body.slug,
        name: body.name,
        primaryDomain: body.primary_domain,
        status: body.status,
        tagline: body.tagline,
        themeJson: JSON.stringify(body.theme),
        custodianJson: JSON.stringify(body.custodian),
        dmcaAgentJson: JSON.stringify(body.dmca_agent),
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      }
      try {
        await handle.batch([
          handle.insert(brands).values(row),
          handle.insert(domains).values({ hostname: body.primary_domain, brandId: row.id, kind: 'apex', createdAtMs: nowMs }),
        ])
      } catch (err) {
        if (isConstraintError(err, 'UNIQUE')) throw conflict(`slug ${body.slug} or domain ${body.primary_domain} was taken meanwhile`)
        throw err
      }
      await committed(c, 'routing.brand.create', row.id, { slug: row.slug, name: row.name, primary_domain: row.primaryDomain, status: row.status })
      return c.json(brandJson(row), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/brands/{id}',
      tags,
      security,
      summary: 'Update a brand; a new primary domain must already be attached to it (apex or alias)',
      request: { params: IdParam, body: jsonBody(BrandUpdate) },
      responses: { 200: json('Updated', BrandSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const current = await findBrand(c.env.DB, id)
      if (!current) throw notFound('brand', id)
      const theme = body.theme ? { ...(JSON.parse(current.themeJson) as z.infer<typeof ThemeInput>), ...body.theme } : undefined
      if (theme) assertThemeContrast(theme)
      if (body.primary_domain && body.primary_domain !== current.primaryDomain) {
        const domain = await db(c.env.DB).select().from(domains).where(eq(domains.hostname, body.primary_domain)).get()
        if (!domain || domain.brandId !== id) throw invalid('body.primary_domain', `attach ${body.primary_domain} to this brand first`)
        if (domain.kind === 'www') throw invalid('body.primary_domain', 'a www host redirects and cannot be the primary domain')
      }
      const next: BrandRow = {
        ...current,
        name: body.name ?? current.name,
        primaryDomain: body.primary_domain ?? current.primaryDomain,
        status: body.status ?? current.status,
        tagline: body.tagline ?? current.tagline,
        themeJson: theme ? JSON.stringify(theme) : current.themeJson,
        custodianJson: body.custodian ? JSON.stringify(body.custodian) : current.custodianJson,
        dmcaAgentJson: body.dmca_agent ? JSON.stringify(body.dmca_agent) : current.dmcaAgentJson,
        updatedAtMs: Date.now(),
      }
      const { id: _id, createdAtMs: _created, ...changes } = next
      await db(c.env.DB).update(brands).set(changes).where(eq(brands.id, id))
      await committed(c, 'routing.brand.update', id, { changes: { ...body, ...(theme ? { theme } : {}) } as JsonObject })
      return c.json(brandJson(next), 200)
    },
  )
}
