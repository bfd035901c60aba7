/**
 * Vendo. Hosted links are signed: signature = base64url(no padding) of raw HMAC-SHA1(sharedSecret,
 * path + "?" + query) appended as `signature` [docs.vendoservices.com/docs/signing-urls].
 * Postbacks (form-encoded POSTs) carry NO signature; Vendo sends them "from a limited list of IP
 * addresses" given at onboarding [docs.vendoservices.com/docs/vservices-postbacks], so authenticity =
 * that allowlist (configuration) AND our secret token in the postback URL.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64url } from '../../lib/encoding'
import type { Allowlist } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, safeFields, toIsoUtc, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEventType, ParseResult, PostbackRequest, VerifyResult } from './types'

export interface VendoSettings {
  siteId: string
  sharedSecret: string
  /** Vendo offer ids per checkout kind, configured in the Vendo back office. */
  offers: { purchase: string; subscription: string }
  postbackToken: string
  /** From Vendo onboarding; not published. */
  allowlist: Allowlist
  baseUrl?: string
}

/** Signs a full URL or a path+query, returning the URL with `&signature=` appended. */
export function vendoSignUrl(url: string, sharedSecret: string): string {
  const parsed = /^https?:\/\//.test(url) ? new URL(url) : null
  const pathAndQuery = parsed ? `${parsed.pathname}${parsed.search}` : url
  const signature = base64url(hmac(sha1, utf8ToBytes(sharedSecret), utf8ToBytes(pathAndQuery)))
  const separator = pathAndQuery.includes('?') ? '&' : '?'
  return `${parsed ? parsed.origin : ''}${pathAndQuery}${separator}signature=${signature}`
}

function buildCheckout(settings: VendoSettings, input: CheckoutInput): CheckoutResult {
  const offer = input.kind === 'subscription' ? settings.offers.subscription : settings.offers.purchase
  const params = new URLSearchParams({ site: settings.siteId, offers: offer, merchant_reference: input.reference })
  // Dynamic amount for the offer; Vendo validates it against the signed URL.
  params.set('amount', formatMinor(input.amount))
  params.set('currency', input.amount.currency)
  if (input.email) params.set('email', input.email)
  if (input.successUrl) params.set('success_url', input.successUrl)
  const base = settings.baseUrl ?? 'https://secure.vend-o.com'
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: vendoSignUrl(`${base}/v/signup?${params}`, settings.sharedSecret) } }
}

function verifyPostback(settings: VendoSettings, request: PostbackRequest): VerifyResult {
  if (request.method.toUpperCase() !== 'POST') return { ok: false, reason: 'method_not_allowed' }
  return verifyByIpAndToken(request, settings.allowlist, settings.postbackToken)
}

// transaction_type codes [docs.vendoservices.com/docs/transaction-types]
const TYPE_BY_CODE: Record<string, NormalizedEventType> = {
  '10': 'sale',
  '11': 'sale',
  '16': 'sale',
  '17': 'sale',
  '64': 'sale',
  '65': 'sale',
  '15': 'rebill',
  '20': 'chargeback',
  '21': 'void',
  '30': 'refund',
  '31': 'refund',
  '32': 'refund',
}

function parsePostback(_settings: VendoSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const subscriptionId = nonEmpty(fields.subscription_id)
  const occurredAt = toIsoUtc(fields.transaction_date ?? fields.date) ?? new Date(0).toISOString()
  const reference = nonEmpty(fields.merchant_reference)
  if (fields.callback === 'cancel' || fields.callback === 'expire') {
    if (!subscriptionId) return { ok: false, reason: 'missing_subscription_id' }
    const type = fields.callback === 'cancel' ? 'cancellation' : 'expiration'
    return { ok: true, events: [event({ gateway: 'vendo', eventId: `${fields.callback}:${subscriptionId}`, type, occurredAt, reference, subscriptionId, raw: fields })] }
  }
  if (fields.callback !== 'transaction') return { ok: true, events: [] }
  const transactionId = nonEmpty(fields.transaction_id)
  if (!transactionId) return { ok: false, reason: 'missing_transaction_id' }
  const type = TYPE_BY_CODE[fields.transaction_type ?? '']
  if (!type) return { ok: true, events: [] }
  const amount = fields.amount && fields.currency ? parseDecimal(fields.amount, fields.currency) : null
  if (!amount) return { ok: false, reason: 'bad_amount' }
  const reversal = type === 'refund' || type === 'chargeback' || type === 'void'
  return {
    ok: true,
    events: [
      event({
        gateway: 'vendo',
        eventId: transactionId,
        type,
        occurredAt,
        reference,
        subscriptionId,
        transactionId,
        amount,
        originalTransactionId: reversal ? nonEmpty(fields.original_transaction_id) : null,
        raw: fields,
      }),
    ],
  }
}

export const vendo: GatewayAdapter<VendoSettings> = {
  id: 'vendo',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
