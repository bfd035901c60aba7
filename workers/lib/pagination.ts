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
