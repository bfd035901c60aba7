import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1'
import * as schema from '../../d1/schema'

export type Db = DrizzleD1Database<typeof schema>

const cache = new WeakMap<D1Database, Db>()

/** One drizzle handle per D1 binding per isolate. */
export function db(d1: D1Database): Db {
  let handle = cache.get(d1)
  if (!handle) {
    handle = drizzle(d1, { schema })
    cache.set(d1, handle)
  }
  return handle
}
