/**
 * ePayService payouts through its Partners API (v2), paying method type `epayservice` (a creator's
 * ePayService wallet, by wallet number or account email) from our own wallet in the payout's
 * currency.
 *
 * Confirmed from the public Partners API v2 documentation [online.epayservices.com/partners_api/docs/v2/]:
 * - authentication: an API access token generated in the personal cabinet (bound to the caller's
 *   IP address), sent as `Authorization: Bearer <token>` on every request;
 * - transfers are JSON with `reference_id` ("a unique string identifying your transfer"),
 *   `account_number` (our wallet the money leaves), `amount` (a decimal string) and `details`
 *   (5-32 characters).
 *
 * UNVERIFIED (the documentation that could be read showed the ACH transfer only): the path of the
 * wallet-to-wallet transfer and of the lookup (`POST /transfers/internal`, `GET
 * /transfers/{reference_id}`), the beneficiary fields (`beneficiary_account_number` /
 * `beneficiary_email`), the reply (`{id, reference_id, status, fee}`) and its status words
 * (`completed`, `declined`/`canceled`/`failed`, otherwise in progress), and the refusal of a second
 * transfer with a used `reference_id` (assumed 409/422 naming the reference). Each is a constant or a
 * small function here, so correcting them after a call with ePayService is a one-line change.
 *
 * Idempotency: our payout's idempotency key is the `reference_id` on every attempt; a refusal as a
 * duplicate is answered by reading the first transfer by its reference.
 * @module
 */
import { decimalFromMinor, minorFromDecimal } from '../../payments/bank/money-text'
import type { PayoutMethod } from '../methods/methods'
import { isTransientStatus, type HttpResponse, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'

export const EPAYSERVICE_BASE_URL = 'https://online.epayservices.com/partners_api/v2'

/** UNVERIFIED paths (see the module notes). */
export const EPAYSERVICE_PATHS = {
  internalTransfer: '/transfers/internal',
  transfer: (referenceId: string) => `/transfers/${encodeURIComponent(referenceId)}`,
} as const

export interface EpayserviceSettings {
  /** the Partners API access token */
  apiToken: string
  /** our wallet number per currency: `{ "USD": "W123456", "EUR": "W654321" }` */
  wallets: Record<string, string>
  baseUrl?: string
}

type EpayMethod = Extract<PayoutMethod, { type: 'epayservice' }>

const SETTLED = new Set(['completed', 'success', 'succeeded', 'done'])
const FAILED = new Set(['declined', 'canceled', 'cancelled', 'failed', 'rejected', 'returned'])

/** `details` must be 5-32 characters. */
export function epayDetails(description: string): string {
  const text = description.replace(/\s+/g, ' ').trim().slice(0, 32)
  return text.length >= 5 ? text : text.padEnd(5, '.')
}

/** The transfer body for a payout (exported for tests and dry runs). */
export function internalTransferBody(settings: EpayserviceSettings, request: PayoutRequest, method: EpayMethod): Record<string, string> | null {
  const wallet = settings.wallets[request.amount.currency]
  if (!wallet) return null
  return {
    reference_id: request.idempotencyKey,
    account_number: wallet,
    amount: decimalFromMinor(request.amount.minor, request.amount.currency),
    currency: request.amount.currency,
    details: epayDetails(request.description),
    ...(method.accountId !== undefined ? { beneficiary_account_number: method.accountId } : {}),
    ...(method.email !== undefined ? { beneficiary_email: method.email } : {}),
  }
}

function parse(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

type Sent = { ok: true; response: HttpResponse; body: Record<string, unknown> } | { ok: false; outcome: PayoutOutcome }

async function call(settings: EpayserviceSettings, transport: Transport, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Sent> {
  const headers: Record<string, string> = { authorization: `Bearer ${settings.apiToken}`, accept: 'application/json' }
  if (payload !== undefined) headers['content-type'] = 'application/json'
  let response: HttpResponse
  try {
    response = await transport({ method, url: `${settings.baseUrl ?? EPAYSERVICE_BASE_URL}${path}`, headers, ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}) })
  } catch (error) {
    return { ok: false, outcome: { status: 'retryable', code: 'EPAYSERVICE_TIMEOUT', reason: `ePayService did not answer: ${error instanceof Error ? error.message : String(error)}` } }
  }
  if (isTransientStatus(response.status)) {
    const after = response.headers['retry-after']
    const seconds = after === undefined ? NaN : Number(after)
    return { ok: false, outcome: { status: 'retryable', code: `EPAYSERVICE_HTTP_${response.status}`, reason: `ePayService answered HTTP ${response.status}`, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) } }
  }
  return { ok: true, response, body: parse(response.body) }
}

/** The transfer object (possibly wrapped in `data`) as our outcome. */
export function transferOutcome(body: Record<string, unknown>, currency: string): PayoutOutcome | null {
  const t = (body.data && typeof body.data === 'object' ? body.data : body) as Record<string, unknown>
  const status = typeof t.status === 'string' ? t.status.toLowerCase() : undefined
  const ref = t.id !== undefined ? String(t.id) : typeof t.reference_id === 'string' ? t.reference_id : undefined
  if (!status || !ref) return null
  const fee = typeof t.fee === 'string' || typeof t.fee === 'number' ? minorFromDecimal(String(t.fee), currency) : null
  const feePart = fee !== null && Number.isSafeInteger(fee) ? { feeMinor: fee } : {}
  if (SETTLED.has(status)) return { status: 'settled', processorRef: ref, ...feePart }
  if (FAILED.has(status)) return { status: 'declined', code: `EPAYSERVICE_${status.toUpperCase()}`, reason: String(t.reason ?? t.message ?? `ePayService transfer ${ref} is ${status}`) }
  return { status: 'submitted', processorRef: ref, ...feePart }
}

const errorText = (body: Record<string, unknown>, status: number) => String(body.message ?? body.error ?? (Array.isArray(body.errors) ? JSON.stringify(body.errors) : `ePayService answered HTTP ${status}`))

async function lookUp(settings: EpayserviceSettings, request: PayoutRequest, transport: Transport): Promise<PayoutOutcome> {
  const sent = await call(settings, transport, 'GET', EPAYSERVICE_PATHS.transfer(request.idempotencyKey))
  if (!sent.ok) return sent.outcome
  if (sent.response.status === 404) return { status: 'retryable', code: 'EPAYSERVICE_NOT_FOUND', reason: `no ePayService transfer with reference ${request.idempotencyKey}: it was not created; resubmitting with the same reference is safe` }
  const outcome = sent.response.status === 200 ? transferOutcome(sent.body, request.amount.currency) : null
  return outcome ?? { status: 'retryable', code: `EPAYSERVICE_LOOKUP_HTTP_${sent.response.status}`, reason: errorText(sent.body, sent.response.status) }
}

export const epayserviceProcessor: PayoutProcessor<EpayserviceSettings> = {
  id: 'epayservice',
  methods: ['epayservice'],

  async submit(settings, request, transport) {
    const method = request.method
    if (method.type !== 'epayservice') return { status: 'declined', code: 'EPAYSERVICE_METHOD_UNSUPPORTED', reason: `ePayService does not pay to ${method.type}` }
    if (!Number.isSafeInteger(request.amount.minor) || request.amount.minor <= 0) return { status: 'declined', code: 'EPAYSERVICE_AMOUNT_INVALID', reason: 'amount must be a positive integer of minor units' }
    const body = internalTransferBody(settings, request, method)
    if (!body) return { status: 'declined', code: 'EPAYSERVICE_NO_WALLET', reason: `no ePayService wallet configured for ${request.amount.currency}` }
    const sent = await call(settings, transport, 'POST', EPAYSERVICE_PATHS.internalTransfer, body)
    if (!sent.ok) return sent.outcome
    const { response } = sent
    if (response.status >= 200 && response.status < 300) {
      return transferOutcome(sent.body, request.amount.currency) ?? lookUp(settings, request, transport)
    }
    // the reference was used: an earlier attempt created the transfer and its answer was lost
    if ((response.status === 409 || response.status === 422) && /reference/i.test(errorText(sent.body, response.status))) return lookUp(settings, request, transport)
    if (response.status === 401 || response.status === 403) return { status: 'declined', code: `EPAYSERVICE_AUTH_${response.status}`, reason: errorText(sent.body, response.status) }
    return { status: 'declined', code: `EPAYSERVICE_HTTP_${response.status}`, reason: errorText(sent.body, response.status) }
  },

  status(settings, request, _processorRef, transport) {
    return lookUp(settings, request, transport)
  },
}
