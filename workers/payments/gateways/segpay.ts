/**
 * Segpay. Postbacks carry NO signature and their parameters are chosen per URL in the Segpay
 * merchant portal with <placeholders> [gethelp.segpay.com ManagePostbacks, 07-PostbackParameters].
 * We register SEGPAY_TRANSPOST_TEMPLATE (TransPost, async) and SEGPAY_CANCEL_TEMPLATE (member
 * management). Segpay publishes no source ranges: the allowlist comes from Segpay onboarding
 * (configuration) and is combined with our secret token in the URL.
 */
import type { Allowlist } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, POSTBACK_TOKEN_PARAM, safeFields, toIsoUtc, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, ParseResult, PostbackRequest, VerifyResult } from './types'

/** Query string to append to our TransPost URL in the Segpay portal (placeholders are Segpay's). */
export const SEGPAY_TRANSPOST_TEMPLATE =
  'action=<action>&stage=<stage>&approved=<approved>&trantype=<trantype>&purchaseid=<purchaseid>&tranid=<tranid>&relatedtranid=<relatedtranid>&price=<price>&currencycode=<currencycode>&transtime=<transtime>&ref=<extra ref>'
export const SEGPAY_CANCEL_TEMPLATE = 'action=<action>&purchaseid=<purchaseid>&ref=<extra ref>'

export interface SegpaySettings {
  /** x-eticketid ("package:pricepoint") per checkout kind, from the Segpay portal. */
  eticketIds: { purchase: string; subscription: string }
  postbackToken: string
  allowlist: Allowlist
}

function buildCheckout(settings: SegpaySettings, input: CheckoutInput): CheckoutResult {
  const eticket = input.kind === 'subscription' ? settings.eticketIds.subscription : settings.eticketIds.purchase
  const params = new URLSearchParams({ 'x-eticketid': eticket, amount: formatMinor(input.amount), ref: input.reference })
  if (input.email) params.set('x-billemail', input.email)
  if (input.successUrl) params.set('x-successurl', input.successUrl)
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `https://secure2.segpay.com/billing/poset.cgi?${params}` } }
}

function verifyPostback(settings: SegpaySettings, request: PostbackRequest): VerifyResult {
  return verifyByIpAndToken(request, settings.allowlist, settings.postbackToken)
}

function parsePostback(_settings: SegpaySettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  delete fields[POSTBACK_TOKEN_PARAM]
  const action = (fields.action ?? '').toLowerCase()
  const purchaseId = nonEmpty(fields.purchaseid)
  const reference = nonEmpty(fields.ref)
  const occurredAt = toIsoUtc(fields.transtime) ?? new Date(0).toISOString()
  const base = { gateway: 'segpay' as const, occurredAt, reference, subscriptionId: purchaseId, raw: fields }
  if (action === 'cancel' || action === 'disable') {
    if (!purchaseId) return { ok: false, reason: 'missing_purchase_id' }
    return { ok: true, events: [event({ ...base, eventId: `${action}:${purchaseId}`, type: action === 'cancel' ? 'cancellation' : 'expiration' })] }
  }
  if (action !== 'auth' && action !== 'void') return { ok: true, events: [] }
  const tranId = nonEmpty(fields.tranid)
  if (!tranId) return { ok: false, reason: 'missing_transaction_id' }
  const amount = fields.price && fields.currencycode ? parseDecimal(fields.price, fields.currencycode) : null
  if (!amount) return { ok: false, reason: 'bad_amount' }
  const trantype = (fields.trantype ?? '').toLowerCase()
  const stage = (fields.stage ?? '').toLowerCase()
  const related = nonEmpty(fields.relatedtranid)
  let type: ReturnType<typeof event>['type']
  if (action === 'void') type = 'void'
  else if (fields.approved && fields.approved.toLowerCase() !== 'yes') type = 'failure'
  else if (trantype === 'credit') type = 'refund'
  else if (trantype === 'charge') type = 'chargeback'
  else type = stage === 'initial' ? 'sale' : 'rebill'
  const reversal = type === 'refund' || type === 'chargeback' || type === 'void'
  return { ok: true, events: [event({ ...base, eventId: tranId, type, transactionId: tranId, amount, originalTransactionId: reversal ? related : null })] }
}

export const segpay: GatewayAdapter<SegpaySettings> = {
  id: 'segpay',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
