/**
 * A dispute's life, driven by gateway events (payments/apply.ts) and by people (disputes/api.ts):
 *
 *   chargeback postback  -> open            (the ledger chargeback already reversed the money)
 *   evidence submitted   -> evidence_submitted
 *   chargeback_reversal  -> won             (ledger `disputeWon` reinstates the money, L9)
 *   merchant accepts / the gateway rules against us -> lost (no money moves: the chargeback moved it)
 *
 * Every write is a conditional UPDATE or an `INSERT ... ON CONFLICT DO NOTHING`, so a redelivered
 * event, a re-run after a crash or two isolates at once change a dispute once, and only the one
 * that changed it writes the audit entry (`payments.dispute.*`).
 * @module
 */
import { audit, type AuditContext } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { codesFromEvidence } from './codes'

export const DAY_MS = 86_400_000
/** Days we give ourselves to answer a dispute unless `DISPUTE_RESPONSE_DAYS` says otherwise (acquirers allow roughly 7-30). */
export const DEFAULT_RESPONSE_DAYS = 10

export type DisputeStatus = 'open' | 'evidence_submitted' | 'won' | 'lost'

export interface DisputeRow {
  id: string
  payment_id: string
  brand_id: string
  creator_id: string
  gateway: string
  mid_id: string | null
  opened_by_event_id: string
  network: string | null
  reason_code: string | null
  amount_minor: number
  currency: string
  status: DisputeStatus
  respond_by_ms: number | null
  evidence_key: string | null
  evidence_submitted_at_ms: number | null
  resolved_at_ms: number | null
  created_at_ms: number
  updated_at_ms: number
}

/** What applying one gateway event came to (the same shape apply.ts records on the event). */
export type EventOutcome = { status: 'applied' | 'waiting' | 'ignored' | 'failed'; detail: string | null }

/** The evidence window in days: `DISPUTE_RESPONSE_DAYS` (1..120) when set, else the default. */
export function responseWindowDays(env: Env): number {
  const raw = (env as unknown as { DISPUTE_RESPONSE_DAYS?: string }).DISPUTE_RESPONSE_DAYS
  const days = raw === undefined ? NaN : Number(raw)
  return Number.isInteger(days) && days >= 1 && days <= 120 ? days : DEFAULT_RESPONSE_DAYS
}

const gatewayActor = (env: Env, gateway: string): AuditContext => ({ env, actor: `system:gateway:${gateway}` })

export async function disputeById(d1: D1Database, id: string): Promise<DisputeRow | null> {
  return d1.prepare('SELECT * FROM disputes WHERE id = ?').bind(id).first<DisputeRow>()
}

/**
 * Opens the dispute for a chargeback the ledger has applied. Its amount is what the chargeback
 * reversed: the payment's captured amount less refunds (the ledger reverses exactly that), or the
 * event's own amount when that is smaller. One dispute per (payment, chargeback event).
 */
export async function openDispute(env: Env, gateway: string, eventId: string, paymentId: string, nowMs = Date.now()): Promise<{ id: string; created: boolean } | null> {
  const found = await env.DB.prepare(
    `SELECT p.brand_id, p.creator_id, p.mid_id, p.amount_minor, p.refunded_minor, p.currency, e.amount_minor AS event_amount_minor, e.evidence_key
     FROM payments p LEFT JOIN gateway_events e ON e.gateway = ? AND e.event_id = ? WHERE p.id = ?`,
  )
    .bind(gateway, eventId, paymentId)
    .first<{ brand_id: string; creator_id: string; mid_id: string | null; amount_minor: number; refunded_minor: number; currency: string; event_amount_minor: number | null; evidence_key: string | null }>()
  if (!found) return null
  const remaining = found.amount_minor - found.refunded_minor
  const amount = found.event_amount_minor && found.event_amount_minor > 0 ? Math.min(found.event_amount_minor, remaining) : remaining
  const codes = await codesFromEvidence(env.EXPORTS, found.evidence_key)
  const id = newId('dispute', nowMs)
  const respondBy = nowMs + responseWindowDays(env) * DAY_MS
  const inserted = await env.DB.prepare(
    `INSERT INTO disputes (id, payment_id, brand_id, creator_id, gateway, mid_id, opened_by_event_id, network, reason_code, amount_minor, currency, status, respond_by_ms, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (payment_id, opened_by_event_id) DO NOTHING RETURNING id`,
  )
    .bind(id, paymentId, found.brand_id, found.creator_id, gateway, found.mid_id, eventId, codes.network, codes.reasonCode, amount, found.currency, respondBy, nowMs, nowMs)
    .first<{ id: string }>()
  if (!inserted) {
    const existing = await env.DB.prepare('SELECT id FROM disputes WHERE payment_id = ? AND opened_by_event_id = ?').bind(paymentId, eventId).first<{ id: string }>()
    return existing ? { id: existing.id, created: false } : null
  }
  await audit(gatewayActor(env, gateway), 'payments.dispute.open', `dispute:${id}`, {
    payment_id: paymentId,
    gateway,
    event_id: eventId,
    amount_minor: amount,
    currency: found.currency,
    network: codes.network,
    reason_code: codes.reasonCode,
    respond_by: new Date(respondBy).toISOString(),
  })
  return { id, created: true }
}

/** Reversal events parked because their chargeback had not been applied yet (apply.ts re-applies them after it). */
export async function waitingReversals(d1: D1Database, gateway: string, paymentId: string, transactionId: string | null): Promise<string[]> {
  const { results } = await d1
    .prepare(
      `SELECT event_id FROM gateway_events WHERE gateway = ? AND type = 'chargeback_reversal' AND status = 'waiting' AND (payment_id = ? OR original_transaction_id = ?) ORDER BY occurred_at_ms, event_id`,
    )
    .bind(gateway, paymentId, transactionId ?? '')
    .all<{ event_id: string }>()
  return results.map((r) => r.event_id)
}

/**
 * A `chargeback_reversal`: the acquirer decided the dispute for us. The ledger reinstates the
 * reversed money (`disputeWon`, idempotent on the operation id), the dispute is won and the payment
 * is back to succeeded (or partially_refunded). Arriving before its chargeback, it waits.
 */
export async function applyReversal(env: Env, gateway: string, eventId: string, payment: { id: string; creator_id: string }, opId: string, nowMs = Date.now()): Promise<EventOutcome> {
  const result = await ledgerFor(env, payment.creator_id).disputeWon({ opId, paymentId: payment.id })
  if (!result.ok) {
    if (result.code === 'payment_not_found') return { status: 'waiting', detail: result.detail }
    if (result.code === 'not_charged_back') {
      const won = await env.DB.prepare(`SELECT id FROM disputes WHERE payment_id = ? AND status = 'won' ORDER BY created_at_ms DESC LIMIT 1`).bind(payment.id).first<{ id: string }>()
      if (won) return { status: 'ignored', detail: `dispute ${won.id} is already won` }
      return { status: 'waiting', detail: 'the chargeback it reverses has not been applied yet' }
    }
    return { status: 'failed', detail: `${result.code}: ${result.detail}` }
  }
  await env.DB.prepare(
    `UPDATE payments SET status = CASE WHEN refunded_minor > 0 THEN 'partially_refunded' ELSE 'succeeded' END, updated_at_ms = ? WHERE id = ? AND status = 'charged_back'`,
  )
    .bind(nowMs, payment.id)
    .run()
  // the newest dispute of the payment is the one this reversal decides (a payment is charged back once at a time)
  const dispute = await env.DB.prepare('SELECT id, status FROM disputes WHERE payment_id = ? ORDER BY created_at_ms DESC, id DESC LIMIT 1').bind(payment.id).first<{ id: string; status: DisputeStatus }>()
  if (dispute) {
    // a dispute we had accepted as lost can still be reversed by the acquirer: the money is back either way
    const changed = await env.DB.prepare(`UPDATE disputes SET status = 'won', resolved_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status != 'won'`).bind(nowMs, nowMs, dispute.id).run()
    if (changed.meta.changes > 0) {
      await audit(gatewayActor(env, gateway), 'payments.dispute.won', `dispute:${dispute.id}`, { payment_id: payment.id, event_id: eventId, previous_status: dispute.status, ledger_op: opId })
    }
  }
  return { status: 'applied', detail: result.replayed ? 'already applied' : dispute ? `dispute ${dispute.id} won` : 'reinstated (no dispute record)' }
}

export type CloseResult = { ok: true; dispute: DisputeRow } | { ok: false; code: 'not_found' | 'not_open'; status?: DisputeStatus }

/**
 * Closes a dispute as lost: the merchant accepts it, or the gateway's decision went against us.
 * No money moves (the chargeback already reversed it); the chargeback fee stays charged.
 */
export async function loseDispute(ctx: AuditContext, env: Env, id: string, via: 'merchant_accept' | 'gateway_decision', nowMs = Date.now()): Promise<CloseResult> {
  const changed = await env.DB.prepare(`UPDATE disputes SET status = 'lost', resolved_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status IN ('open', 'evidence_submitted') RETURNING *`)
    .bind(nowMs, nowMs, id)
    .first<DisputeRow>()
  if (!changed) {
    const current = await disputeById(env.DB, id)
    return current ? { ok: false, code: 'not_open', status: current.status } : { ok: false, code: 'not_found' }
  }
  await audit(ctx, 'payments.dispute.lost', `dispute:${id}`, { payment_id: changed.payment_id, via, amount_minor: changed.amount_minor, currency: changed.currency })
  return { ok: true, dispute: changed }
}
