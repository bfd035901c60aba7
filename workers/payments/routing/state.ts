/**
 * `RoutingState`: what the engine has observed, as plain JSON-able data. Per (gateway, segment) a
 * sliding window of the last outcomes (success-rate routing), and per gateway the current streak of
 * technical errors and the end of its elimination (circuit breaker).
 *
 * Persistence is the integrator's: keep the object in a Durable Object (one per platform, or one
 * per brand if brands must not share statistics), load it with `parseRoutingState`, pass it to
 * `decide`, and replace it with what `recordOutcome` returns after each attempt's outcome is known.
 * Size: one character per outcome, so gateways x segments x windowSize bytes at most (8 gateways,
 * 100 live segments, window 200: about 160 kB). Above the 128 KiB value limit of the Durable Object
 * KV API, store one key (or SQLite row) per gateway, `state.windows[gateway]` and
 * `state.gateways[gateway]`, rather than the whole object under one key.
 * @module
 */
import { z } from 'zod'
import type { EliminationConfig, Outcome, PaymentContext, SegmentDimension, SuccessRateConfig } from './types'

/** One character per outcome keeps windows compact and readable in storage. */
const CODE: Record<Outcome, string> = { approved: 'A', declined: 'D', technical_error: 'T' }

export interface GatewayBreaker {
  /** times of the current run of consecutive technical errors, oldest first */
  failureStreakAtMs: number[]
  /** the gateway takes no traffic before this instant; null = never eliminated */
  eliminatedUntilMs: number | null
}

export interface RoutingState {
  version: 1
  /** gateway -> segment -> outcome codes (`A` approved, `D` declined, `T` technical error), oldest first */
  windows: Record<string, Record<string, string>>
  gateways: Record<string, GatewayBreaker>
}

const breakerSchema = z.strictObject({
  failureStreakAtMs: z.array(z.number().int().safe()),
  eliminatedUntilMs: z.number().int().safe().nullable(),
})

export const routingStateSchema = z.strictObject({
  version: z.literal(1),
  windows: z.record(z.string(), z.record(z.string(), z.string().regex(/^[ADT]*$/))),
  gateways: z.record(z.string(), breakerSchema),
})

/** The state before any outcome. */
export function emptyRoutingState(): RoutingState {
  return { version: 1, windows: {}, gateways: {} }
}

/** JSON text for storage. */
export function serialiseRoutingState(state: RoutingState): string {
  return JSON.stringify(state)
}

/**
 * The state from stored JSON text, validated (it crosses a storage boundary).
 * @throws ZodError or SyntaxError when the text is not a routing state
 */
export function parseRoutingState(json: string): RoutingState {
  return routingStateSchema.parse(JSON.parse(json))
}

// records come from JSON: a gateway named like an Object.prototype member must not read the prototype
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

/**
 * The success-rate segment of a payment: the chosen dimensions joined by `/`, `-` for an absent one.
 * @example
 * segmentOf(ctx, ['method', 'cardNetwork', 'currency']) // 'card/visa/USD', or 'crypto/-/USD'
 */
export function segmentOf(ctx: PaymentContext, dimensions: readonly SegmentDimension[]): string {
  if (dimensions.length === 0) return 'all'
  return dimensions.map((d) => ctx[d] ?? '-').join('/')
}

export interface WindowStats {
  samples: number
  approved: number
}

/**
 * Outcomes of the gateway in the segment over the last `windowSize` attempts.
 * @param windowSize the configured window; a window stored under a larger size is read by its tail
 */
export function windowStats(state: RoutingState, gateway: string, segment: string, windowSize: number): WindowStats {
  const window = (own(state.windows, gateway) && own(state.windows[gateway]!, segment)) ?? ''
  const tail = window.length > windowSize ? window.slice(window.length - windowSize) : window
  let approved = 0
  for (const code of tail) if (code === CODE.approved) approved++
  return { samples: tail.length, approved }
}

/** The end of the gateway's elimination if it is still eliminated at `nowMs`, else null. */
export function eliminatedUntil(state: RoutingState, gateway: string, nowMs: number): number | null {
  const until = own(state.gateways, gateway)?.eliminatedUntilMs ?? null
  return until !== null && nowMs < until ? until : null
}

/** What `recordOutcome` needs of the routing config (a whole `RoutingConfig` fits). */
export interface OutcomePolicy {
  successRate: Pick<SuccessRateConfig, 'windowSize'>
  elimination: EliminationConfig
}

function nextBreaker(previous: GatewayBreaker | undefined, outcome: Outcome, atMs: number, policy: EliminationConfig): GatewayBreaker {
  const breaker = previous ?? { failureStreakAtMs: [], eliminatedUntilMs: null }
  // approvals and declines prove the gateway answers: only technical errors build a burst
  if (outcome !== 'technical_error') return breaker.failureStreakAtMs.length === 0 ? breaker : { ...breaker, failureStreakAtMs: [] }
  // attempts started before the elimination report late; they must not extend it
  if (breaker.eliminatedUntilMs !== null && atMs < breaker.eliminatedUntilMs) return breaker
  const streak = [...breaker.failureStreakAtMs.filter((t) => t >= atMs - policy.withinMs), atMs].sort((a, b) => a - b)
  if (streak.length >= policy.failures) return { failureStreakAtMs: [], eliminatedUntilMs: atMs + policy.cooldownMs }
  return { ...breaker, failureStreakAtMs: streak }
}

/**
 * The state after one attempt's outcome: the (gateway, segment) window gains the outcome and drops
 * its oldest beyond `windowSize`; the gateway's breaker counts consecutive technical errors and
 * eliminates the gateway for `cooldownMs` once `failures` of them fall within `withinMs`. Declines
 * count against the success rate but not towards elimination: the issuer answered, the gateway works.
 * Pure: the given state is not changed.
 * @param policy takes the window size and elimination rules explicitly, so the state stays plain data
 * @returns the new state
 * @example
 * state = recordOutcome(state, 'segpay', decision.segment, 'approved', Date.now(), config)
 */
export function recordOutcome(state: RoutingState, gateway: string, segment: string, outcome: Outcome, atMs: number, policy: OutcomePolicy): RoutingState {
  const segments = own(state.windows, gateway) ?? {}
  const window = (own(segments, segment) ?? '') + CODE[outcome]
  const size = policy.successRate.windowSize
  const trimmed = window.length > size ? window.slice(window.length - size) : window
  return {
    version: 1,
    windows: { ...state.windows, [gateway]: { ...segments, [segment]: trimmed } },
    gateways: { ...state.gateways, [gateway]: nextBreaker(own(state.gateways, gateway), outcome, atMs, policy.elimination) },
  }
}
