/**
 * Crypto pay-ins through NOWPayments (BTC, ETH, USDT, USDC and others; sandbox at
 * api-sandbox.nowpayments.io). Checkout = server-side POST /v1/invoice returning a hosted invoice_url.
 * IPN authenticity: header `x-nowpayments-sig` = hex HMAC-SHA512(ipnSecret,
 * JSON.stringify(params, Object.keys(params).sort())) [NOWPayments API docs, "Instant Payments
 * Notifications"]. Note the documented expression: the replacer array sorts top-level keys and also
 * acts as a key filter for nested objects; we reproduce it exactly rather than "improving" it.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { timingSafeEqualText } from '../../lib/encoding'
import { type Allowlist, ipAllowed } from './ip-allowlist'
import { formatMinor, isSupportedCurrency, parseDecimal } from './money'
import { event, nonEmpty, toIsoUtc } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEventType, ParseResult, PostbackRequest, VerifyResult } from './types'

/** IPN sender addresses published in NOWPayments' help centre ("IPN and how to setup"). */
export const NOWPAYMENTS_IPN_IPS = ['51.89.194.21', '51.75.77.69', '138.201.172.58', '65.21.158.36']

export interface NowpaymentsSettings {
  apiKey: string
  ipnSecret: string
  sandbox?: boolean
  /** Optional: restrict to NOWPAYMENTS_IPN_IPS; the signature is the authority. */
  allowlist?: Allowlist
}

export function nowpaymentsSignature(ipnSecret: string, rawBody: string): string {
  const params = JSON.parse(rawBody) as Record<string, unknown>
  const canonical = JSON.stringify(params, Object.keys(params).sort())
  return bytesToHex(hmac(sha512, utf8ToBytes(ipnSecret), utf8ToBytes(canonical)))
}

function buildCheckout(settings: NowpaymentsSettings, input: CheckoutInput): CheckoutResult {
  // invoices are one-time; a crypto "subscription" is renewed by a new invoice each period
  if (input.kind === 'subscription' && input.recurring) return { ok: false, reason: 'recurring_not_supported' }
  const base = settings.sandbox ? 'https://api-sandbox.nowpayments.io/v1' : 'https://api.nowpayments.io/v1'
  const body: Record<string, string | number> = {
    price_amount: Number(formatMinor(input.amount)),
    price_currency: input.amount.currency.toLowerCase(),
    order_id: input.reference,
    order_description: input.description,
  }
  if (input.postbackUrl) body.ipn_callback_url = input.postbackUrl
  if (input.successUrl) body.success_url = input.successUrl
  if (input.cancelUrl) body.cancel_url = input.cancelUrl
  return {
    ok: true,
    request: { kind: 'api', method: 'POST', url: `${base}/invoice`, headers: { 'x-api-key': settings.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) },
  }
}

function verifyPostback(settings: NowpaymentsSettings, request: PostbackRequest): VerifyResult {
  if (settings.allowlist && !ipAllowed(request.sourceIp, settings.allowlist)) return { ok: false, reason: 'source_ip_not_allowed' }
  const given = Object.entries(request.headers).find(([key]) => key.toLowerCase() === 'x-nowpayments-sig')?.[1]
  if (!given) return { ok: false, reason: 'missing_signature' }
  let expected: string
  try {
    expected = nowpaymentsSignature(settings.ipnSecret, request.rawBody)
  } catch {
    return { ok: false, reason: 'malformed_body' }
  }
  return timingSafeEqualText(given.toLowerCase(), expected) ? { ok: true } : { ok: false, reason: 'bad_signature' }
}

const STATUS: Record<string, NormalizedEventType> = { finished: 'sale', failed: 'failure', refunded: 'refund', expired: 'expiration' }

/** JSON numbers -> exact decimal text; anything printed in exponent form is refused. */
function decimalText(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) {
    const text = String(value)
    return /e/i.test(text) ? null : text
  }
  return null
}

function parsePostback(_settings: NowpaymentsSettings, request: PostbackRequest): ParseResult {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(request.rawBody) as Record<string, unknown>
  } catch {
    return { ok: false, reason: 'malformed_body' }
  }
  const raw: Record<string, string> = {}
  for (const [key, value] of Object.entries(body)) raw[key] = typeof value === 'string' ? value : JSON.stringify(value)
  const status = String(body.payment_status ?? '')
  const type = STATUS[status]
  // waiting / confirming / confirmed / sending / partially_paid are progress, not ledger events
  if (!type) return { ok: true, events: [] }
  const paymentId = nonEmpty(raw.payment_id)
  if (!paymentId) return { ok: false, reason: 'missing_payment_id' }
  const currency = String(body.price_currency ?? '').toUpperCase()
  const amountText = decimalText(body.price_amount)
  const amount = amountText && isSupportedCurrency(currency) ? parseDecimal(amountText, currency) : null
  if (!amount) return { ok: false, reason: 'bad_amount' }
  const occurredAt = toIsoUtc(raw.updated_at) ?? toIsoUtc(raw.created_at) ?? new Date(0).toISOString()
  return {
    ok: true,
    events: [
      event({
        gateway: 'nowpayments',
        // one payment sends several IPNs as its status moves; the status is part of the key
        eventId: `${paymentId}:${status}`,
        type,
        occurredAt,
        reference: nonEmpty(raw.order_id),
        transactionId: type === 'refund' ? null : paymentId,
        originalTransactionId: type === 'refund' ? paymentId : null,
        amount: type === 'expiration' ? null : amount,
        raw,
      }),
    ],
  }
}

export const nowpayments: GatewayAdapter<NowpaymentsSettings> = {
  id: 'nowpayments',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
