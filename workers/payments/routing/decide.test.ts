import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide, type RoutingInputs } from './decide'
import { mulberry32, seedFromText } from './prng'
import { emptyRoutingState, parseRoutingState, recordOutcome, serialiseRoutingState, type RoutingState } from './state'
import { routingConfigSchema, type GatewayInfo, type MidHealth, type MidInfo, type Outcome, type PaymentContext, type RoutingConfig } from './types'

const gateways: GatewayInfo[] = [
  { id: 'ccbill', enabled: true, methods: ['card'], currencies: ['USD', 'EUR'], brands: ['*'] },
  { id: 'segpay', enabled: true, methods: ['card'], currencies: ['USD', 'EUR', 'GBP'], brands: ['*'] },
  { id: 'epoch', enabled: true, methods: ['card'], currencies: ['USD'], brands: ['boyfanz'], cardNetworks: ['visa', 'mastercard'] },
  { id: 'coinpay', enabled: true, methods: ['crypto'], currencies: ['USD', 'EUR'], brands: ['*'] },
]
const mid = (midId: string, gateway: string, priority: number, extra: Partial<MidInfo> = {}): MidInfo => ({ midId, gateway, status: 'active', currencies: ['USD', 'EUR', 'GBP'], brands: ['*'], priority, capCurrency: 'USD', ...extra })
const mids: MidInfo[] = [mid('mid_cc1', 'ccbill', 0), mid('mid_cc2', 'ccbill', 1), mid('mid_sp1', 'segpay', 0), mid('mid_ep1', 'epoch', 0), mid('mid_cp1', 'coinpay', 0)]

const config: RoutingConfig = routingConfigSchema.parse({
  rules: [
    { id: 'eu-split', conditions: [{ field: 'currency', op: 'eq', value: 'EUR' }, { field: 'method', op: 'eq', value: 'card' }], output: { type: 'volume_split', splits: [{ gateway: 'ccbill', percent: 70 }, { gateway: 'segpay', percent: 30 }] } },
    { id: 'big-usd', conditions: [{ field: 'currency', op: 'eq', value: 'USD' }, { field: 'amountMinor', op: 'gte', value: 50_000 }], output: { type: 'priority', gateways: ['epoch', 'segpay'] } },
    { id: 'us-visa', conditions: [{ field: 'country', op: 'eq', value: 'US' }, { field: 'cardNetwork', op: 'eq', value: 'visa' }], output: { type: 'priority', gateways: ['segpay', 'ccbill'] } },
    { id: 'amex-only-epoch', conditions: [{ field: 'cardNetwork', op: 'eq', value: 'amex' }], output: { type: 'priority', gateways: ['epoch'] } },
  ],
  defaultOrder: ['ccbill', 'segpay', 'epoch', 'coinpay'],
  successRate: { enabled: false, windowSize: 200, explorationBps: 500, minSamples: 50, segmentBy: ['method', 'cardNetwork', 'currency'] },
  elimination: { failures: 3, withinMs: 60_000, cooldownMs: 300_000 },
})

const usVisa: PaymentContext = { brand: 'boyfanz', country: 'US', region: 'CA', currency: 'USD', amountMinor: 1999, method: 'card', cardNetwork: 'visa', bin: '411111' }
const euCard: PaymentContext = { brand: 'girlfanz', country: 'DE', region: 'BY', currency: 'EUR', amountMinor: 1500, method: 'card', cardNetwork: 'mastercard' }
const caMastercard: PaymentContext = { brand: 'boyfanz', country: 'CA', region: 'ON', currency: 'USD', amountMinor: 999, method: 'card', cardNetwork: 'mastercard' }

const NOW = Date.UTC(2026, 10, 26, 12)
const inputs = (over: Partial<RoutingInputs> = {}): RoutingInputs => ({ nowMs: NOW, gateways, mids, midHealth: [], stats: emptyRoutingState(), ...over })
const route = (ctx: PaymentContext, over: Partial<RoutingInputs> = {}, cfg: RoutingConfig = config, seed = 1) => decide(ctx, cfg, inputs(over), mulberry32(seed))
const order = (d: ReturnType<typeof decide>): string[] => d.candidates.map((c) => `${c.gateway}/${c.midId}`)

function withOutcomes(state: RoutingState, gateway: string, segment: string, approved: number, failed: number, cfg: RoutingConfig = config): RoutingState {
  // interleaved so a window shorter than the total still holds the same proportion
  const total = approved + failed
  let a = 0
  for (let i = 0; i < total; i++) {
    const approve = a * total < approved * (i + 1)
    if (approve) a++
    state = recordOutcome(state, gateway, segment, approve ? 'approved' : 'declined', NOW - 1_000_000 + i, cfg)
  }
  return state
}

describe('rules and default order', () => {
  it('falls back to the default order when no rule matches', () => {
    const d = route(caMastercard)
    expect(d.ruleId).toBeNull()
    expect(order(d)).toEqual(['ccbill/mid_cc1', 'ccbill/mid_cc2', 'segpay/mid_sp1', 'epoch/mid_ep1'])
    expect(d.reasons[0]).toBe('none of 4 rules matched: default order')
    expect(d.excluded).toEqual([{ gateway: 'coinpay', midId: null, reason: 'does not take card payments' }])
  })

  it('uses the first of several matching rules', () => {
    // a big USD visa payment from the US matches both big-usd and us-visa: big-usd comes first
    const big = route({ ...usVisa, amountMinor: 60_000 })
    expect(big.ruleId).toBe('big-usd')
    expect(order(big)).toEqual(['epoch/mid_ep1', 'segpay/mid_sp1'])
    expect(big.reasons[0]).toBe('rule big-usd matched (currency eq USD and amountMinor gte 50000)')
    const small = route(usVisa)
    expect(small.ruleId).toBe('us-visa')
    expect(order(small)).toEqual(['segpay/mid_sp1', 'ccbill/mid_cc1', 'ccbill/mid_cc2'])
    expect(small.candidates[0]!.reasons).toEqual(['rule us-visa: priority #1', 'mid mid_sp1: no health data yet, taken as healthy'])
  })

  it('uses the default order when the matching rule leaves nothing eligible', () => {
    // epoch does not accept amex: the amex rule matches but cannot route
    const d = route({ ...caMastercard, cardNetwork: 'amex' })
    expect(d.ruleId).toBeNull()
    expect(d.reasons).toContain('rule amex-only-epoch left no eligible gateway: default order instead')
    expect(d.reasons).toContain('gateway epoch excluded: does not accept amex')
    expect(order(d)).toEqual(['ccbill/mid_cc1', 'ccbill/mid_cc2', 'segpay/mid_sp1'])
    // epoch is judged once even though it is in the rule and in the default order
    expect(d.excluded.filter((e) => e.gateway === 'epoch')).toHaveLength(1)
  })

  it('routes crypto only to gateways taking crypto', () => {
    const d = route({ brand: 'boyfanz', country: 'DE', currency: 'EUR', amountMinor: 5000, method: 'crypto' })
    expect(d.segment).toBe('crypto/-/EUR')
    expect(order(d)).toEqual(['coinpay/mid_cp1'])
  })
})

describe('volume split', () => {
  it('lands a 70/30 split within 2 points over 10,000 seeded decisions', () => {
    const rng = mulberry32(20261126)
    let ccbill = 0
    for (let i = 0; i < 10_000; i++) {
      const d = decide(euCard, config, inputs(), rng)
      expect(d.ruleId).toBe('eu-split')
      if (d.candidates[0]!.gateway === 'ccbill') ccbill++
      else expect(d.candidates[0]!.gateway).toBe('segpay')
    }
    expect(Math.abs(ccbill / 10_000 - 0.7)).toBeLessThanOrEqual(0.02)
  })

  it('also holds when each decision is seeded by its own payment id', () => {
    let ccbill = 0
    for (let i = 0; i < 10_000; i++) {
      if (decide(euCard, config, inputs(), mulberry32(seedFromText(`pay_${i}`))).candidates[0]!.gateway === 'ccbill') ccbill++
    }
    expect(Math.abs(ccbill / 10_000 - 0.7)).toBeLessThanOrEqual(0.02)
  })

  it('puts the other split members after the drawn one, and explains the draw', () => {
    const d = route(euCard)
    const first = d.candidates[0]!.gateway
    expect(new Set(d.candidates.map((c) => c.gateway))).toEqual(new Set(['ccbill', 'segpay']))
    expect(d.reasons[1]).toMatch(new RegExp(`^rule eu-split: volume split ccbill 70 / segpay 30, draw \\d+\\.\\d\\d -> ${first}$`))
  })

  it('gives all traffic to the remaining member when one is eliminated', () => {
    let stats = emptyRoutingState()
    for (let i = 0; i < 3; i++) stats = recordOutcome(stats, 'segpay', 'card/mastercard/EUR', 'technical_error', NOW - 10_000 + i, config)
    const rng = mulberry32(3)
    for (let i = 0; i < 200; i++) expect(decide(euCard, config, inputs({ stats }), rng).candidates.map((c) => c.gateway)).toEqual(['ccbill', 'ccbill'])
    const d = route(euCard, { stats })
    expect(d.reasons[1]).toBe(`gateway segpay excluded: eliminated after a burst of technical errors, until ${new Date(NOW - 10_000 + 2 + 300_000).toISOString()}`)
    expect(d.reasons[2]).toMatch(/^rule eu-split: volume split ccbill 70 \(renormalised over the eligible gateways, total 70\), draw \d+\.\d\d -> ccbill$/)
  })
})

describe('MID health, caps and support', () => {
  const drained: MidHealth = { midId: 'mid_cc1', drain: true, capRemainingMinor: 10_000_000, drainReason: 'VAMP 1.41% within 0.10 of 1.50%' }

  it('stops sending traffic to a draining MID; the other MID of the gateway takes it', () => {
    const rng = mulberry32(11)
    const counts = new Map<string, number>()
    for (let i = 0; i < 1000; i++) {
      const first = decide(euCard, config, inputs({ midHealth: [drained] }), rng).candidates[0]!
      counts.set(first.midId, (counts.get(first.midId) ?? 0) + 1)
    }
    expect(counts.get('mid_cc1')).toBeUndefined()
    expect(counts.get('mid_cc2')! / 1000).toBeGreaterThan(0.65)
    const d = route(caMastercard, { midHealth: [drained] })
    expect(order(d)).toEqual(['ccbill/mid_cc2', 'segpay/mid_sp1', 'epoch/mid_ep1'])
    expect(d.reasons).toContain('mid mid_cc1 (ccbill) excluded: draining: VAMP 1.41% within 0.10 of 1.50%')
    expect(d.excluded).toContainEqual({ gateway: 'ccbill', midId: 'mid_cc1', reason: 'draining: VAMP 1.41% within 0.10 of 1.50%' })
  })

  it('moves to the next gateway when every MID of a gateway drains', () => {
    const d = route(caMastercard, { midHealth: [drained, { ...drained, midId: 'mid_cc2', drainReason: 'ECM 1.52%' }] })
    expect(order(d)).toEqual(['segpay/mid_sp1', 'epoch/mid_ep1'])
    expect(d.reasons).toContain('gateway ccbill excluded: no eligible MID')
  })

  it('honours a MID drained in the catalog and a disabled MID', () => {
    const d = route(caMastercard, { mids: [mid('mid_cc1', 'ccbill', 0, { status: 'draining' }), mid('mid_cc2', 'ccbill', 1, { status: 'disabled' }), ...mids.slice(2)] })
    expect(order(d)).toEqual(['segpay/mid_sp1', 'epoch/mid_ep1'])
    expect(d.reasons).toContain('mid mid_cc1 (ccbill) excluded: draining (set on the MID)')
    expect(d.reasons).toContain('mid mid_cc2 (ccbill) excluded: disabled')
  })

  it('removes a MID whose monthly cap is reached or would be exceeded', () => {
    const exceeded = route(caMastercard, { midHealth: [{ midId: 'mid_cc1', drain: false, capRemainingMinor: 998 }] })
    expect(exceeded.candidates[0]!.midId).toBe('mid_cc2')
    expect(exceeded.reasons).toContain('mid mid_cc1 (ccbill) excluded: monthly cap would be exceeded (998 USD left, payment 999)')
    const fits = route(caMastercard, { midHealth: [{ midId: 'mid_cc1', drain: false, capRemainingMinor: 999 }] })
    expect(fits.candidates[0]!.midId).toBe('mid_cc1')
    expect(fits.candidates[0]!.reasons).toContain('mid mid_cc1: healthy, 999 USD of monthly cap left')
    // a cap in another currency is enforced once exhausted only
    const eurCapMids = [mid('mid_cc1', 'ccbill', 0, { capCurrency: 'EUR' }), ...mids.slice(1)]
    expect(route(caMastercard, { mids: eurCapMids, midHealth: [{ midId: 'mid_cc1', drain: false, capRemainingMinor: 10 }] }).candidates[0]!.midId).toBe('mid_cc1')
    const exhausted = route(caMastercard, { mids: eurCapMids, midHealth: [{ midId: 'mid_cc1', drain: false, capRemainingMinor: 0 }] })
    expect(exhausted.reasons).toContain('mid mid_cc1 (ccbill) excluded: monthly cap reached')
  })

  it('removes gateways and MIDs that do not support the currency or brand', () => {
    const gbp = route({ ...caMastercard, currency: 'GBP' })
    expect(order(gbp)).toEqual(['segpay/mid_sp1'])
    expect(gbp.reasons).toContain('gateway ccbill excluded: does not support currency GBP')
    expect(gbp.reasons).toContain('gateway epoch excluded: does not support currency GBP')
    const otherBrand = route({ ...caMastercard, brand: 'girlfanz' })
    expect(otherBrand.reasons).toContain('gateway epoch excluded: does not serve brand girlfanz')
    const brandMids = [mid('mid_cc1', 'ccbill', 0, { brands: ['boyfanz'] }), mid('mid_cc2', 'ccbill', 1, { currencies: ['EUR'] }), ...mids.slice(2)]
    const d = route({ ...caMastercard, brand: 'girlfanz' }, { mids: brandMids })
    expect(d.reasons).toContain('mid mid_cc1 (ccbill) excluded: does not serve brand girlfanz')
    expect(d.reasons).toContain('mid mid_cc2 (ccbill) excluded: does not support currency USD')
    expect(order(d)).toEqual(['segpay/mid_sp1'])
    const disabled = route(caMastercard, { gateways: gateways.map((g) => (g.id === 'ccbill' ? { ...g, enabled: false } : g)) })
    expect(disabled.reasons).toContain('gateway ccbill excluded: disabled')
    const unknown = route(caMastercard, {}, { ...config, defaultOrder: ['verotel', 'segpay'] })
    expect(unknown.reasons).toContain('gateway verotel excluded: not in the gateway catalog')
  })

  it('answers with no candidates, and says so, when nothing can take the payment', () => {
    const d = route({ ...caMastercard, currency: 'JPY' })
    expect(d.candidates).toEqual([])
    expect(d.reasons.at(-1)).toBe('no eligible gateway and MID: the payment cannot be routed')
  })
})

describe('success-rate routing', () => {
  const srConfig: RoutingConfig = { ...config, rules: [], defaultOrder: ['segpay', 'ccbill'], successRate: { ...config.successRate, enabled: true } }
  const segment = 'card/mastercard/USD'

  it('prefers the better gateway once it has enough samples and still explores about explorationBps', () => {
    let stats = withOutcomes(emptyRoutingState(), 'ccbill', segment, 180, 20, srConfig)
    stats = withOutcomes(stats, 'segpay', segment, 120, 80, srConfig)
    const rng = mulberry32(99)
    let segpayFirst = 0
    let explored = 0
    for (let i = 0; i < 10_000; i++) {
      const d = decide(caMastercard, srConfig, inputs({ stats }), rng)
      if (d.candidates[0]!.gateway === 'segpay') segpayFirst++
      if (d.explored) explored++
    }
    expect(explored).toBe(segpayFirst)
    // 500 bps = 5%: binomial sd over 10,000 is 0.22 points
    expect(Math.abs(segpayFirst / 10_000 - 0.05)).toBeLessThanOrEqual(0.01)
    const d = decide(caMastercard, srConfig, inputs({ stats }), () => 0.5)
    expect(d.reasons).toContain('default order: ranked by success rate in card/mastercard/USD: ccbill 90.0% (180/200), segpay 60.0% (120/200)')
    expect(d.candidates[0]!.reasons[0]).toBe('default order: success-rate rank #1 in card/mastercard/USD (success rate 90.0% over 200)')
  })

  it('keeps the configured order until gateways have minSamples', () => {
    let stats = withOutcomes(emptyRoutingState(), 'ccbill', segment, 49, 0, srConfig)
    stats = withOutcomes(stats, 'segpay', segment, 10, 39, srConfig)
    const d = decide(caMastercard, srConfig, inputs({ stats }), () => 0.5)
    expect(d.candidates.map((c) => c.gateway)).toEqual(['segpay', 'ccbill', 'ccbill'])
    expect(d.reasons).toContain('default order: ranked by success rate in card/mastercard/USD: segpay unrated (49/50 samples), ccbill unrated (49/50 samples); no gateway rated yet, configured order kept')
    // one more sample rates ccbill, which then leads
    stats = recordOutcome(stats, 'ccbill', segment, 'approved', NOW, srConfig)
    expect(decide(caMastercard, srConfig, inputs({ stats }), () => 0.5).candidates[0]!.gateway).toBe('ccbill')
  })

  it('reads the window, not all history: recent failures sink a gateway', () => {
    let stats = withOutcomes(emptyRoutingState(), 'ccbill', segment, 200, 0, srConfig)
    stats = withOutcomes(stats, 'segpay', segment, 150, 50, srConfig)
    expect(decide(caMastercard, srConfig, inputs({ stats }), () => 0.5).candidates[0]!.gateway).toBe('ccbill')
    stats = withOutcomes(stats, 'ccbill', segment, 100, 100, srConfig) // window 200 now holds only these
    expect(decide(caMastercard, srConfig, inputs({ stats }), () => 0.5).candidates[0]!.gateway).toBe('segpay')
  })

  it('keeps segments apart', () => {
    const stats = withOutcomes(emptyRoutingState(), 'ccbill', 'card/visa/USD', 0, 200, srConfig)
    const d = decide(caMastercard, srConfig, inputs({ stats: withOutcomes(stats, 'ccbill', segment, 200, 0, srConfig) }), () => 0.5)
    expect(d.candidates[0]!.gateway).toBe('ccbill')
  })

  it('lets a rule pin a static order even with success-rate routing on', () => {
    const pinned: RoutingConfig = { ...srConfig, rules: [{ id: 'pin', conditions: [], output: { type: 'priority', gateways: ['segpay', 'ccbill'], ranking: 'static' } }] }
    const stats = withOutcomes(withOutcomes(emptyRoutingState(), 'ccbill', segment, 200, 0, srConfig), 'segpay', segment, 0, 200, srConfig)
    expect(decide(caMastercard, pinned, inputs({ stats }), mulberry32(1)).candidates[0]!.gateway).toBe('segpay')
  })
})

describe('elimination', () => {
  const fail = (state: RoutingState, atMs: number, outcome: Outcome = 'technical_error') => recordOutcome(state, 'ccbill', 'card/mastercard/USD', outcome, atMs, config)

  it('eliminates a gateway after N technical errors within the window and restores it after the cooldown', () => {
    let stats = emptyRoutingState()
    stats = fail(stats, NOW - 50_000)
    stats = fail(stats, NOW - 20_000)
    expect(route(caMastercard, { stats }).candidates[0]!.gateway).toBe('ccbill')
    stats = fail(stats, NOW - 10_000)
    const out = route(caMastercard, { stats })
    expect(out.candidates.map((c) => c.gateway)).toEqual(['segpay', 'epoch'])
    const until = NOW - 10_000 + 300_000
    expect(out.reasons).toContain(`gateway ccbill excluded: eliminated after a burst of technical errors, until ${new Date(until).toISOString()}`)
    expect(route(caMastercard, { stats, nowMs: until - 1 }).candidates[0]!.gateway).toBe('segpay')
    expect(route(caMastercard, { stats, nowMs: until }).candidates[0]!.gateway).toBe('ccbill')
  })

  it('needs the failures close together and consecutive', () => {
    let spread = emptyRoutingState()
    for (const t of [0, 40_000, 80_000, 120_000]) spread = fail(spread, NOW - 200_000 + t)
    expect(route(caMastercard, { stats: spread }).candidates[0]!.gateway).toBe('ccbill')
    let interrupted = fail(fail(emptyRoutingState(), NOW - 5000), NOW - 4000)
    interrupted = fail(interrupted, NOW - 3000, 'approved')
    interrupted = fail(fail(interrupted, NOW - 2000), NOW - 1000)
    expect(route(caMastercard, { stats: interrupted }).candidates[0]!.gateway).toBe('ccbill')
    // declines are the issuer answering: they do not count either
    let declines = emptyRoutingState()
    for (let i = 0; i < 10; i++) declines = fail(declines, NOW - 1000 + i, 'declined')
    expect(route(caMastercard, { stats: declines }).candidates[0]!.gateway).toBe('ccbill')
  })

  it('does not extend an elimination with late reports of attempts made before it', () => {
    let stats = emptyRoutingState()
    for (let i = 0; i < 3; i++) stats = fail(stats, NOW - 3000 + i)
    const until = stats.gateways['ccbill']!.eliminatedUntilMs
    stats = fail(stats, NOW)
    expect(stats.gateways['ccbill']!.eliminatedUntilMs).toBe(until)
    expect(stats.gateways['ccbill']!.failureStreakAtMs).toEqual([])
  })
})

describe('every decision explains itself', () => {
  const contexts = fc.record({
    brand: fc.constantFrom('boyfanz', 'girlfanz'),
    country: fc.constantFrom('US', 'CA', 'DE', 'GB'),
    region: fc.option(fc.constantFrom('CA', 'ON', 'BY'), { nil: undefined }),
    currency: fc.constantFrom('USD', 'EUR', 'GBP', 'JPY'),
    amountMinor: fc.integer({ min: 1, max: 100_000 }),
    method: fc.constantFrom('card' as const, 'crypto' as const, 'sepa' as const),
    cardNetwork: fc.option(fc.constantFrom('visa' as const, 'mastercard' as const, 'amex' as const), { nil: undefined }),
  })
  const healths = fc.subarray(['mid_cc1', 'mid_cc2', 'mid_sp1', 'mid_ep1', 'mid_cp1']).map((ids) => ids.map((midId): MidHealth => ({ midId, drain: true, capRemainingMinor: null })))
  const failures = fc.subarray(['ccbill', 'segpay', 'epoch', 'coinpay'])

  it('gives reasons, routes only to eligible MIDs, and is reproducible from its seed', () => {
    fc.assert(
      fc.property(contexts, healths, failures, fc.boolean(), fc.integer(), (ctx, midHealth, broken, sr, seed) => {
        let stats = emptyRoutingState()
        for (const g of broken) for (let i = 0; i < 3; i++) stats = recordOutcome(stats, g, 'x', 'technical_error', NOW - 100 + i, config)
        const cfg = { ...config, successRate: { ...config.successRate, enabled: sr } }
        const d = decide(ctx, cfg, inputs({ midHealth, stats }), mulberry32(seed))
        expect(d.reasons.length).toBeGreaterThan(1)
        for (const c of d.candidates) {
          expect(c.reasons.length).toBeGreaterThanOrEqual(2)
          expect(midHealth.some((h) => h.midId === c.midId)).toBe(false)
          expect(broken).not.toContain(c.gateway)
          const gateway = gateways.find((g) => g.id === c.gateway)!
          expect(gateway.methods).toContain(ctx.method)
          expect(gateway.currencies).toContain(ctx.currency)
        }
        for (const e of d.excluded) expect(d.reasons.some((r) => r.endsWith(`excluded: ${e.reason}`))).toBe(true)
        expect(new Set(d.candidates.map((c) => c.midId)).size).toBe(d.candidates.length)
        const roundTripped = parseRoutingState(serialiseRoutingState(stats))
        expect(decide(ctx, cfg, inputs({ midHealth, stats: roundTripped }), mulberry32(seed))).toEqual(d)
      }),
      { numRuns: 300, seed: 4 },
    )
  })
})
