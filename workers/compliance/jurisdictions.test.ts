import { describe, expect, it } from 'vitest'
import { AV_LAWS, lawFor, statutoryPolicy } from './jurisdictions'

const at = (iso: string) => Date.parse(iso)
const NOW = at('2026-11-26T12:00:00Z')

describe('statutory age-verification policy', () => {
  it.each([
    ['US', 'TX', 'US-TX'],
    ['US', 'LA', 'US-LA'],
    ['GB', null, 'GB'],
    ['FR', 'IDF', 'FR'],
    ['DE', 'BE', 'DE'],
    ['NL', null, 'EU'],
    ['AU', 'NSW', 'AU'],
  ] as const)('%s-%s is gated by %s', (country, region, key) => {
    const policy = statutoryPolicy(country, region, NOW)
    expect(policy.gated).toBe(true)
    expect(policy.key).toBe(key)
    expect(policy.methods.length).toBeGreaterThan(0)
  })

  it.each([
    ['US', 'CA'],
    ['US', 'NY'],
    ['CA', 'ON'],
    ['JP', null],
  ] as const)('%s-%s has no law in force', (country, region) => {
    expect(statutoryPolicy(country, region, NOW)).toMatchObject({ gated: false, key: 'none', methods: [] })
  })

  it('fails closed without a location, for unknown and for Tor', () => {
    for (const country of [null, 'XX', 'T1']) {
      const policy = statutoryPolicy(country, null, NOW)
      expect(policy.gated).toBe(true)
      expect(policy.key).toBe('unknown')
    }
    expect(statutoryPolicy('T1', null, NOW).reason).toMatch(/Tor/)
  })

  it('switches a law on the day before it takes effect (UTC)', () => {
    // Iowa HF 864 takes effect 2026-07-01
    expect(lawFor('US', 'IA', at('2026-06-29T23:59:59Z'))).toBeUndefined()
    expect(lawFor('US', 'IA', at('2026-06-30T00:00:00Z'))?.law).toBe('HF 864')
  })

  it('keeps per-session checks where the law asks for them', () => {
    expect(statutoryPolicy('IT', null, NOW)).toMatchObject({ perSession: true, methods: ['DBL_ANON'] })
    expect(statutoryPolicy('US', 'MO', NOW).methods).toContain('FAE')
    expect(statutoryPolicy('US', 'TX', NOW).methods).not.toContain('FAE')
  })

  it('has one row per key', () => {
    const keys = AV_LAWS.map((law) => law.key)
    expect(new Set(keys).size).toBe(keys.length)
  })
})
