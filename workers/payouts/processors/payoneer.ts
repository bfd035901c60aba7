/**
 * Payoneer payouts through the v4 mass-payout API, paying to method type `payoneer` (the payee id
 * the program assigned at registration).
 *
 * UNVERIFIED: nothing here comes from Payoneer's own documentation, which is not public. Paths and
 * body follow payouts.md §4 (from public client code); the token request, the status values and the
 * error body follow the public client zametica/payoneer-rb (auth.rb, payout.rb, remote_api.rb,
 * responses/payout/status.rb). Each unverified detail is marked where it is used.
 *
 * Idempotency: our idempotency key is the payment's `client_reference_id` on every attempt. The
 * processor is expected to refuse a second payment with the same id (Payoneer's older API answered
 * "Payment ID already exists"); when it does, the adapter asks for that payout's status instead, so
 * a retried submit reports the first payment rather than failing or paying twice.
 * @module
 */
import { CURRENCY_EXPONENTS } from '../../payments/currencies'
import { decimalFromMinor } from '../../payments/bank/money-text'
import { isTransientStatus, type HttpRequest, type HttpResponse, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'

/** Production API base (unverified; the sandbox is said to be https://api.sandbox.payoneer.com/v4). */
export const PAYONEER_API_BASE = 'https://api.payoneer.com/v4'
/** OAuth2 token endpoint (unverified; sandbox https://login.sandbox.payoneer.com/api/v2/oauth2/token). */
export const PAYONEER_TOKEN_URL = 'https://login.payoneer.com/api/v2/oauth2/token'

export interface PayoneerToken {
  accessToken: string
  /** epoch ms after which the token is not used */
  expiresAtMs: number
}

export interface PayoneerSettings {
  programId: string
  clientId: string
  clientSecret: string
  apiBase?: string
  tokenUrl?: string
  /** optional cache shared across calls (e.g. one per isolate), keyed by token URL + client id */
  tokenCache?: Map<string, PayoneerToken>
  /** clock in epoch ms, injectable for tests */
  now?: () => number
}

type Sent = { ok: true; response: HttpResponse } | { ok: false; outcome: PayoutOutcome }

async function send(transport: Transport, request: HttpRequest): Promise<Sent> {
  let response: HttpResponse
  try {
    response = await transport(request)
  } catch (error) {
    return { ok: false, outcome: { status: 'retryable', code: 'TIMEOUT', reason: `Payoneer did not answer: ${error instanceof Error ? error.message : String(error)}` } }
  }
  if (isTransientStatus(response.status)) {
    const retryAfter = Number(response.headers['retry-after'])
    return {
      ok: false,
      outcome: { status: 'retryable', code: `HTTP_${response.status}`, reason: `Payoneer answered HTTP ${response.status}`, ...(Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers['retry-after'] !== undefined ? { retryAfterMs: retryAfter * 1000 } : {}) },
    }
  }
  return { ok: true, response }
}

function json(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined)

/** Error body `{ error, error_description, error_details }` (shape per payoneer-rb, unverified). */
function errorOutcome(response: HttpResponse): PayoutOutcome {
  const body = json(response.body)
  const details = body.error_details
  const detailText = details && typeof details === 'object' ? text((details as Record<string, unknown>).code) : undefined
  return {
    status: 'declined',
    code: `PAYONEER_${detailText ?? text(body.error)?.toUpperCase().replace(/\W+/g, '_') ?? `HTTP_${response.status}`}`,
    reason: text(body.error_description) ?? `Payoneer answered HTTP ${response.status}`,
  }
}

/**
 * OAuth2 client-credentials token through the same transport: POST form `grant_type=client_credentials`
 * & `scope=read write`, client id/secret as HTTP Basic (per payoneer-rb; unverified). Reply
 * `{ access_token, expires_in, token_type }` (RFC 6749 §5.1).
 */
async function bearer(settings: PayoneerSettings, transport: Transport): Promise<{ ok: true; token: string; cached: boolean } | { ok: false; outcome: PayoutOutcome }> {
  const tokenUrl = settings.tokenUrl ?? PAYONEER_TOKEN_URL
  const now = (settings.now ?? Date.now)()
  const cacheKey = `${tokenUrl} ${settings.clientId}`
  const cached = settings.tokenCache?.get(cacheKey)
  if (cached && cached.expiresAtMs > now) return { ok: true, token: cached.accessToken, cached: true }

  const sent = await send(transport, {
    method: 'POST',
    url: tokenUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${settings.clientId}:${settings.clientSecret}`)}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read write' }).toString(),
  })
  if (!sent.ok) return sent
  const body = json(sent.response.body)
  const token = text(body.access_token)
  if (sent.response.status !== 200 || token === undefined) {
    return { ok: false, outcome: { status: 'declined', code: 'PAYONEER_AUTH_FAILED', reason: text(body.error_description) ?? text(body.error) ?? `token request answered HTTP ${sent.response.status}` } }
  }
  const expiresIn = Number(body.expires_in)
  // renew a minute early so a token never expires between our check and Payoneer's
  settings.tokenCache?.set(cacheKey, { accessToken: token, expiresAtMs: now + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000 - 60_000 })
  return { ok: true, token, cached: false }
}

/** One authorised API call; a 401 on a cached token drops it and is retryable (the next attempt fetches a fresh one). */
async function call(settings: PayoneerSettings, transport: Transport, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Sent> {
  const auth = await bearer(settings, transport)
  if (!auth.ok) return auth
  const headers: Record<string, string> = { authorization: `Bearer ${auth.token}`, accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const sent = await send(transport, { method, url: `${settings.apiBase ?? PAYONEER_API_BASE}${path}`, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  if (sent.ok && sent.response.status === 401 && auth.cached) {
    settings.tokenCache?.delete(`${settings.tokenUrl ?? PAYONEER_TOKEN_URL} ${settings.clientId}`)
    return { ok: false, outcome: { status: 'retryable', code: 'PAYONEER_TOKEN_REJECTED', reason: 'cached access token rejected; a new one is fetched on retry' } }
  }
  return sent
}

const payoutPath = (settings: PayoneerSettings, clientReferenceId: string) => `/programs/${encodeURIComponent(settings.programId)}/payouts/${encodeURIComponent(clientReferenceId)}/status`

/**
 * `result.status` -> outcome. Values seen in payoneer-rb: `Transferred` (paid), `Pending`,
 * `Pending Payee` (waiting), `Cancelled`; a `reason_code` means rejected. Other values are
 * treated as still in progress (unverified list).
 */
export function mapPayoneerStatus(result: Record<string, unknown>, clientReferenceId: string): PayoutOutcome {
  const status = text(result.status) ?? ''
  const reasonCode = text(result.reason_code)
  if (reasonCode !== undefined && reasonCode !== '') {
    return { status: 'declined', code: `PAYONEER_${reasonCode}`, reason: text(result.reason_description) ?? text(result.reason) ?? `rejected (${status || 'no status'})` }
  }
  const normalised = status.toLowerCase()
  if (normalised === 'transferred') return { status: 'settled', processorRef: clientReferenceId }
  if (['cancelled', 'canceled', 'rejected', 'failed', 'declined'].includes(normalised)) return { status: 'declined', code: `PAYONEER_${normalised.toUpperCase()}`, reason: `payout ${status}` }
  return { status: 'submitted', processorRef: clientReferenceId }
}

async function lookup(settings: PayoneerSettings, clientReferenceId: string, transport: Transport): Promise<PayoutOutcome> {
  const sent = await call(settings, transport, 'GET', payoutPath(settings, clientReferenceId))
  if (!sent.ok) return sent.outcome
  if (sent.response.status === 404) return { status: 'declined', code: 'NOT_FOUND', reason: 'Payoneer has no payout with this client reference id; nothing was paid' }
  if (sent.response.status !== 200) return errorOutcome(sent.response)
  const result = json(sent.response.body).result
  return mapPayoneerStatus(result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {}, clientReferenceId)
}

/** A refusal because this client_reference_id was already used (409, or the description says so; unverified). */
function isDuplicate(response: HttpResponse): boolean {
  if (response.status === 409) return true
  const body = json(response.body)
  return /already exists|duplicate/i.test(`${text(body.error_description) ?? ''} ${text(body.error) ?? ''}`)
}

/** The Payoneer v4 mass-payout adapter, paying to method type `payoneer`. */
export const payoneer: PayoutProcessor<PayoneerSettings> = {
  id: 'payoneer',
  methods: ['payoneer'],

  async submit(settings: PayoneerSettings, request: PayoutRequest, transport: Transport): Promise<PayoutOutcome> {
    const method = request.method
    if (method.type !== 'payoneer') return { status: 'declined', code: 'METHOD_NOT_SUPPORTED', reason: `Payoneer cannot pay to a ${method.type} method` }
    const currency = request.amount.currency.toUpperCase()
    if (CURRENCY_EXPONENTS[currency] === undefined) return { status: 'declined', code: 'CURRENCY_NOT_SUPPORTED', reason: `unknown currency ${request.amount.currency}` }
    if (!Number.isSafeInteger(request.amount.minor) || request.amount.minor <= 0) return { status: 'declined', code: 'INVALID_AMOUNT', reason: 'amount must be a positive integer of minor units' }

    // `Payments` capitalised as payouts.md gives it; payoneer-rb sends `payments` (which one Payoneer
    // requires is unverified). The amount is a JSON number built from the exact decimal text: a
    // decimal with <= 15 significant digits prints back unchanged.
    const body = {
      Payments: [
        {
          client_reference_id: request.idempotencyKey,
          payee_id: method.payeeId,
          amount: Number(decimalFromMinor(request.amount.minor, currency)),
          currency,
          description: request.description,
        },
      ],
    }
    const sent = await call(settings, transport, 'POST', `/programs/${encodeURIComponent(settings.programId)}/masspayouts`, body)
    if (!sent.ok) return sent.outcome
    const response = sent.response
    if (response.status >= 200 && response.status <= 299) {
      // the reply carries no payout id of Payoneer's (payoneer-rb: `{ "result": "Payments Created" }`): our reference is the handle
      return { status: 'submitted', processorRef: request.idempotencyKey }
    }
    if (isDuplicate(response)) return lookup(settings, request.idempotencyKey, transport)
    return errorOutcome(response)
  },

  async status(settings: PayoneerSettings, request: PayoutRequest, _processorRef: string | null, transport: Transport): Promise<PayoutOutcome> {
    return lookup(settings, request.idempotencyKey, transport)
  },
}
