import { describe, expect, it } from 'vitest'
import { healthUrl, nextHealth } from './health'
import { stripHopByHop, upstreamUrl } from './proxy'
import { choosePool, matchesPrefix, orderOrigins } from './select'
import type { OriginView, PoolView, RoutingSnapshot } from './snapshot'

const origin = (id: string, region: string, priority: number, status: 'up' | 'down' = 'up'): OriginView => ({ id, url: `https://${id}.test`, region, priority, status })
const pool = (id: string, brandId: string | null, pathPrefix: string, origins: OriginView[], geoOnly = false): PoolView => ({ id, name: id, brandId, pathPrefix, timeoutMs: 1000, geoOnly, origins })

function snapshotOf(pools: PoolView[]): RoutingSnapshot {
  const sorted = [...pools].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || Number(b.brandId !== null) - Number(a.brandId !== null))
  return { loadedAtMs: 0, hosts: new Map(), brands: new Map(), geoRules: [], pools: sorted, poolsById: new Map(sorted.map((p) => [p.id, p])) }
}

describe('pool choice', () => {
  const o = [origin('o1', '*', 0)]
  const snapshot = snapshotOf([
    pool('shared-root', null, '/', o),
    pool('brand-media', 'b1', '/media', o),
    pool('shared-media', null, '/media', o),
    pool('geo', 'b1', '/', o, true),
    pool('empty', 'b1', '/empty', []),
  ])

  it('matches path prefixes by segment', () => {
    expect(matchesPrefix('/media', '/media')).toBe(true)
    expect(matchesPrefix('/media/a.jpg', '/media')).toBe(true)
    expect(matchesPrefix('/mediakit', '/media')).toBe(false)
    expect(matchesPrefix('/media/a', '/media/')).toBe(true)
    expect(matchesPrefix('/anything', '/')).toBe(true)
  })

  it('prefers the longest prefix, then the brand-specific pool; skips geo-only and empty pools', () => {
    expect(choosePool(snapshot, 'b1', '/media/x', null)?.id).toBe('brand-media')
    expect(choosePool(snapshot, 'b2', '/media/x', null)?.id).toBe('shared-media')
    expect(choosePool(snapshot, 'b1', '/c/alice', null)?.id).toBe('shared-root')
    expect(choosePool(snapshot, 'b1', '/empty/x', null)?.id).toBe('shared-root')
  })

  it('uses the geo-routed pool when it serves the brand and the path', () => {
    expect(choosePool(snapshot, 'b1', '/c/alice', 'geo')?.id).toBe('geo')
    // another brand's visitor cannot be routed into b1's pool
    expect(choosePool(snapshot, 'b2', '/c/alice', 'geo')?.id).toBe('shared-root')
    expect(choosePool(snapshot, 'b1', '/x', 'missing')?.id).toBe('shared-root')
  })

  it("orders healthy origins: visitor's continent, then '*', then elsewhere; by priority within", () => {
    const p = pool('p', null, '/', [origin('eu0', 'EU', 0), origin('any1', '*', 1), origin('na0', 'NA', 0), origin('na5', 'NA', 5), origin('nadown', 'NA', 0, 'down'), origin('as0', 'AS', 0)].sort((a, b) => a.priority - b.priority))
    expect(orderOrigins(p, 'NA').map((x) => x.id)).toEqual(['na0', 'na5', 'any1', 'eu0', 'as0'])
    expect(orderOrigins(p, 'OC').map((x) => x.id)).toEqual(['any1', 'eu0', 'na0', 'as0', 'na5'])
    expect(orderOrigins(p, null).map((x) => x.id)).toEqual(['any1', 'eu0', 'na0', 'as0', 'na5'])
  })
})

describe('health hysteresis', () => {
  const thresholds = { failThreshold: 3, okThreshold: 2 }
  it('flips down only at fail_threshold consecutive failures, up only at ok_threshold successes', () => {
    let state = { status: 'up' as 'up' | 'down', consecutiveFailures: 0, consecutiveSuccesses: 0 }
    const seen: Array<string | null> = []
    for (const ok of [false, false, true, false, false, false, false, true, false, true, true]) {
      const next = nextHealth(state, thresholds, ok)
      seen.push(next.transition)
      state = next
    }
    expect(seen).toEqual([null, null, null, null, null, 'down', null, null, null, null, 'up'])
    expect(state).toMatchObject({ status: 'up', consecutiveSuccesses: 2, consecutiveFailures: 0 })
  })

  it('joins origin and health path', () => {
    expect(healthUrl('https://o.test/base', '/healthz')).toBe('https://o.test/base/healthz')
    expect(healthUrl('https://o.test/', '/')).toBe('https://o.test/')
  })
})

describe('proxy helpers', () => {
  it('strips hop-by-hop headers, including those named in Connection', () => {
    const headers = new Headers({ connection: 'close, x-secret', 'x-secret': '1', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'websocket', 'x-kept': 'yes' })
    stripHopByHop(headers)
    expect([...headers.keys()]).toEqual(['x-kept'])
  })

  it('keeps the request path and query on the origin base', () => {
    expect(upstreamUrl('https://o.test/base', new URL('http://b.localhost/app/x?y=1%202'))).toBe('https://o.test/base/app/x?y=1%202')
  })
})
