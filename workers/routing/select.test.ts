import { describe, expect, it } from 'vitest'
import { contrastRatio, themeContrastIssues } from './contrast'
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

describe('WCAG contrast', () => {
  it('computes the reference ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5)
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5)
    // #767676 on white is the classic lightest AA grey (4.54:1); #777777 just fails (4.48:1)
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2)
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2)
  })

  it('accepts every seeded brand theme and names the failing colour otherwise', () => {
    const seeded = [
      { primary: '#1d4ed8', accent: '#b45309', background: '#ffffff', text: '#0f172a' },
      { primary: '#be185d', accent: '#6d28d9', background: '#fff7fb', text: '#1f1020' },
      { primary: '#9a3412', accent: '#1e40af', background: '#fffaf0', text: '#1c1917' },
      { primary: '#0e7490', accent: '#9d174d', background: '#f0fdff', text: '#0f172a' },
      // dark theme: labels on the light primary are drawn in the background colour
      { primary: '#fca5a5', accent: '#fcd34d', background: '#0c0a09', text: '#fafaf9' },
    ]
    for (const theme of seeded) expect(themeContrastIssues(theme)).toEqual([])
    expect(themeContrastIssues({ primary: '#777777', accent: '#000000', background: '#ffffff', text: '#777777' }).map((i) => i.field)).toEqual(['text', 'primary'])
  })
})
