/**
 * Wise payouts: quote, recipient, transfer (deduplicated by `customerTransactionId`), funding from
 * the balance; status by transfer id; batch-group helpers for large runs.
 *
 * Wire format from docs.wise.com (payouts.md §4): `POST /v3/profiles/{profileId}/quotes`,
 * `POST /v1/accounts`, `POST /v1/transfers`, `POST /v3/profiles/{profileId}/transfers/{id}/payments`,
 * `GET /v1/transfers/{id}`, batch groups under `/v3/profiles/{profileId}/batch-groups`. Auth is a
 * Bearer API token. Hosts: `api.wise.com` (live) and `api.wise-sandbox.com` (sandbox).
 *
 * Decisions:
 * - Amount: when the payout currency equals the recipient currency the quote fixes `targetAmount`
 *   (the creator receives exactly the ledger amount; Wise's fee is on top and reported as
 *   `feeMinor`). When they differ the quote fixes `sourceAmount` (the ledger debit is exact, the
 *   received amount floats with the rate).
 * - `customerTransactionId` must be a UUID (docs: "customerTransactionId uuid"). A key that already
 *   is one is sent lowercased; any other key is mapped to a UUID deterministically: the first 16
 *   bytes of SHA-256("fanz-payout:" + key) with the RFC 9562 version nibble 8 (custom, the slot the
 *   RFC gives to SHA-256 name-based UUIDs) and the variant bits 10. Same key -> same UUID on every
 *   attempt, so Wise's own dedup prevents a second transfer.
 * - A resubmit whose transfer already left `incoming_payment_waiting` is not funded again.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { PayoutMethod } from '../methods/methods'
import { isTransientStatus, type HttpRequest, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'
import { decimalFromMinor } from '../../payments/bank/money-text'
import { CURRENCY_EXPONENTS } from '../../payments/currencies'

export interface WiseSettings {
  /** personal or business API token (Bearer) */
  apiToken: string
  /** the sending profile id (business profile) */
  profileId: number
  environment: 'live' | 'sandbox'
  /** recipients are created with this legal type; creators are paid as individuals by default */
  legalType?: 'PRIVATE' | 'BUSINESS'
  /** `details.reference` length; Wise's limit depends on the route (unverified per route): default 10 */
  referenceMaxLength?: number
}

export const WISE_BASE_URL = { live: 'https://api.wise.com', sandbox: 'https://api.wise-sandbox.com' } as const

type WiseMethod = Extract<PayoutMethod, { type: 'wise' }>

/** Wise transfer states (docs "Tracking transfers"); `outgoing_payment_sent` is the final happy state. */
const SETTLED_STATES = new Set(['outgoing_payment_sent'])
const FAILED_STATES = new Set(['cancelled', 'funds_refunded', 'bounced_back', 'charged_back'])

const exponentOf = (currency: string) => CURRENCY_EXPONENTS[currency] ?? 2

/** Integer minor units -> decimal number as Wise's JSON takes it (e.g. 1234 GBP -> 12.34), from exact decimal text. */
export function minorToDecimal(minor: number, currency: string): number {
  return Number(decimalFromMinor(minor, currency))
}

/** Decimal amount from Wise -> integer minor units, rounded half away from zero. */
export function decimalToMinor(value: number, currency: string): number {
  const scaled = value * 10 ** exponentOf(currency)
  return Math.sign(scaled) * Math.round(Math.abs(scaled))
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Our idempotency key as a UUID for `customerTransactionId` (see the module notes). */
export function customerTransactionId(idempotencyKey: string): string {
  if (UUID_RE.test(idempotencyKey)) return idempotencyKey.toLowerCase()
  const bytes = sha256(new TextEncoder().encode(`fanz-payout:${idempotencyKey}`)).slice(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80 // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // variant 10
  const hex = bytesToHex(bytes)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Either the parsed JSON answer or the outcome to hand back (declined / retryable). */
export type WiseResult<T> = { ok: true; value: T } | { ok: false; outcome: Extract<PayoutOutcome, { status: 'declined' | 'retryable' }> }

function headers(settings: WiseSettings, withBody: boolean): Record<string, string> {
  const h: Record<string, string> = { authorization: `Bearer ${settings.apiToken}`, accept: 'application/json' }
  if (withBody) h['content-type'] = 'application/json'
  return h
}

/** Wise error bodies: `{errors:[{code,message,path}]}` or `{error, error_description}` (shape partly unverified). */
function describeError(body: string): { code: string; message: string } {
  try {
    const json = JSON.parse(body) as Record<string, unknown>
    const errors = json.errors
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as Record<string, unknown>
      return { code: String(first.code ?? 'error'), message: errors.map((e) => String((e as Record<string, unknown>).message ?? (e as Record<string, unknown>).code ?? '')).join('; ') }
    }
    if (typeof json.error === 'string') return { code: json.error, message: String(json.error_description ?? json.message ?? json.error) }
    if (typeof json.message === 'string') return { code: String(json.code ?? 'error'), message: json.message }
  } catch {
    // not JSON: fall through
  }
  return { code: 'error', message: body.slice(0, 200) }
}

async function call<T>(settings: WiseSettings, transport: Transport, method: HttpRequest['method'], path: string, body?: unknown): Promise<WiseResult<T>> {
  const request: HttpRequest = { method, url: WISE_BASE_URL[settings.environment] + path, headers: headers(settings, body !== undefined) }
  if (body !== undefined) request.body = JSON.stringify(body)
  let res
  try {
    res = await transport(request)
  } catch (err) {
    return { ok: false, outcome: { status: 'retryable', code: 'WISE_TRANSPORT', reason: `${method} ${path}: ${err instanceof Error ? err.message : String(err)}` } }
  }
  if (res.status >= 200 && res.status < 300) {
    try {
      return { ok: true, value: (res.body === '' ? {} : JSON.parse(res.body)) as T }
    } catch {
      return { ok: false, outcome: { status: 'retryable', code: 'WISE_BAD_RESPONSE', reason: `${method} ${path}: answer is not JSON` } }
    }
  }
  const { code, message } = describeError(res.body)
  if (isTransientStatus(res.status)) {
    const retryAfter = Number(res.headers['retry-after'] ?? res.headers['Retry-After'])
    return {
      ok: false,
      outcome: { status: 'retryable', code: `WISE_HTTP_${res.status}`, reason: `${method} ${path}: ${message}`, ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}) },
    }
  }
  return { ok: false, outcome: { status: 'declined', code: `WISE_${code}`, reason: `${method} ${path} (${res.status}): ${message}` } }
}

// ---- step 1: quote --------------------------------------------------------------------------

export interface WiseQuote {
  id: string
  /** fee for paying from the balance, when the answer lists it */
  feeMinor?: number
}

export async function createQuote(settings: WiseSettings, request: PayoutRequest, method: WiseMethod, transport: Transport): Promise<WiseResult<WiseQuote>> {
  const sourceCurrency = request.amount.currency
  const targetCurrency = method.currency
  const amount = minorToDecimal(request.amount.minor, sourceCurrency)
  const body: Record<string, unknown> = { sourceCurrency, targetCurrency }
  if (sourceCurrency === targetCurrency) body.targetAmount = amount
  else body.sourceAmount = amount
  // `payOut`/`preferredPayIn` are left to Wise's defaults: whether `payOut: BALANCE` is needed for
  // balance pricing is stated only by a third-party page (unverified).
  const res = await call<{ id: string; paymentOptions?: Array<{ payIn?: string; disabled?: boolean; fee?: { total?: number } }> }>(
    settings,
    transport,
    'POST',
    `/v3/profiles/${settings.profileId}/quotes`,
    body,
  )
  if (!res.ok) return res
  const balance = res.value.paymentOptions?.find((o) => o.payIn === 'BALANCE' && !o.disabled)
  const fee = balance?.fee?.total
  return { ok: true, value: { id: res.value.id, ...(typeof fee === 'number' ? { feeMinor: decimalToMinor(fee, sourceCurrency) } : {}) } }
}

// ---- step 2: recipient ----------------------------------------------------------------------

/**
 * The `POST /v1/accounts` body for a validated Wise method. Field names from the recipient
 * reference (sort_code: sortCode/accountNumber; aba: abartn/accountNumber/accountType;
 * swift_code: swiftCode/accountNumber; iban: IBAN). Wise requires a recipient address for USD
 * targets; the validated method does not carry one yet, so USD recipients may be refused (422 ->
 * declined) until `WiseMethod` gains an address (unverified which USD fields Wise insists on).
 */
export function recipientBody(settings: WiseSettings, method: WiseMethod): Record<string, unknown> {
  const legalType = settings.legalType ?? 'PRIVATE'
  const d = method.details
  let type: string
  let details: Record<string, unknown>
  switch (d.kind) {
    case 'sort_code':
      type = 'sort_code'
      details = { legalType, sortCode: d.sortCode, accountNumber: d.accountNumber }
      break
    case 'iban':
      type = 'iban'
      // the key is uppercase `IBAN` in Wise's account requirements (not confirmed in the pages searched)
      details = { legalType, IBAN: d.iban }
      break
    case 'aba':
      type = 'aba'
      details = { legalType, abartn: d.routingNumber, accountNumber: d.accountNumber, accountType: d.accountType.toUpperCase() }
      break
    case 'swift':
      type = 'swift_code'
      details = { legalType, swiftCode: d.bic, accountNumber: d.accountNumber }
      break
  }
  // Wise's recipient address shape (country, city, postCode, firstLine, state); required for USD
  const a = method.address
  if (a) {
    const firstLine = [a.buildingNumber, a.streetName].filter(Boolean).join(' ') || a.addressLines?.[0] || a.buildingName || ''
    details = { ...details, address: { country: a.country, city: a.townName, ...(a.postCode ? { postCode: a.postCode } : {}), firstLine, ...(a.countrySubDivision ? { state: a.countrySubDivision } : {}) } }
  }
  return { currency: method.currency, type, profile: settings.profileId, accountHolderName: method.accountHolderName, details }
}

export async function createRecipient(settings: WiseSettings, method: WiseMethod, transport: Transport): Promise<WiseResult<{ id: number }>> {
  const res = await call<{ id: number }>(settings, transport, 'POST', '/v1/accounts', recipientBody(settings, method))
  if (!res.ok) return res
  return { ok: true, value: { id: res.value.id } }
}

// ---- step 3: transfer -----------------------------------------------------------------------

export interface WiseTransfer {
  id: number
  status: string
  customerTransactionId?: string
}

export interface WiseTransferInput {
  targetAccount: number
  quoteUuid: string
  customerTransactionId: string
  /** shown on the recipient's statement; the allowed length depends on the route (Wise docs) */
  reference: string
}

const transferBody = (t: WiseTransferInput) => ({ targetAccount: t.targetAccount, quoteUuid: t.quoteUuid, customerTransactionId: t.customerTransactionId, details: { reference: t.reference } })

/** Wise answers the existing transfer when `customerTransactionId` repeats: no second transfer. */
export function createTransfer(settings: WiseSettings, input: WiseTransferInput, transport: Transport): Promise<WiseResult<WiseTransfer>> {
  return call<WiseTransfer>(settings, transport, 'POST', '/v1/transfers', transferBody(input))
}

// ---- step 4: funding ------------------------------------------------------------------------

export async function fundTransfer(settings: WiseSettings, transferId: number, transport: Transport): Promise<WiseResult<{ status: string; errorCode: string | null }>> {
  const res = await call<{ type: string; status: string; errorCode?: string | null }>(settings, transport, 'POST', `/v3/profiles/${settings.profileId}/transfers/${transferId}/payments`, { type: 'BALANCE' })
  if (!res.ok) return res
  return { ok: true, value: { status: res.value.status, errorCode: res.value.errorCode ?? null } }
}

/** Wise's `reference` field: ASCII letters, digits and spaces are safe on every route; cut to 10 (the GBP/local minimum seen; route limits vary, unverified). */
export function wiseReference(description: string, maxLength = 10): string {
  return description.replace(/[^A-Za-z0-9 ]/g, '').slice(0, maxLength).trim() || 'FANZ'
}

function mapState(transfer: WiseTransfer): PayoutOutcome {
  const ref = String(transfer.id)
  if (SETTLED_STATES.has(transfer.status)) return { status: 'settled', processorRef: ref }
  if (FAILED_STATES.has(transfer.status)) return { status: 'declined', code: `WISE_${transfer.status.toUpperCase()}`, reason: `Wise transfer ${ref} is ${transfer.status}` }
  return { status: 'submitted', processorRef: ref }
}

export const wiseProcessor: PayoutProcessor<WiseSettings> = {
  id: 'wise',
  methods: ['wise'],

  async submit(settings, request, transport) {
    const method = request.method
    if (method.type !== 'wise') return { status: 'declined', code: 'WISE_METHOD_UNSUPPORTED', reason: `Wise does not pay to ${method.type}` }
    if (!Number.isSafeInteger(request.amount.minor) || request.amount.minor <= 0) return { status: 'declined', code: 'WISE_AMOUNT_INVALID', reason: 'amount must be a positive integer of minor units' }

    const quote = await createQuote(settings, request, method, transport)
    if (!quote.ok) return quote.outcome
    const recipient = await createRecipient(settings, method, transport)
    if (!recipient.ok) return recipient.outcome
    const transfer = await createTransfer(
      settings,
      { targetAccount: recipient.value.id, quoteUuid: quote.value.id, customerTransactionId: customerTransactionId(request.idempotencyKey), reference: wiseReference(request.description, settings.referenceMaxLength) },
      transport,
    )
    if (!transfer.ok) return transfer.outcome

    const fee = quote.value.feeMinor !== undefined ? { feeMinor: quote.value.feeMinor } : {}
    // A repeated customerTransactionId answers the first transfer; once it left the waiting state it
    // was funded by an earlier attempt and must not be funded again.
    if (transfer.value.status !== 'incoming_payment_waiting') {
      const mapped = mapState(transfer.value)
      return mapped.status === 'submitted' || mapped.status === 'settled' ? { ...mapped, ...fee } : mapped
    }
    const funding = await fundTransfer(settings, transfer.value.id, transport)
    if (!funding.ok) return funding.outcome
    if (funding.value.status !== 'COMPLETED') {
      // REJECTED: most often the balance is short; that is ours to fix (top up), not the creator's,
      // so it is retried with backoff under the same customerTransactionId.
      return { status: 'retryable', code: `WISE_FUNDING_${funding.value.errorCode ?? funding.value.status}`, reason: `funding transfer ${transfer.value.id} from the balance: ${funding.value.status}` }
    }
    return { status: 'submitted', processorRef: String(transfer.value.id), ...fee }
  },

  async status(settings, _request, processorRef, transport) {
    // Without our transfer id there is nothing to look up; a resubmit with the same
    // customerTransactionId finds the transfer if it exists, and never creates a second one.
    if (processorRef === null) return { status: 'retryable', code: 'WISE_REF_UNKNOWN', reason: 'no Wise transfer id recorded: resubmit (deduplicated by customerTransactionId)' }
    const res = await call<WiseTransfer>(settings, transport, 'GET', `/v1/transfers/${encodeURIComponent(processorRef)}`)
    if (!res.ok) return res.outcome
    return mapState(res.value)
  },
}

// ---- batch groups (up to 1000 transfers funded together) -------------------------------------

export interface WiseBatchGroup {
  id: string
  version: number
  status: string
  name?: string
  sourceCurrency?: string
  transferIds?: number[]
}

export const WISE_BATCH_MAX_TRANSFERS = 1000

/** `POST /v3/profiles/{profileId}/batch-groups` {sourceCurrency, name (<= 100 characters)}. */
export async function createBatchGroup(settings: WiseSettings, input: { sourceCurrency: string; name: string }, transport: Transport): Promise<WiseResult<WiseBatchGroup>> {
  if (input.name.length === 0 || input.name.length > 100) {
    return { ok: false, outcome: { status: 'declined', code: 'WISE_BATCH_NAME', reason: 'batch group name must be 1-100 characters' } }
  }
  return call<WiseBatchGroup>(settings, transport, 'POST', `/v3/profiles/${settings.profileId}/batch-groups`, { sourceCurrency: input.sourceCurrency, name: input.name })
}

/** `POST /v3/profiles/{profileId}/batch-groups/{id}/transfers`: same body as a single transfer. */
export function addBatchTransfer(settings: WiseSettings, batchGroupId: string, input: WiseTransferInput, transport: Transport): Promise<WiseResult<WiseTransfer>> {
  return call<WiseTransfer>(settings, transport, 'POST', `/v3/profiles/${settings.profileId}/batch-groups/${encodeURIComponent(batchGroupId)}/transfers`, transferBody(input))
}

/** `GET /v3/profiles/{profileId}/batch-groups/{id}`: the current `version` before completing. */
export function getBatchGroup(settings: WiseSettings, batchGroupId: string, transport: Transport): Promise<WiseResult<WiseBatchGroup>> {
  return call<WiseBatchGroup>(settings, transport, 'GET', `/v3/profiles/${settings.profileId}/batch-groups/${encodeURIComponent(batchGroupId)}`)
}

/**
 * `PATCH /v3/profiles/{profileId}/batch-groups/{id}` {status: COMPLETED, version}: closes the group
 * so it can be funded. A stale `version` is refused by Wise (status code not documented in what
 * was read: 409 assumed, which maps to declined -> re-read the group and retry).
 */
export function completeBatchGroup(settings: WiseSettings, batchGroupId: string, version: number, transport: Transport): Promise<WiseResult<WiseBatchGroup>> {
  return call<WiseBatchGroup>(settings, transport, 'PATCH', `/v3/profiles/${settings.profileId}/batch-groups/${encodeURIComponent(batchGroupId)}`, { status: 'COMPLETED', version })
}
