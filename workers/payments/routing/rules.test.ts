import { describe, expect, it } from 'vitest'
import { conditionHolds, firstMatchingRule } from './rules'
import { routingConfigSchema, ruleSchema, type Condition, type PaymentContext, type Rule } from './types'

const card: PaymentContext = { brand: 'boyfanz', country: 'US', region: 'CA', currency: 'USD', amountMinor: 1999, method: 'card', cardNetwork: 'visa', bin: '41111122' }
const crypto: PaymentContext = { brand: 'boyfanz', country: 'DE', currency: 'EUR', amountMinor: 5000, method: 'crypto' }

describe('conditions', () => {
  it.each<[Condition, boolean]>([
    [{ field: 'country', op: 'eq', value: 'US' }, true],
    [{ field: 'country', op: 'eq', value: 'DE' }, false],
    [{ field: 'country', op: 'ne', value: 'DE' }, true],
    [{ field: 'region', op: 'in', value: ['CA', 'NY'] }, true],
    [{ field: 'region', op: 'not_in', value: ['CA', 'NY'] }, false],
    [{ field: 'amountMinor', op: 'gt', value: 1999 }, false],
    [{ field: 'amountMinor', op: 'gte', value: 1999 }, true],
    [{ field: 'amountMinor', op: 'lt', value: 1999 }, false],
    [{ field: 'amountMinor', op: 'lte', value: 1999 }, true],
    [{ field: 'amountMinor', op: 'in', value: [999, 1999] }, true],
    [{ field: 'bin', op: 'prefix', value: ['5', '4111'] }, true],
    [{ field: 'bin', op: 'prefix', value: ['4112'] }, false],
    [{ field: 'bin', op: 'eq', value: '41111122' }, true],
    [{ field: 'cardNetwork', op: 'eq', value: 'visa' }, true],
  ])('%j on a US visa card -> %s', (condition, expected) => {
    expect(conditionHolds(condition, card)).toBe(expected)
  })

  it('never matches a dimension the payment lacks, whatever the operator', () => {
    expect(conditionHolds({ field: 'cardNetwork', op: 'ne', value: 'visa' }, crypto)).toBe(false)
    expect(conditionHolds({ field: 'cardNetwork', op: 'not_in', value: ['visa'] }, crypto)).toBe(false)
    expect(conditionHolds({ field: 'region', op: 'ne', value: 'BY' }, crypto)).toBe(false)
    expect(conditionHolds({ field: 'bin', op: 'prefix', value: ['4'] }, crypto)).toBe(false)
  })
})

describe('first match wins', () => {
  const rules: Rule[] = [
    { id: 'big-usd-visa', conditions: [{ field: 'cardNetwork', op: 'eq', value: 'visa' }, { field: 'currency', op: 'eq', value: 'USD' }, { field: 'amountMinor', op: 'gte', value: 10_000 }], output: { type: 'priority', gateways: ['epoch'] } },
    { id: 'visa', conditions: [{ field: 'cardNetwork', op: 'eq', value: 'visa' }], output: { type: 'priority', gateways: ['ccbill'] } },
    { id: 'us', conditions: [{ field: 'country', op: 'eq', value: 'US' }], output: { type: 'priority', gateways: ['segpay'] } },
  ]

  it('takes the first of several matching rules', () => {
    expect(firstMatchingRule(rules, card)?.id).toBe('visa')
    expect(firstMatchingRule(rules, { ...card, amountMinor: 10_000 })?.id).toBe('big-usd-visa')
    expect(firstMatchingRule(rules, { ...card, cardNetwork: 'mastercard' })?.id).toBe('us')
    expect(firstMatchingRule(rules, crypto)).toBeUndefined()
  })

  it('treats a rule without conditions as catch-all', () => {
    expect(firstMatchingRule([...rules, { id: 'all', conditions: [], output: { type: 'priority', gateways: ['vendo'] } }], crypto)?.id).toBe('all')
  })
})

describe('config validation', () => {
  const base = { defaultOrder: ['ccbill'], successRate: { enabled: true, windowSize: 200, explorationBps: 500, minSamples: 50, segmentBy: ['method', 'cardNetwork', 'currency'] }, elimination: { failures: 5, withinMs: 60_000, cooldownMs: 300_000 } }

  it('accepts a valid config', () => {
    const parsed = routingConfigSchema.safeParse({ ...base, rules: [{ id: 'r', conditions: [{ field: 'bin', op: 'prefix', value: ['4'] }], output: { type: 'volume_split', splits: [{ gateway: 'ccbill', percent: 70 }, { gateway: 'segpay', percent: 30 }] } }] })
    expect(parsed.success).toBe(true)
  })

  it('refuses amounts without a currency, splits not adding up to 100, prefix outside bin, duplicate rule ids', () => {
    expect(ruleSchema.safeParse({ id: 'r', conditions: [{ field: 'amountMinor', op: 'gt', value: 100 }], output: { type: 'priority', gateways: ['ccbill'] } }).success).toBe(false)
    expect(ruleSchema.safeParse({ id: 'r', conditions: [{ field: 'amountMinor', op: 'gt', value: 100 }, { field: 'currency', op: 'eq', value: 'USD' }], output: { type: 'priority', gateways: ['ccbill'] } }).success).toBe(true)
    expect(ruleSchema.safeParse({ id: 'r', conditions: [], output: { type: 'volume_split', splits: [{ gateway: 'ccbill', percent: 70 }, { gateway: 'segpay', percent: 20 }] } }).success).toBe(false)
    expect(ruleSchema.safeParse({ id: 'r', conditions: [{ field: 'country', op: 'prefix', value: ['U'] }], output: { type: 'priority', gateways: ['ccbill'] } }).success).toBe(false)
    const rule = { id: 'r', conditions: [], output: { type: 'priority', gateways: ['ccbill'] } }
    expect(routingConfigSchema.safeParse({ ...base, rules: [rule, rule] }).success).toBe(false)
    expect(routingConfigSchema.safeParse({ ...base, rules: [], successRate: { ...base.successRate, minSamples: 201 } }).success).toBe(false)
    expect(routingConfigSchema.safeParse({ ...base, rules: [], defaultOrder: ['constructor!'] }).success).toBe(false)
  })
})
