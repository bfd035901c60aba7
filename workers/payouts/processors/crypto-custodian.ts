/**
 * Crypto payouts through a custodian: Fireblocks, paying method type `crypto` from one of our vault
 * accounts to the creator's address as a one-time address.
 *
 * Wire format [developers.fireblocks.com "Create Transactions", "API reference: Create a new
 * transaction", TransactionResponse in fireblocks/ts-sdk docs]:
 * - `POST /v1/transactions` {operation: TRANSFER, assetId, amount (decimal string in the asset's
 *   unit), source {type: VAULT_ACCOUNT, id}, destination {type: ONE_TIME_ADDRESS, oneTimeAddress
 *   {address}}, externalTxId, note} -> `{id, status}`.
 * - `GET /v1/transactions/external_tx_id/{externalTxId}` -> the transaction (`status`, `subStatus`,
 *   `txHash`, `networkFee`...).
 * - Every request carries `X-API-Key: <api key>` and `Authorization: Bearer <JWT>`, the JWT signed
 *   RS256 with the API user's private key over `{uri (path + query), nonce, iat, exp, sub: api key,
 *   bodyHash: hex SHA-256 of the exact body sent}`; `exp` 55 s after `iat` as Fireblocks' own SDKs
 *   do. Public clients disagree on the hash of an empty GET body (`""` in some, the hash of the
 *   JSON text `""` in others): this adapter hashes exactly the bytes it sends (none for GET),
 *   unverified against the live API.
 *
 * Idempotency: our payout's idempotency key is the `externalTxId` on every attempt (Fireblocks
 * refuses a second transaction with the same one: "Fireblocks highly recommends setting an
 * externalTxId for every transaction created, to avoid submitting the same transaction twice"), and
 * also the `Idempotency-Key` header. When a resubmit is refused as a duplicate, the adapter reads the
 * first transaction by external id and reports it. The refusal's exact status/body is UNVERIFIED
 * (any 4xx whose message names externalTxId is treated as "already exists").
 *
 * Statuses: COMPLETED -> settled; FAILED, REJECTED, BLOCKED, CANCELLED, TIMEOUT -> declined (with
 * subStatus); everything else (SUBMITTED, PENDING_*, QUEUED, BROADCASTING, CONFIRMING, ...) ->
 * submitted, polled until final. Fireblocks asset ids below are UNVERIFIED for the Tron tokens and
 * can be overridden in settings.
 *
 * Amounts: the ledger holds fiat. Stablecoins (USDT, USDC) are paid 1:1 from USD; BTC and ETH
 * would need an exchange quote at payment time, which is not built, so such payouts are declined
 * with a reason rather than paid at a made-up rate.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { importPKCS8, SignJWT } from 'jose'
import { decimalFromMinor } from '../../payments/bank/money-text'
import type { PayoutMethod } from '../methods/methods'
import { isTransientStatus, type HttpRequest, type HttpResponse, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'

export const FIREBLOCKS_BASE_URL = { live: 'https://api.fireblocks.io', sandbox: 'https://sandbox-api.fireblocks.io' } as const

export interface FireblocksSettings {
  apiKey: string
  /** the API user's RSA private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) */
  privateKeyPem: string
  /** the vault account the payouts are paid from */
  vaultAccountId: string
  environment: 'live' | 'sandbox'
  /** overrides of `asset:network` -> Fireblocks asset id */
  assetIds?: Record<string, string>
  /** clock (epoch ms), injectable for tests */
  now?: () => number
  /** JWT nonce source, injectable for tests */
  nonce?: () => string
}

type CryptoMethod = Extract<PayoutMethod, { type: 'crypto' }>

/** `asset:network` -> Fireblocks asset id (mainnet). USDT on Tron: UNVERIFIED id. */
export const FIREBLOCKS_ASSET_IDS: Readonly<Record<string, string>> = {
  'BTC:bitcoin': 'BTC',
  'ETH:ethereum': 'ETH',
  'USDT:ethereum': 'USDT_ERC20',
  'USDC:ethereum': 'USDC',
  'USDT:tron': 'TRX_USDT_S2UX',
}

/** Stablecoins paid 1:1 from this fiat currency. */
const STABLE_FROM: Readonly<Record<string, string>> = { USDT: 'USD', USDC: 'USD' }

const FINAL_FAILED = new Set(['FAILED', 'REJECTED', 'BLOCKED', 'CANCELLED', 'TIMEOUT'])

export const sha256Hex = (text: string) => bytesToHex(sha256(new TextEncoder().encode(text)))

/**
 * The request JWT: RS256 over {uri, nonce, iat, exp, sub, bodyHash}.
 * @param uri path and query, e.g. `/v1/transactions`
 * @param body the exact body sent ('' for none)
 */
export async function fireblocksJwt(settings: FireblocksSettings, uri: string, body: string): Promise<string> {
  const key = await importPKCS8(settings.privateKeyPem, 'RS256')
  const iat = Math.floor((settings.now ?? Date.now)() / 1000)
  return new SignJWT({ uri, nonce: (settings.nonce ?? (() => crypto.randomUUID()))(), bodyHash: sha256Hex(body) })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setSubject(settings.apiKey)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 55)
    .sign(key)
}

export interface FireblocksTransaction {
  id: string
  externalTxId?: string
  status: string
  subStatus?: string
  txHash?: string
}

type Sent = { ok: true; response: HttpResponse; body: Record<string, unknown> } | { ok: false; outcome: PayoutOutcome }

function parse(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

async function call(settings: FireblocksSettings, transport: Transport, method: 'GET' | 'POST', path: string, payload: unknown, idempotencyKey?: string): Promise<Sent> {
  const body = payload === undefined ? '' : JSON.stringify(payload)
  let jwt: string
  try {
    jwt = await fireblocksJwt(settings, path, body)
  } catch (error) {
    // a key that does not import is configuration, not a creator's problem: decline loudly
    return { ok: false, outcome: { status: 'declined', code: 'FIREBLOCKS_KEY_INVALID', reason: `the API private key could not be used: ${error instanceof Error ? error.message : String(error)}` } }
  }
  const headers: Record<string, string> = { 'x-api-key': settings.apiKey, authorization: `Bearer ${jwt}`, accept: 'application/json' }
  if (body) headers['content-type'] = 'application/json'
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey
  const request: HttpRequest = { method, url: `${FIREBLOCKS_BASE_URL[settings.environment]}${path}`, headers, ...(body ? { body } : {}) }
  let response: HttpResponse
  try {
    response = await transport(request)
  } catch (error) {
    return { ok: false, outcome: { status: 'retryable', code: 'FIREBLOCKS_TIMEOUT', reason: `Fireblocks did not answer: ${error instanceof Error ? error.message : String(error)}` } }
  }
  if (isTransientStatus(response.status)) {
    const after = response.headers['retry-after']
    const seconds = after === undefined ? NaN : Number(after)
    return { ok: false, outcome: { status: 'retryable', code: `FIREBLOCKS_HTTP_${response.status}`, reason: `Fireblocks answered HTTP ${response.status}`, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) } }
  }
  return { ok: true, response, body: parse(response.body) }
}

/** A Fireblocks transaction as our outcome. */
export function outcomeOf(tx: FireblocksTransaction): PayoutOutcome {
  if (tx.status === 'COMPLETED') return { status: 'settled', processorRef: tx.id }
  if (FINAL_FAILED.has(tx.status)) return { status: 'declined', code: `FIREBLOCKS_${tx.status}${tx.subStatus ? `_${tx.subStatus}` : ''}`, reason: `Fireblocks transaction ${tx.id} is ${tx.status}${tx.subStatus ? ` (${tx.subStatus})` : ''}` }
  return { status: 'submitted', processorRef: tx.id }
}

const isTransaction = (b: Record<string, unknown>): boolean => typeof b.id === 'string' && typeof b.status === 'string'

/** Looks the transaction up by our idempotency key. */
export async function transactionByExternalId(settings: FireblocksSettings, externalTxId: string, transport: Transport): Promise<PayoutOutcome> {
  const sent = await call(settings, transport, 'GET', `/v1/transactions/external_tx_id/${encodeURIComponent(externalTxId)}`, undefined)
  if (!sent.ok) return sent.outcome
  if (sent.response.status === 404) return { status: 'retryable', code: 'FIREBLOCKS_NOT_FOUND', reason: `Fireblocks has no transaction with externalTxId ${externalTxId}: it was not created; resubmitting with the same id is safe` }
  if (sent.response.status !== 200 || !isTransaction(sent.body)) return { status: 'retryable', code: `FIREBLOCKS_LOOKUP_HTTP_${sent.response.status}`, reason: String(sent.body.message ?? 'unexpected answer to the status lookup') }
  return outcomeOf(sent.body as unknown as FireblocksTransaction)
}

/** The create-transaction body for a payout (exported for tests and dry runs). */
export function transactionBody(settings: FireblocksSettings, request: PayoutRequest, method: CryptoMethod): { ok: true; body: Record<string, unknown> } | { ok: false; outcome: PayoutOutcome } {
  const assetKey = `${method.asset}:${method.network}`
  const assetId = settings.assetIds?.[assetKey] ?? FIREBLOCKS_ASSET_IDS[assetKey]
  if (!assetId) return { ok: false, outcome: { status: 'declined', code: 'FIREBLOCKS_ASSET_UNSUPPORTED', reason: `no Fireblocks asset for ${method.asset} on ${method.network}` } }
  const from = STABLE_FROM[method.asset]
  if (from !== request.amount.currency) {
    return { ok: false, outcome: { status: 'declined', code: 'FIREBLOCKS_CONVERSION_UNSUPPORTED', reason: `${method.asset} payouts of a ${request.amount.currency} balance need an exchange quote (not offered): choose USDT or USDC for ${request.amount.currency}` } }
  }
  if (!Number.isSafeInteger(request.amount.minor) || request.amount.minor <= 0) return { ok: false, outcome: { status: 'declined', code: 'FIREBLOCKS_AMOUNT_INVALID', reason: 'amount must be a positive integer of minor units' } }
  return {
    ok: true,
    body: {
      operation: 'TRANSFER',
      assetId,
      amount: decimalFromMinor(request.amount.minor, request.amount.currency),
      source: { type: 'VAULT_ACCOUNT', id: settings.vaultAccountId },
      destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: method.address } },
      externalTxId: request.idempotencyKey,
      note: request.description.slice(0, 200),
    },
  }
}

const mentionsDuplicate = (b: Record<string, unknown>) => /externalTxId|external tx id|already exists/i.test(String(b.message ?? ''))

export const fireblocksProcessor: PayoutProcessor<FireblocksSettings> = {
  id: 'crypto_custodian',
  methods: ['crypto'],

  async submit(settings, request, transport) {
    const method = request.method
    if (method.type !== 'crypto') return { status: 'declined', code: 'FIREBLOCKS_METHOD_UNSUPPORTED', reason: `the custodian does not pay to ${method.type}` }
    const built = transactionBody(settings, request, method)
    if (!built.ok) return built.outcome
    const sent = await call(settings, transport, 'POST', '/v1/transactions', built.body, request.idempotencyKey)
    if (!sent.ok) return sent.outcome
    const { response, body } = sent
    if (response.status >= 200 && response.status < 300 && isTransaction(body)) return outcomeOf(body as unknown as FireblocksTransaction)
    // a repeated externalTxId: the first attempt created it (its answer was lost); report that one
    if (response.status >= 400 && response.status < 500 && mentionsDuplicate(body)) return transactionByExternalId(settings, request.idempotencyKey, transport)
    if (response.status === 401 || response.status === 403) return { status: 'declined', code: `FIREBLOCKS_AUTH_${response.status}`, reason: String(body.message ?? 'Fireblocks refused our credentials') }
    return { status: 'declined', code: `FIREBLOCKS_${body.code ?? `HTTP_${response.status}`}`, reason: String(body.message ?? `Fireblocks answered HTTP ${response.status}`) }
  },

  status(settings, request, _processorRef, transport) {
    return transactionByExternalId(settings, request.idempotencyKey, transport)
  },
}
