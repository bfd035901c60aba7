import type { Money } from './money'

export type { Money } from './money'

export type GatewayId =
  | 'ccbill'
  | 'segpay'
  | 'epoch'
  | 'vendo'
  | 'verotel'
  | 'netbilling'
  | 'commercegate'
  | 'sandbox'
  | 'nowpayments'
  | 'bank_transfer'

/** `chargeback_reversal`: the acquirer decided a dispute for the merchant (representment won), the money comes back. */
export type NormalizedEventType = 'sale' | 'rebill' | 'refund' | 'chargeback' | 'chargeback_reversal' | 'cancellation' | 'expiration' | 'void' | 'failure'

/** The one event shape every gateway postback becomes; the ledger and webhook inbox read only this. */
export interface NormalizedEvent {
  gateway: GatewayId
  /** Dedup key with `gateway`: the gateway's own event/transaction id (prefixed where one id carries several events). */
  eventId: string
  type: NormalizedEventType
  /** ISO 8601 UTC */
  occurredAt: string
  /** Our reference id that travelled through the checkout; null when the gateway does not echo it (e.g. on refunds). */
  reference: string | null
  subscriptionId: string | null
  /** Gateway transaction id of this money movement; null for lifecycle events (cancellation, expiration). */
  transactionId: string | null
  /** Null when the event moves no money (cancellation, expiration). Always positive; `type` carries direction. */
  amount: Money | null
  /** For refund / chargeback / void: the sale it reverses, when the gateway says so. */
  originalTransactionId: string | null
  /** Failure code/reason or refund reason as sent. */
  reason: string | null
  raw: Record<string, string>
}

/** What the route hands the adapter: the request exactly as received. */
export interface PostbackRequest {
  method: string
  url: string
  headers: Record<string, string>
  rawBody: string
  sourceIp: string
}

export type VerifyResult = { ok: true } | { ok: false; reason: string }

export type ParseResult = { ok: true; events: NormalizedEvent[] } | { ok: false; reason: string }

export type CheckoutKind = 'purchase' | 'subscription' | 'tip' | 'ppv' | 'message_unlock'

export interface CheckoutInput {
  kind: CheckoutKind
  /** Our id; travels through the gateway and returns in postbacks as `reference`. */
  reference: string
  /** One-time price, or the initial charge of a subscription. */
  amount: Money
  description: string
  /** Subscription only: days covered by the initial charge (defaults to recurring.periodDays). */
  initialPeriodDays?: number
  recurring?: { amount: Money; periodDays: number; rebills?: number }
  email?: string
  successUrl?: string
  cancelUrl?: string
  /** Where the gateway should post (used by gateways that take it per request). */
  postbackUrl?: string
}

/** The hosted-payment request: a redirect, an auto-submitted form, or a server-side API call returning the hosted URL. */
export type CheckoutRequest =
  | { kind: 'redirect'; method: 'GET'; url: string }
  | { kind: 'form'; method: 'POST'; action: string; fields: Record<string, string> }
  | { kind: 'api'; method: 'POST'; url: string; headers: Record<string, string>; body: string }

export type CheckoutResult = { ok: true; request: CheckoutRequest } | { ok: false; reason: string }

export interface GatewayAdapter<Settings> {
  id: GatewayId
  buildCheckout(settings: Settings, input: CheckoutInput): CheckoutResult
  verifyPostback(settings: Settings, request: PostbackRequest, nowMs: number): VerifyResult
  parsePostback(settings: Settings, request: PostbackRequest): ParseResult
}
