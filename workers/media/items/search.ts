/**
 * Item listing and full-text search over D1's FTS5 table `media_search` (contentless; its rowid is
 * media_items' rowid, kept by triggers in migration 0015).
 *
 * The user's words never reach FTS5 as syntax: `q` is cut into words (letters and digits), each
 * becomes a quoted FTS5 string with a prefix star (`"beach"*`), joined by spaces (AND). So `"`, `*`,
 * `NEAR(`, `OR`, `-`, `:` are plain text or dropped, never an FTS5 syntax error (a 500).
 * @module
 */
import { z } from 'zod'
import { cursorOf, encodeCursor } from '../../lib/pagination'
import type { ItemRow } from './access'

/** Words of a search box as a safe FTS5 query, or null when no word is left. */
export function ftsQuery(q: string): string | null {
  const words = q.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []
  const terms = words.slice(0, 12).map((w) => `"${w.replaceAll('"', '""')}"*`)
  return terms.length ? terms.join(' ') : null
}

export interface ItemFilters {
  status?: string
  kind?: string
  brand_id?: string
  creator_id?: string
  tag?: string
  performer_id?: string
  q?: string
}

/**
 * One page of items newest first. `creatorIds` limits the page to those creators (a creator's own
 * profiles); null means any creator (a `media:read` holder).
 */
export async function searchItems(d1: D1Database, filters: ItemFilters, creatorIds: string[] | null, page: { cursor?: string; limit: number }): Promise<{ rows: ItemRow[]; next_cursor: string | null }> {
  if (creatorIds !== null && creatorIds.length === 0) return { rows: [], next_cursor: null }
  const where: string[] = []
  const binds: unknown[] = []
  if (creatorIds !== null) {
    where.push(`i.creator_id IN (${creatorIds.map(() => '?').join(', ')})`)
    binds.push(...creatorIds)
  }
  for (const column of ['status', 'kind', 'brand_id', 'creator_id'] as const) {
    const value = filters[column]
    if (value !== undefined) (where.push(`i.${column} = ?`), binds.push(value))
  }
  if (filters.tag !== undefined) (where.push('EXISTS (SELECT 1 FROM json_each(i.tags_json) t WHERE t.value = ?)'), binds.push(filters.tag))
  if (filters.performer_id !== undefined) (where.push('EXISTS (SELECT 1 FROM media_item_performers p WHERE p.item_id = i.id AND p.performer_id = ?)'), binds.push(filters.performer_id))
  if (filters.q !== undefined) {
    const match = ftsQuery(filters.q)
    if (match === null) return { rows: [], next_cursor: null }
    where.push('i.rowid IN (SELECT rowid FROM media_search WHERE media_search MATCH ?)')
    binds.push(match)
  }
  const after = cursorOf(page.cursor, z.object({ id: z.string() }))
  if (after) (where.push('i.id < ?'), binds.push(after.id))
  const { results } = await d1
    .prepare(`SELECT i.rowid, i.* FROM media_items i ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY i.id DESC LIMIT ?`)
    .bind(...binds, page.limit + 1)
    .all<ItemRow>()
  const rows = results.slice(0, page.limit)
  return { rows, next_cursor: results.length > page.limit ? encodeCursor({ id: rows.at(-1)!.id }) : null }
}
