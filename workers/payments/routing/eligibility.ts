/**
 * Which gateways and MIDs may take a payment at all, before any ordering. Every refusal is a
 * sentence that ends up in the decision's reasons.
 * @module
 */
import { eliminatedUntil, type RoutingState } from './state'
import { ANY_BRAND, type GatewayInfo, type MidHealth, type MidInfo, type PaymentContext } from './types'

const servesBrand = (brands: readonly string[], brand: string): boolean => brands.includes(ANY_BRAND) || brands.includes(brand)

/** Why the gateway cannot take the payment, or null when it can (its MIDs are checked separately). */
export function gatewayProblem(gateway: GatewayInfo | undefined, ctx: PaymentContext, stats: RoutingState, nowMs: number): string | null {
  if (!gateway) return 'not in the gateway catalog'
  if (!gateway.enabled) return 'disabled'
  if (!gateway.methods.includes(ctx.method)) return `does not take ${ctx.method} payments`
  if (!gateway.currencies.includes(ctx.currency)) return `does not support currency ${ctx.currency}`
  if (!servesBrand(gateway.brands, ctx.brand)) return `does not serve brand ${ctx.brand}`
  if (ctx.cardNetwork && gateway.cardNetworks && !gateway.cardNetworks.includes(ctx.cardNetwork)) return `does not accept ${ctx.cardNetwork}`
  const until = eliminatedUntil(stats, gateway.id, nowMs)
  if (until !== null) return `eliminated after a burst of technical errors, until ${new Date(until).toISOString()}`
  return null
}

/**
 * Why the MID cannot take the payment, or null when it can. A cap kept in another currency than the
 * payment's is only enforced once exhausted: comparing across currencies needs a rate routing does
 * not have, and the MerchantHealth object re-checks the month's volume after every sale anyway.
 */
export function midProblem(mid: MidInfo, health: MidHealth | undefined, ctx: PaymentContext): string | null {
  if (mid.status === 'disabled') return 'disabled'
  if (mid.status === 'draining') return 'draining (set on the MID)'
  if (!mid.currencies.includes(ctx.currency)) return `does not support currency ${ctx.currency}`
  if (!servesBrand(mid.brands, ctx.brand)) return `does not serve brand ${ctx.brand}`
  if (health?.drain) return `draining: ${health.drainReason ?? 'near a card-network threshold'}`
  const remaining = health?.capRemainingMinor ?? null
  if (remaining !== null) {
    if (remaining <= 0) return 'monthly cap reached'
    if (mid.capCurrency === ctx.currency && remaining < ctx.amountMinor) return `monthly cap would be exceeded (${remaining} ${ctx.currency} left, payment ${ctx.amountMinor})`
  }
  return null
}

/** How an eligible MID reads in a candidate's reasons. */
export function midStanding(mid: MidInfo, health: MidHealth | undefined): string {
  if (!health) return `mid ${mid.midId}: no health data yet, taken as healthy`
  const unit = mid.capCurrency ? ` ${mid.capCurrency}` : ''
  const cap = health.capRemainingMinor === null ? 'no monthly cap' : `${health.capRemainingMinor}${unit} of monthly cap left`
  return `mid ${mid.midId}: healthy, ${cap}`
}
