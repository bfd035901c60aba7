/**
 * One interface for every payout processor (Paxum, Wise, Payoneer, ePayService, a crypto
 * custodian, the sandbox). An adapter speaks its processor's real wire format through an injected
 * transport, so production passes `fetch` and tests pass a recorder that answers like the
 * processor; the payout pipeline only sees `PayoutOutcome`.
 * @module
 */
import type { PayoutMethod } from '../methods/methods'

export type ProcessorId = 'paxum' | 'wise' | 'payoneer' | 'epayservice' | 'crypto_custodian' | 'sandbox'

export interface PayoutRequest {
  /** our payout id (`po_…`) */
  payoutId: string
  /**
   * Sent on every attempt of this payout (Wise `customerTransactionId`, Payoneer
   * `client_reference_id`, Paxum `reference`): a retried submit can never pay twice.
   */
  idempotencyKey: string
  /** integer minor units + ISO 4217 */
  amount: { minor: number; currency: string }
  /** where the money goes: a validated method (workers/payouts/methods) */
  method: PayoutMethod
  /** shown to the creator by the processor where it has a field for it */
  description: string
}

/**
 * What happened. `declined` is a business error (never retried: wrong account, limits, compliance);
 * `retryable` is transient (5xx, timeouts, 429), retried with backoff under the same idempotency key.
 */
export type PayoutOutcome =
  | { status: 'submitted'; processorRef: string; feeMinor?: number }
  | { status: 'settled'; processorRef: string; feeMinor?: number }
  | { status: 'declined'; code: string; reason: string }
  | { status: 'retryable'; code: string; reason: string; retryAfterMs?: number }

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH'
  url: string
  headers: Record<string, string>
  body?: string
}

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Sends one request; rejects only on a network failure or timeout (an HTTP error status resolves). */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>

export interface PayoutProcessor<Settings> {
  id: ProcessorId
  /** the method types this processor pays to */
  methods: ReadonlyArray<PayoutMethod['type']>
  submit(settings: Settings, request: PayoutRequest, transport: Transport): Promise<PayoutOutcome>
  /** asks the processor where a submitted payout stands (by the idempotency key or its own ref) */
  status(settings: Settings, request: PayoutRequest, processorRef: string | null, transport: Transport): Promise<PayoutOutcome>
}

/** The transport the Worker uses: fetch with a timeout, so a hung processor is a retryable failure. */
export function fetchTransport(timeoutMs = 15_000): Transport {
  return async (request) => {
    const res = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(timeoutMs) })
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
  }
}

/** HTTP status -> transient or not: 408, 425, 429 and 5xx are retried; other 4xx are business errors. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500
}
