/**
 * Epoch. Transactions arrive through the Data Plus HTTPS post (name/value pairs, 15 minutes
 * delayed: joins, recurrings, credits, chargebacks, cancellations) [Epoch Data Plus guide, mirrored
 * at mage2.pro/t/topic/5044]. Epoch publishes no postback signature; its source ranges are listed
 * at epoch.com/ip_list.php and must be copied into configuration, combined with our URL token.
 * The one-letter ets_transaction_type codes are not in the public guide: they come from Epoch
 * onboarding as `typeCodes` (configuration), never guessed here.
 */
import type { Allowlist } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, safeFields, toIsoUtc, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, NormalizedEventType, ParseResult, PostbackRequest, VerifyResult } from './types'

export interface EpochSettings {
  coCode: string
  /** Product codes (pi_code) per checkout kind, from the Epoch admin. */
  piCodes: { purchase: string; subscription: string }
  /** ets_transaction_type letter -> event type, as given by Epoch onboarding. */
  typeCodes: Record<string, NormalizedEventType>
  /** Data Plus amounts are decimal(10,2) in the account currency. */
  currency: string
  postbackToken: string
  allowlist: Allowlist
  /** Data Plus datetimes carry no zone. */
  timestampOffset?: string
}

function buildCheckout(settings: EpochSettings, input: CheckoutInput): CheckoutResult {
  const params = new URLSearchParams({
    api: 'join',
    co_code: settings.coCode,
    pi_code: input.kind === 'subscription' ? settings.piCodes.subscription : settings.piCodes.purchase,
    // x_ pass-through fields are returned to the merchant
    x_reference: input.reference,
    amount: formatMinor(input.amount),
    currency: input.amount.currency,
  })
  if (input.email) params.set('email', input.email)
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `https://wnu.com/secure/services/?${params}` } }
}

function verifyPostback(settings: EpochSettings, request: PostbackRequest): VerifyResult {
  return verifyByIpAndToken(request, settings.allowlist, settings.postbackToken)
}

function parsePostback(settings: EpochSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const transactionId = nonEmpty(fields.ets_transaction_id)
  if (!transactionId) return { ok: false, reason: 'missing_transaction_id' }
  const code = fields.ets_transaction_type ?? ''
  const type = settings.typeCodes[code]
  if (!type) return { ok: false, reason: 'unknown_transaction_type' }
  const occurredAt = toIsoUtc(fields.ets_transaction_date, settings.timestampOffset ?? '+00:00')
  if (!occurredAt) return { ok: false, reason: 'bad_timestamp' }
  const memberId = nonEmpty(fields.ets_member_idx)
  const base = { gateway: 'epoch' as const, eventId: transactionId, type, occurredAt, subscriptionId: memberId, reference: nonEmpty(fields.x_reference), raw: fields }
  if (type === 'cancellation' || type === 'expiration') return { ok: true, events: [event(base)] }
  const amount = parseDecimal(fields.ets_transaction_amount ?? '', settings.currency)
  if (!amount) return { ok: false, reason: 'bad_amount' }
  const reversal = type === 'refund' || type === 'chargeback' || type === 'void'
  return { ok: true, events: [event({ ...base, transactionId, amount, originalTransactionId: reversal ? nonEmpty(fields.ets_ref_trans_ids) : null })] }
}

export const epoch: GatewayAdapter<EpochSettings> = {
  id: 'epoch',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
