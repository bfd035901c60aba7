/**
 * Crypto pay-ins through NOWPayments (BTC, ETH, USDT, USDC and others; sandbox at
 * api-sandbox.nowpayments.io; outside production our own sandbox processor, crypto/sandbox-processor.tsx,
 * speaks the same API). Checkout = server-side POST /v1/invoice (header x-api-key) returning a hosted
 * `invoice_url`; crypto/invoice.ts executes that call for checkout. The price stays in fiat
 * (`price_amount` + `price_currency`) and so does the ledger; the coin and its amount the fan sent
 * (`pay_currency`, `pay_amount`, `actually_paid`) travel in the IPN and stay in its raw evidence.
 *
 * IPN authenticity: header `x-nowpayments-sig` = hex HMAC-SHA512(ipnSecret, key-sorted JSON of the
 * body) [NOWPayments API docs, "Instant Payments Notifications"]. The docs have shown two
 * expressions: the older `JSON.stringify(params, Object.keys(params).sort())` (the replacer array
 * sorts top-level keys and also filters the keys of nested objects such as `fee` away) and the
 * current recursive `sortObject`. They agree on flat bodies; both are accepted, the current one is
 * what we (and the sandbox) sign with. Either needs the secret, so accepting both weakens nothing.
 *
 * Statuses: `finished` is the sale. `partially_paid` (the fan sent less than the price; the coins
 * arrived) is a failure for the ledger, never a sale: crediting the creator the full price for a
 * short payment would be wrong, and crediting a share of it would sell access for less than the
 * creator's price; the payment fails, the received coins stay with the processor for a refund by
 * support. `expired` and `failed` fail the payment too (an invoice that expires is a failed attempt,
 * not the expiry of a subscription). waiting / confirming / confirmed / sending are progress only.
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
  /** API base (…/v1) other than NOWPayments' own: our sandbox processor outside production. */
  apiBaseUrl?: string
  /** Optional: restrict to NOWPAYMENTS_IPN_IPS; the signature is the authority. */
  allowlist?: Allowlist
}

/** Keys sorted at every depth (the docs' current `sortObject`); arrays keep their order. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortedDeep((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

/** The signature NOWPayments sends (and our sandbox signs with): HMAC-SHA512 over the recursively key-sorted body. */
export function nowpaymentsSignature(ipnSecret: string, rawBody: string): string {
  const params = JSON.parse(rawBody) as Record<string, unknown>
  return bytesToHex(hmac(sha512, utf8ToBytes(ipnSecret), utf8ToBytes(JSON.stringify(sortedDeep(params)))))
}

/** The older documented form: top-level keys sorted by a replacer array (nested keys not in it dropped). */
export function nowpaymentsLegacySignature(ipnSecret: string, rawBody: string): string {
  const params = JSON.parse(rawBody) as Record<string, unknown>
  const canonical = JSON.stringify(params, Object.keys(params).sort())
  return bytesToHex(hmac(sha512, utf8ToBytes(ipnSecret), utf8ToBytes(canonical)))
}

function buildCheckout(settings: NowpaymentsSettings, input: CheckoutInput): CheckoutResult {
  // invoices are one-time: a crypto subscription pays its first period here and each renewal with a
  // new invoice (there is no card on file to rebill), so only the initial amount is invoiced
  const base = settings.apiBaseUrl ?? (settings.sandbox ? 'https://api-sandbox.nowpayments.io/v1' : 'https://api.nowpayments.io/v1')
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
  let expected: string[]
  try {
    expected = [nowpaymentsSignature(settings.ipnSecret, request.rawBody), nowpaymentsLegacySignature(settings.ipnSecret, request.rawBody)]
  } catch {
    return { ok: false, reason: 'malformed_body' }
  }
  const sig = given.toLowerCase()
  // both compared, always, so the time taken does not tell which form matched
  const matches = expected.map((candidate) => timingSafeEqualText(sig, candidate))
  return matches.some(Boolean) ? { ok: true } : { ok: false, reason: 'bad_signature' }
}

/** Final statuses and what they are to the ledger (see the module comment on partially_paid). */
const STATUS: Record<string, NormalizedEventType> = { finished: 'sale', partially_paid: 'failure', failed: 'failure', expired: 'failure', refunded: 'refund' }

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
        amount,
        // failures say which: a short payment, an expired invoice or a failed one
        reason: type === 'failure' ? status : null,
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
