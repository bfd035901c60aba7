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

// Issuer and risk answers come first: a message such as "declined: issuer timeout" is still the
// issuer's decision, and a decline must never be mistaken for a technical error (retrying it on
// another gateway looks like card testing to the networks).
const FRAUD = /fraud|stolen|lost[ _-]?card|pick[ _-]?up|risk|blocked|blacklist|velocity|suspected/
const HARD = /invalid[ _-]?(number|card|account|cvc|cvv|expiry)|expired|closed|not[ _-]?permitted|restricted|no[ _-]?such|incorrect/
const SOFT = /declin|insufficient|funds|limit|do[ _-]?not[ _-]?honou?r|denied|refused|card_declined|not[ _-]?authori[sz]ed|authentication/
// the gateway, its network or its acquirer link failed; the issuer never said no
const TECHNICAL = /processing[ _-]?error|technical|timeout|timed[ _-]?out|network|gateway[ _-]?error|connection|unavailable|system[ _-]?error|internal[ _-]?error|temporar|try[ _-]?again|service[ _-]?error|upstream|issuer[ _-]?(unavailable|inoperative)|\b5\d\d\b/

/**
 * The category of a gateway's failure code or reason text (`processing_error`, `card_declined`,
 * `BE-900 Transaction Denied`, ...). Unknown or empty codes are `soft`: a failure is only technical
 * when the gateway says so, because only technical failures are retried elsewhere.
 * @example
 * declineCategoryOf('processing_error') // 'technical'
 * declineCategoryOf('card_declined') // 'soft'
 * declineCategoryOf('suspected_fraud') // 'fraud'
 */
export function declineCategoryOf(code: string | null | undefined): DeclineCategory {
  const text = (code ?? '').toLowerCase()
  if (FRAUD.test(text)) return 'fraud'
  if (HARD.test(text)) return 'hard'
  if (SOFT.test(text)) return 'soft'
  if (TECHNICAL.test(text)) return 'technical'
  return 'soft'
}

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
