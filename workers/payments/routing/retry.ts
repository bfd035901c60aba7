/**
 * Smart retries (payments.md §2): a failed attempt moves to the next candidate only when the
 * failure was technical (timeout, gateway error, connection refused). An issuer's decline or a
 * fraud block would only be declined again elsewhere, and retrying them across gateways looks like
 * card testing to the networks. One retry by default, as Hyperswitch recommends starting with.
 * @module
 */
import type { Candidate, Decision, Outcome } from './types'

/**
 * How a failed attempt is classed by the gateway adapter: `technical` = the gateway or network
 * failed; `soft` = issuer decline that may pass later (insufficient funds, do not honour);
 * `hard` = issuer decline that will not (stolen card, closed account); `fraud` = blocked by risk checks.
 */
export type DeclineCategory = 'technical' | 'soft' | 'hard' | 'fraud'

/**
 * Whether a failure of this category may be retried on another candidate.
 * @example
 * shouldRetry('technical') // true
 * shouldRetry('soft') // false
 */
export function shouldRetry(category: DeclineCategory): boolean {
  return category === 'technical'
}

/** The outcome to record for a failed attempt of this category. */
export function outcomeOfFailure(category: DeclineCategory): Outcome {
  return category === 'technical' ? 'technical_error' : 'declined'
}

export interface RetryChoice {
  candidate: Candidate | null
  reason: string
}

/**
 * The candidate to try after a failed attempt, or null with the reason there is none. A candidate
 * on a gateway not yet attempted comes first (a technical error is most often the gateway's);
 * another MID of an attempted gateway only when no other gateway is left.
 * @param attempted the candidates tried so far, in order; the last one is the one that just failed
 * @param maxRetries attempts after the first one
 */
export function nextCandidate(decision: Decision, attempted: readonly Pick<Candidate, 'gateway' | 'midId'>[], category: DeclineCategory, maxRetries = 1): RetryChoice {
  if (!shouldRetry(category)) return { candidate: null, reason: `${category} decline: not retried` }
  if (attempted.length > maxRetries) return { candidate: null, reason: `retry budget of ${maxRetries} spent` }
  const tried = (c: Candidate): boolean => attempted.some((a) => a.gateway === c.gateway && a.midId === c.midId)
  const triedGateways = new Set(attempted.map((a) => a.gateway))
  const remaining = decision.candidates.filter((c) => !tried(c))
  const otherGateway = remaining.find((c) => !triedGateways.has(c.gateway))
  if (otherGateway) return { candidate: otherGateway, reason: `technical failure: retry on gateway ${otherGateway.gateway}` }
  const sameGateway = remaining[0]
  if (sameGateway) return { candidate: sameGateway, reason: `technical failure: no other gateway left, retry on mid ${sameGateway.midId} of ${sameGateway.gateway}` }
  return { candidate: null, reason: 'technical failure: no candidate left' }
}
