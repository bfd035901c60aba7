/**
 * `/api/media/hash-lists`: compliance manages the lists uploads are matched against (StopNCII-style
 * non-consensual imagery lists, a provider's illegal-content list, manual lists, and the platform's
 * own list of removed content, which only removals feed). Entries live in the HashIndex object;
 * files are imported through the queue in chunks; moderators and compliance can check hashes
 * without an upload. Every change is audited (`media.hashlist.*`).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { hashListKeys } from '../../../r2/keys'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { anyPermission, permission, withAccess } from '../../sso/roles/access'
import { MAX_DISTANCE, MAX_QUERY_HASHES, MAX_REMOVE_BATCH } from '../../../durable-objects/hash-index'
import { bytesToHex } from './hamming'
import { DEFAULT_CHUNK_LINES, importMessage, MAX_KEPT_ERRORS, type ImportLineError } from './import-consumer'
import { activeLists, hashIndex, PLATFORM_LIST_ID, withSources } from './match'

const ListId = z.string().regex(/^hl_([0-9A-HJKMNP-TV-Z]{26}|platform_removed)$/, 'must be a hash list id')
const ImportId = z.string().regex(/^hli_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a hash list import id')
const SOURCES = ['ncii', 'illegal_content', 'platform_removed', 'manual'] as const
const CREATABLE_SOURCES = ['ncii', 'illegal_content', 'manual'] as const
const PdqHex = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a PDQ hash: 64 hex digits').transform((s) => s.toLowerCase())
const Md5Hex = z.string().regex(/^[0-9a-fA-F]{32}$/, 'must be an MD5: 32 hex digits').transform((s) => s.toLowerCase())
const AnyHash = z.string().regex(/^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/, 'must be a PDQ (64 hex digits) or an MD5 (32 hex digits)').transform((s) => s.toLowerCase())

const HashList = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.enum(SOURCES),
    provider: z.string(),
    active: z.boolean().openapi({ description: 'inactive lists are kept but not matched' }),
    entry_count: z.number().int(),
    created_by: z.string(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('MediaHashList')

const Import = z
  .object({
    id: z.string(),
    list_id: z.string(),
    sha256: z.string(),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    lines_read: z.number().int().openapi({ description: 'lines processed so far; the file\'s line count once done' }),
    added: z.number().int(),
    duplicates: z.number().int().openapi({ description: 'hashes already in the list (or repeated in the file)' }),
    invalid: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })).openapi({ description: `the first ${MAX_KEPT_ERRORS} invalid lines` }),
    created_by: z.string(),
    created_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('MediaHashListImport')

const Match = z
  .object({
    list_id: z.string(),
    source: z.enum(SOURCES),
    kind: z.enum(['pdq', 'md5']),
    entry_hash: z.string(),
    query_hash: z.string(),
    distance: z.number().int(),
    ref: z.string().nullable(),
  })
  .openapi('MediaHashMatch')

const manage = permission('media:hashlists:manage')
const tags = ['media']

export const listRoute = createRoute(withAccess(manage, {
  method: 'get',
  path: '/hash-lists',
  tags,
  summary: 'Hash lists, newest first (the platform\'s own list included)',
  request: { query: PageQuery },
  responses: { 200: json('A page of lists', z.object({ items: z.array(HashList), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
}))

export const createListRoute = createRoute(withAccess(manage, {
  method: 'post',
  path: '/hash-lists',
  tags,
  summary: 'Create a hash list (entries come by import)',
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(120),
          source: z.enum(CREATABLE_SOURCES).openapi({ description: '`platform_removed` is the platform\'s own list and cannot be created' }),
          provider: z.string().trim().min(1).max(120).openapi({ example: 'StopNCII' }),
          active: z.boolean().default(true),
        })
        .strict(),
    ),
  },
  responses: { 201: json('The list', HashList), ...problemResponses(400, 401, 403, 422) },
}))

export const viewRoute = createRoute(withAccess(manage, {
  method: 'get',
  path: '/hash-lists/{id}',
  tags,
  summary: 'One list with its entry counts by kind and its latest imports',
  request: { params: z.object({ id: ListId }) },
  responses: {
    200: json('The list', HashList.extend({ counts: z.object({ pdq: z.number().int(), md5: z.number().int() }), imports: z.array(Import) })),
    ...problemResponses(400, 401, 403, 404),
  },
}))

export const patchRoute = createRoute(withAccess(manage, {
  method: 'patch',
  path: '/hash-lists/{id}',
  tags,
  summary: 'Activate or deactivate a list (deactivated lists are not matched), or rename it',
  request: {
    params: z.object({ id: ListId }),
    body: jsonBody(
      z
        .object({ active: z.boolean().optional(), name: z.string().trim().min(1).max(120).optional(), provider: z.string().trim().min(1).max(120).optional() })
        .strict()
        .refine((b) => b.active !== undefined || b.name !== undefined || b.provider !== undefined, { message: 'nothing to change: send active, name or provider' }),
    ),
  },
  responses: { 200: json('The list', HashList), ...problemResponses(400, 401, 403, 404, 409, 422) },
}))

export const deleteRoute = createRoute(withAccess(manage, {
  method: 'delete',
  path: '/hash-lists/{id}',
  tags,
  summary: 'Delete a list and all its entries (not the platform\'s own list)',
  request: { params: z.object({ id: ListId }) },
  responses: { 200: json('Deleted', z.object({ id: z.string(), removed_entries: z.number().int() })), ...problemResponses(400, 401, 403, 404, 409) },
}))

export const importRoute = createRoute(withAccess(manage, {
  method: 'post',
  path: '/hash-lists/{id}/imports',
  tags,
  summary: 'Import a file of hashes into a list (processed by the queue in chunks)',
  description: [
    'Body = the file (text/plain or text/csv, UTF-8), one hash per line: `pdq,<64 hex>[,ref]`, `md5,<32 hex>[,ref]`, or a bare 64-hex PDQ / 32-hex MD5. Blank lines, `#` comments and a `kind,hash,ref` header are skipped.',
    'The file is kept as received; the same file again for the same list is the same import (202 with its id, nothing imported twice).',
    `Invalid lines are counted with their line number and reason (the first ${MAX_KEPT_ERRORS} kept). The platform's own list takes no imports: only removals feed it.`,
  ].join(' '),
  request: {
    params: z.object({ id: ListId }),
    body: {
      required: true,
      content: {
        'text/plain': { schema: z.string().openapi({ description: 'one hash per line' }) },
        'text/csv': { schema: z.string().openapi({ description: 'kind,hash[,ref] per line' }) },
      },
    },
  },
  responses: {
    202: json('Accepted: the import (follow it at its URL)', Import.extend({ duplicate_file: z.boolean().openapi({ description: 'true when this file had been imported into this list before' }) })),
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422),
  },
}))

export const importViewRoute = createRoute(withAccess(manage, {
  method: 'get',
  path: '/hash-lists/{id}/imports/{importId}',
  tags,
  summary: 'An import\'s progress and invalid lines',
  request: { params: z.object({ id: ListId, importId: ImportId }) },
  responses: { 200: json('The import', Import), ...problemResponses(400, 401, 403, 404) },
}))

export const removeEntriesRoute = createRoute(withAccess(manage, {
  method: 'delete',
  path: '/hash-lists/{id}/entries',
  tags,
  summary: 'Remove hashes from a list',
  request: {
    params: z.object({ id: ListId }),
    body: jsonBody(z.object({ hashes: z.array(AnyHash).min(1).max(MAX_REMOVE_BATCH), reason: z.string().trim().min(3).max(500) }).strict()),
  },
  responses: { 200: json('Removed', z.object({ removed: z.number().int(), not_found: z.number().int() })), ...problemResponses(400, 401, 403, 404, 422) },
}))

// what moderators and hash-list managers do, whatever else they may read
export const matchRoute = createRoute(withAccess(anyPermission('media:moderate', 'media:hashlists:manage'), {
  method: 'post',
  path: '/hash-matches',
  tags,
  summary: 'Check hashes against every active list without an upload (moderators and compliance)',
  description: 'Send the PDQ hashes of an image (e.g. its 8 dihedral variants) and/or an MD5. PDQ matches are entries within `max_distance` bits (default 31, the confident-match threshold; at most 47); MD5 matches are exact.',
  request: {
    body: jsonBody(
      z
        .object({
          pdq: z.array(PdqHex).max(MAX_QUERY_HASHES).default([]),
          md5: Md5Hex.optional(),
          // up to 47 the multi-index answers (probe radius 2); wider searches would scan every entry
          max_distance: z.number().int().min(0).max(Math.min(47, MAX_DISTANCE)).default(31),
        })
        .strict()
        .refine((b) => b.pdq.length > 0 || b.md5 !== undefined, { message: 'send at least one PDQ hash or an MD5', path: ['pdq'] }),
    ),
  },
  responses: {
    200: json('Matches, closest first', z.object({ matches: z.array(Match), candidates_verified: z.number().int(), method: z.enum(['multi-index', 'scan']) })),
    ...problemResponses(400, 401, 403, 422),
  },
}))

type ListRow = { id: string; name: string; source: (typeof SOURCES)[number]; provider: string; active: number; entry_count: number; created_by: string; created_at_ms: number; updated_at_ms: number }
type ImportRow = {
  id: string
  list_id: string
  sha256: string
  status: 'queued' | 'running' | 'done' | 'failed'
  lines_total: number
  added: number
  duplicates: number
  invalid: number
  errors_json: string
  created_by: string
  created_at_ms: number
  finished_at_ms: number | null
  object_key: string
}
const LIST_COLUMNS = 'id, name, source, provider, active, entry_count, created_by, created_at_ms, updated_at_ms'
const IMPORT_COLUMNS = 'id, list_id, sha256, status, lines_total, added, duplicates, invalid, errors_json, created_by, created_at_ms, finished_at_ms, object_key'
const iso = (ms: number) => new Date(ms).toISOString()

const listView = (r: ListRow) => ({
  id: r.id,
  name: r.name,
  source: r.source,
  provider: r.provider,
  active: r.active === 1,
  entry_count: r.entry_count,
  created_by: r.created_by,
  created_at: iso(r.created_at_ms),
  updated_at: iso(r.updated_at_ms),
})

const importView = (r: ImportRow) => ({
  id: r.id,
  list_id: r.list_id,
  sha256: r.sha256,
  status: r.status,
  lines_read: r.lines_total,
  added: r.added,
  duplicates: r.duplicates,
  invalid: r.invalid,
  errors: JSON.parse(r.errors_json) as ImportLineError[],
  created_by: r.created_by,
  created_at: iso(r.created_at_ms),
  finished_at: r.finished_at_ms === null ? null : iso(r.finished_at_ms),
})

async function listOr404(env: Env, id: string): Promise<ListRow> {
  const row = await env.DB.prepare(`SELECT ${LIST_COLUMNS} FROM media_hash_lists WHERE id = ?`).bind(id).first<ListRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no hash list ${id}` })
  return row
}

function refused(r: { ok: false; code: string }): never {
  // inputs are validated before they reach the object; a refusal is a bug, not the caller's fault
  throw new Error(`hash index refused: ${JSON.stringify(r)}`)
}

const actorOf = (c: Context<AppEnv>) => c.var.auth?.subject ?? 'anonymous'

export function registerHashLists(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<ListRow>(c.env.DB, { from: 'media_hash_lists', columns: LIST_COLUMNS, filters: [], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(listView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(createListRoute, async (c) => {
    const body = c.req.valid('json')
    const now = Date.now()
    const id = newId('hashList', now)
    await c.env.DB.prepare('INSERT INTO media_hash_lists (id, name, source, provider, active, entry_count, created_by, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)')
      .bind(id, body.name, body.source, body.provider, body.active ? 1 : 0, actorOf(c), now, now)
      .run()
    await audit(c, 'media.hashlist.create', `hash_list:${id}`, { name: body.name, source: body.source, provider: body.provider, active: body.active })
    return c.json(listView(await listOr404(c.env, id)), 201)
  })

  app.openapi(viewRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await listOr404(c.env, id)
    const [counts] = await hashIndex(c.env).listCounts(id)
    const { results } = await c.env.DB.prepare(`SELECT ${IMPORT_COLUMNS} FROM media_hash_list_imports WHERE list_id = ? ORDER BY id DESC LIMIT 10`).bind(id).all<ImportRow>()
    return c.json({ ...listView(row), counts: { pdq: counts?.pdq ?? 0, md5: counts?.md5 ?? 0 }, imports: results.map(importView) }, 200)
  })

  app.openapi(patchRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const row = await listOr404(c.env, id)
    if (id === PLATFORM_LIST_ID && body.active === false) {
      throw new ProblemError('CONFLICT', { detail: 'the platform\'s list of removed content cannot be deactivated: re-uploads of removed content must stay blocked', errors: [{ path: 'body.active', message: 'the platform list is always active' }] })
    }
    const next = { name: body.name ?? row.name, provider: body.provider ?? row.provider, active: body.active ?? row.active === 1 }
    await c.env.DB.prepare('UPDATE media_hash_lists SET name = ?, provider = ?, active = ?, updated_at_ms = ? WHERE id = ?').bind(next.name, next.provider, next.active ? 1 : 0, Date.now(), id).run()
    const action = body.active === undefined || body.active === (row.active === 1) ? 'media.hashlist.update' : body.active ? 'media.hashlist.activate' : 'media.hashlist.deactivate'
    await audit(c, action, `hash_list:${id}`, { before: { name: row.name, provider: row.provider, active: row.active === 1 }, after: next })
    return c.json(listView(await listOr404(c.env, id)), 200)
  })

  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await listOr404(c.env, id)
    if (id === PLATFORM_LIST_ID) throw new ProblemError('CONFLICT', { detail: 'the platform\'s list of removed content cannot be deleted' })
    // the catalogue row goes first: from then on nothing matches the list, whatever the index still holds
    await c.env.DB.batch([
      c.env.DB.prepare('DELETE FROM media_hash_lists WHERE id = ?').bind(id),
      c.env.DB.prepare("UPDATE media_hash_list_imports SET status = 'failed', finished_at_ms = ? WHERE list_id = ? AND status IN ('queued', 'running')").bind(Date.now(), id),
    ])
    const index = hashIndex(c.env)
    let removed = 0
    for (;;) {
      const r = await index.dropList(id)
      if (!r.ok) refused(r)
      removed += r.removed
      if (r.remaining === 0) break
    }
    await audit(c, 'media.hashlist.delete', `hash_list:${id}`, { name: row.name, source: row.source, provider: row.provider, removed_entries: removed })
    return c.json({ id, removed_entries: removed }, 200)
  })

  app.openapi(importRoute, async (c) => {
    const { id } = c.req.valid('param')
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'text/plain' && type !== 'text/csv') throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'send the hash file as text/plain or text/csv' })
    await listOr404(c.env, id)
    if (id === PLATFORM_LIST_ID) throw new ProblemError('CONFLICT', { detail: 'the platform\'s list of removed content takes no imports: only removals feed it' })
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    if (!bytes.byteLength) throw new ProblemError('VALIDATION_FAILED', { detail: 'the file is empty', errors: [{ path: 'body', message: 'empty file' }] })
    const sha256 = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
    const findImport = () => c.env.DB.prepare(`SELECT ${IMPORT_COLUMNS} FROM media_hash_list_imports WHERE list_id = ? AND sha256 = ?`).bind(id, sha256).first<ImportRow>()
    const earlier = await findImport()
    if (earlier) {
      // still queued: the first message may have been lost; sending it again is harmless (chunks apply once)
      if (earlier.status === 'queued' && earlier.lines_total === 0) await c.env.MEDIA_INGEST.send(importMessage({ importId: earlier.id, startLine: 0, startByte: 0, chunkLines: DEFAULT_CHUNK_LINES }), { contentType: 'json' })
      return c.json({ ...importView(earlier), duplicate_file: true }, 202)
    }
    const key = hashListKeys.importFile(id, sha256)
    await c.env.EXPORTS.put(key, bytes, { httpMetadata: { contentType: `${type}; charset=utf-8` }, customMetadata: { listId: id, uploadedBy: actorOf(c) }, sha256 })
    const now = Date.now()
    const importId = newId('hashListImport', now)
    await c.env.DB.prepare(
      `INSERT INTO media_hash_list_imports (id, list_id, object_key, sha256, status, created_by, created_at_ms) VALUES (?, ?, ?, ?, 'queued', ?, ?)
       ON CONFLICT (list_id, sha256) DO NOTHING`,
    ).bind(importId, id, key, sha256, actorOf(c), now).run()
    const row = (await findImport())!
    if (row.id !== importId) return c.json({ ...importView(row), duplicate_file: true }, 202)
    await c.env.MEDIA_INGEST.send(importMessage({ importId, startLine: 0, startByte: 0, chunkLines: DEFAULT_CHUNK_LINES }), { contentType: 'json' })
    await audit(c, 'media.hashlist.import', `hash_list:${id}`, { import_id: importId, sha256, bytes: bytes.byteLength })
    c.header('location', `/api/media/hash-lists/${id}/imports/${importId}`)
    return c.json({ ...importView(row), duplicate_file: false }, 202)
  })

  app.openapi(importViewRoute, async (c) => {
    const { id, importId } = c.req.valid('param')
    const row = await c.env.DB.prepare(`SELECT ${IMPORT_COLUMNS} FROM media_hash_list_imports WHERE id = ? AND list_id = ?`).bind(importId, id).first<ImportRow>()
    if (!row) throw new ProblemError('NOT_FOUND', { detail: `no import ${importId} in hash list ${id}` })
    return c.json(importView(row), 200)
  })

  app.openapi(removeEntriesRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    await listOr404(c.env, id)
    const r = await hashIndex(c.env).remove(id, body.hashes)
    if (!r.ok) refused(r)
    if (r.removed) await c.env.DB.prepare('UPDATE media_hash_lists SET entry_count = MAX(0, entry_count - ?), updated_at_ms = ? WHERE id = ?').bind(r.removed, Date.now(), id).run()
    await audit(c, 'media.hashlist.entries_remove', `hash_list:${id}`, { reason: body.reason, requested: body.hashes.length, removed: r.removed, not_found: r.notFound, hashes: body.hashes.slice(0, 100) })
    return c.json({ removed: r.removed, not_found: r.notFound }, 200)
  })

  app.openapi(matchRoute, async (c) => {
    const body = c.req.valid('json')
    const lists = await activeLists(c.env)
    if (!lists.size) return c.json({ matches: [], candidates_verified: 0, method: 'multi-index' as const }, 200)
    const r = await hashIndex(c.env).match({ pdq: body.pdq, md5: body.md5 ?? null }, body.max_distance, [...lists.keys()])
    if (!r.ok) refused(r)
    const matches = withSources(r.matches, lists).map((m) => ({ list_id: m.listId, source: m.source, kind: m.kind, entry_hash: m.entryHash, query_hash: m.queryHash, distance: m.distance, ref: m.ref }))
    return c.json({ matches, candidates_verified: r.candidates, method: r.method }, 200)
  })
}
