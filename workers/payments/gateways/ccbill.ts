/**
 * CCBill FlexForms dynamic pricing + Webhooks.
 * - Checkout: https://api.ccbill.com/wap-frontflex/flexforms/{flexId}?... with formDigest =
 *   md5hex(initialPrice + initialPeriod [+ recurringPrice + recurringPeriod + numRebills] + currencyCode + salt)
 *   [ccbill.com/doc/formdigest-value, dynamic-pricing-flexforms].
 * - Webhooks carry NO signature [ccbill.com/doc/webhooks-user-guide], so authenticity = source IP in
 *   CCBill's published ranges AND our secret token in the webhook URL (constant-time compare).
 */
import { md5 } from '@noble/hashes/legacy.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { compileAllowlist, type Allowlist } from './ip-allowlist'
import { currencyFromNumeric, currencyInfo, formatMinor, parseDecimal } from './money'
import { event, nonEmpty, queryParams, safeFields, toIsoUtc, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEvent, ParseResult, PostbackRequest, VerifyResult } from './types'

/** Published webhook source ranges [ccbill.com/doc/webhooks-user-guide]. */
export const CCBILL_WEBHOOK_RANGES = ['64.38.212.1-64.38.212.254', '64.38.215.1-64.38.215.254', '64.38.240.1-64.38.240.254', '64.38.241.1-64.38.241.254']

const FLEXFORMS_BASE = 'https://api.ccbill.com/wap-frontflex/flexforms/'
// FlexForms accepts these currencies for dynamic pricing [ccbill.com/doc/formdigest-value].
const CCBILL_CURRENCIES = new Set(['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'JPY'])
/** Name of the pass-through field that carries our reference; CCBill echoes custom fields back with an X- prefix. */
export const CCBILL_REFERENCE_FIELD = 'referenceId'

export interface CcbillSettings {
  flexId: string
  clientSubacc: string
  /** Encryption key (salt) from the CCBill admin. */
  salt: string
  postbackToken: string
  /** Defaults to CCBILL_WEBHOOK_RANGES. */
  allowlist?: Allowlist
  /** Access days granted by a one-time charge (2..365). */
  oneTimePeriodDays?: number
  /** CCBill webhook timestamps carry no zone; CCBill runs on Arizona time (UTC-7, no DST). */
  timestampOffset?: string
}

export function ccbillFormDigest(parts: {
  initialPrice: string
  initialPeriod: string
  recurringPrice?: string
  recurringPeriod?: string
  numRebills?: string
  currencyCode: string
  salt: string
}): string {
  const recurring = parts.recurringPrice !== undefined ? `${parts.recurringPrice}${parts.recurringPeriod ?? ''}${parts.numRebills ?? ''}` : ''
  return bytesToHex(md5(utf8ToBytes(`${parts.initialPrice}${parts.initialPeriod}${recurring}${parts.currencyCode}${parts.salt}`)))
}

function buildCheckout(settings: CcbillSettings, input: CheckoutInput): CheckoutResult {
  const currency = input.amount.currency
  if (!CCBILL_CURRENCIES.has(currency)) return { ok: false, reason: 'currency_not_supported' }
  // CCBill always prints two decimals, JPY included.
  const initialPrice = formatMinor(input.amount, 2)
  const currencyCode = currencyInfo(currency).numeric
  const params = new URLSearchParams({ clientSubacc: settings.clientSubacc, initialPrice })
  let digest: string
  if (input.kind === 'subscription') {
    const recurring = input.recurring
    if (!recurring || recurring.amount.currency !== currency) return { ok: false, reason: 'recurring_terms_required' }
    const initialPeriod = String(input.initialPeriodDays ?? recurring.periodDays)
    const recurringPrice = formatMinor(recurring.amount, 2)
    const recurringPeriod = String(recurring.periodDays)
    // 99 = rebill until cancelled (CCBill's convention for open-ended subscriptions)
    const numRebills = String(recurring.rebills ?? 99)
    params.set('initialPeriod', initialPeriod)
    params.set('recurringPrice', recurringPrice)
    params.set('recurringPeriod', recurringPeriod)
    params.set('numRebills', numRebills)
    digest = ccbillFormDigest({ initialPrice, initialPeriod, recurringPrice, recurringPeriod, numRebills, currencyCode, salt: settings.salt })
  } else {
    const period = settings.oneTimePeriodDays ?? 30
    if (period < 2 || period > 365) return { ok: false, reason: 'one_time_period_out_of_range' }
    params.set('initialPeriod', String(period))
    digest = ccbillFormDigest({ initialPrice, initialPeriod: String(period), currencyCode, salt: settings.salt })
  }
  params.set('currencyCode', currencyCode)
  params.set('formDigest', digest)
  params.set(CCBILL_REFERENCE_FIELD, input.reference)
  if (input.email) params.set('customer_email', input.email)
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `${FLEXFORMS_BASE}${encodeURIComponent(settings.flexId)}?${params}` } }
}

const defaultAllowlist = compileAllowlist(CCBILL_WEBHOOK_RANGES)

function verifyPostback(settings: CcbillSettings, request: PostbackRequest): VerifyResult {
  if (request.method.toUpperCase() !== 'POST') return { ok: false, reason: 'method_not_allowed' }
  return verifyByIpAndToken(request, settings.allowlist ?? defaultAllowlist, settings.postbackToken)
}

function money(amount: string | undefined, numericCurrency: string | undefined, alpha: string | undefined) {
  const currency = (numericCurrency ? currencyFromNumeric(numericCurrency) : null) ?? nonEmpty(alpha)
  if (!amount || !currency) return null
  return parseDecimal(amount, currency)
}

const SALE_EVENTS = new Set(['NewSaleSuccess', 'UpSaleSuccess', 'CrossSaleSuccess', 'UpgradeSuccess'])

function parsePostback(settings: CcbillSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  // eventType arrives in the POST URL's query string, not the body [webhooks-user-guide]
  const eventType = queryParams(request).get('eventType') ?? fields.eventType
  if (!eventType) return { ok: false, reason: 'missing_event_type' }
  const occurredAt = toIsoUtc(fields.timestamp, settings.timestampOffset ?? '-07:00')
  if (!occurredAt) return { ok: false, reason: 'bad_timestamp' }
  const transactionId = nonEmpty(fields.transactionId)
  const subscriptionId = nonEmpty(fields.subscriptionId)
  const reference = nonEmpty(fields[`X-${CCBILL_REFERENCE_FIELD}`]) ?? nonEmpty(fields[CCBILL_REFERENCE_FIELD])
  const base = { gateway: 'ccbill' as const, occurredAt, subscriptionId, transactionId, reference, raw: fields }
  const need = (value: string | null, what: string): ParseResult | null => (value ? null : { ok: false, reason: `missing_${what}` })

  let result: NormalizedEvent
  if (SALE_EVENTS.has(eventType) || eventType === 'NewSaleFailure') {
    const missing = need(transactionId, 'transaction_id')
    if (missing) return missing
    const amount = money(fields.billedInitialPrice, fields.billedCurrencyCode, fields.billedCurrency)
    if (!amount) return { ok: false, reason: 'bad_amount' }
    const failed = eventType === 'NewSaleFailure'
    result = event({
      ...base,
      eventId: `${eventType}:${transactionId}`,
      type: failed ? 'failure' : 'sale',
      amount,
      reason: failed ? [fields.failureCode, fields.failureReason].filter(Boolean).join(' ') || null : null,
    })
  } else if (eventType === 'RenewalSuccess' || eventType === 'RenewalFailure') {
    const missing = need(transactionId, 'transaction_id')
    if (missing) return missing
    const amount = money(fields.billedAmount, fields.billedCurrencyCode, fields.billedCurrency)
    if (!amount) return { ok: false, reason: 'bad_amount' }
    const failed = eventType === 'RenewalFailure'
    result = event({ ...base, eventId: `${eventType}:${transactionId}`, type: failed ? 'failure' : 'rebill', amount, reason: failed ? nonEmpty(fields.failureReason) : null })
  } else if (eventType === 'Refund' || eventType === 'Chargeback' || eventType === 'Void') {
    const missing = need(transactionId, 'transaction_id')
    if (missing) return missing
    const amount = money(fields.amount, fields.currencyCode, fields.currency)
    if (!amount) return { ok: false, reason: 'bad_amount' }
    const type = eventType === 'Refund' ? 'refund' : eventType === 'Chargeback' ? 'chargeback' : 'void'
    // These events name the ORIGINAL sale's transactionId; partial refunds can repeat, so the timestamp is part of the key.
    result = event({
      ...base,
      eventId: eventType === 'Refund' ? `Refund:${transactionId}:${fields.timestamp}` : `${eventType}:${transactionId}`,
      type,
      transactionId: null,
      originalTransactionId: transactionId,
      amount,
      reason: nonEmpty(fields.reason),
    })
  } else if (eventType === 'Cancellation' || eventType === 'Expiration') {
    const missing = need(subscriptionId, 'subscription_id')
    if (missing) return missing
    result = event({ ...base, eventId: `${eventType}:${subscriptionId}`, type: eventType === 'Cancellation' ? 'cancellation' : 'expiration', reason: nonEmpty(fields.reason) })
  } else {
    // BillingDateChange, CustomerDataUpdate, UserReactivation...: acknowledged, no money effect
    return { ok: true, events: [] }
  }
  return { ok: true, events: [result] }
}

export const ccbill: GatewayAdapter<CcbillSettings> = {
  id: 'ccbill',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
