/**
 * Checkout: a fan pays a creator (subscription, tip, pay-per-view, message unlock) by card, crypto
 * or bank transfer (ach, sepa, wire). The routing engine picks the gateway and MID under the ACTIVE
 * routing configuration in D1 (admin/routing-configs.ts) among the gateways finance switched on for
 * the method and whose credentials are configured (admin/gateway-catalog.ts), and the healthy MIDs;
 * its reasons are kept on the payment. A `payments` row is opened as `pending` and the chosen
 * gateway's adapter builds the hosted-payment request. The payment completes when the gateway's
 * postback arrives (webhooks/ingest.ts -> apply.ts); nothing here moves money.
 *
 * Prices: a subscription costs what the creator set (`subscriptionPrice`), never what a client
 * says; a client may repeat the price, and a different one is refused naming the field.
 *
 * Retries (payments.md §2 "smart retries"): a payment that failed for a technical reason (the
 * gateway or its network, never an issuer's decline, fraud block or insufficient funds) may be
 * retried by the same fan with `retryOf`, at most MAX_RETRIES times per original; every gateway
 * that already failed in the chain is left out of the new decision, and the reasons say so.
 *
 * Routing state (success-rate windows, eliminations) comes from the `RoutingStats` object, which
 * apply.ts feeds with every gateway outcome.
 * @module
 */
import type { Context } from 'hono'
import { ne } from 'drizzle-orm'
import { merchantIds } from '../../d1/schema'
import type { Config } from '../config'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { gatewayCatalog, offered, type CatalogEntry } from './admin/gateway-catalog'
import { activeRoutingConfig } from './admin/routing-configs'
import { bankReferenceFor } from './bank/reference'
import { hostedCheckoutRequest } from './crypto/invoice'
import { adapterFor, isGatewayId } from './gateways/registry'
import type { CheckoutKind, CheckoutRequest, GatewayId } from './gateways/types'
import { midHealthView } from './health/view'
import { midBrands, midCurrencies } from './health/mids'
import {
  declineCategoryOf,
  decide,
  mulberry32,
  parseRoutingState,
  seedFromText,
  type Decision,
  type DeclineCategory,
  type GatewayInfo,
  type MidHealth,
  type MidInfo,
  type PaymentContext,
  type PaymentMethod,
  type RoutingConfig,
} from './routing'
import { subscriptionPrice } from './subscriptions/pricing'
import { gatewaySettings } from './webhooks/settings'

/** Retries after the first attempt, per original payment (Hyperswitch suggests starting with 1). */
export const MAX_RETRIES = 2

export interface CheckoutInput {
  creatorId: string
  kind: Exclude<CheckoutKind, 'purchase'>
  /** required for tips, pay-per-view and unlocks; for subscriptions absent or equal to the creator's price */
  amountMinor?: number
  currency?: string
  /** default `card` (or, on a retry, the failed attempt's method) */
  method?: PaymentMethod
  /** a failed payment of this fan to try again on another gateway (technical failures only) */
  retryOf?: string
  /** where the gateway sends the fan back */
  returnUrl: string
}

export interface CheckoutStarted {
  paymentId: string
  gateway: GatewayId
  midId: string
  /** where to send the fan: a redirect or a form (server-side requests are already made) */
  request: Extract<CheckoutRequest, { kind: 'redirect' | 'form' }>
  reasons: string[]
  method: PaymentMethod
  amountMinor: number
  currency: string
  retryOf: string | null
  /** bank transfers: the ISO 11649 reference the fan quotes */
  bankReference: string | null
}

export function routingStats(env: Pick<Env, 'ROUTING_STATS'>) {
  return env.ROUTING_STATS.getByName('routing:global')
}

export interface RoutedPayment {
  decision: Decision
  /** the routing configuration version decided under (0 = fallback, none active) */
  version: number
}

export interface RouteOptions {
  /** gateways to leave out of this decision, with the reason */
  left?: ReadonlyMap<string, string>
  /** decide under this configuration instead of the active one (the simulator's "what if") */
  routing?: { version: number; config: RoutingConfig }
  nowMs?: number
}

/**
 * Decides where a payment goes under the active configuration without opening anything: checkout
 * uses it, and so does the admin simulator. `left` takes gateways out of this decision with a
 * reason (the ones that already failed in a retry chain); gateways not offered (switched off, no
 * credentials, no adapter) are out with the catalog's reason.
 */
export async function routePayment(env: Env, config: Config, ctx: PaymentContext, seed: string, options: RouteOptions = {}): Promise<RoutedPayment> {
  const left = options.left ?? new Map<string, string>()
  const nowMs = options.nowMs ?? Date.now()
  const [{ version, config: routing }, catalog, midRows, stats] = await Promise.all([
    options.routing ?? activeRoutingConfig(env.DB),
    gatewayCatalog(env, config),
    db(env.DB).select().from(merchantIds).where(ne(merchantIds.status, 'disabled')).all(),
    routingStats(env).snapshot(),
  ])
  const usable = new Set(offered(catalog).map((g) => g.gateway as string))
  const mids: MidInfo[] = midRows.map((m, i) => ({
    midId: m.id,
    gateway: m.gateway,
    status: m.status,
    currencies: midCurrencies(m),
    brands: midBrands(m),
    priority: i,
    capCurrency: m.capCurrency,
  }))
  // health is asked only of MIDs that could take the payment
  const midHealth: MidHealth[] = await Promise.all(
    mids
      .filter((m) => usable.has(m.gateway) && !left.has(m.gateway))
      .map(async (m) => {
        const view = await midHealthView(env, m.midId)
        return { midId: m.midId, drain: view.drain, capRemainingMinor: view.capRemainingMinor, ...(view.drain ? { drainReason: 'MerchantHealth: drain' } : {}) }
      }),
  )
  const gateways: GatewayInfo[] = catalog.map((entry) => gatewayInfo(entry, mids, ctx, usable.has(entry.gateway) && !left.has(entry.gateway)))
  const decision = decide(ctx, routing, { nowMs, gateways, mids, midHealth, stats: parseRoutingState(stats) }, mulberry32(seedFromText(seed)))
  const why = new Map<string, string>()
  for (const entry of catalog) if (entry.notOfferedBecause) why.set(entry.gateway, `not offered: ${entry.notOfferedBecause}`)
  for (const [gateway, reason] of left) why.set(gateway, reason)
  return { decision: explainDisabled(decision, why), version }
}

/** A gateway as the engine sees it: what its MIDs take (brands and currencies are narrowed per MID again). */
function gatewayInfo(entry: CatalogEntry, mids: readonly MidInfo[], ctx: PaymentContext, enabled: boolean): GatewayInfo {
  const currencies = [...new Set(mids.filter((m) => m.gateway === entry.gateway).flatMap((m) => m.currencies))]
  return {
    id: entry.gateway,
    enabled,
    methods: entry.terms?.methods.length ? entry.terms.methods : ['card'],
    // no MID at all: let the engine say so ("no MID configured") rather than blame the currency
    currencies: currencies.length ? currencies : [ctx.currency],
    brands: ['*'],
  }
}

/** The engine only knows "disabled"; say why the gateway is off (catalog, or an earlier failure). */
function explainDisabled(decision: Decision, why: ReadonlyMap<string, string>): Decision {
  const reasonFor = (gateway: string) => why.get(gateway) ?? 'disabled'
  return {
    ...decision,
    excluded: decision.excluded.map((e) => (e.midId === null && e.reason === 'disabled' ? { ...e, reason: reasonFor(e.gateway) } : e)),
    reasons: decision.reasons.map((line) => {
      const match = /^gateway (\S+) excluded: disabled$/.exec(line)
      return match ? `gateway ${match[1]} excluded: ${reasonFor(match[1]!)}` : line
    }),
  }
}

type PaymentRow = {
  id: string
  fan_user_id: string
  creator_id: string
  kind: string
  amount_minor: number
  currency: string
  method: PaymentMethod
  gateway: string
  status: string
  failure_code: string | null
  failure_technical: number | null
  retry_of: string | null
  created_at_ms: number
}

const PAYMENT_COLUMNS = 'id, fan_user_id, creator_id, kind, amount_minor, currency, method, gateway, status, failure_code, failure_technical, retry_of, created_at_ms'

const retryRefused = (message: string): ProblemError => new ProblemError('VALIDATION_FAILED', { detail: `retry_of: ${message}`, errors: [{ path: 'body.retry_of', message }] })

interface RetryChain {
  /** the failed attempt being retried first, back to the original */
  attempts: PaymentRow[]
  original: PaymentRow
}

/** The chain a retry continues, after every rule a retry must meet (422 naming retry_of otherwise). */
async function retryChain(d1: D1Database, fanUserId: string, retryOf: string): Promise<RetryChain> {
  const byId = (id: string) => d1.prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`).bind(id).first<PaymentRow>()
  const failed = await byId(retryOf)
  // someone else's payment reads the same as none: ids are not a way to learn about other fans
  if (!failed || failed.fan_user_id !== fanUserId) throw retryRefused(`no payment ${retryOf} of yours`)
  if (failed.status !== 'failed') throw retryRefused(`payment ${retryOf} is ${failed.status}; only a failed payment is retried`)
  if (failed.failure_technical !== 1) {
    throw retryRefused(`payment ${retryOf} was declined (${failed.failure_code ?? 'no code'}), not a technical failure: declines are not retried on another gateway`)
  }
  const attempts = [failed]
  while (attempts.at(-1)!.retry_of && attempts.length <= MAX_RETRIES + 1) {
    const parent = await byId(attempts.at(-1)!.retry_of!)
    if (!parent) break
    attempts.push(parent)
  }
  const original = attempts.at(-1)!
  if (attempts.length > MAX_RETRIES) throw retryRefused(`the retry budget of ${MAX_RETRIES} for ${original.id} is spent`)
  // through the fan index: a retry is the same fan's and comes after its original
  const child = await d1
    .prepare('SELECT id FROM payments WHERE fan_user_id = ? AND created_at_ms >= ? AND retry_of = ? LIMIT 1')
    .bind(fanUserId, failed.created_at_ms, failed.id)
    .first<{ id: string }>()
  if (child) throw retryRefused(`payment ${retryOf} was already retried by ${child.id}`)
  return { attempts, original }
}

const mismatch = (field: string, message: string): ProblemError => new ProblemError('VALIDATION_FAILED', { detail: `${field}: ${message}`, errors: [{ path: `body.${field}`, message }] })

interface Priced {
  amountMinor: number
  currency: string
  /** subscriptions: days one payment covers */
  periodDays: number | null
}

async function priceOf(d1: D1Database, input: CheckoutInput): Promise<Priced> {
  if (input.kind === 'subscription') {
    const price = await subscriptionPrice(d1, input.creatorId)
    if (input.amountMinor !== undefined && input.amountMinor !== price.amountMinor) throw mismatch('amount_minor', `a subscription to this creator costs ${price.amountMinor} (minor units of ${price.currency}); omit amount_minor or send that`)
    if (input.currency !== undefined && input.currency !== price.currency) throw mismatch('currency', `a subscription to this creator is priced in ${price.currency}; omit currency or send that`)
    return { amountMinor: price.amountMinor, currency: price.currency, periodDays: price.periodDays }
  }
  if (input.amountMinor === undefined) throw mismatch('amount_minor', `required for a ${input.kind}`)
  if (input.currency === undefined) throw mismatch('currency', `required for a ${input.kind}`)
  return { amountMinor: input.amountMinor, currency: input.currency, periodDays: null }
}

export async function startCheckout(c: Context<AppEnv>, fanUserId: string, input: CheckoutInput): Promise<CheckoutStarted> {
  const creator = await c.env.DB.prepare(
    `SELECT c.id, c.brand_id, c.display_name, b.name AS brand_name, b.status AS brand_status FROM creators c JOIN brands b ON b.id = c.brand_id WHERE c.id = ?`,
  )
    .bind(input.creatorId)
    .first<{ id: string; brand_id: string; display_name: string; brand_name: string; brand_status: string }>()
  if (!creator || creator.brand_status !== 'active') throw new ProblemError('NOT_FOUND', { detail: `no creator ${input.creatorId}`, errors: [{ path: 'body.creator_id', message: 'no such creator' }] })

  const chain = input.retryOf ? await retryChain(c.env.DB, fanUserId, input.retryOf) : null
  let priced: Priced
  let method: PaymentMethod = input.method ?? 'card'
  if (chain) {
    // a retry pays for the same thing as its original
    const original = chain.original
    if (original.creator_id !== input.creatorId) throw mismatch('creator_id', `the payment retried was to ${original.creator_id}`)
    if (original.kind !== input.kind) throw mismatch('kind', `the payment retried was a ${original.kind}`)
    if (input.amountMinor !== undefined && input.amountMinor !== original.amount_minor) throw mismatch('amount_minor', `the payment retried was for ${original.amount_minor}`)
    if (input.currency !== undefined && input.currency !== original.currency) throw mismatch('currency', `the payment retried was in ${original.currency}`)
    const period = input.kind === 'subscription' ? (await subscriptionPrice(c.env.DB, input.creatorId)).periodDays : null
    priced = { amountMinor: original.amount_minor, currency: original.currency, periodDays: period }
    method = input.method ?? chain.attempts[0]!.method
  } else {
    priced = await priceOf(c.env.DB, input)
  }

  const paymentId = newId('payment')
  const country = c.var.geo.country && /^[A-Z]{2}$/.test(c.var.geo.country) ? c.var.geo.country : 'XX'
  const left = new Map<string, string>()
  const preface: string[] = []
  if (chain) {
    for (const attempt of chain.attempts) if (!left.has(attempt.gateway)) left.set(attempt.gateway, `failed technically on ${attempt.id} (${attempt.failure_code ?? 'no code'}) in this retry chain`)
    preface.push(
      `retry ${chain.attempts.length} of ${MAX_RETRIES} for ${chain.original.id} (retrying ${chain.attempts[0]!.id}): gateways that already failed in the chain are excluded: ${[...left.keys()].join(', ')}`,
    )
  }
  const ctx: PaymentContext = { brand: creator.brand_id, country, currency: priced.currency, amountMinor: priced.amountMinor, method }
  const { decision, version } = await routePayment(c.env, c.var.config, ctx, paymentId, { left })
  const reasons = [...preface, `routing configuration version ${version}${version === 0 ? ' (none active: built-in fallback)' : ''}`, ...decision.reasons]
  const chosen = decision.candidates[0]
  if (!chosen) {
    throw new ProblemError('PAYMENT_NOT_ROUTABLE', { detail: `no gateway can take this ${method} payment: ${reasons.join('; ')}`, extensions: { reasons, excluded: decision.excluded } })
  }
  if (!isGatewayId(chosen.gateway)) throw new ProblemError('PAYMENT_NOT_ROUTABLE', { detail: `gateway ${chosen.gateway} has no adapter`, extensions: { reasons } })
  const gateway = chosen.gateway
  const settings = await gatewaySettings(c.env, c.var.config, gateway)
  const amount = { minor: priced.amountMinor, currency: priced.currency }
  const built = adapterFor(gateway).buildCheckout(settings as never, {
    kind: input.kind,
    reference: paymentId,
    amount,
    description: `${input.kind === 'subscription' ? 'Subscription to' : 'Payment to'} ${creator.display_name} on ${creator.brand_name}`,
    ...(priced.periodDays !== null ? { initialPeriodDays: priced.periodDays, recurring: { amount, periodDays: priced.periodDays } } : {}),
    successUrl: input.returnUrl,
  })
  if (!built.ok) throw new ProblemError('UPSTREAM_ERROR', { detail: `the gateway adapter refused the checkout: ${built.reason}` })
  // a server-side request (a crypto invoice) is made now, before the payment is opened: if the
  // processor refuses, no pending payment is left behind; its IPN cannot come before the fan has the page
  const request = await hostedCheckoutRequest(c.env, c.executionCtx as ExecutionContext, built.request)
  const bankReference = (gateway as string) === 'bank_transfer' ? bankReferenceFor(paymentId) : null
  const nowMs = Date.now()
  const retryOf = chain ? chain.attempts[0]! : null
  // a retry is opened only if its failed attempt has none yet, in the same statement: two retries
  // sent at once with different Idempotency-Keys cannot both open a payment
  const opened = await c.env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, routing_json, method, country, retry_of, bank_reference, created_at_ms, updated_at_ms)
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?
     WHERE ? IS NULL OR NOT EXISTS (SELECT 1 FROM payments WHERE fan_user_id = ? AND created_at_ms >= ? AND retry_of = ?)`,
  )
    .bind(
      paymentId, input.kind, creator.brand_id, creator.id, fanUserId, priced.amountMinor, priced.currency, gateway, chosen.midId,
      JSON.stringify({ segment: decision.segment, version, ruleId: decision.ruleId, reasons }),
      method, country, retryOf?.id ?? null, bankReference, nowMs, nowMs,
      retryOf?.id ?? null, fanUserId, retryOf?.created_at_ms ?? 0, retryOf?.id ?? null,
    )
    .run()
  if (!opened.meta.changes) throw retryRefused(`payment ${retryOf!.id} was retried meanwhile`)
  return {
    paymentId, gateway, midId: chosen.midId, request, reasons, method,
    amountMinor: priced.amountMinor, currency: priced.currency, retryOf: retryOf?.id ?? null, bankReference,
  }
}

export interface FailureClass {
  /** the gateway's failure code or reason as sent ('unknown' when it sent none) */
  code: string
  category: DeclineCategory
  /** worth a retry on another gateway */
  technical: boolean
}


/**
 * What a failure event says (the reason the gateway sent, kept on the event at ingest). An event
 * without one is an unknown failure, which is never technical: only what a gateway says failed
 * technically is retried elsewhere.
 */
export async function failureOf(env: Env, gateway: string, eventId: string): Promise<FailureClass> {
  const row = await env.DB.prepare('SELECT reason FROM gateway_events WHERE gateway = ? AND event_id = ?').bind(gateway, eventId).first<{ reason: string | null }>()
  const code = row?.reason?.trim().slice(0, 200) || 'unknown'
  const category = declineCategoryOf(code)
  return { code, category, technical: category === 'technical' }
}
