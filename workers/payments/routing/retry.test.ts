import { describe, expect, it } from 'vitest'
import { declineCategoryOf, nextCandidate, outcomeOfFailure, shouldRetry } from './retry'
import type { Decision } from './types'

const decision: Decision = {
  candidates: [
    { gateway: 'ccbill', midId: 'mid_c1', reasons: ['x'] },
    { gateway: 'ccbill', midId: 'mid_c2', reasons: ['x'] },
    { gateway: 'segpay', midId: 'mid_s1', reasons: ['x'] },
  ],
  reasons: ['x'],
  ruleId: null,
  segment: 'card/visa/USD',
  explored: false,
  excluded: [],
}

describe('smart retries', () => {
  it('retries technical failures only', () => {
    expect(shouldRetry('technical')).toBe(true)
    expect(shouldRetry('soft')).toBe(false)
    expect(shouldRetry('hard')).toBe(false)
    expect(shouldRetry('fraud')).toBe(false)
    expect(outcomeOfFailure('technical')).toBe('technical_error')
    expect(outcomeOfFailure('soft')).toBe('declined')
  })

  it('moves a technical failure to another gateway before another MID of the same gateway', () => {
    const next = nextCandidate(decision, [decision.candidates[0]!], 'technical')
    expect(next.candidate).toEqual(decision.candidates[2])
    expect(next.reason).toBe('technical failure: retry on gateway segpay')
  })

  it('falls back to another MID of a tried gateway when no other gateway is left', () => {
    const next = nextCandidate(decision, [decision.candidates[0]!, decision.candidates[2]!], 'technical', 2)
    expect(next.candidate?.midId).toBe('mid_c2')
  })

  it('refuses declines, a spent budget and an exhausted list', () => {
    expect(nextCandidate(decision, [decision.candidates[0]!], 'soft')).toEqual({ candidate: null, reason: 'soft decline: not retried' })
    expect(nextCandidate(decision, [decision.candidates[0]!, decision.candidates[2]!], 'technical')).toEqual({ candidate: null, reason: 'retry budget of 1 spent' })
    expect(nextCandidate(decision, decision.candidates, 'technical', 5).candidate).toBeNull()
  })

  it('classes gateway failure codes: technical only when the gateway or network failed', () => {
    const cases: Array<[string | null, string]> = [
      ['processing_error', 'technical'],
      ['Gateway timeout', 'technical'],
      ['network_error', 'technical'],
      ['HTTP 503 from acquirer', 'technical'],
      ['card_declined', 'soft'],
      ['insufficient_funds', 'soft'],
      ['BE-900 Transaction Denied', 'soft'],
      ['do_not_honor', 'soft'],
      ['invalid_number', 'hard'],
      ['expired_card', 'hard'],
      ['suspected_fraud', 'fraud'],
      ['stolen_card', 'fraud'],
      // an issuer's decline that mentions a timeout is still a decline
      ['declined: issuer timeout', 'soft'],
      ['', 'soft'],
      [null, 'soft'],
      ['something unheard of', 'soft'],
    ]
    expect(cases.map(([code]) => [code, declineCategoryOf(code)])).toEqual(cases)
  })
})
