/**
 * D1 access to `merchant_ids` (d1/schema/payments.ts): the MIDs the platform takes cards through.
 * `status` has three values and two owners: operators set `active` / `disabled` through the API;
 * the MID's MerchantHealth object moves `active` <-> `draining` as its ratios near a threshold and
 * recover, and never touches a `disabled` MID (every health write is conditional on the status it
 * expects).
 * @module
 */
import { GATEWAY_IDS } from '../gateways/registry'
import type { GatewayId } from '../gateways/types'
import { and, asc, eq, gt, inArray } from 'drizzle-orm'
import { brands, merchantIds } from '../../../d1/schema'
import { db } from '../../lib/db'

export type MidRow = typeof merchantIds.$inferSelect
export type MidStatus = MidRow['status']
export type MidRegion = MidRow['region']

/**
 * Card gateways a MID can belong to (issue 4 §2). Crypto and bank transfers take no cards and have
 * no MIDs; `sandbox` is the local test gateway.
 */
/** Every gateway a MID can belong to: the adapters' own list. */
export const GATEWAYS = GATEWAY_IDS as [GatewayId, ...GatewayId[]]
export type Gateway = GatewayId

export async function findMid(d1: D1Database, id: string): Promise<MidRow | undefined> {
  return db(d1).select().from(merchantIds).where(eq(merchantIds.id, id)).get()
}

export interface MidListQuery {
  afterId?: string
  limit: number
  gateway?: string
  status?: MidStatus
}

/** One page by id; fetches `limit + 1` rows so the caller knows whether another page exists. */
export async function listMids(d1: D1Database, q: MidListQuery): Promise<MidRow[]> {
  return db(d1)
    .select()
    .from(merchantIds)
    .where(
      and(
        q.afterId ? gt(merchantIds.id, q.afterId) : undefined,
        q.gateway ? eq(merchantIds.gateway, q.gateway) : undefined,
        q.status ? eq(merchantIds.status, q.status) : undefined,
      ),
    )
    .orderBy(asc(merchantIds.id))
    .limit(q.limit + 1)
}

export async function insertMid(d1: D1Database, row: MidRow): Promise<void> {
  await db(d1).insert(merchantIds).values(row)
}

/** Writes `next` over the row only if it still is `current` (no lost update between read and write). */
export async function replaceMid(d1: D1Database, current: MidRow, next: MidRow): Promise<boolean> {
  const result = await db(d1)
    .update(merchantIds)
    .set({ ...next, id: current.id })
    .where(and(eq(merchantIds.id, current.id), eq(merchantIds.updatedAtMs, current.updatedAtMs), eq(merchantIds.status, current.status)))
    .run()
  return result.meta.changes === 1
}

/**
 * The health object's write: `active` -> `draining` when `draining`, `draining` -> `active` when
 * not; a `disabled` MID (or one already in the wanted state) is left alone. Returns the status the
 * row moved from, or null when nothing changed.
 */
export async function setDraining(d1: D1Database, id: string, draining: boolean, nowMs: number): Promise<MidStatus | null> {
  const from: MidStatus = draining ? 'active' : 'draining'
  const to: MidStatus = draining ? 'draining' : 'active'
  const result = await db(d1)
    .update(merchantIds)
    .set({ status: to, updatedAtMs: nowMs })
    .where(and(eq(merchantIds.id, id), eq(merchantIds.status, from)))
    .run()
  return result.meta.changes === 1 ? from : null
}

/** The ids among `ids` that name no brand. */
export async function unknownBrandIds(d1: D1Database, ids: readonly string[]): Promise<string[]> {
  if (!ids.length) return []
  const found = await db(d1).select({ id: brands.id }).from(brands).where(inArray(brands.id, [...ids]))
  const known = new Set(found.map((r) => r.id))
  return ids.filter((id) => !known.has(id))
}

export function midCurrencies(row: MidRow): string[] {
  return JSON.parse(row.currenciesJson) as string[]
}

export function midBrands(row: MidRow): string[] {
  return JSON.parse(row.brandsJson) as string[]
}
