/**
 * Creators' geo-blocks: countries (ISO 3166-1 alpha-2, `DE`) and subdivisions (ISO 3166-2, `US-TX`)
 * where a creator's media is never delivered. Checked when a delivery URL is issued and again on
 * every fetch of the bytes (`geoBlocked`, also used by the HLS segment route), against the location
 * the edge reports (`request.cf` country + regionCode, workers/edge/geo.ts).
 *
 * Unknown places fail closed: when a creator blocks anything, a request whose country the edge
 * cannot tell (none, `XX`) or that comes through Tor (`T1`) is refused too; otherwise a blocked
 * viewer would only need Tor to get round the creator's choice.
 * @module
 */
import { z } from '@hono/zod-openapi'

/** A creator may list this many regions (every country plus a few hundred subdivisions fit). */
export const MAX_GEO_BLOCKS = 500

// ISO 3166-1 reserves these alpha-2 codes for user assignment: no real country has them (XK,
// Kosovo, is user-assigned too but is what Cloudflare reports for Kosovo, so it stays allowed)
const USER_ASSIGNED = /^(AA|Q[M-Z]|X[A-JL-Z]|ZZ)$/
const SHAPE = /^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$/

/** `DE` or `US-TX`, upper-cased before it is checked. */
export const RegionCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(SHAPE, 'must be an ISO 3166-1 alpha-2 country (DE) or an ISO 3166-2 subdivision (US-TX)')
  .refine((code) => !USER_ASSIGNED.test(code.slice(0, 2)), 'is a user-assigned ISO 3166 code, not a country')
  .openapi({ example: 'US-TX' })

export type GeoBlockReason = 'country' | 'subdivision' | 'location_unknown'

/** Why `regions` block a visitor at `country`/`region` (region = the ISO 3166-2 suffix, `TX`), or null. */
export function blockReason(regions: readonly string[], country: string | null, region: string | null): GeoBlockReason | null {
  if (regions.length === 0) return null
  if (!country || country === 'XX' || country === 'T1') return 'location_unknown'
  if (regions.includes(country)) return 'country'
  if (region && regions.includes(`${country}-${region}`)) return 'subdivision'
  return null
}

/** The regions `creatorId` blocks, sorted. */
export async function geoBlocksOf(env: Pick<Env, 'DB'>, creatorId: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT region FROM media_geo_blocks WHERE creator_id = ? ORDER BY region').bind(creatorId).all<{ region: string }>()
  return results.map((r) => r.region)
}

/** Why the creator's media may not be delivered to this place, or null when it may. */
export async function geoBlockFor(env: Pick<Env, 'DB'>, creatorId: string, country: string | null, region: string | null): Promise<GeoBlockReason | null> {
  return blockReason(await geoBlocksOf(env, creatorId), country, region)
}

/** True when `creatorId` does not deliver to `country` / `region` (the C2 segment route calls this). */
export async function geoBlocked(env: Pick<Env, 'DB'>, creatorId: string, country: string | null, region: string | null): Promise<boolean> {
  return (await geoBlockFor(env, creatorId, country, region)) !== null
}
