import { describe, expect, it } from 'vitest'
import { eliminatedUntil, emptyRoutingState, parseRoutingState, recordOutcome, segmentOf, serialiseRoutingState, windowStats, type OutcomePolicy } from './state'

const policy: OutcomePolicy = { successRate: { windowSize: 4 }, elimination: { failures: 2, withinMs: 1000, cooldownMs: 5000 } }

describe('RoutingState', () => {
  it('keeps a sliding window per gateway and segment', () => {
    let s = emptyRoutingState()
    for (const o of ['approved', 'declined', 'technical_error', 'approved', 'approved'] as const) s = recordOutcome(s, 'ccbill', 'card/visa/USD', o, 0, { ...policy, elimination: { ...policy.elimination, failures: 10 } })
    expect(s.windows).toEqual({ ccbill: { 'card/visa/USD': 'DTAA' } })
    expect(windowStats(s, 'ccbill', 'card/visa/USD', 4)).toEqual({ samples: 4, approved: 2 })
    expect(windowStats(s, 'ccbill', 'card/visa/USD', 2)).toEqual({ samples: 2, approved: 2 })
    expect(windowStats(s, 'ccbill', 'card/visa/EUR', 4)).toEqual({ samples: 0, approved: 0 })
    expect(windowStats(s, 'segpay', 'card/visa/USD', 4)).toEqual({ samples: 0, approved: 0 })
  })

  it('does not change the state it is given', () => {
    const before = emptyRoutingState()
    const after = recordOutcome(before, 'ccbill', 'x', 'technical_error', 10, policy)
    expect(before).toEqual(emptyRoutingState())
    expect(after.gateways['ccbill']).toEqual({ failureStreakAtMs: [10], eliminatedUntilMs: null })
  })

  it('round-trips through JSON and refuses what is not a state', () => {
    let s = recordOutcome(emptyRoutingState(), 'ccbill', 'card/visa/USD', 'technical_error', 100, policy)
    s = recordOutcome(s, 'ccbill', 'card/visa/USD', 'technical_error', 200, policy)
    expect(eliminatedUntil(s, 'ccbill', 5199)).toBe(5200)
    const text = serialiseRoutingState(s)
    expect(JSON.parse(text)).toEqual({ version: 1, windows: { ccbill: { 'card/visa/USD': 'TT' } }, gateways: { ccbill: { failureStreakAtMs: [], eliminatedUntilMs: 5200 } } })
    expect(parseRoutingState(text)).toEqual(s)
    expect(() => parseRoutingState('{"version":1,"windows":{"a":{"b":"AX"}},"gateways":{}}')).toThrow()
    expect(() => parseRoutingState('{"version":2,"windows":{},"gateways":{}}')).toThrow()
  })

  it('never reads Object.prototype members as gateways', () => {
    const s = emptyRoutingState()
    expect(windowStats(s, 'constructor', 'toString', 10)).toEqual({ samples: 0, approved: 0 })
    expect(eliminatedUntil(s, 'constructor', 0)).toBeNull()
    expect(recordOutcome(s, 'constructor', 'x', 'approved', 0, policy).windows['constructor']).toEqual({ x: 'A' })
  })

  it('names segments by the configured dimensions', () => {
    const ctx = { brand: 'boyfanz', country: 'US', currency: 'USD', amountMinor: 100, method: 'crypto' as const }
    expect(segmentOf(ctx, ['method', 'cardNetwork', 'currency'])).toBe('crypto/-/USD')
    expect(segmentOf({ ...ctx, method: 'card', cardNetwork: 'visa' }, ['method', 'cardNetwork', 'currency'])).toBe('card/visa/USD')
    expect(segmentOf(ctx, ['brand', 'country'])).toBe('boyfanz/US')
    expect(segmentOf(ctx, [])).toBe('all')
  })
})
