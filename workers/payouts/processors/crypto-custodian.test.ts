import { importSPKI, jwtVerify, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import type { PayoutMethod } from '../methods/methods'
import { fireblocksProcessor, sha256Hex, transactionBody, type FireblocksSettings } from './crypto-custodian'
import type { HttpRequest, HttpResponse, PayoutRequest } from './types'

const pem = (label: string, der: ArrayBuffer) => `-----BEGIN ${label}-----\n${btoa(String.fromCharCode(...new Uint8Array(der))).replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`

async function keyPair() {
  const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
  return {
    privatePem: pem('PRIVATE KEY', (await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer),
    publicPem: pem('PUBLIC KEY', (await crypto.subtle.exportKey('spki', pair.publicKey)) as ArrayBuffer),
  }
}

const usdt: PayoutMethod = { type: 'crypto', asset: 'USDT', network: 'ethereum', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' }
const payout = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({ payoutId: 'po_01JABC', idempotencyKey: 'fanz-po_01JABC', amount: { minor: 12_345, currency: 'USD' }, method: usdt, description: 'FANZ payout po_01JABC', ...over })

/**
 * Answers like Fireblocks: checks the API key header and the RS256 JWT (uri, sub, bodyHash of the
 * exact body, 55 s lifetime) with the API user's public key; transactions unique per externalTxId
 * (a repeat is refused as already existing); lookup by external id.
 */
async function fakeFireblocks(publicPem: string, opts: { status?: string; failFirst?: HttpResponse | 'timeout' } = {}) {
  const publicKey = await importSPKI(publicPem, 'RS256')
  const requests: HttpRequest[] = []
  const byExternal = new Map<string, { id: string; externalTxId: string; status: string; body: Record<string, unknown> }>()
  let fail = opts.failFirst
  let seq = 0
  const json = (status: number, body: unknown): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req)
    const url = new URL(req.url)
    if (req.headers['x-api-key'] !== 'api-key-1') return json(401, { message: 'Unauthorized: API key', code: -7 })
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? ''
    try {
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'] })
      if (payload.uri !== url.pathname + url.search || payload.sub !== 'api-key-1' || payload.bodyHash !== sha256Hex(req.body ?? '') || payload.exp! - payload.iat! !== 55 || typeof payload.nonce !== 'string') {
        return json(401, { message: 'Unauthorized: JWT claims', code: -7 })
      }
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT' })
    } catch {
      return json(401, { message: 'Unauthorized: JWT signature', code: -7 })
    }
    if (req.method === 'POST' && url.pathname === '/v1/transactions') {
      const body = JSON.parse(req.body!) as Record<string, unknown>
      const ext = String(body.externalTxId)
      if (byExternal.has(ext)) return json(400, { message: 'A transaction with this externalTxId already exists', code: 1438 })
      const tx = { id: `fb-tx-${++seq}`, externalTxId: ext, status: opts.status ?? 'SUBMITTED', body }
      byExternal.set(ext, tx)
      if (fail) {
        const f = fail
        fail = undefined
        if (f === 'timeout') throw new Error('timed out after the transaction was created')
        return f
      }
      return json(200, { id: tx.id, status: tx.status })
    }
    const m = /^\/v1\/transactions\/external_tx_id\/(.+)$/.exec(url.pathname)
    if (req.method === 'GET' && m) {
      const tx = byExternal.get(decodeURIComponent(m[1]!))
      return tx ? json(200, { id: tx.id, externalTxId: tx.externalTxId, status: tx.status, subStatus: tx.status === 'FAILED' ? 'INSUFFICIENT_FUNDS' : '' }) : json(404, { message: 'Transaction not found', code: 1006 })
    }
    return json(404, { message: 'no route' })
  }
  return { transport, requests, byExternal, setStatus: (ext: string, status: string) => (byExternal.get(ext)!.status = status) }
}

describe('Fireblocks custodian adapter', () => {
  it('creates a one-time-address transfer signed with an RS256 JWT over the exact body; externalTxId = our key', async () => {
    const { privatePem, publicPem } = await keyPair()
    const settings: FireblocksSettings = { apiKey: 'api-key-1', privateKeyPem: privatePem, vaultAccountId: '7', environment: 'sandbox' }
    const fb = await fakeFireblocks(publicPem)
    const outcome = await fireblocksProcessor.submit(settings, payout(), fb.transport)
    expect(outcome).toEqual({ status: 'submitted', processorRef: 'fb-tx-1' })
    const sent = fb.requests[0]!
    expect(sent.url).toBe('https://sandbox-api.fireblocks.io/v1/transactions')
    expect(sent.headers['idempotency-key']).toBe('fanz-po_01JABC')
    expect(JSON.parse(sent.body!)).toEqual({
      operation: 'TRANSFER',
      assetId: 'USDT_ERC20',
      amount: '123.45',
      source: { type: 'VAULT_ACCOUNT', id: '7' },
      destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' } },
      externalTxId: 'fanz-po_01JABC',
      note: 'FANZ payout po_01JABC',
    })

    // status by external id: confirming -> submitted, then COMPLETED -> settled
    fb.setStatus('fanz-po_01JABC', 'CONFIRMING')
    expect(await fireblocksProcessor.status(settings, payout(), 'fb-tx-1', fb.transport)).toEqual({ status: 'submitted', processorRef: 'fb-tx-1' })
    fb.setStatus('fanz-po_01JABC', 'COMPLETED')
    expect(await fireblocksProcessor.status(settings, payout(), 'fb-tx-1', fb.transport)).toEqual({ status: 'settled', processorRef: 'fb-tx-1' })
    expect(fb.requests.at(-1)!.url).toBe('https://sandbox-api.fireblocks.io/v1/transactions/external_tx_id/fanz-po_01JABC')
  })

  it('a retry after a lost answer finds the first transaction instead of creating a second', async () => {
    const { privatePem, publicPem } = await keyPair()
    const settings: FireblocksSettings = { apiKey: 'api-key-1', privateKeyPem: privatePem, vaultAccountId: '7', environment: 'live' }
    const fb = await fakeFireblocks(publicPem, { failFirst: 'timeout' })
    expect(await fireblocksProcessor.submit(settings, payout(), fb.transport)).toMatchObject({ status: 'retryable', code: 'FIREBLOCKS_TIMEOUT' })
    expect(await fireblocksProcessor.submit(settings, payout(), fb.transport)).toEqual({ status: 'submitted', processorRef: 'fb-tx-1' })
    expect(fb.byExternal.size).toBe(1)
  })

  it('maps 5xx and 429 to retryable with Retry-After, failures to declined, and refuses what it cannot pay', async () => {
    const { privatePem, publicPem } = await keyPair()
    const settings: FireblocksSettings = { apiKey: 'api-key-1', privateKeyPem: privatePem, vaultAccountId: '7', environment: 'live' }
    const busy = await fakeFireblocks(publicPem, { failFirst: { status: 429, headers: { 'retry-after': '20' }, body: '{"message":"Too many requests"}' } })
    expect(await fireblocksProcessor.submit(settings, payout(), busy.transport)).toEqual({ status: 'retryable', code: 'FIREBLOCKS_HTTP_429', reason: 'Fireblocks answered HTTP 429', retryAfterMs: 20_000 })

    const failing = await fakeFireblocks(publicPem, { status: 'FAILED' })
    expect(await fireblocksProcessor.submit(settings, payout(), failing.transport)).toMatchObject({ status: 'declined', code: 'FIREBLOCKS_FAILED' })
    expect(await fireblocksProcessor.status(settings, payout(), null, failing.transport)).toMatchObject({ status: 'declined', code: 'FIREBLOCKS_FAILED_INSUFFICIENT_FUNDS' })
    expect(await fireblocksProcessor.status(settings, payout({ idempotencyKey: 'never-sent' }), null, failing.transport)).toMatchObject({ status: 'retryable', code: 'FIREBLOCKS_NOT_FOUND' })

    const wrongKey = await fakeFireblocks((await keyPair()).publicPem)
    expect(await fireblocksProcessor.submit(settings, payout(), wrongKey.transport)).toMatchObject({ status: 'declined', code: 'FIREBLOCKS_AUTH_401' })

    const btc: PayoutMethod = { type: 'crypto', asset: 'BTC', network: 'bitcoin', address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' }
    expect(transactionBody(settings, payout({ method: btc }), btc as Extract<PayoutMethod, { type: 'crypto' }>)).toMatchObject({ ok: false, outcome: { status: 'declined', code: 'FIREBLOCKS_CONVERSION_UNSUPPORTED' } })
    expect(await fireblocksProcessor.submit(settings, payout({ method: { type: 'paxum', email: 'a@b.example' } }), busy.transport)).toMatchObject({ status: 'declined', code: 'FIREBLOCKS_METHOD_UNSUPPORTED' })
    expect(await fireblocksProcessor.submit({ ...settings, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, payout(), busy.transport)).toMatchObject({ status: 'declined', code: 'FIREBLOCKS_KEY_INVALID' })
  })
})
