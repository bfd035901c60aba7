/**
 * Checkout: a fan pays a creator (subscription, tip, pay-per-view, message unlock). The routing
 * engine picks the gateway and MID among the configured gateways and healthy MIDs (its reasons are
 * kept on the payment), a `payments` row is opened as `pending`, and the chosen gateway's adapter
 * builds the hosted-payment request. The payment completes when the gateway's postback arrives
 * (webhooks/ingest.ts -> apply.ts); nothing here moves money.
 *
 * Routing state (success-rate windows, eliminations) comes from the `RoutingStats` object, which
 * apply.ts feeds with every gateway outcome.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { ne } from 'drizzle-orm'
import { merchantIds } from '../../d1/schema'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { adapterFor, GATEWAY_IDS } from './gateways/registry'
import type { CheckoutKind, CheckoutRequest, GatewayId } from './gateways/types'
import { midHealthView } from './health/view'
import { midBrands, midCurrencies } from './health/mids'
import { decide, mulberry32, parseRoutingState, seedFromText, type GatewayInfo, type MidHealth, type MidInfo, type RoutingConfig } from './routing'
import { gatewaySettings } from './webhooks/settings'

export interface CheckoutInput {
  creatorId: string
  kind: Exclude<CheckoutKind, 'purchase'>
  amountMinor: number
  currency: string
  /** where the gateway sends the fan back */
  returnUrl: string
}

export interface CheckoutStarted {
  paymentId: string
  gateway: GatewayId
  midId: string
  request: CheckoutRequest
  reasons: string[]
}

export const ROUTING: RoutingConfig = {
  rules: [],
  defaultOrder: ['sandbox'],
  successRate: { enabled: true, windowSize: 200, explorationBps: 500, minSamples: 20, segmentBy: ['method', 'currency'] },
  elimination: { failures: 5, withinMs: 60_000, cooldownMs: 300_000 },
}

export function routingStats(env: Pick<Env, 'ROUTING_STATS'>) {
  return env.ROUTING_STATS.getByName('routing:global')
}

/** The gateways this environment can take money through, in the platform's default order. */
async function configuredGateways(c: Context<AppEnv>): Promise<GatewayId[]> {
  const out: GatewayId[] = []
  for (const id of GATEWAY_IDS) if (await gatewaySettings(c.env, c.var.config, id)) out.push(id)
  return out
}

export async function startCheckout(c: Context<AppEnv>, fanUserId: string, input: CheckoutInput): Promise<CheckoutStarted> {
  const creator = await c.env.DB.prepare(
    `SELECT c.id, c.brand_id, c.display_name, b.name AS brand_name, b.status AS brand_status FROM creators c JOIN brands b ON b.id = c.brand_id WHERE c.id = ?`,
  )
    .bind(input.creatorId)
    .first<{ id: string; brand_id: string; display_name: string; brand_name: string; brand_status: string }>()
  if (!creator || creator.brand_status !== 'active') throw new ProblemError('NOT_FOUND', { detail: `no creator ${input.creatorId}`, errors: [{ path: 'body.creator_id', message: 'no such creator' }] })

  const gateways = await configuredGateways(c)
  const midRows = await db(c.env.DB).select().from(merchantIds).where(ne(merchantIds.status, 'disabled')).all()
  const mids: MidInfo[] = midRows
    .filter((m) => (gateways as string[]).includes(m.gateway))
    .map((m, i) => ({
      midId: m.id,
      gateway: m.gateway as GatewayId,
      status: m.status as MidInfo['status'],
      currencies: midCurrencies(m),
      brands: midBrands(m),
      priority: i,
      capCurrency: m.capCurrency,
    }))
  const midHealth: MidHealth[] = await Promise.all(
    mids.map(async (m) => {
      const view = await midHealthView(c.env, m.midId)
      return { midId: m.midId, drain: view.drain, capRemainingMinor: view.capRemainingMinor, ...(view.drain ? { drainReason: 'MerchantHealth: drain' } : {}) }
    }),
  )
  // a gateway takes what its MIDs take; brands and currencies are narrowed again per MID
  const gatewayInfo: GatewayInfo[] = gateways
    .map((id) => ({ id, currencies: [...new Set(mids.filter((m) => m.gateway === id).flatMap((m) => m.currencies))] }))
    .filter((g) => g.currencies.length > 0)
    .map((g) => ({ id: g.id, enabled: true, methods: ['card'], currencies: g.currencies, brands: ['*'] }))
  const paymentId = newId('payment')
  const country = c.var.geo.country && /^[A-Z]{2}$/.test(c.var.geo.country) ? c.var.geo.country : 'XX'
  const decision = decide(
    { brand: creator.brand_id, country, currency: input.currency, amountMinor: input.amountMinor, method: 'card' },
    { ...ROUTING, defaultOrder: gateways.length ? (gateways as [GatewayId, ...GatewayId[]]) : ROUTING.defaultOrder },
    { nowMs: Date.now(), gateways: gatewayInfo, mids, midHealth, stats: parseRoutingState(await routingStats(c.env).snapshot()) },
    mulberry32(seedFromText(paymentId)),
  )
  const chosen = decision.candidates[0]
  if (!chosen) throw new ProblemError('PAYMENT_NOT_ROUTABLE', { detail: `no gateway can take this payment: ${decision.reasons.join('; ')}` })
  const gateway = chosen.gateway as GatewayId
  const settings = await gatewaySettings(c.env, c.var.config, gateway)
  const built = adapterFor(gateway).buildCheckout(settings as never, {
    kind: input.kind,
    reference: paymentId,
    amount: { minor: input.amountMinor, currency: input.currency },
    description: `${input.kind === 'subscription' ? 'Subscription to' : 'Payment to'} ${creator.display_name} on ${creator.brand_name}`,
    ...(input.kind === 'subscription' ? { initialPeriodDays: 30, recurring: { amount: { minor: input.amountMinor, currency: input.currency }, periodDays: 30 } } : {}),
    successUrl: input.returnUrl,
  })
  if (!built.ok) throw new ProblemError('UPSTREAM_ERROR', { detail: `the gateway adapter refused the checkout: ${built.reason}` })
  const nowMs = Date.now()
  await c.env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, routing_json, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  )
    .bind(paymentId, input.kind, creator.brand_id, creator.id, fanUserId, input.amountMinor, input.currency, gateway, chosen.midId, JSON.stringify({ segment: decision.segment, reasons: decision.reasons }), nowMs, nowMs)
    .run()
  return { paymentId, gateway, midId: chosen.midId, request: built.request, reasons: decision.reasons }
}
