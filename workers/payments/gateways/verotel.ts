/**
 * Verotel FlexPay (v4). Start URLs and every postback carry
 * signature = lowercase hex HASH(signatureKey + ":" + join(":", "key=value" sorted by key)), UTF-8,
 * HASH = SHA-256 (current clients) or SHA-1 (legacy, still accepted); `signature` itself is never
 * signed and `email` / `oneClickToken` are excluded from start URLs
 * [controlcenter.verotel.com/flexpay-doc; verotel/flexpay-php-client].
 */
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { timingSafeEqualText } from '../../lib/encoding'
import { type Allowlist, ipAllowed } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, safeFields } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEvent, ParseResult, PostbackRequest, VerifyResult } from './types'

export const VEROTEL_BRAND_HOSTS = {
  verotel: 'secure.verotel.com',
  cardbilling: 'secure.billing.creditcard',
  bill: 'secure.bill.creditcard',
  gaycharge: 'secure.gaycharge.com',
  yoursafedirect: 'secure.yoursafedirect.com',
  bitsafepay: 'secure.bitsafepay.com',
} as const

const SALE_CURRENCIES = new Set(['USD', 'EUR', 'GBP', 'AUD', 'CAD', 'CHF', 'DKK', 'NOK', 'SEK'])
const UNSIGNED_START_PARAMS = new Set(['signature', 'email', 'oneClickToken'])

export interface VerotelSettings {
  shopId: string
  signatureKey: string
  brand?: keyof typeof VEROTEL_BRAND_HOSTS
  /** Accept SHA-1 postback signatures (legacy accounts). */
  acceptSha1?: boolean
  /** Optional extra check; the signature is the authority. */
  allowlist?: Allowlist
}

export type VerotelAlgorithm = 'sha256' | 'sha1'

export function verotelSignature(signatureKey: string, params: Record<string, string>, algorithm: VerotelAlgorithm = 'sha256'): string {
  const signed = Object.keys(params)
    .filter((key) => key !== 'signature')
    .sort()
    .map((key) => `${key}=${params[key]}`)
  const input = utf8ToBytes([signatureKey, ...signed].join(':'))
  return bytesToHex(algorithm === 'sha256' ? sha256(input) : sha1(input))
}

/** ISO 8601 day duration as FlexPay wants it (P30D). */
function period(days: number): string {
  return `P${days}D`
}

function buildCheckout(settings: VerotelSettings, input: CheckoutInput): CheckoutResult {
  if (!SALE_CURRENCIES.has(input.amount.currency)) return { ok: false, reason: 'currency_not_supported' }
  const params: Record<string, string> = {
    version: '4',
    shopID: settings.shopId,
    referenceID: input.reference,
    description: input.description.slice(0, 100),
  }
  if (input.kind === 'subscription') {
    const recurring = input.recurring
    if (!recurring || recurring.amount.currency !== input.amount.currency) return { ok: false, reason: 'recurring_terms_required' }
    params.type = 'subscription'
    params.subscriptionType = 'recurring'
    params.priceAmount = formatMinor(recurring.amount, 2)
    params.priceCurrency = recurring.amount.currency
    params.period = period(recurring.periodDays)
    // A differing first charge is FlexPay's trial: trialAmount for trialPeriod, then priceAmount every period.
    const initialDays = input.initialPeriodDays ?? recurring.periodDays
    if (input.amount.minor !== recurring.amount.minor || initialDays !== recurring.periodDays) {
      params.trialAmount = formatMinor(input.amount, 2)
      params.trialPeriod = period(initialDays)
    }
  } else {
    params.type = 'purchase'
    params.priceAmount = formatMinor(input.amount, 2)
    params.priceCurrency = input.amount.currency
  }
  if (input.successUrl) params.successURL = input.successUrl
  if (input.cancelUrl) params.declineURL = input.cancelUrl
  const signed: Record<string, string> = {}
  for (const [key, value] of Object.entries(params)) if (value !== '' && !UNSIGNED_START_PARAMS.has(key)) signed[key] = value
  const query = new URLSearchParams(params)
  if (input.email) query.set('email', input.email)
  query.set('signature', verotelSignature(settings.signatureKey, signed, 'sha256'))
  const host = VEROTEL_BRAND_HOSTS[settings.brand ?? 'verotel']
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `https://${host}/startorder?${query}` } }
}

function verifyPostback(settings: VerotelSettings, request: PostbackRequest): VerifyResult {
  if (settings.allowlist && !ipAllowed(request.sourceIp, settings.allowlist)) return { ok: false, reason: 'source_ip_not_allowed' }
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const given = (fields.signature ?? '').toLowerCase()
  if (!given) return { ok: false, reason: 'missing_signature' }
  const algorithm: VerotelAlgorithm | null = given.length === 64 ? 'sha256' : given.length === 40 && settings.acceptSha1 !== false ? 'sha1' : null
  if (!algorithm) return { ok: false, reason: 'unsupported_signature' }
  const expected = verotelSignature(settings.signatureKey, fields, algorithm)
  return timingSafeEqualText(given, expected) ? { ok: true } : { ok: false, reason: 'bad_signature' }
}

function parsePostback(_settings: VerotelSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const saleId = nonEmpty(fields.saleID)
  if (!saleId) return { ok: false, reason: 'missing_sale_id' }
  const transactionId = nonEmpty(fields.transactionID)
  // purchase postbacks carry no `event`; subscription postbacks name it
  const name = nonEmpty(fields.event) ?? (fields.type === 'purchase' ? 'purchase' : null)
  if (!name) return { ok: false, reason: 'missing_event' }
  const occurredAt = new Date(Date.parse(fields.saleDate ?? fields.date ?? '') || Date.now()).toISOString()
  const reference = nonEmpty(fields.referenceID)
  const currency = nonEmpty(fields.currency) ?? nonEmpty(fields.priceCurrency)
  const amountText = nonEmpty(fields.amount) ?? nonEmpty(fields.priceAmount)
  const amount = amountText && currency ? parseDecimal(amountText, currency) : null
  const base = { gateway: 'verotel' as const, occurredAt, reference, subscriptionId: fields.type === 'purchase' ? null : saleId, raw: fields }
  const moneyEvent = (type: NormalizedEvent['type'], extra: Partial<NormalizedEvent> = {}): ParseResult => {
    if (!amount) return { ok: false, reason: 'bad_amount' }
    const id = transactionId ?? saleId
    return { ok: true, events: [event({ ...base, eventId: `${name}:${id}`, type, transactionId: id, amount, ...extra })] }
  }
  switch (name) {
    case 'purchase':
    case 'initial':
      return moneyEvent('sale')
    case 'rebill':
    case 'extend':
    case 'upgrade':
      return moneyEvent('rebill')
    case 'credit':
      return moneyEvent('refund', { transactionId: transactionId, originalTransactionId: nonEmpty(fields.parentID) ?? saleId })
    case 'chargeback':
      return moneyEvent('chargeback', { transactionId: transactionId, originalTransactionId: nonEmpty(fields.parentID) ?? saleId })
    case 'cancel':
      return { ok: true, events: [event({ ...base, eventId: `cancel:${saleId}`, type: 'cancellation', reason: nonEmpty(fields.cancelledBy) })] }
    case 'expiry':
      return { ok: true, events: [event({ ...base, eventId: `expiry:${saleId}`, type: 'expiration' })] }
    default:
      // uncancel, downgrade: no money effect here
      return { ok: true, events: [] }
  }
}

export const verotel: GatewayAdapter<VerotelSettings> = {
  id: 'verotel',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
