/**
 * Representment: the answer to a dispute. A person writes the summary and picks the category; the
 * facts the platform already knows (the payment, its gateway event trail, the subscription, the
 * fan's earlier payments that nobody disputed, the account's verification) are prefilled by
 * `evidenceDraft` so nobody retypes them. The submitted bundle is kept in R2 `EXPORTS` at
 * `payments/disputes/<dispute id>/evidence/<submission id>.json` (one object per submission, so two
 * racing submissions never overwrite each other; the dispute row names the one that counted).
 * @module
 */
import { z } from '@hono/zod-openapi'
import type { DisputeRow } from './cases'
import { paymentKeys } from '../../../r2/keys'

/** Why the fan disputed, as the evidence answers it (the networks' dispute categories, simplified). */
export const DISPUTE_CATEGORIES = [
  'fraud',
  'not_received',
  'not_as_described',
  'duplicate',
  'subscription_cancelled',
  'credit_not_processed',
  'unrecognized',
  'other',
] as const

const At = z.iso.datetime({ offset: true })
const Text = (max: number) => z.string().trim().min(1).max(max)

export const AccessLogLine = z
  .object({ at: At, action: Text(200), ip: Text(64).optional(), user_agent: Text(512).optional(), brand: Text(64).optional() })
  .strict()
  .openapi('DisputeAccessLogLine')

export const DeliveryProof = z.object({ at: At, description: Text(1000), reference: Text(200).optional() }).strict().openapi('DisputeDeliveryProof')

export const ConsentRecord = z
  .object({ at: At, document: Text(200).openapi({ example: 'terms-of-service' }), version: Text(50).optional(), ip: Text(64).optional() })
  .strict()
  .openapi('DisputeConsentRecord')

export const PriorPayment = z
  .object({
    payment_id: z.string().regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payment id'),
    at: At,
    amount_minor: z.number().int().positive(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code'),
  })
  .strict()
  .openapi('DisputePriorPayment')

export const SubscriptionFacts = z
  .object({
    subscription_id: z.string(),
    status: z.string(),
    started_at: At,
    current_period_end: At.nullable(),
    rebills: z.number().int().min(0),
    cancelled_at: At.nullable(),
  })
  .strict()
  .openapi('DisputeSubscriptionFacts')

export const EvidenceItems = z
  .object({
    access_log: z.array(AccessLogLine).max(500).default([]),
    delivery: z.array(DeliveryProof).max(100).default([]),
    consent: z.array(ConsentRecord).max(50).default([]),
    prior_payments: z.array(PriorPayment).max(200).default([]),
    subscription: SubscriptionFacts.nullable().default(null),
  })
  .strict()

/** The representment a person submits (`POST /api/payments/disputes/{id}/evidence`). */
export const Representment = z
  .object({
    summary: z.string().trim().min(20, 'at least 20 characters: say why the charge stands').max(5000),
    category: z.enum(DISPUTE_CATEGORIES),
    evidence: EvidenceItems,
  })
  .strict()
  .superRefine((value, ctx) => {
    const e = value.evidence
    if (e.access_log.length + e.delivery.length + e.consent.length + e.prior_payments.length === 0 && !e.subscription) {
      ctx.addIssue({ code: 'custom', path: ['evidence'], message: 'at least one evidence item (access log, delivery, consent, prior payment or subscription)' })
    }
  })
  .openapi('DisputeRepresentment')
export type Representment = z.infer<typeof Representment>

/** What the draft could not fill, so the person knows what is left to add. */
export const Draft = z
  .object({
    summary: z.string(),
    category: z.enum(DISPUTE_CATEGORIES),
    evidence: z.object({
      access_log: z.array(AccessLogLine),
      delivery: z.array(DeliveryProof),
      consent: z.array(ConsentRecord),
      prior_payments: z.array(PriorPayment),
      subscription: SubscriptionFacts.nullable(),
    }),
    facts: z.object({
      fan_account_created_at: At.nullable(),
      fan_email_verified_at: At.nullable(),
      fan_age_verified_method: z.string().nullable(),
      gateway_events: z.array(z.object({ event_id: z.string(), type: z.string(), status: z.string(), occurred_at: At })),
    }),
    gaps: z.array(z.string()),
  })
  .openapi('DisputeEvidenceDraft')
export type Draft = z.infer<typeof Draft>

export function evidenceKey(disputeId: string, submissionId: string): string {
  if (!/^dsp_[0-9A-HJKMNP-TV-Z]{26}$/.test(disputeId)) throw new Error('evidenceKey: bad dispute id')
  return paymentKeys.disputeEvidence(disputeId, submissionId)
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString())

/** Category from the network reason code, when it says (Visa 10.x and Mastercard 4837/4863 are fraud). */
function categoryFor(reasonCode: string | null): (typeof DISPUTE_CATEGORIES)[number] {
  if (!reasonCode) return 'other'
  if (/^10\.\d+$/.test(reasonCode) || reasonCode === '4837' || reasonCode === '4863') return 'fraud'
  if (reasonCode === '13.1' || reasonCode === '4855') return 'not_received'
  if (reasonCode === '13.2' || reasonCode === '4841') return 'subscription_cancelled'
  if (reasonCode === '12.6.1' || reasonCode === '4834') return 'duplicate'
  return 'other'
}

type PaymentFacts = { id: string; kind: string; fan_user_id: string; creator_id: string; amount_minor: number; currency: string; gateway: string; gateway_transaction_id: string | null; subscription_id: string | null; created_at_ms: number }

/** Prefills a representment with what the platform knows about the disputed payment. */
export async function evidenceDraft(d1: D1Database, dispute: DisputeRow): Promise<Draft> {
  const payment = await d1
    .prepare('SELECT id, kind, fan_user_id, creator_id, amount_minor, currency, gateway, gateway_transaction_id, subscription_id, created_at_ms FROM payments WHERE id = ?')
    .bind(dispute.payment_id)
    .first<PaymentFacts>()
  if (!payment) throw new Error(`dispute ${dispute.id} names a missing payment`)
  const [events, prior, subscription, fan] = await Promise.all([
    d1
      .prepare(`SELECT event_id, type, status, occurred_at_ms FROM gateway_events WHERE payment_id = ? OR (gateway = ? AND original_transaction_id = ?) ORDER BY occurred_at_ms, event_id`)
      .bind(payment.id, payment.gateway, payment.gateway_transaction_id ?? '')
      .all<{ event_id: string; type: string; status: string; occurred_at_ms: number }>(),
    // the fan paid this creator before, and none of those payments was disputed
    d1
      .prepare(
        `SELECT p.id, p.amount_minor, p.currency, p.created_at_ms FROM payments p
         WHERE p.fan_user_id = ? AND p.creator_id = ? AND p.id != ? AND p.created_at_ms <= ? AND p.status IN ('succeeded', 'partially_refunded')
           AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.id)
         ORDER BY p.created_at_ms DESC LIMIT 50`,
      )
      .bind(payment.fan_user_id, payment.creator_id, payment.id, payment.created_at_ms)
      .all<{ id: string; amount_minor: number; currency: string; created_at_ms: number }>(),
    payment.subscription_id
      ? d1
          .prepare('SELECT id, status, created_at_ms, current_period_end_ms, rebills, cancelled_at_ms FROM subscriptions WHERE id = ?')
          .bind(payment.subscription_id)
          .first<{ id: string; status: string; created_at_ms: number; current_period_end_ms: number | null; rebills: number; cancelled_at_ms: number | null }>()
      : Promise.resolve(null),
    d1.prepare('SELECT created_at_ms, email_verified_at_ms, age_verified_method FROM users WHERE id = ?').bind(payment.fan_user_id).first<{ created_at_ms: number; email_verified_at_ms: number | null; age_verified_method: string | null }>(),
  ])
  const category = categoryFor(dispute.reason_code)
  const priorPayments = prior.results.map((p) => ({ payment_id: p.id, at: iso(p.created_at_ms)!, amount_minor: p.amount_minor, currency: p.currency }))
  const gaps = ['access_log: the platform keeps no per-fan access log in D1; add lines from the content delivery logs', 'consent: add the terms-of-service version and acceptance time the fan agreed to at sign-up']
  if (!subscription) gaps.push('subscription: the payment is not part of a subscription')
  const amount = `${payment.amount_minor} ${payment.currency} (minor units)`
  const summary = [
    `Payment ${payment.id} (${payment.kind}, ${amount}) was authorised and captured through ${payment.gateway} on ${iso(payment.created_at_ms)}.`,
    priorPayments.length ? `The same fan made ${priorPayments.length} earlier payment(s) to this creator that were never disputed.` : '',
    subscription ? `It belongs to subscription ${subscription.id} (${subscription.status}, ${subscription.rebills} rebill(s)).` : '',
  ]
    .filter(Boolean)
    .join(' ')
  return {
    summary,
    category,
    evidence: {
      access_log: [],
      delivery: [{ at: iso(payment.created_at_ms)!, description: `Access to the creator's content was granted on payment ${payment.id}.`, reference: payment.gateway_transaction_id ?? payment.id }],
      consent: [],
      prior_payments: priorPayments,
      subscription: subscription
        ? { subscription_id: subscription.id, status: subscription.status, started_at: iso(subscription.created_at_ms)!, current_period_end: iso(subscription.current_period_end_ms), rebills: subscription.rebills, cancelled_at: iso(subscription.cancelled_at_ms) }
        : null,
    },
    facts: {
      fan_account_created_at: iso(fan?.created_at_ms),
      fan_email_verified_at: iso(fan?.email_verified_at_ms),
      fan_age_verified_method: fan?.age_verified_method ?? null,
      gateway_events: events.results.map((e) => ({ event_id: e.event_id, type: e.type, status: e.status, occurred_at: iso(e.occurred_at_ms)! })),
    },
    gaps,
  }
}
