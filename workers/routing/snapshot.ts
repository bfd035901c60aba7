/**
 * The routing snapshot: every brand, hostname, geo rule and origin pool, held in isolate memory so
 * the hot path resolves a Host with one Map lookup. Reloaded after a short TTL; a write through the
 * routing API drops this isolate's copy at once (other isolates converge within the TTL).
 * @module
 */
import { brands, domains, geoRules, originPools, origins } from '../../d1/schema'
import { db } from '../lib/db'
import { Custodian, DmcaAgent, Theme, type BrandView } from './brand-view'

export type { BrandView } from './brand-view'

export const SNAPSHOT_TTL_MS = 30_000

export interface HostEntry {
  brand: BrandView
  kind: 'apex' | 'www' | 'alias'
}

export interface GeoRuleView {
  id: string
  brandId: string | null
  country: string
  region: string | null
  action: 'block' | 'age_gate' | 'route'
  poolId: string | null
}

export interface OriginView {
  id: string
  url: string
  region: string
  priority: number
  status: 'up' | 'down'
}

export interface PoolView {
  id: string
  name: string
  brandId: string | null
  pathPrefix: string
  timeoutMs: number
  /** named by a geo `route` rule: serves only the visitors such a rule routes, never by path alone */
  geoOnly: boolean
  /** ordered by priority, then id */
  origins: OriginView[]
}

export interface RoutingSnapshot {
  loadedAtMs: number
  hosts: Map<string, HostEntry>
  brands: Map<string, BrandView>
  geoRules: GeoRuleView[]
  /** longest path prefix first, brand-specific before shared, so the most specific pool wins */
  pools: PoolView[]
  poolsById: Map<string, PoolView>
}

let current: RoutingSnapshot | undefined
let loading: Promise<RoutingSnapshot> | undefined
/** bumped by every invalidation, so a load that started before a write is not kept */
let generation = 0

export async function loadSnapshot(d1: D1Database, nowMs: number): Promise<RoutingSnapshot> {
  const handle = db(d1)
  const [brandRows, domainRows, ruleRows, poolRows, originRows] = await handle.batch([
    handle.select().from(brands),
    handle.select().from(domains),
    handle.select().from(geoRules),
    handle.select().from(originPools),
    handle.select().from(origins),
  ])
  const brandMap = new Map<string, BrandView>()
  for (const row of brandRows) {
    brandMap.set(row.id, {
      id: row.id,
      slug: row.slug,
      name: row.name,
      primaryDomain: row.primaryDomain,
      status: row.status,
      tagline: row.tagline,
      theme: Theme.parse(JSON.parse(row.themeJson)),
      custodian: Custodian.parse(JSON.parse(row.custodianJson)),
      dmcaAgent: DmcaAgent.parse(JSON.parse(row.dmcaAgentJson)),
    })
  }
  const hosts = new Map<string, HostEntry>()
  for (const row of domainRows) {
    const brand = brandMap.get(row.brandId)
    if (brand) hosts.set(row.hostname, { brand, kind: row.kind })
  }
  const routed = new Set(ruleRows.filter((r) => r.action === 'route' && r.poolId).map((r) => r.poolId))
  const pools: PoolView[] = poolRows
    .map((pool) => ({
      id: pool.id,
      name: pool.name,
      brandId: pool.brandId,
      pathPrefix: pool.pathPrefix,
      timeoutMs: pool.timeoutMs,
      geoOnly: routed.has(pool.id),
      origins: originRows
        .filter((o) => o.poolId === pool.id)
        .map((o) => ({ id: o.id, url: o.url, region: o.region, priority: o.priority, status: o.status }))
        .sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1)),
    }))
    .sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || Number(b.brandId !== null) - Number(a.brandId !== null) || (a.id < b.id ? -1 : 1))
  return {
    loadedAtMs: nowMs,
    hosts,
    brands: brandMap,
    geoRules: ruleRows.map((r) => ({ id: r.id, brandId: r.brandId, country: r.country, region: r.region, action: r.action, poolId: r.poolId })),
    pools,
    poolsById: new Map(pools.map((p) => [p.id, p])),
  }
}

/** The snapshot, reloading when older than the TTL; concurrent requests share one load. */
export async function getSnapshot(d1: D1Database, nowMs: number = Date.now()): Promise<RoutingSnapshot> {
  if (current && nowMs - current.loadedAtMs < SNAPSHOT_TTL_MS) return current
  const started = generation
  loading ??= loadSnapshot(d1, nowMs).then(
    (snapshot) => {
      if (started === generation) current = snapshot
      loading = undefined
      return snapshot
    },
    (err: unknown) => {
      loading = undefined
      throw err
    },
  )
  return loading
}

/** Drop this isolate's snapshot; call after any write to brands, domains, rules, pools or origins. */
export function invalidateSnapshot(): void {
  generation += 1
  current = undefined
  loading = undefined
}
