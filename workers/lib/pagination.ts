import { z } from '@hono/zod-openapi'
import { ProblemError } from '../edge/problem'
import { base64url, fromBase64url, utf8 } from './encoding'

/** `?cursor=&limit=`: every list has a default and a maximum. */
export const PageQuery = z.object({
  cursor: z.string().max(512).optional().openapi({ description: 'opaque cursor from `next_cursor`' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

export function encodeCursor(value: unknown): string {
  return base64url(utf8(JSON.stringify(value)))
}

/** Decodes a cursor made by `encodeCursor`; a tampered or foreign cursor yields undefined. */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (!cursor) return undefined
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(fromBase64url(cursor))))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Decodes `?cursor=`; a cursor from elsewhere is a 400 naming the parameter. */
export function cursorOf<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  const value = decodeCursor(cursor, schema)
  if (cursor && value === undefined) throw new ProblemError('BAD_REQUEST', { detail: 'cursor is not valid', errors: [{ path: 'query.cursor', message: 'not a cursor from this list' }] })
  return value
}

/**
 * One page of a table whose ids are ULIDs, newest first: id order is creation order and a stable
 * cursor. `filters` are column = value pairs (undefined values are skipped); column names come from
 * code, never from a request.
 */
export async function newestFirstPage<Row extends { id: string }>(
  d1: D1Database,
  query: { from: string; columns?: string; filters: ReadonlyArray<readonly [column: string, value: unknown]>; cursor: string | undefined; limit: number },
): Promise<{ rows: Row[]; next_cursor: string | null }> {
  const after = cursorOf(query.cursor, z.object({ id: z.string() }))
  const where: string[] = []
  const binds: unknown[] = []
  for (const [column, value] of query.filters) {
    if (value === undefined) continue
    if (!/^[a-z_]+$/.test(column)) throw new Error(`newestFirstPage: bad column ${column}`)
    where.push(`${column} = ?`)
    binds.push(value)
  }
  if (after) (where.push('id < ?'), binds.push(after.id))
  const { results } = await d1
    .prepare(`SELECT ${query.columns ?? '*'} FROM ${query.from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
    .bind(...binds, query.limit + 1)
    .all<Row>()
  const rows = results.slice(0, query.limit)
  return { rows, next_cursor: results.length > query.limit ? encodeCursor({ id: rows.at(-1)!.id }) : null }
}
