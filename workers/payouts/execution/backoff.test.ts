import { describe, expect, it } from 'vitest'
import { fullJitterDelaySeconds, MAX_RETRY_DELAY_S, RetryLater } from '../../queues'
import { PAYOUT_BACKOFF, payoutRetryDelaySeconds, pollDelayMs } from './backoff'

describe('payout retry backoff (full jitter)', () => {
  it('draws uniformly below min(cap, base * 2^(n-1)): bounds per attempt', () => {
    // the top of the window: random() just below 1
    const top = (n: number) => payoutRetryDelaySeconds(n, { random: () => 0.999999 })
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([29, 59, 119, 239, 479, 959, 1919, 3599])
    // the bottom: full jitter may retry at once
    expect(payoutRetryDelaySeconds(5, { random: () => 0 })).toBe(0)
    expect(payoutRetryDelaySeconds(3, { random: () => 0.5 })).toBe(60)
  })

  it('caps the window at an hour however many attempts failed', () => {
    for (const n of [8, 9, 12, 30, 1000]) expect(payoutRetryDelaySeconds(n, { random: () => 0.999999 })).toBe(PAYOUT_BACKOFF.capS - 1)
  })

  it('is jittered: many draws spread over the window instead of landing on one value', () => {
    const draws = Array.from({ length: 2000 }, () => payoutRetryDelaySeconds(6))
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...draws)).toBeLessThan(960)
    expect(new Set(draws).size).toBeGreaterThan(300)
    const mean = draws.reduce((s, d) => s + d, 0) / draws.length
    // uniform on [0, 960): mean 480 (a generous band: this must not flake)
    expect(mean).toBeGreaterThan(400)
    expect(mean).toBeLessThan(560)
  })

  it('never retries sooner than Retry-After, even above the cap, and never beyond the queue limit', () => {
    expect(payoutRetryDelaySeconds(1, { random: () => 0, retryAfterMs: 7_000 })).toBe(7)
    expect(payoutRetryDelaySeconds(1, { random: () => 0, retryAfterMs: 7_001 })).toBe(8)
    // a later jittered draw wins over a short Retry-After
    expect(payoutRetryDelaySeconds(4, { random: () => 0.5, retryAfterMs: 5_000 })).toBe(120)
    expect(payoutRetryDelaySeconds(1, { random: () => 0, retryAfterMs: 2 * 3_600_000 })).toBe(7200)
    expect(payoutRetryDelaySeconds(1, { random: () => 0, retryAfterMs: 48 * 3_600_000 })).toBe(MAX_RETRY_DELAY_S)
    expect(payoutRetryDelaySeconds(2, { random: () => 0.5, retryAfterMs: Number.NaN })).toBe(30)
    expect(payoutRetryDelaySeconds(2, { random: () => 0.5, retryAfterMs: -5 })).toBe(30)
  })

  it('the queue default is full jitter too, and RetryLater clamps what a handler asks for', () => {
    expect(fullJitterDelaySeconds(3, { baseS: 10, capS: 900, random: () => 0.999 })).toBe(39)
    expect(fullJitterDelaySeconds(20, { baseS: 10, capS: 900, random: () => 0.999 })).toBe(899)
    expect(new RetryLater(12.2).delaySeconds).toBe(13)
    expect(new RetryLater(-3).delaySeconds).toBe(0)
    expect(new RetryLater(10 ** 9).delaySeconds).toBe(MAX_RETRY_DELAY_S)
  })

  it('polls a submitted payout at least a minute apart, backing off with its age up to an hour', () => {
    expect(pollDelayMs(0, () => 0)).toBe(60_000)
    expect(pollDelayMs(0, () => 0.999)).toBe(60_000)
    expect(pollDelayMs(20 * 60_000, () => 0)).toBe(300_000)
    expect(pollDelayMs(20 * 60_000, () => 0.999)).toBeLessThan(600_000)
    expect(pollDelayMs(48 * 3_600_000, () => 0.999)).toBeLessThanOrEqual(3_600_000)
    expect(pollDelayMs(48 * 3_600_000, () => 0)).toBe(1_800_000)
  })
})
