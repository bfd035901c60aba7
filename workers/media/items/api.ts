/**
 * `/api/media/items*` and `/api/media/quotas/{creatorId}`: the catalogue of a creator's media
 * (metadata, performers, search) and storage quotas.
 *
 * Deleting an item keeps its row as `removed` (reason `deleted_by_creator`) and deletes its bytes:
 * cases, reviews, marks and the audit log refer to the id, and a row that vanished would make those
 * references dangle; the bytes go because the creator asked. Quarantined items cannot be deleted
 * (a hash-list match is evidence that must be preserved), nor items still in ingest or published.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { MEDIA_KINDS, MEDIA_STATUSES } from '../../../d1/schema/media'
import { quotaOf, usageOf } from '../uploads/limits'
import { terminateUpload } from '../uploads/store'
import { OWN, ownOrRead, readerScope, visibleItem, type ItemRow } from './access'
import { searchItems } from './search'

const Tag = z.string().regex(/^[a-z0-9-]{1,40}$/, 'lowercase letters, digits and hyphens, at most 40')

const ItemSummary = z
  .object({
    id: z.string(),
    creator_id: z.string(),
    brand_id: z.string(),
    kind: z.enum(MEDIA_KINDS),
    status: z.enum(MEDIA_STATUSES),
    status_reason: z.string().nullable(),
    access: z.enum(['subscribers', 'public']),
    title: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    mime: z.string().nullable(),
    size_bytes: z.number().int().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    published_at: z.string().nullable(),
  })
  .openapi('MediaItemSummary')

const ItemDetail = ItemSummary.extend({
  fingerprints: z.object({ sha256: z.string().nullable(), md5: z.string().nullable(), pdq_hex: z.string().nullable(), pdq_quality: z.number().int().nullable() }),
  performers: z.array(z.object({ performer_id: z.string(), added_at: z.string() })),
  review: z.object({ status: z.string(), priority: z.number().int(), due_at: z.string(), decision: z.string().nullable() }).nullable(),
  open_cases: z.number().int(),
  cases: z.number().int(),
  upload: z.object({ id: z.string(), protocol: z.string(), status: z.string(), declared_length: z.number().int().nullable(), received_bytes: z.number().int() }).nullable(),
}).openapi('MediaItem')

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function summary(row: ItemRow): z.infer<typeof ItemSummary> {
  return {
    id: row.id,
    creator_id: row.creator_id,
    brand_id: row.brand_id,
    kind: row.kind,
    status: row.status as z.infer<typeof ItemSummary>['status'],
    status_reason: row.status_reason,
    access: row.access,
    title: row.title,
    description: row.description,
    tags: JSON.parse(row.tags_json) as string[],
    mime: row.mime,
    size_bytes: row.size_bytes,
    width: row.width,
    height: row.height,
    duration_ms: row.duration_ms,
    created_at: iso(row.created_at_ms)!,
    updated_at: iso(row.updated_at_ms)!,
    published_at: iso(row.published_at_ms),
  }
}

async function detail(d1: D1Database, row: ItemRow): Promise<z.infer<typeof ItemDetail>> {
  const [performers, review, cases, upload] = await d1.batch([
    d1.prepare('SELECT performer_id, added_at_ms FROM media_item_performers WHERE item_id = ? ORDER BY performer_id').bind(row.id),
    d1.prepare('SELECT status, priority, due_at_ms, decision FROM media_reviews WHERE item_id = ?').bind(row.id),
    d1.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(status = 'open'), 0) AS open FROM media_cases WHERE item_id = ?").bind(row.id),
    d1.prepare('SELECT id, protocol, status, declared_length, received_bytes FROM media_uploads WHERE item_id = ? ORDER BY id DESC LIMIT 1').bind(row.id),
  ])
  const r = (review!.results as Array<{ status: string; priority: number; due_at_ms: number; decision: string | null }>)[0]
  const c = (cases!.results as Array<{ n: number; open: number }>)[0]!
  const u = (upload!.results as Array<{ id: string; protocol: string; status: string; declared_length: number | null; received_bytes: number }>)[0]
  return {
    ...summary(row),
    fingerprints: { sha256: row.sha256, md5: row.md5, pdq_hex: row.pdq_hex, pdq_quality: row.pdq_quality },
    performers: (performers!.results as Array<{ performer_id: string; added_at_ms: number }>).map((p) => ({ performer_id: p.performer_id, added_at: iso(p.added_at_ms)! })),
    review: r ? { status: r.status, priority: r.priority, due_at: iso(r.due_at_ms)!, decision: r.decision } : null,
    open_cases: c.open,
    cases: c.n,
    upload: u ?? null,
  }
}

const ListQuery = PageQuery.extend({
  status: z.enum(MEDIA_STATUSES).optional(),
  kind: z.enum(MEDIA_KINDS).optional(),
  brand_id: z.string().max(64).optional(),
  creator_id: z.string().max(64).optional(),
  tag: Tag.optional(),
  performer_id: z.string().max(64).optional(),
  q: z.string().max(200).optional().openapi({ description: 'full text over title, description and tags (words, prefix match)' }),
})

const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'med_01JFANZ0000000000000000001' }) })
const CreatorParam = z.object({ creatorId: z.string().min(1).max(64).openapi({ param: { name: 'creatorId', in: 'path' }, example: 'crt_01JFANZ0000000000000000101' }) })

const PatchBody = z
  .object({
    title: z.string().max(200).optional(),
    description: z.string().max(5000).optional(),
    tags: z
      .array(Tag)
      .max(30)
      .refine((tags) => new Set(tags).size === tags.length, 'tags must be unique')
      .optional(),
    access: z.enum(['subscribers', 'public']).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change')

const PerformersBody = z
  .object({
    performer_ids: z
      .array(z.string().min(1).max(64))
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, 'performer ids must be unique'),
  })
  .strict()

const QuotaView = z
  .object({
    creator_id: z.string(),
    quota_bytes: z.number().int(),
    default: z.boolean(),
    stored_bytes: z.number().int(),
    reserved_bytes: z.number().int().openapi({ description: 'declared by open uploads' }),
    available_bytes: z.number().int(),
  })
  .openapi('MediaQuota')

const QuotaBody = z.object({ quota_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().openapi({ description: 'null: back to the platform default' }) }).strict()

async function quotaView(env: Env, creatorId: string): Promise<z.infer<typeof QuotaView>> {
  const own = await env.DB.prepare('SELECT quota_bytes FROM media_quotas WHERE creator_id = ?').bind(creatorId).first<{ quota_bytes: number }>()
  const quota = await quotaOf(env, creatorId)
  const usage = await usageOf(env, creatorId)
  return { creator_id: creatorId, quota_bytes: quota, default: own === null, stored_bytes: usage.storedBytes, reserved_bytes: usage.reservedBytes, available_bytes: Math.max(0, quota - usage.storedBytes - usage.reservedBytes) }
}

/** Statuses from which the creator may delete an item (module doc). */
const DELETABLE = new Set(['uploading', 'in_review', 'rejected', 'approved', 'failed'])

export function registerItems(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute(
      ownOrRead({
        method: 'get',
        path: '/items',
        tags: ['media'],
        summary: 'Media items newest first: a creator’s own, or any for media:read; filters and full-text search',
        request: { query: ListQuery },
        responses: { 200: json('A page of items', z.object({ items: z.array(ItemSummary), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
      }),
    ),
    async (c) => {
      const { cursor, limit, ...filters } = c.req.valid('query')
      const scope = await readerScope(c)
      const page = await searchItems(c.env.DB, filters, scope.readsAll ? null : scope.creatorIds, { cursor, limit })
      return c.json({ items: page.rows.map(summary), next_cursor: page.next_cursor }, 200, { 'cache-control': 'private, no-store' })
    },
  )

  app.openapi(
    createRoute(
      ownOrRead({
        method: 'get',
        path: '/items/{id}',
        tags: ['media'],
        summary: 'One media item with fingerprints, performers, review state and cases',
        request: { params: IdParam },
        responses: { 200: json('The item', ItemDetail), ...problemResponses(401, 403, 404) },
      }),
    ),
    async (c) => {
      const row = await visibleItem(c, c.req.valid('param').id)
      return c.json(await detail(c.env.DB, row), 200, { 'cache-control': 'private, no-store' })
    },
  )

  app.openapi(
    createRoute(
      withAccess(permission(OWN), {
        method: 'patch',
        path: '/items/{id}',
        tags: ['media'],
        summary: 'Change an item’s title, description, tags or access (its creator)',
        request: { params: IdParam, body: jsonBody(PatchBody) },
        responses: { 200: json('The item', ItemDetail), ...problemResponses(401, 403, 404, 409, 422) },
      }),
    ),
    async (c) => {
      const row = await visibleItem(c, c.req.valid('param').id, { write: true })
      if (row.status === 'removed') throw new ProblemError('CONFLICT', { detail: `item ${row.id} is removed` })
      const body = c.req.valid('json')
      const before: Record<string, string | string[]> = {}
      const after: Record<string, string | string[]> = {}
      const sets: string[] = []
      const binds: unknown[] = []
      const current = { title: row.title, description: row.description, tags: JSON.parse(row.tags_json) as string[], access: row.access }
      for (const key of ['title', 'description', 'tags', 'access'] as const) {
        const value = body[key]
        if (value === undefined || JSON.stringify(value) === JSON.stringify(current[key])) continue
        before[key] = current[key]
        after[key] = value
        sets.push(`${key === 'tags' ? 'tags_json' : key} = ?`)
        binds.push(key === 'tags' ? JSON.stringify(value) : value)
      }
      if (sets.length) {
        const nowMs = Date.now()
        await c.env.DB.prepare(`UPDATE media_items SET ${sets.join(', ')}, updated_at_ms = ? WHERE id = ?`)
          .bind(...binds, nowMs, row.id)
          .run()
        await audit(c, 'media.item.update', `media_item:${row.id}`, { before, after })
      }
      return c.json(await detail(c.env.DB, (await visibleItem(c, row.id))!), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(permission(OWN), {
        method: 'put',
        path: '/items/{id}/performers',
        tags: ['media'],
        summary: 'Set the performers depicted (vault performer records); publication needs each one’s 2257 record and consent',
        request: { params: IdParam, body: jsonBody(PerformersBody) },
        responses: { 200: json('The item', ItemDetail), ...problemResponses(401, 403, 404, 409, 422) },
      }),
    ),
    async (c) => {
      const row = await visibleItem(c, c.req.valid('param').id, { write: true })
      // once published, the 2257 check that let it out was made for these performers
      if (row.status === 'removed' || row.status === 'published') throw new ProblemError('CONFLICT', { detail: `item ${row.id} is ${row.status}: its performers cannot change` })
      const { performer_ids: ids } = c.req.valid('json')
      if (ids.length) {
        const { results } = await c.env.DB.prepare(`SELECT id FROM performer_records WHERE id IN (${ids.map(() => '?').join(', ')})`)
          .bind(...ids)
          .all<{ id: string }>()
        const known = new Set(results.map((r) => r.id))
        const errors = ids.flatMap((id, i) => (known.has(id) ? [] : [{ path: `body.performer_ids.${i}`, message: `no performer record ${id}` }]))
        if (errors.length) throw new ProblemError('VALIDATION_FAILED', { detail: `unknown performer records: ${ids.filter((id) => !known.has(id)).join(', ')}`, errors })
      }
      const { results: previous } = await c.env.DB.prepare('SELECT performer_id FROM media_item_performers WHERE item_id = ? ORDER BY performer_id').bind(row.id).all<{ performer_id: string }>()
      const nowMs = Date.now()
      const subject = authenticated(c).subject
      await c.env.DB.batch([
        c.env.DB.prepare('DELETE FROM media_item_performers WHERE item_id = ?').bind(row.id),
        ...ids.map((id) => c.env.DB.prepare('INSERT INTO media_item_performers (item_id, performer_id, added_by, added_at_ms) VALUES (?, ?, ?, ?)').bind(row.id, id, subject, nowMs)),
        c.env.DB.prepare('UPDATE media_items SET updated_at_ms = ? WHERE id = ?').bind(nowMs, row.id),
      ])
      await audit(c, 'media.item.performers', `media_item:${row.id}`, { before: previous.map((p) => p.performer_id), after: [...ids].sort() })
      return c.json(await detail(c.env.DB, await visibleItem(c, row.id)), 200)
    },
  )

  app.openapi(
    createRoute(
      withAccess(permission(OWN), {
        method: 'delete',
        path: '/items/{id}',
        tags: ['media'],
        summary: 'Delete an unpublished item: its bytes are deleted, the row stays as removed (deleted_by_creator)',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404, 409) },
      }),
    ),
    async (c) => {
      const row = await visibleItem(c, c.req.valid('param').id, { write: true })
      if (!DELETABLE.has(row.status)) {
        const why = row.status === 'quarantined' ? 'it is quarantined: a hash-list match is preserved as evidence' : row.status === 'processing' ? 'ingest is still fingerprinting it; try again in a moment' : `it is ${row.status}`
        throw new ProblemError('CONFLICT', { detail: `item ${row.id} cannot be deleted: ${why}` })
      }
      const nowMs = Date.now()
      if (row.status === 'uploading') {
        const { results } = await c.env.DB.prepare("SELECT id FROM media_uploads WHERE item_id = ? AND status = 'open'").bind(row.id).all<{ id: string }>()
        for (const upload of results) await terminateUpload(c, upload.id, 'deleted_by_creator', nowMs)
      }
      if (row.original_key) await c.env.MEDIA.delete(row.original_key)
      // derived objects (renditions, keyframes, marked copies, HLS variants) go with the original
      for (let cursor: string | undefined, more = true; more; ) {
        const listed = await c.env.MEDIA.list({ prefix: `renditions/${row.id}/`, cursor, limit: 1000 })
        if (listed.objects.length) await c.env.MEDIA.delete(listed.objects.map((o) => o.key))
        more = listed.truncated
        cursor = listed.truncated ? listed.cursor : undefined
      }
      await c.env.DB.prepare("UPDATE media_items SET status = 'removed', status_reason = 'deleted_by_creator', original_key = NULL, removed_at_ms = ?, updated_at_ms = ? WHERE id = ?").bind(nowMs, nowMs, row.id).run()
      await audit(c, 'media.item.delete', `media_item:${row.id}`, { status_before: row.status, reason: 'deleted_by_creator' })
      return c.body(null, 204)
    },
  )

  app.openapi(
    createRoute(
      ownOrRead({
        method: 'get',
        path: '/quotas/{creatorId}',
        tags: ['media'],
        summary: 'A creator’s storage quota and usage (the creator, or media:read)',
        request: { params: CreatorParam },
        responses: { 200: json('Quota and usage', QuotaView), ...problemResponses(401, 403, 404) },
      }),
    ),
    async (c) => {
      const { creatorId } = c.req.valid('param')
      const scope = await readerScope(c)
      const exists = await c.env.DB.prepare('SELECT 1 AS one FROM creators WHERE id = ?').bind(creatorId).first()
      if (!exists || !(scope.readsAll || scope.creatorIds.includes(creatorId))) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId} for you` })
      return c.json(await quotaView(c.env, creatorId), 200, { 'cache-control': 'private, no-store' })
    },
  )

  app.openapi(
    createRoute(
      withAccess(permission('media:quotas:manage'), {
        method: 'put',
        path: '/quotas/{creatorId}',
        tags: ['media'],
        summary: 'Set a creator’s storage quota (null: the platform default)',
        request: { params: CreatorParam, body: jsonBody(QuotaBody) },
        responses: { 200: json('Quota and usage', QuotaView), ...problemResponses(401, 403, 404, 422) },
      }),
    ),
    async (c) => {
      const { creatorId } = c.req.valid('param')
      const { quota_bytes: quota } = c.req.valid('json')
      const exists = await c.env.DB.prepare('SELECT 1 AS one FROM creators WHERE id = ?').bind(creatorId).first()
      if (!exists) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId}` })
      const before = await quotaView(c.env, creatorId)
      if (quota === null) await c.env.DB.prepare('DELETE FROM media_quotas WHERE creator_id = ?').bind(creatorId).run()
      else
        await c.env.DB.prepare('INSERT INTO media_quotas (creator_id, quota_bytes, updated_by, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT(creator_id) DO UPDATE SET quota_bytes = excluded.quota_bytes, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms')
          .bind(creatorId, quota, authenticated(c).subject, Date.now())
          .run()
      const after = await quotaView(c.env, creatorId)
      await audit(c, 'media.quota.set', `creator:${creatorId}`, { before: before.default ? null : before.quota_bytes, after: quota })
      return c.json(after, 200)
    },
  )
}

