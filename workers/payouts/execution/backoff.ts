/**
 * When to try a payout again after a transient failure (5xx, timeout, 429): full-jitter
 * exponential backoff (a uniform draw in [0, min(cap, base * 2^(n-1))]), never sooner than the
 * processor's Retry-After, never later than the queue allows. Used for queue redelivery (the
 * message's delay) and for polling submitted payouts.
 * @module
 */
import { fullJitterDelaySeconds, MAX_RETRY_DELAY_S } from '../../queues'

export const PAYOUT_BACKOFF = {
  /** first retry within 30 s */
  baseS: 30,
  /** the backoff itself never waits more than an hour */
  capS: 3600,
} as const

/**
 * Seconds to wait before attempt `attempt + 1`.
 * @param attempt the attempt that just failed (1 = the first)
 * @param retryAfterMs the processor's Retry-After, when it sent one: honoured even above the cap
 *   (up to the queue's 12-hour limit), since retrying earlier only earns another refusal
 * @example payoutRetryDelaySeconds(3, { random: () => 0.5 }) // 60 (half of min(3600, 30 * 4))
 */
export function payoutRetryDelaySeconds(attempt: number, options: { retryAfterMs?: number; random?: () => number } = {}): number {
  const jittered = fullJitterDelaySeconds(attempt, { baseS: PAYOUT_BACKOFF.baseS, capS: PAYOUT_BACKOFF.capS, ...(options.random ? { random: options.random } : {}) })
  const floor = options.retryAfterMs !== undefined && Number.isFinite(options.retryAfterMs) && options.retryAfterMs > 0 ? Math.ceil(options.retryAfterMs / 1000) : 0
  return Math.min(MAX_RETRY_DELAY_S, Math.max(jittered, floor))
}

/** Polling a submitted payout: at least a minute apart, then backing off with the payout's age. */
export function pollDelayMs(ageMs: number, random: () => number = Math.random): number {
  const window = Math.min(PAYOUT_BACKOFF.capS * 1000, Math.max(60_000, Math.floor(ageMs / 2)))
  // half fixed, half jitter: polls of one batch spread out but never come back within a minute
  return Math.max(60_000, Math.floor(window / 2 + random() * (window / 2)))
}
