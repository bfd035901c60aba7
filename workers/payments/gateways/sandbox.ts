/**
 * Sandbox gateway: our own hosted card form's wire format, so the whole flow runs locally and in
 * browser tests. Postbacks are signed Standard Webhooks style (implemented here because the
 * `standardwebhooks` package is not installed): headers webhook-id, webhook-timestamp (unix seconds),
 * webhook-signature = "v1," + base64(HMAC-SHA256(key, `${id}.${timestamp}.${rawBody}`)), key = the
 * base64 after "whsec_" (or the UTF-8 secret when it has no prefix). Timestamps more than 5 minutes
 * from now, either way, are refused (replay window).
 *
 * Test cards (any future expiry, any CVC):
 *   4242 4242 4242 4242  approve
 *   4000 0000 0000 0002  decline (card_declined)
 *   4000 0000 0000 0119  technical error (processing_error; routing may retry elsewhere)
 *   4000 0000 0000 0259  approve; the sale is flagged for a chargeback on demand
 *   anything else that passes Luhn: approve; failing Luhn: decline (invalid_number)
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { z } from 'zod'
import { base64url, timingSafeEqualText } from '../../lib/encoding'
import { formatMinor } from './money'
import { event } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEventType, ParseResult, PostbackRequest, VerifyResult } from './types'

export const SANDBOX_TOLERANCE_MS = 5 * 60 * 1000

export const SANDBOX_CARDS = {
  approve: '4242424242424242',
  decline: '4000000000000002',
  error: '4000000000000119',
  chargeback: '4000000000000259',
} as const

export type SandboxDecision =
  | { outcome: 'approve'; chargebackOnDemand: boolean }
  | { outcome: 'decline'; code: 'card_declined' | 'invalid_number' }
  | { outcome: 'error'; code: 'processing_error' }

function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
  }
  return sum % 10 === 0
}

export function sandboxDecision(cardNumber: string): SandboxDecision {
  const digits = cardNumber.replace(/[\s-]/g, '')
  if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) return { outcome: 'decline', code: 'invalid_number' }
  if (digits === SANDBOX_CARDS.decline) return { outcome: 'decline', code: 'card_declined' }
  if (digits === SANDBOX_CARDS.error) return { outcome: 'error', code: 'processing_error' }
  return { outcome: 'approve', chargebackOnDemand: digits === SANDBOX_CARDS.chargeback }
}

function keyBytes(secret: string): Uint8Array {
  if (secret.startsWith('whsec_')) return Uint8Array.from(atob(secret.slice('whsec_'.length)), (ch) => ch.charCodeAt(0))
  return utf8ToBytes(secret)
}

function sign(secret: string, id: string, timestamp: string, rawBody: string): string {
  const mac = hmac(sha256, keyBytes(secret), utf8ToBytes(`${id}.${timestamp}.${rawBody}`))
  let binary = ''
  for (const byte of mac) binary += String.fromCharCode(byte)
  return `v1,${btoa(binary)}`
}

/** The body a sandbox postback carries; the integrator builds these from form outcomes and admin actions. */
export const SandboxEventBody = z.object({
  id: z.string().min(1),
  type: z.enum(['sale', 'rebill', 'refund', 'chargeback', 'chargeback_reversal', 'cancellation', 'expiration', 'void', 'failure']),
  occurredAt: z.iso.datetime(),
  reference: z.string().min(1),
  transactionId: z.string().nullable(),
  subscriptionId: z.string().nullable().default(null),
  originalTransactionId: z.string().nullable().default(null),
  amount: z.object({ minor: z.number().int().safe().nonnegative(), currency: z.string().length(3) }).nullable(),
  reason: z.string().nullable().default(null),
})
export type SandboxEventBody = z.infer<typeof SandboxEventBody>

export interface SandboxPostback {
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string; 'content-type': 'application/json' }
  rawBody: string
}

/** Signs a body (object or exact JSON text); the webhook-id is the body's `id`. */
export function signSandboxPostback(secret: string, body: SandboxEventBody | string, nowMs: number): SandboxPostback {
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body)
  const id = (JSON.parse(rawBody) as { id: string }).id
  const timestamp = String(Math.floor(nowMs / 1000))
  return {
    headers: { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': sign(secret, id, timestamp, rawBody), 'content-type': 'application/json' },
    rawBody,
  }
}

export function verifySandboxPostback(secret: string, request: { headers: Record<string, string>; rawBody: string }, nowMs: number): VerifyResult {
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.headers)) headers[key.toLowerCase()] = value
  const id = headers['webhook-id']
  const timestamp = headers['webhook-timestamp']
  const signatures = headers['webhook-signature']
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing_signature_headers' }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' }
  if (Math.abs(nowMs - Number(timestamp) * 1000) > SANDBOX_TOLERANCE_MS) return { ok: false, reason: 'timestamp_outside_tolerance' }
  const expected = sign(secret, id, timestamp, request.rawBody)
  // several space-separated signatures are allowed during secret rotation
  const matched = signatures.split(' ').some((candidate) => timingSafeEqualText(candidate, expected))
  return matched ? { ok: true } : { ok: false, reason: 'bad_signature' }
}

/** The chargeback a sandbox admin action emits for an approved sale. */
export function sandboxChargeback(sale: SandboxEventBody, eventId: string, nowMs: number): SandboxEventBody {
  return {
    id: eventId,
    type: 'chargeback',
    occurredAt: new Date(nowMs).toISOString(),
    reference: sale.reference,
    transactionId: null,
    subscriptionId: sale.subscriptionId,
    originalTransactionId: sale.transactionId,
    amount: sale.amount,
    reason: '10.4 Other Fraud - Card Absent Environment',
  }
}

/** A recurring billing the sandbox keeps (R2 `EXPORTS`, `sandbox-gateway/subscriptions/`), as a real biller does. */
export const SandboxSubscription = z.object({
  id: z.string().regex(/^sbx_sub_[A-Za-z0-9_-]{16}$/),
  /** the merchant's reference of the checkout that started it (our initial payment id) */
  reference: z.string().min(1),
  amount: z.object({ minor: z.number().int().safe().nonnegative(), currency: z.string().length(3) }),
  periodDays: z.number().int().min(1).max(365),
  status: z.enum(['active', 'cancelled']),
  createdAt: z.iso.datetime(),
  rebills: z.number().int().nonnegative(),
  cancelledAt: z.iso.datetime().nullable(),
  cancelReason: z.string().nullable(),
})
export type SandboxSubscription = z.infer<typeof SandboxSubscription>

/** The postbacks a recurring biller sends about a subscription: a charge, a declined charge, a cancellation. */
export function sandboxRebill(sub: SandboxSubscription, eventId: string, transactionId: string, nowMs: number): SandboxEventBody {
  return { id: eventId, type: 'rebill', occurredAt: new Date(nowMs).toISOString(), reference: sub.reference, transactionId, subscriptionId: sub.id, originalTransactionId: null, amount: sub.amount, reason: null }
}

export function sandboxRebillFailure(sub: SandboxSubscription, eventId: string, nowMs: number): SandboxEventBody {
  return { id: eventId, type: 'failure', occurredAt: new Date(nowMs).toISOString(), reference: sub.reference, transactionId: null, subscriptionId: sub.id, originalTransactionId: null, amount: sub.amount, reason: 'card_declined' }
}

export function sandboxCancellation(sub: SandboxSubscription, eventId: string, reason: string, nowMs: number): SandboxEventBody {
  return { id: eventId, type: 'cancellation', occurredAt: new Date(nowMs).toISOString(), reference: sub.reference, transactionId: null, subscriptionId: sub.id, originalTransactionId: null, amount: null, reason }
}

export interface SandboxSettings {
  secret: string
  /** Our hosted sandbox card form, e.g. https://pay.example.test/sandbox/checkout */
  hostedFormUrl: string
}

/** Signature over the checkout query so the hosted form can trust amount and reference. */
export function sandboxCheckoutSignature(secret: string, query: string): string {
  return base64url(hmac(sha256, keyBytes(secret), utf8ToBytes(query)))
}

export function verifySandboxCheckout(secret: string, url: string): boolean {
  const parsed = new URL(url)
  const sig = parsed.searchParams.get('sig') ?? ''
  parsed.searchParams.delete('sig')
  return timingSafeEqualText(sig, sandboxCheckoutSignature(secret, parsed.searchParams.toString()))
}

function buildCheckout(settings: SandboxSettings, input: CheckoutInput): CheckoutResult {
  const params = new URLSearchParams({
    kind: input.kind,
    reference: input.reference,
    amount: String(input.amount.minor),
    currency: input.amount.currency,
    display: formatMinor(input.amount),
    description: input.description,
  })
  if (input.recurring) {
    params.set('recurringAmount', String(input.recurring.amount.minor))
    params.set('periodDays', String(input.recurring.periodDays))
  }
  if (input.successUrl) params.set('successUrl', input.successUrl)
  params.set('sig', sandboxCheckoutSignature(settings.secret, params.toString()))
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `${settings.hostedFormUrl}?${params}` } }
}

function parsePostback(_settings: SandboxSettings, request: PostbackRequest): ParseResult {
  let json: unknown
  try {
    json = JSON.parse(request.rawBody)
  } catch {
    return { ok: false, reason: 'malformed_body' }
  }
  const parsed = SandboxEventBody.safeParse(json)
  if (!parsed.success) return { ok: false, reason: 'invalid_body' }
  const body = parsed.data
  const raw: Record<string, string> = {}
  for (const [key, value] of Object.entries(body)) raw[key] = typeof value === 'string' ? value : JSON.stringify(value)
  const type: NormalizedEventType = body.type
  return {
    ok: true,
    events: [
      event({
        gateway: 'sandbox',
        eventId: body.id,
        type,
        occurredAt: body.occurredAt,
        reference: body.reference,
        subscriptionId: body.subscriptionId,
        transactionId: body.transactionId,
        amount: body.amount ? { minor: body.amount.minor, currency: body.amount.currency.toUpperCase() } : null,
        originalTransactionId: body.originalTransactionId,
        reason: body.reason,
        raw,
      }),
    ],
  }
}

export const sandbox: GatewayAdapter<SandboxSettings> = {
  id: 'sandbox',
  buildCheckout,
  verifyPostback: (settings, request, nowMs) => verifySandboxPostback(settings.secret, request, nowMs),
  parsePostback,
}
