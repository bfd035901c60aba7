/**
 * Smart payment routing (issue 4, point 4; model: Hyperswitch / Juspay decision engine, payments.md §2).
 *
 * The engine is pure: it reads a payment context, the routing config, plain data about gateways,
 * MIDs, MID health and observed outcomes, and a seeded RNG, and returns an ordered list of
 * gateway + MID candidates with the reasons for every step. It does no I/O and keeps no globals.
 *
 * What `decide(ctx, config, state, rng)` does, in order:
 * 1. Segment: the payment's success-rate segment, `config.successRate.segmentBy` joined by `/`
 *    (default method/cardNetwork/currency, e.g. `card/visa/USD`).
 * 2. Rules: evaluated top to bottom; the first rule whose conditions all hold (eq, ne, in, not_in,
 *    gt, gte, lt, lte over brand, country, region, currency, amountMinor, method, cardNetwork, bin;
 *    prefix over bin) gives the output. No match: `defaultOrder`. A condition on a dimension the
 *    payment lacks never matches. Amount conditions must sit next to a currency condition.
 * 3. Eligibility, once per gateway: in the catalog, enabled, takes the method, currency, brand and
 *    card network, not eliminated; then its MIDs by priority: not disabled or draining, currency and
 *    brand supported, MerchantHealth not draining, monthly cap not reached (nor exceeded by this
 *    amount when the cap is in the payment's currency). A gateway with no eligible MID is out. Each
 *    removal is a reason and an `excluded` entry. If the matched rule leaves nothing, the default
 *    order is used instead.
 * 4. Order: `priority` lists keep their order, or, with success-rate ranking (config or per list),
 *    are sorted by approvals over the last `windowSize` outcomes in the segment (gateways below
 *    `minSamples` after the rated ones), and with probability `explorationBps`/10000 another
 *    gateway is moved first. `volume_split` draws the first gateway by percentage from the RNG over
 *    the eligible members; the others follow by share as fallbacks.
 * 5. Candidates: each gateway in order expands to its eligible MIDs; every candidate carries why
 *    it is there and how its MID stands. `decision.reasons` is the whole story, to be logged with
 *    the payment id; `decision.segment` is what to record the outcome under.
 *
 * After each attempt: `recordOutcome(stats, gateway, segment, outcome, atMs, config)` returns the
 * new `RoutingState` (window updated; `elimination.failures` consecutive technical errors within
 * `withinMs` eliminate the gateway for `cooldownMs`). On failure, `declineCategoryOf(code)` classes
 * the gateway's failure code (technical only when the gateway says so), `shouldRetry(category)` /
 * `nextCandidate(decision, attempted, category)` retry on the next candidate, preferring another
 * gateway, and only for technical failures.
 *
 * Persistence: `RoutingState` is plain JSON (`serialiseRoutingState` / `parseRoutingState`). The
 * integrator keeps it in a Durable Object (a single writer, so outcome updates do not race), loads
 * it per decision (or caches it in the isolate for a few seconds: slightly stale statistics are
 * harmless) and stores what `recordOutcome` returns. See state.ts for sizing. Nothing here writes D1.
 *
 * Reproducibility: seed the RNG from the payment id (`mulberry32(seedFromText(paymentId))`); with
 * the logged inputs the same decision comes out again.
 * @module
 */
export { decide, type RoutingInputs } from './decide'
export { gatewayProblem, midProblem } from './eligibility'
export { mulberry32, seedFromText, type Rng } from './prng'
export { declineCategoryOf, nextCandidate, outcomeOfFailure, shouldRetry, type DeclineCategory, type RetryChoice } from './retry'
export { conditionHolds, describeCondition, firstMatchingRule } from './rules'
export {
  eliminatedUntil,
  emptyRoutingState,
  parseRoutingState,
  recordOutcome,
  routingStateSchema,
  segmentOf,
  serialiseRoutingState,
  windowStats,
  type GatewayBreaker,
  type OutcomePolicy,
  type RoutingState,
  type WindowStats,
} from './state'
export * from './types'
