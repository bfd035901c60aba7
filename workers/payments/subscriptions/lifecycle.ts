/**
 * A subscription's life, driven by the gateway (recurring billers charge on their own schedule and
 * tell us afterwards): the first sale of a `subscription` payment opens the row, each `rebill`
 * opens a payment of kind `rebill` and extends the paid period, a rebill `failure` makes it
 * `past_due`, `cancellation` ends renewals (the fan keeps access until the period end) and
 * `expiration` ends it. apply.ts calls these while applying stored `gateway_events`; the ledger
 * posting stays in apply.ts.
 *
 * Order: gateways send late and out of order. An event for a subscription whose first sale has not
 * landed yet answers `waiting`; apply.ts applies it again when that sale lands (the event carries
 * the initial payment's reference). Every write is conditional, so applying an event twice (a
 * retry after a crash) has one effect; every transition is audited (`payments.subscription.*`).
 * The gateway's subscription id and reason come from the event row (kept at ingest).
 * @module
 */
import { audit } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { subscriptionPrice } from './pricing'

export const DAY_MS = 86_400_000

export type SubscriptionStatus = 'pending' | 'active' | 'past_due' | 'cancelled' | 'expired'

export interface SubscriptionRow {
  id: string
  brand_id: string
  creator_id: string
  fan_user_id: string
  gateway: string
  gateway_subscription_id: string | null
  initial_payment_id: string
  price_minor: number
  currency: string
  period_days: number
  status: SubscriptionStatus
  current_period_end_ms: number | null
  rebills: number
  cancelled_at_ms: number | null
  cancel_reason: string | null
  expired_at_ms: number | null
  created_at_ms: number
  updated_at_ms: number
}

/** The same shape as apply.ts's outcomes, so its branches can return these as they are. */
export type LifecycleOutcome = { status: 'applied' | 'waiting' | 'ignored' | 'failed'; detail: string | null }

interface StoredEvent {
  gateway: string
  event_id: string
  type: string
  payment_id: string | null
  gateway_transaction_id: string | null
  amount_minor: number | null
  currency: string | null
  occurred_at_ms: number
  evidence_key: string
}

const actorOf = (gateway: string) => ({ actor: `system:postback:${gateway}` })

async function storedEvent(d1: D1Database, gateway: string, eventId: string): Promise<StoredEvent | null> {
  return d1
    .prepare('SELECT gateway, event_id, type, payment_id, gateway_transaction_id, amount_minor, currency, occurred_at_ms, evidence_key FROM gateway_events WHERE gateway = ? AND event_id = ?')
    .bind(gateway, eventId)
    .first<StoredEvent>()
}

/** The subscription id and reason the gateway sent with an event (kept on the event at ingest). */
export async function eventDetails(env: Env, event: Pick<StoredEvent, 'gateway' | 'event_id'>): Promise<{ subscriptionId: string | null; reason: string | null }> {
  const row = await env.DB.prepare('SELECT subscription_id, reason FROM gateway_events WHERE gateway = ? AND event_id = ?')
    .bind(event.gateway, event.event_id)
    .first<{ subscription_id: string | null; reason: string | null }>()
  return { subscriptionId: row?.subscription_id ?? null, reason: row?.reason ?? null }
}

/** The subscription an event is about: by the gateway's subscription id, else by our reference. */
export async function findSubscription(d1: D1Database, gateway: string, gatewaySubscriptionId: string | null, reference: string | null): Promise<SubscriptionRow | null> {
  if (gatewaySubscriptionId) {
    const byGateway = await d1.prepare('SELECT * FROM subscriptions WHERE gateway = ? AND gateway_subscription_id = ?').bind(gateway, gatewaySubscriptionId).first<SubscriptionRow>()
    if (byGateway) return byGateway
  }
  if (!reference) return null
  const byReference = await d1
    .prepare('SELECT * FROM subscriptions WHERE initial_payment_id = ?1 OR id = (SELECT subscription_id FROM payments WHERE id = ?1)')
    .bind(reference)
    .first<SubscriptionRow>()
  // a gateway may name its subscription only after the first sale: remember it now
  if (byReference && gatewaySubscriptionId && !byReference.gateway_subscription_id) {
    await d1.prepare('UPDATE subscriptions SET gateway_subscription_id = ? WHERE id = ? AND gateway_subscription_id IS NULL').bind(gatewaySubscriptionId, byReference.id).run()
    byReference.gateway_subscription_id = gatewaySubscriptionId
  }
  return byReference
}

/**
 * After the first sale of a `subscription` payment reached the ledger: opens its subscription
 * (active until the sale's time + the creator's period), once, whatever the number of calls.
 * Payments of other kinds are left alone.
 */
export async function startSubscription(env: Env, paymentId: string, gateway: string, eventId: string): Promise<SubscriptionRow | null> {
  const payment = await env.DB.prepare('SELECT id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway FROM payments WHERE id = ?')
    .bind(paymentId)
    .first<{ id: string; kind: string; brand_id: string; creator_id: string; fan_user_id: string; amount_minor: number; currency: string; gateway: string }>()
  if (!payment || payment.kind !== 'subscription') return null
  const event = await storedEvent(env.DB, gateway, eventId)
  const details = event ? await eventDetails(env, event) : { subscriptionId: null, reason: null }
  const { periodDays } = await subscriptionPrice(env.DB, payment.creator_id)
  const startMs = event?.occurred_at_ms ?? Date.now()
  const nowMs = Date.now()
  const id = newId('subscription')
  const [inserted] = await env.DB.batch<{ id: string }>([
    env.DB.prepare(
      `INSERT INTO subscriptions (id, brand_id, creator_id, fan_user_id, gateway, gateway_subscription_id, initial_payment_id, price_minor, currency, period_days, status, current_period_end_ms, rebills, created_at_ms, updated_at_ms)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, 0, ?, ? WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE initial_payment_id = ?) RETURNING id`,
    ).bind(id, payment.brand_id, payment.creator_id, payment.fan_user_id, payment.gateway, details.subscriptionId, payment.id, payment.amount_minor, payment.currency, periodDays, startMs + periodDays * DAY_MS, nowMs, nowMs, payment.id),
    env.DB.prepare('UPDATE payments SET subscription_id = (SELECT id FROM subscriptions WHERE initial_payment_id = ?1) WHERE id = ?1 AND subscription_id IS NULL').bind(payment.id),
  ])
  const row = await env.DB.prepare('SELECT * FROM subscriptions WHERE initial_payment_id = ?').bind(payment.id).first<SubscriptionRow>()
  if (inserted?.results.length && row) {
    await audit({ env, ...actorOf(gateway) }, 'payments.subscription.start', `subscription:${row.id}`, {
      payment_id: payment.id,
      creator_id: row.creator_id,
      fan_user_id: row.fan_user_id,
      gateway_subscription_id: row.gateway_subscription_id,
      price_minor: row.price_minor,
      currency: row.currency,
      period_days: row.period_days,
      current_period_end: new Date(row.current_period_end_ms!).toISOString(),
    })
  }
  return row
}

/** `created` false: this gateway transaction was already opened as a rebill (a re-run, or the same charge under another event id). */
export type RebillOpened = { ok: true; paymentId: string; subscriptionId: string; created: boolean } | { ok: false; outcome: LifecycleOutcome }

/**
 * A `rebill` event: the payment of kind `rebill` it stands for (opened once per gateway
 * transaction), with the subscription's period extended by one period from the later of now and
 * the old end, in the same D1 batch as the payment's insert, so a second call neither opens another
 * payment nor extends again. apply.ts then posts the ledger sale for the returned payment id.
 */
export async function openRebill(env: Env, gateway: string, eventId: string, nowMs = Date.now()): Promise<RebillOpened> {
  const event = await storedEvent(env.DB, gateway, eventId)
  if (!event) return { ok: false, outcome: { status: 'failed', detail: 'event not stored' } }
  const details = await eventDetails(env, event)
  const sub = await findSubscription(env.DB, gateway, details.subscriptionId, event.payment_id)
  if (!sub) return { ok: false, outcome: { status: 'waiting', detail: "no subscription for this rebill yet: its first sale has not landed" } }
  if (event.currency && event.currency !== sub.currency) return { ok: false, outcome: { status: 'failed', detail: `rebill in ${event.currency}, subscription in ${sub.currency}` } }
  // a rebill without its own transaction id is keyed by the event (one charge per event)
  const transactionId = event.gateway_transaction_id ?? `event:${event.event_id}`
  const amountMinor = event.amount_minor ?? sub.price_minor
  const paymentId = newId('payment')
  const [inserted] = await env.DB.batch<{ id: string }>([
    env.DB.prepare(
      `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, gateway_transaction_id, subscription_id, routing_json, method, country, created_at_ms, updated_at_ms)
       SELECT ?1, 'rebill', brand_id, creator_id, fan_user_id, ?2, ?3, gateway, mid_id, 'succeeded', ?4, ?5, routing_json, method, country, ?6, ?6 FROM payments
       WHERE id = ?7 AND NOT EXISTS (SELECT 1 FROM payments WHERE gateway = ?8 AND gateway_transaction_id = ?4 AND kind = 'rebill') RETURNING id`,
    ).bind(paymentId, amountMinor, sub.currency, transactionId, sub.id, nowMs, sub.initial_payment_id, gateway),
    env.DB.prepare(
      `UPDATE subscriptions SET current_period_end_ms = MAX(COALESCE(current_period_end_ms, 0), ?1) + period_days * ${DAY_MS}, rebills = rebills + 1,
         status = CASE WHEN status = 'cancelled' THEN status ELSE 'active' END, expired_at_ms = CASE WHEN status = 'cancelled' THEN expired_at_ms ELSE NULL END, updated_at_ms = ?1
       WHERE id = ?2 AND EXISTS (SELECT 1 FROM payments WHERE id = ?3)`,
    ).bind(nowMs, sub.id, paymentId),
  ])
  const payment = await env.DB.prepare("SELECT id FROM payments WHERE gateway = ? AND gateway_transaction_id = ? AND kind = 'rebill'").bind(gateway, transactionId).first<{ id: string }>()
  if (!payment) return { ok: false, outcome: { status: 'failed', detail: 'the initial payment of the subscription is gone' } }
  if (inserted?.results.length) {
    const after = await env.DB.prepare('SELECT status, rebills, current_period_end_ms FROM subscriptions WHERE id = ?').bind(sub.id).first<{ status: string; rebills: number; current_period_end_ms: number }>()
    await audit({ env, ...actorOf(gateway) }, 'payments.subscription.rebill', `subscription:${sub.id}`, {
      payment_id: payment.id,
      gateway_transaction_id: transactionId,
      amount_minor: amountMinor,
      currency: sub.currency,
      previous_status: sub.status,
      status: after?.status ?? sub.status,
      rebills: after?.rebills ?? sub.rebills,
      current_period_end: after ? new Date(after.current_period_end_ms).toISOString() : null,
    })
  }
  return { ok: true, paymentId: payment.id, subscriptionId: sub.id, created: (inserted?.results.length ?? 0) > 0 }
}

/**
 * A `failure` event about a running subscription (a declined rebill): `past_due`. Returns null when
 * the failure is not a rebill's (no subscription behind it, e.g. a declined first sale), so the
 * caller treats it as a payment failure.
 */
export async function applySubscriptionFailure(env: Env, gateway: string, eventId: string): Promise<LifecycleOutcome | null> {
  const event = await storedEvent(env.DB, gateway, eventId)
  if (!event) return null
  const details = await eventDetails(env, event)
  const sub = await findSubscription(env.DB, gateway, details.subscriptionId, event.payment_id)
  if (!sub) return null
  const nowMs = Date.now()
  const changed = await env.DB.prepare("UPDATE subscriptions SET status = 'past_due', updated_at_ms = ? WHERE id = ? AND status = 'active' RETURNING id").bind(nowMs, sub.id).first<{ id: string }>()
  if (!changed) return { status: 'applied', detail: `rebill failed; subscription already ${sub.status}` }
  await audit({ env, ...actorOf(gateway) }, 'payments.subscription.past_due', `subscription:${sub.id}`, { event_id: eventId, reason: details.reason, previous_status: sub.status })
  return { status: 'applied', detail: 'rebill failed: subscription past due' }
}

/** `cancellation` and `expiration` events; anything else is not a lifecycle event (`ignored`). */
export async function applyLifecycleEvent(env: Env, gateway: string, eventId: string): Promise<LifecycleOutcome> {
  const event = await storedEvent(env.DB, gateway, eventId)
  if (!event) return { status: 'failed', detail: 'event not stored' }
  if (event.type !== 'cancellation' && event.type !== 'expiration') return { status: 'ignored', detail: `${event.type}: no money moves` }
  const details = await eventDetails(env, event)
  const sub = await findSubscription(env.DB, gateway, details.subscriptionId, event.payment_id)
  if (!sub) return { status: 'waiting', detail: `no subscription for this ${event.type} yet: its first sale has not landed` }
  const nowMs = Date.now()
  if (event.type === 'cancellation') {
    // the reason a fan or support gave when asking us to cancel wins over the gateway's wording
    const changed = await env.DB.prepare(
      `UPDATE subscriptions SET status = 'cancelled', cancelled_at_ms = COALESCE(cancelled_at_ms, ?1), cancel_reason = COALESCE(cancel_reason, ?2), updated_at_ms = ?3
       WHERE id = ?4 AND status IN ('pending', 'active', 'past_due') RETURNING current_period_end_ms, cancel_reason`,
    )
      .bind(event.occurred_at_ms, details.reason ?? 'cancelled at the gateway', nowMs, sub.id)
      .first<{ current_period_end_ms: number | null; cancel_reason: string }>()
    if (!changed) return { status: 'applied', detail: `subscription already ${sub.status}` }
    const until = changed.current_period_end_ms ? new Date(changed.current_period_end_ms).toISOString() : null
    await audit({ env, ...actorOf(gateway) }, 'payments.subscription.cancel', `subscription:${sub.id}`, { event_id: eventId, reason: changed.cancel_reason, previous_status: sub.status, access_until: until })
    return { status: 'applied', detail: `subscription cancelled; access until ${until ?? 'now'}` }
  }
  const changed = await env.DB.prepare("UPDATE subscriptions SET status = 'expired', expired_at_ms = ?1, updated_at_ms = ?2 WHERE id = ?3 AND status != 'expired' RETURNING id")
    .bind(event.occurred_at_ms, nowMs, sub.id)
    .first<{ id: string }>()
  if (!changed) return { status: 'applied', detail: 'subscription already expired' }
  await audit({ env, ...actorOf(gateway) }, 'payments.subscription.expire', `subscription:${sub.id}`, { event_id: eventId, reason: details.reason ?? 'expired at the gateway', previous_status: sub.status })
  return { status: 'applied', detail: 'subscription expired' }
}
