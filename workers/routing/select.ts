/**
 * Which pool serves a brand request, and in which order its origins are tried. Pure functions over
 * the in-memory snapshot: nothing here touches D1.
 * @module
 */
import type { OriginView, PoolView, RoutingSnapshot } from './snapshot'

/** Segment-aware prefix match: `/app` matches `/app` and `/app/x` but not `/apple`; `/` matches all. */
export function matchesPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true
  return path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
}

function serves(pool: PoolView, brandId: string, path: string): boolean {
  // a pool without origins is still being set up: it must not take the brand's pages down
  return pool.origins.length > 0 && (pool.brandId === null || pool.brandId === brandId) && matchesPrefix(path, pool.pathPrefix)
}

/**
 * The geo-routed pool when a `route` rule applies and covers the path; otherwise the most specific
 * pool by path (snapshot order), skipping pools reserved for geo routing. Undefined: no pool.
 */
export function choosePool(snapshot: RoutingSnapshot, brandId: string, path: string, routePoolId: string | null): PoolView | undefined {
  if (routePoolId) {
    const routed = snapshot.poolsById.get(routePoolId)
    if (routed && serves(routed, brandId, path)) return routed
  }
  return snapshot.pools.find((pool) => !pool.geoOnly && serves(pool, brandId, path))
}

/**
 * Healthy origins in the order to try them: the visitor's continent first, then origins serving
 * everywhere ('*'), then the other continents; lowest priority first within each group.
 */
export function orderOrigins(pool: PoolView, continent: string | null): OriginView[] {
  const tier = (o: OriginView): number => (continent && o.region === continent ? 0 : o.region === '*' ? 1 : 2)
  // pool.origins is already by priority then id, and Array.prototype.sort is stable
  return pool.origins.filter((o) => o.status === 'up').sort((a, b) => tier(a) - tier(b))
}
