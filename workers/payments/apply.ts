/**
 * Applies stored gateway events (`gateway_events`, written by webhooks/ingest.ts) to the creator
 * ledger, exactly once each: the ledger operation id is `<gateway>:<event id>`, so a re-run after a
 * crash, or two isolates applying the same event, has one effect (the ledger's own idempotency).
 *
 * Order problems are expected (gateways send late, duplicate and out-of-order postbacks): an event
 * whose payment is not known yet, or whose sale has not reached the ledger (a refund before its
 * sale), is parked as `waiting`; when a sale lands, the events waiting on that payment are applied
 * again. Nothing is dropped: events that cannot apply keep their status and detail for operators.
 * Subscriptions (subscriptions/lifecycle.ts): a subscription payment's first sale opens one, a
 * rebill is a payment of its own (kind `rebill`) with its own ledger sale, a declined rebill makes it
 * past due, cancellation and expiration move no money; each waits for the first sale like the rest.
 * @module
 */
import { ledgerFor } from '../ledger/stub'
import type { OpResult } from '../ledger/model'
import { activeRoutingConfig } from './admin/routing-configs'
import { failureOf, routingStats } from './checkout'
import type { Outcome as RoutingOutcome } from './routing'
import { chargebackFeeMinor, gatewayFees, saleFeeMinor } from './fees'
import { applyReversal, openDispute, waitingReversals } from './disputes/cases'
import { applyLifecycleEvent, applySubscriptionFailure, openRebill, startSubscription } from './subscriptions/lifecycle'

type EventRow = {
  gateway: string
  event_id: string
  type: string
  payment_id: string | null
  gateway_transaction_id: string | null
  original_transaction_id: string | null
  amount_minor: number | null
  currency: string | null
  status: string
}

type PaymentRow = {
  id: string
  creator_id: string
  brand_id: string
  amount_minor: number
  currency: string
  status: string
  gateway_transaction_id: string | null
  refunded_minor: number
  routing_json: string | null
  creator_fee_bps: number | null
  platform_fee_bps: number
  reserve_bps: number
  reserve_days: number
  pending_days: number
}

type Outcome = { status: 'applied' | 'waiting' | 'ignored' | 'failed'; detail: string | null }

async function paymentFor(d1: D1Database, event: EventRow): Promise<PaymentRow | null> {
  const select = `SELECT p.id, p.creator_id, p.brand_id, p.amount_minor, p.currency, p.status, p.gateway_transaction_id, p.refunded_minor, p.routing_json,
      c.platform_fee_bps AS creator_fee_bps, b.platform_fee_bps, b.reserve_bps, b.reserve_days, b.pending_days
    FROM payments p JOIN brands b ON b.id = p.brand_id JOIN creators c ON c.id = p.creator_id`
  // a refund or chargeback names the transaction it reverses: that payment, even when the reference
  // is its subscription's first payment (a rebill's refund carries the subscription's reference)
  const reversed = event.original_transaction_id
  if (reversed) {
    const byTx = await d1.prepare(`${select} WHERE p.gateway = ? AND p.gateway_transaction_id = ?`).bind(event.gateway, reversed).first<PaymentRow>()
    if (byTx) return byTx
  }
  if (event.payment_id) {
    const byRef = await d1.prepare(`${select} WHERE p.id = ?`).bind(event.payment_id).first<PaymentRow>()
    // the reference's own transaction is another one: the reversed one (a rebill) is not recorded yet, wait for it
    if (byRef && reversed && byRef.gateway_transaction_id && byRef.gateway_transaction_id !== reversed) return null
    if (byRef) return byRef
  }
  // refunds and chargebacks of some gateways name only the original transaction
  const txId = event.original_transaction_id ?? event.gateway_transaction_id
  if (!txId) return null
  return d1.prepare(`${select} WHERE p.gateway = ? AND p.gateway_transaction_id = ?`).bind(event.gateway, txId).first<PaymentRow>()
}

/** Tells the router how the gateway did for the payment's segment (success-rate windows, breakers). */
async function feedRouter(env: Env, gateway: string, payment: PaymentRow, outcome: RoutingOutcome): Promise<void> {
  let segment = 'all'
  try {
    segment = (JSON.parse(payment.routing_json ?? '{}') as { segment?: string }).segment ?? 'all'
  } catch {
    // payments opened before segments were kept
  }
  // the policy in force now (window size, elimination burst) is the active configuration's
  const { config } = await activeRoutingConfig(env.DB)
  await routingStats(env).record(gateway, segment, outcome, Date.now(), JSON.stringify(config))
}

function fromLedger(result: OpResult): Outcome {
  if (result.ok) return { status: 'applied', detail: result.replayed ? 'already applied' : null }
  // the sale has not reached the ledger yet: wait for it
  if (result.code === 'payment_not_found') return { status: 'waiting', detail: result.detail }
  return { status: 'failed', detail: `${result.code}: ${result.detail}` }
}

async function applyOne(env: Env, event: EventRow): Promise<Outcome> {
  const payment = await paymentFor(env.DB, event)
  if (!payment) return { status: 'waiting', detail: 'no payment with this reference or transaction yet' }
  if (event.currency && event.currency !== payment.currency) return { status: 'failed', detail: `currency ${event.currency} differs from the payment's ${payment.currency}` }
  const ledger = ledgerFor(env, payment.creator_id)
  const opId = `${event.gateway}:${event.event_id}`
  switch (event.type) {
    case 'sale':
    case 'rebill': {
      // a rebill is its own payment (kind `rebill`), so a refund or chargeback of it reverses that sale
      let salePaymentId = payment.id
      let knownRebill = false
      if (event.type === 'rebill') {
        const rebill = await openRebill(env, event.gateway, event.event_id)
        if (!rebill.ok) return rebill.outcome
        salePaymentId = rebill.paymentId
        knownRebill = !rebill.created
      }
      const gross = event.amount_minor ?? payment.amount_minor
      const outcome = fromLedger(
        await ledger.sale({
          opId,
          paymentId: salePaymentId,
          currency: payment.currency,
          grossMinor: gross,
          processorFeeMinor: saleFeeMinor(await gatewayFees(env.DB, event.gateway), gross, payment.currency),
          split: { platformFeeBps: payment.creator_fee_bps ?? payment.platform_fee_bps, reserveBps: payment.reserve_bps, reserveDays: payment.reserve_days, pendingDays: payment.pending_days },
        }),
      )
      // the same charge reported again under another event id: its sale is in the ledger already
      if (knownRebill && outcome.status === 'failed' && outcome.detail?.startsWith('payment_exists')) return { status: 'applied', detail: 'this rebill was already applied' }
      if (outcome.status === 'applied' && event.type === 'sale' && payment.status === 'pending') await feedRouter(env, event.gateway, payment, 'approved')
      if (outcome.status === 'applied' && event.type === 'sale') {
        // also after a failure: a fan who completes the payment after a decline or an underpaid crypto
        // invoice (topped up) has paid, and the ledger already holds the sale
        await env.DB.prepare(`UPDATE payments SET status = 'succeeded', gateway_transaction_id = COALESCE(gateway_transaction_id, ?), updated_at_ms = ? WHERE id = ? AND status IN ('pending', 'failed')`)
          .bind(event.gateway_transaction_id, Date.now(), payment.id)
          .run()
        // the first sale of a subscription payment opens the subscription (once)
        await startSubscription(env, payment.id, event.gateway, event.event_id)
      }
      return outcome
    }
    case 'refund': {
      if (!event.amount_minor) return { status: 'failed', detail: 'a refund without an amount' }
      const outcome = fromLedger(await ledger.refund({ opId, paymentId: payment.id, amountMinor: event.amount_minor }))
      if (outcome.status === 'applied') {
        await env.DB.prepare(
          `UPDATE payments SET refunded_minor = refunded_minor + ?, status = CASE WHEN refunded_minor + ? >= amount_minor THEN 'refunded' ELSE 'partially_refunded' END, updated_at_ms = ? WHERE id = ?`,
        )
          .bind(event.amount_minor, event.amount_minor, Date.now(), payment.id)
          .run()
      }
      return outcome
    }
    case 'chargeback': {
      const outcome = fromLedger(await ledger.chargeback({ opId, paymentId: payment.id, feeMinor: chargebackFeeMinor(await gatewayFees(env.DB, event.gateway), payment.currency) }))
      if (outcome.status === 'applied') {
        // unless this chargeback's dispute is already won (a re-run after its reversal must not undo it)
        await env.DB.prepare(
          `UPDATE payments SET status = 'charged_back', updated_at_ms = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM disputes WHERE payment_id = ? AND opened_by_event_id = ? AND status = 'won')`,
        )
          .bind(Date.now(), payment.id, payment.id, event.event_id)
          .run()
        // the case to answer (disputes/cases.ts): one per payment and chargeback event, however often this runs
        await openDispute(env, event.gateway, event.event_id, payment.id)
        // a reversal that came before this chargeback was parked: it can apply now
        const reversals = await waitingReversals(env.DB, event.gateway, payment.id, payment.gateway_transaction_id ?? event.original_transaction_id)
        if (reversals.length) await applyEvents(env, event.gateway, reversals)
      }
      return outcome
    }
    case 'chargeback_reversal':
      // the acquirer decided the dispute for the merchant: reinstated in the ledger, dispute won (or waits for its chargeback)
      return applyReversal(env, event.gateway, event.event_id, payment, opId)
    case 'failure': {
      // a declined rebill of a running subscription (its first sale went through): past due; the payment stays as it is
      if (payment.status !== 'pending') {
        const rebillFailure = await applySubscriptionFailure(env, event.gateway, event.event_id)
        if (rebillFailure) return rebillFailure
      }
      // technical (the gateway or its network failed) vs a decline: only the former may be retried
      // elsewhere, and only the former counts toward eliminating the gateway
      const failure = await failureOf(env, event.gateway, event.event_id)
      if (payment.status === 'pending') await feedRouter(env, event.gateway, payment, failure.technical ? 'technical_error' : 'declined')
      await env.DB.prepare(`UPDATE payments SET status = 'failed', failure_code = ?, failure_technical = ?, updated_at_ms = ? WHERE id = ? AND status = 'pending'`)
        .bind(failure.code, failure.technical ? 1 : 0, Date.now(), payment.id)
        .run()
      return { status: 'applied', detail: `payment failed at the gateway: ${failure.code} (${failure.technical ? 'technical, may be retried on another gateway' : `${failure.category} decline`})` }
    }
    default:
      // cancellation, expiration: the subscription's life (no money moves); waits for its first sale
      return applyLifecycleEvent(env, event.gateway, event.event_id)
  }
}

/** Applies the named events (and, after a sale, the events that were waiting for it). */
export async function applyEvents(env: Env, gateway: string, eventIds: readonly string[]): Promise<Record<string, Outcome>> {
  const outcomes: Record<string, Outcome> = {}
  const queue = [...eventIds]
  const seen = new Set<string>()
  while (queue.length) {
    const eventId = queue.shift()!
    if (seen.has(eventId)) continue
    seen.add(eventId)
    const event = await env.DB.prepare(`SELECT * FROM gateway_events WHERE gateway = ? AND event_id = ? AND status IN ('received', 'waiting')`).bind(gateway, eventId).first<EventRow>()
    if (!event) continue
    const outcome = await applyOne(env, event)
    outcomes[eventId] = outcome
    await env.DB.prepare('UPDATE gateway_events SET status = ?, detail = ?, applied_at_ms = ? WHERE gateway = ? AND event_id = ?')
      .bind(outcome.status, outcome.detail, outcome.status === 'applied' ? Date.now() : null, gateway, eventId)
      .run()
    if (outcome.status === 'applied' && (event.type === 'sale' || event.type === 'rebill')) {
      const payment = await paymentFor(env.DB, event)
      const waiting = await env.DB.prepare(
        `SELECT event_id FROM gateway_events WHERE gateway = ? AND status = 'waiting' AND (payment_id = ? OR original_transaction_id = ?) ORDER BY occurred_at_ms, event_id`,
      )
        .bind(gateway, payment?.id ?? '', event.gateway_transaction_id ?? '')
        .all<{ event_id: string }>()
      for (const row of waiting.results) queue.push(row.event_id)
    }
  }
  return outcomes
}
