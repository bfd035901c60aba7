/**
 * Paxum payouts: account-to-account transfers to the creator's Paxum email.
 *
 * Which API: the legacy Payment API (`transferFunds`, MD5 `key`), because its transfer request,
 * key inputs and XML reply are documented field by field [us.paxum.com/developers/api-documentation,
 * payouts.md §4]. Paxum's Payment API 2.0 [api.paxum.com] is preferred in principle, but only its
 * authentication section could be confirmed (hex HMAC-SHA256 of path + query under the secret key,
 * reproduced in the tests from the doc's Example 1); its transfer endpoint, body fields and the
 * header names that carry the API key and signature could not be. `paxumV2Signature` is exported
 * so a 2.0 adapter can be added once those are confirmed.
 *
 * Idempotency: we send our idempotency key as `reference`. Paxum documents `reference` only as
 * "a reference for your internal accounting" — NOT as a dedup key — so this adapter does its own
 * check: before every `transferFunds` it looks the reference up in `transactionHistory` (whose
 * rows carry `Reference`), and a retried submit whose first attempt did go through returns that
 * transfer instead of paying again.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js'
import { md5 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { CURRENCY_EXPONENTS } from '../../payments/currencies'
import { decimalFromMinor, minorFromDecimal } from '../../payments/bank/money-text'
import { isTransientStatus, type HttpResponse, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'

/** Legacy Payment API endpoint (production; one URL for every method) [us.paxum.com]. */
export const PAXUM_LEGACY_ENDPOINT = 'https://secure.paxum.com/payment/api/paymentAPI.php'

export interface PaxumSettings {
  /** the email of our (paying) Paxum account: `fromEmail` */
  fromEmail: string
  /** the API shared secret that prefixes every MD5 `key` */
  sharedSecret: string
  /** defaults to PAXUM_LEGACY_ENDPOINT; how the legacy sandbox is addressed was not confirmed */
  endpoint?: string
  /** how far back the dedup / status lookup searches the transaction history (default 30 days) */
  lookbackDays?: number
  /** pages of 100 transactions the lookup reads at most (default 5) */
  historyPages?: number
  /** clock, injectable for tests */
  now?: () => Date
}

/**
 * Payment API 2.0 request signature: lowercase hex HMAC-SHA256(secretKey, path + query)
 * [api.paxum.com, Authentication, Example 1].
 * @param secretKey the API Secret Key exactly as issued (used as UTF-8 text, not base64-decoded)
 * @param pathAndQuery e.g. `/v2/account/590900/transactions?limit=3`
 * @returns 64 hex characters
 * @example paxumV2Signature('iFK7…eM=', '/v2/account/590900/transactions?limit=3') // 'aa6ecd0b…'
 */
export function paxumV2Signature(secretKey: string, pathAndQuery: string): string {
  return bytesToHex(hmac(sha256, utf8ToBytes(secretKey), utf8ToBytes(pathAndQuery)))
}

/** Legacy API key: lowercase hex MD5 of the concatenated inputs. */
export function paxumLegacyKey(parts: ReadonlyArray<string>): string {
  return bytesToHex(md5(utf8ToBytes(parts.join(''))))
}

export interface TransferFundsFields {
  fromEmail: string
  toEmail: string
  /** decimal string, e.g. "10.00" */
  amount: string
  currency: string
  note?: string
  reference?: string
}

/**
 * The `transferFunds` form body. Key = MD5(sharedSecret + toEmail + amount + currency + *note +
 * *firstName + *lastName + *businessName + *reference + *subscription…), optional fields included
 * only when sent, in that order [us.paxum.com Transfer Funds]. We never send the name-match or
 * subscription fields. The key is taken over the raw (not URL-encoded) values: the doc does not say
 * so explicitly, but its samples' keys are over plain values (unverified for non-ASCII notes).
 */
export function transferFundsBody(sharedSecret: string, fields: TransferFundsFields): URLSearchParams {
  const body = new URLSearchParams({ method: 'transferFunds', fromEmail: fields.fromEmail, toEmail: fields.toEmail, amount: fields.amount, currency: fields.currency })
  const keyParts = [sharedSecret, fields.toEmail, fields.amount, fields.currency]
  if (fields.note !== undefined) {
    body.set('note', fields.note)
    keyParts.push(fields.note)
  }
  if (fields.reference !== undefined) {
    body.set('reference', fields.reference)
    keyParts.push(fields.reference)
  }
  body.set('key', paxumLegacyKey(keyParts))
  return body
}

/**
 * The `transactionHistory` form body. Key = MD5(sharedSecret + *accountId + fromDate + toDate +
 * *pageSize + *pageNumber) [paxum.com/payment-docs apiTransactionHistory]; no accountId = all accounts.
 */
export function transactionHistoryBody(settings: PaxumSettings, fromDate: string, toDate: string, pageNumber: number, pageSize = 100): URLSearchParams {
  const body = new URLSearchParams({ method: 'transactionHistory', fromEmail: settings.fromEmail, fromDate, toDate, pageSize: String(pageSize), pageNumber: String(pageNumber) })
  body.set('key', paxumLegacyKey([settings.sharedSecret, fromDate, toDate, String(pageSize), String(pageNumber)]))
  return body
}

/* ---------- XML reply (flat elements; workerd has no DOMParser) ---------- */

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] ?? '')
}

/** Text of the first `<name>` element; the doc's samples write closing tags as `</Name >`. */
export function xmlText(xml: string, name: string): string | null {
  const match = new RegExp(`<${name}\\s*>([\\s\\S]*?)</${name}\\s*>`).exec(xml)
  return match?.[1] === undefined ? null : decodeXml(match[1].trim())
}

interface HistoryRow {
  transactionId: string
  reference: string | null
}

function historyRows(xml: string): HistoryRow[] {
  const rows: HistoryRow[] = []
  for (const match of xml.matchAll(/<Transaction\s*>([\s\S]*?)<\/Transaction\s*>/g)) {
    const inner = match[1] ?? ''
    const transactionId = xmlText(inner, 'TransactionId')
    if (transactionId !== null) rows.push({ transactionId, reference: xmlText(inner, 'Reference') })
  }
  return rows
}

/* ---------- transport helpers ---------- */

type Sent = { ok: true; response: HttpResponse } | { ok: false; outcome: PayoutOutcome }

async function post(settings: PaxumSettings, body: URLSearchParams, transport: Transport): Promise<Sent> {
  let response: HttpResponse
  try {
    response = await transport({
      method: 'POST',
      url: settings.endpoint ?? PAXUM_LEGACY_ENDPOINT,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    })
  } catch (error) {
    return { ok: false, outcome: { status: 'retryable', code: 'TIMEOUT', reason: `Paxum did not answer: ${error instanceof Error ? error.message : String(error)}` } }
  }
  if (response.status < 200 || response.status > 299) {
    const reason = `Paxum answered HTTP ${response.status}`
    if (isTransientStatus(response.status)) {
      const retryAfter = Number(response.headers['retry-after'])
      return { ok: false, outcome: { status: 'retryable', code: `HTTP_${response.status}`, reason, ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}) } }
    }
    return { ok: false, outcome: { status: 'declined', code: `HTTP_${response.status}`, reason } }
  }
  return { ok: true, response }
}

/** A reply whose ResponseCode is not `00`. Paxum publishes no list of transient codes, so every one is a decline (unverified). */
function declinedReply(xml: string): PayoutOutcome {
  const code = xmlText(xml, 'ResponseCode') ?? 'NO_RESPONSE_CODE'
  return { status: 'declined', code: `PAXUM_${code}`, reason: xmlText(xml, 'ResponseDescription') ?? 'Paxum declined the request' }
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10)
}

type Lookup = { found: { transactionId: string } } | { notFound: { complete: boolean } } | { failed: PayoutOutcome }

/** Searches the transaction history for a transfer carrying `reference`. */
async function findByReference(settings: PaxumSettings, reference: string, transport: Transport): Promise<Lookup> {
  const now = (settings.now ?? (() => new Date()))()
  const toDate = isoDate(new Date(now.getTime() + 86_400_000)) // tomorrow: a transfer made just now in another time zone is not missed
  const fromDate = isoDate(new Date(now.getTime() - (settings.lookbackDays ?? 30) * 86_400_000))
  const pageSize = 100
  for (let page = 1; page <= (settings.historyPages ?? 5); page++) {
    const sent = await post(settings, transactionHistoryBody(settings, fromDate, toDate, page, pageSize), transport)
    if (!sent.ok) return { failed: sent.outcome }
    const xml = sent.response.body
    if (xmlText(xml, 'ResponseCode') !== '00') return { failed: declinedReply(xml) }
    const rows = historyRows(xml)
    const hit = rows.find((row) => row.reference === reference)
    if (hit) return { found: { transactionId: hit.transactionId } }
    const total = Number(xmlText(xml, 'Results'))
    if (rows.length < pageSize || (Number.isFinite(total) && page * pageSize >= total)) return { notFound: { complete: true } }
  }
  return { notFound: { complete: false } }
}

function feeMinor(xml: string, currency: string): number | undefined {
  const fee = xmlText(xml, 'Fee')
  if (fee === null) return undefined
  return minorFromDecimal(fee, currency) ?? undefined
}

/** The Paxum adapter (legacy `transferFunds`), paying to method type `paxum`. */
export const paxum: PayoutProcessor<PaxumSettings> = {
  id: 'paxum',
  methods: ['paxum'],

  async submit(settings: PaxumSettings, request: PayoutRequest, transport: Transport): Promise<PayoutOutcome> {
    if (request.method.type !== 'paxum') return { status: 'declined', code: 'METHOD_NOT_SUPPORTED', reason: `Paxum cannot pay to a ${request.method.type} method` }
    const currency = request.amount.currency.toUpperCase()
    if (CURRENCY_EXPONENTS[currency] === undefined) return { status: 'declined', code: 'CURRENCY_NOT_SUPPORTED', reason: `unknown currency ${request.amount.currency}` }
    if (!Number.isSafeInteger(request.amount.minor) || request.amount.minor <= 0) return { status: 'declined', code: 'INVALID_AMOUNT', reason: 'amount must be a positive integer of minor units' }

    // our own dedup (Paxum documents none): a transfer with this reference already exists -> it is this payout
    const lookup = await findByReference(settings, request.idempotencyKey, transport)
    if ('failed' in lookup) return lookup.failed
    if ('found' in lookup) return { status: 'settled', processorRef: lookup.found.transactionId }
    if (!lookup.notFound.complete) {
      // the history window holds more transactions than we read: paying now could pay twice
      return { status: 'declined', code: 'DEDUP_UNCONFIRMED', reason: 'could not rule out an earlier transfer with this reference; reconcile by hand' }
    }

    const body = transferFundsBody(settings.sharedSecret, {
      fromEmail: settings.fromEmail,
      toEmail: request.method.email,
      amount: decimalFromMinor(request.amount.minor, currency),
      currency,
      note: request.description,
      reference: request.idempotencyKey,
    })
    const sent = await post(settings, body, transport)
    if (!sent.ok) return sent.outcome
    const xml = sent.response.body
    if (xmlText(xml, 'ResponseCode') !== '00') return declinedReply(xml)
    // TransactionId is documented in the replies of the other transfer methods (withdrawFundsToCard,
    // addFundsFromBankAccount); that transferFunds returns it too is assumed. Fall back to our reference.
    const fee = feeMinor(xml, currency)
    // a Paxum-to-Paxum transfer is booked at once ("Approved or Completed Successfully")
    return { status: 'settled', processorRef: xmlText(xml, 'TransactionId') ?? request.idempotencyKey, ...(fee === undefined ? {} : { feeMinor: fee }) }
  },

  async status(settings: PaxumSettings, request: PayoutRequest, _processorRef: string | null, transport: Transport): Promise<PayoutOutcome> {
    const lookup = await findByReference(settings, request.idempotencyKey, transport)
    if ('failed' in lookup) return lookup.failed
    if ('found' in lookup) return { status: 'settled', processorRef: lookup.found.transactionId }
    if (!lookup.notFound.complete) return { status: 'retryable', code: 'HISTORY_INCOMPLETE', reason: 'the transfer was not in the pages of history read' }
    // transfers are synchronous: none with this reference in the window means none was made
    return { status: 'declined', code: 'NOT_FOUND', reason: 'no Paxum transfer carries this reference; nothing was paid' }
  },
}
