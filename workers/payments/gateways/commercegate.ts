/**
 * CommerceGate. No public signature or postback specification exists (spec gap): the hosted page
 * and postback field names below follow CommerceGate's merchant integration pack and MUST be
 * confirmed at onboarding (unverified). Authenticity = onboarding-supplied source ranges
 * (configuration) AND our secret token in the postback URL, compared in constant time.
 */
import type { Allowlist } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, safeFields, toIsoUtc, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEventType, ParseResult, PostbackRequest, VerifyResult } from './types'

export interface CommercegateSettings {
  customerId: string
  websiteId: string
  offers: { purchase: string; subscription: string }
  postbackToken: string
  allowlist: Allowlist
  hostedUrl?: string
}

const TYPES: Record<string, NormalizedEventType> = {
  SALE: 'sale',
  REBILL: 'rebill',
  REFUND: 'refund',
  CHARGEBACK: 'chargeback',
  VOID: 'void',
  CANCELMEMBERSHIP: 'cancellation',
  EXPIREMEMBERSHIP: 'expiration',
  DECLINE: 'failure',
}

function buildCheckout(settings: CommercegateSettings, input: CheckoutInput): CheckoutResult {
  const params = new URLSearchParams({
    cid: settings.customerId,
    wid: settings.websiteId,
    offerId: input.kind === 'subscription' ? settings.offers.subscription : settings.offers.purchase,
    amount: formatMinor(input.amount),
    currency: input.amount.currency,
    externalId: input.reference,
  })
  if (input.email) params.set('email', input.email)
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `${settings.hostedUrl ?? 'https://secure.commercegate.com/payment-page/'}?${params}` } }
}

function verifyPostback(settings: CommercegateSettings, request: PostbackRequest): VerifyResult {
  return verifyByIpAndToken(request, settings.allowlist, settings.postbackToken)
}

function parsePostback(_settings: CommercegateSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const type = TYPES[(fields.transactionType ?? '').toUpperCase()]
  if (!type) return { ok: true, events: [] }
  const transactionId = nonEmpty(fields.transactionId)
  if (!transactionId) return { ok: false, reason: 'missing_transaction_id' }
  const occurredAt = toIsoUtc(fields.transactionDate) ?? new Date(0).toISOString()
  const base = { gateway: 'commercegate' as const, eventId: transactionId, type, occurredAt, reference: nonEmpty(fields.externalId), subscriptionId: nonEmpty(fields.membershipId), raw: fields }
  if (type === 'cancellation' || type === 'expiration') return { ok: true, events: [event(base)] }
  const amount = fields.amount && fields.currency ? parseDecimal(fields.amount, fields.currency) : null
  if (!amount) return { ok: false, reason: 'bad_amount' }
  const reversal = type === 'refund' || type === 'chargeback' || type === 'void'
  return { ok: true, events: [event({ ...base, transactionId, amount, originalTransactionId: reversal ? nonEmpty(fields.transactionReferenceId) : null })] }
}

export const commercegate: GatewayAdapter<CommercegateSettings> = {
  id: 'commercegate',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
