/**
 * NETbilling Payment Form 2.2 (hosted form, POST to interactive2.2)
 * [secure.netbilling.com/public/docs/merchant/public/nativespecs/ezicPaymentForm22.html].
 * The form's return post carries NO signature we can verify from public documentation, so
 * authenticity = onboarding-supplied source ranges (configuration) AND our secret token in the
 * return URL. Only the authorisation outcome (sale / failure) arrives this way; rebills, refunds and
 * chargebacks come from NETbilling's Data Retrieval Interface (polling), which is not a postback.
 */
import type { Allowlist } from './ip-allowlist'
import { formatMinor, parseDecimal } from './money'
import { event, nonEmpty, POSTBACK_TOKEN_PARAM, safeFields, verifyByIpAndToken } from './postback'
import type { CheckoutInput, CheckoutResult, GatewayAdapter, ParseResult, PostbackRequest, VerifyResult } from './types'

export interface NetbillingSettings {
  accountId: string
  siteTag: string
  /** The account's settlement currency; the payment form takes amounts only. */
  currency: string
  postbackToken: string
  allowlist: Allowlist
  /** Our return/postback URL (without the token; it is appended here). */
  returnUrl: string
}

function buildCheckout(settings: NetbillingSettings, input: CheckoutInput): CheckoutResult {
  if (input.amount.currency !== settings.currency) return { ok: false, reason: 'currency_not_supported' }
  if (input.kind === 'subscription') return { ok: false, reason: 'subscriptions_configured_per_site_tag' }
  const returnUrl = new URL(settings.returnUrl)
  returnUrl.searchParams.set(POSTBACK_TOKEN_PARAM, settings.postbackToken)
  return {
    ok: true,
    request: {
      kind: 'form',
      method: 'POST',
      action: 'https://secure.netbilling.com/gw/native/interactive2.2',
      fields: {
        Ecom_Ezic_AccountAndSitetag: `${settings.accountId}:${settings.siteTag}`,
        Ecom_Ezic_Payment_AuthorizationType: 'SALE',
        Ecom_Cost_Total: formatMinor(input.amount),
        Ecom_Receipt_Description: input.description.slice(0, 100),
        Ecom_ConsumerOrderID: input.reference,
        Ecom_Ezic_Fulfillment_ReturnMethod: 'POST',
        Ecom_Ezic_Fulfillment_ReturnURL: returnUrl.toString(),
        ...(input.email ? { Ecom_BillTo_Online_Email: input.email } : {}),
      },
    },
  }
}

function verifyPostback(settings: NetbillingSettings, request: PostbackRequest): VerifyResult {
  return verifyByIpAndToken(request, settings.allowlist, settings.postbackToken)
}

function parsePostback(settings: NetbillingSettings, request: PostbackRequest): ParseResult {
  const fields = safeFields(request)
  if (!fields) return { ok: false, reason: 'malformed_body' }
  const transactionId = nonEmpty(fields.Ecom_Ezic_Response_TransactionID)
  if (!transactionId) return { ok: false, reason: 'missing_transaction_id' }
  const amount = parseDecimal(fields.Ecom_Cost_Total ?? '', settings.currency)
  if (!amount) return { ok: false, reason: 'bad_amount' }
  // status 1 = approved, T = test approved; 0 / F = declined / failed
  const status = fields.Ecom_Ezic_Response_StatusCode ?? ''
  const approved = status === '1' || status === 'T'
  return {
    ok: true,
    events: [
      event({
        gateway: 'netbilling',
        eventId: transactionId,
        type: approved ? 'sale' : 'failure',
        occurredAt: new Date().toISOString(),
        reference: nonEmpty(fields.Ecom_ConsumerOrderID),
        transactionId,
        amount,
        reason: approved ? null : nonEmpty(fields.Ecom_Ezic_Response_AuthMessage),
        raw: fields,
      }),
    ],
  }
}

export const netbilling: GatewayAdapter<NetbillingSettings> = {
  id: 'netbilling',
  buildCheckout,
  verifyPostback: (settings, request) => verifyPostback(settings, request),
  parsePostback,
}
