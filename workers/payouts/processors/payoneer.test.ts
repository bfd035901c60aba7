import { describe, expect, it } from 'vitest'
import { mapPayoneerStatus, payoneer, type PayoneerSettings, type PayoneerToken } from './payoneer'
import type { HttpRequest, HttpResponse, PayoutRequest, Transport } from './types'

const base = (over: Partial<PayoneerSettings> = {}): PayoneerSettings => ({
  programId: '100086190',
  clientId: 'client-1',
  clientSecret: 's3cret',
  apiBase: 'https://api.sandbox.payoneer.com/v4',
  tokenUrl: 'https://login.sandbox.payoneer.com/api/v2/oauth2/token',
  ...over,
})

const request = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({
  payoutId: 'po_01',
  idempotencyKey: 'po_key_1',
  amount: { minor: 123456, currency: 'USD' },
  method: { type: 'payoneer', payeeId: 'creator-42' },
  description: 'FANZ payout May 2026',
  ...over,
})

type Mode = 'ok' | 'http503' | 'http429' | 'unknownPayee' | 'timeoutAfterCommit' | 'timeoutBeforeCommit'

/**
 * A fake of Payoneer's v4 API as described by payouts.md §4 and the public client payoneer-rb
 * (shapes unverified against Payoneer's own docs): client-credentials token endpoint, mass payouts
 * that refuse a repeated client_reference_id, and per-payout status by client_reference_id.
 */
function fakePayoneer(modes: Mode[] = []) {
  const requests: HttpRequest[] = []
  const payouts = new Map<string, { payee: string; amount: number; currency: string; status: string; reason_code?: string }>()
  const issued: string[] = []
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const transport: Transport = async (req) => {
    requests.push(req)
    const url = new URL(req.url)
    if (url.pathname === '/api/v2/oauth2/token') {
      const form = new URLSearchParams(req.body)
      if (req.headers.authorization !== `Basic ${btoa('client-1:s3cret')}` || form.get('grant_type') !== 'client_credentials') return reply(401, { error: 'invalid_client', error_description: 'Client authentication failed' })
      const token = `tok-${issued.length + 1}`
      issued.push(token)
      return reply(200, { access_token: token, token_type: 'bearer', expires_in: 2592000, scope: 'read write' })
    }
    const bearer = req.headers.authorization?.replace(/^Bearer /, '') ?? ''
    if (!issued.includes(bearer)) return reply(401, { error: 'Unauthorized', error_description: 'invalid access token' })
    const masspayouts = /^\/v4\/programs\/([^/]+)\/masspayouts$/.exec(url.pathname)
    if (masspayouts && req.method === 'POST') {
      const mode = modes.shift() ?? 'ok'
      if (mode === 'http503') return reply(503, { error: 'Service Unavailable' })
      if (mode === 'http429') return reply(429, { error: 'Too Many Requests' }, { 'retry-after': '2' })
      if (mode === 'timeoutBeforeCommit') throw new Error('The operation was aborted due to timeout')
      const payment = (JSON.parse(req.body ?? '{}') as { Payments: { client_reference_id: string; payee_id: string; amount: number; currency: string }[] }).Payments[0]!
      if (payouts.has(payment.client_reference_id)) return reply(400, { error: 'Bad Request', error_description: 'Payment ID already exists' })
      if (mode === 'unknownPayee') return reply(400, { error: 'Bad Request', error_description: 'Payee does not exist', error_details: { code: 10005 } })
      payouts.set(payment.client_reference_id, { payee: payment.payee_id, amount: payment.amount, currency: payment.currency, status: 'Pending' })
      if (mode === 'timeoutAfterCommit') throw new Error('The operation was aborted due to timeout')
      return reply(200, { result: 'Payments Created' })
    }
    const status = /^\/v4\/programs\/([^/]+)\/payouts\/([^/]+)\/status$/.exec(url.pathname)
    if (status && req.method === 'GET') {
      const payout = payouts.get(decodeURIComponent(status[2]!))
      if (!payout) return reply(404, { error: 'Not Found', error_description: 'Payout not found' })
      return reply(200, { result: { status: payout.status, ...(payout.reason_code ? { reason_code: payout.reason_code } : {}) } })
    }
    return reply(404, { error: 'Not Found' })
  }
  return { transport, requests, payouts, issued }
}

const posts = (requests: HttpRequest[]) => requests.filter((r) => r.url.endsWith('/masspayouts'))

describe('payoneer.submit', () => {
  it('fetches a client-credentials token through the transport, then posts one mass payout with our key as client_reference_id', async () => {
    const fake = fakePayoneer()
    expect(await payoneer.submit(base(), request(), fake.transport)).toEqual({ status: 'submitted', processorRef: 'po_key_1' })

    const [token, post] = fake.requests as [HttpRequest, HttpRequest]
    expect(token).toEqual({
      method: 'POST',
      url: 'https://login.sandbox.payoneer.com/api/v2/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa('client-1:s3cret')}` },
      body: 'grant_type=client_credentials&scope=read+write',
    })
    expect(post).toMatchObject({
      method: 'POST',
      url: 'https://api.sandbox.payoneer.com/v4/programs/100086190/masspayouts',
      headers: { authorization: 'Bearer tok-1', 'content-type': 'application/json', accept: 'application/json' },
    })
    expect(post.body).toBe('{"Payments":[{"client_reference_id":"po_key_1","payee_id":"creator-42","amount":1234.56,"currency":"USD","description":"FANZ payout May 2026"}]}')
  })

  it('reuses a cached token until it expires', async () => {
    const fake = fakePayoneer()
    const tokenCache = new Map<string, PayoneerToken>()
    await payoneer.submit(base({ tokenCache }), request(), fake.transport)
    await payoneer.submit(base({ tokenCache }), request({ idempotencyKey: 'po_key_2' }), fake.transport)
    expect(fake.issued).toEqual(['tok-1'])
    expect(posts(fake.requests).map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1'])
  })

  it('a rejected cached token is dropped and the attempt is retryable', async () => {
    const fake = fakePayoneer()
    const tokenCache = new Map<string, PayoneerToken>([['https://login.sandbox.payoneer.com/api/v2/oauth2/token client-1', { accessToken: 'stale', expiresAtMs: Date.now() + 60_000 }]])
    expect(await payoneer.submit(base({ tokenCache }), request(), fake.transport)).toMatchObject({ status: 'retryable', code: 'PAYONEER_TOKEN_REJECTED' })
    expect(tokenCache.size).toBe(0)
    expect(await payoneer.submit(base({ tokenCache }), request(), fake.transport)).toMatchObject({ status: 'submitted' })
  })

  it('bad client credentials are declined (configuration), not retried', async () => {
    const fake = fakePayoneer()
    expect(await payoneer.submit(base({ clientSecret: 'wrong' }), request(), fake.transport)).toEqual({ status: 'declined', code: 'PAYONEER_AUTH_FAILED', reason: 'Client authentication failed' })
    expect(posts(fake.requests)).toHaveLength(0)
  })

  it('maps a business error to declined', async () => {
    const fake = fakePayoneer(['unknownPayee'])
    expect(await payoneer.submit(base(), request(), fake.transport)).toEqual({ status: 'declined', code: 'PAYONEER_10005', reason: 'Payee does not exist' })
  })

  it('maps 503, 429 (Retry-After) and a timeout to retryable', async () => {
    expect(await payoneer.submit(base(), request(), fakePayoneer(['http503']).transport)).toMatchObject({ status: 'retryable', code: 'HTTP_503' })
    expect(await payoneer.submit(base(), request(), fakePayoneer(['http429']).transport)).toMatchObject({ status: 'retryable', code: 'HTTP_429', retryAfterMs: 2000 })
    expect(await payoneer.submit(base(), request(), fakePayoneer(['timeoutBeforeCommit']).transport)).toMatchObject({ status: 'retryable', code: 'TIMEOUT' })
  })

  it('a resubmit after a timeout sends the same client_reference_id; the duplicate refusal turns into that payout’s status', async () => {
    const fake = fakePayoneer(['timeoutAfterCommit'])
    expect(await payoneer.submit(base(), request(), fake.transport)).toMatchObject({ status: 'retryable', code: 'TIMEOUT' })
    expect(await payoneer.submit(base(), request(), fake.transport)).toEqual({ status: 'submitted', processorRef: 'po_key_1' })

    expect(fake.payouts.size).toBe(1)
    const ids = posts(fake.requests).map((r) => (JSON.parse(r.body ?? '{}') as { Payments: { client_reference_id: string }[] }).Payments[0]!.client_reference_id)
    expect(ids).toEqual(['po_key_1', 'po_key_1'])
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', url: 'https://api.sandbox.payoneer.com/v4/programs/100086190/payouts/po_key_1/status' })
  })

  it('formats zero-decimal currencies from minor units', async () => {
    const fake = fakePayoneer()
    await payoneer.submit(base(), request({ amount: { minor: 5000, currency: 'JPY' } }), fake.transport)
    expect(fake.payouts.get('po_key_1')).toMatchObject({ amount: 5000, currency: 'JPY' })
  })
})

describe('payoneer.status', () => {
  it('asks by client_reference_id and maps Pending, Transferred, Cancelled and unknown ids', async () => {
    const fake = fakePayoneer()
    expect(await payoneer.status(base(), request(), null, fake.transport)).toMatchObject({ status: 'declined', code: 'NOT_FOUND' })
    await payoneer.submit(base(), request(), fake.transport)
    expect(await payoneer.status(base(), request(), 'po_key_1', fake.transport)).toEqual({ status: 'submitted', processorRef: 'po_key_1' })
    fake.payouts.get('po_key_1')!.status = 'Transferred'
    expect(await payoneer.status(base(), request(), 'po_key_1', fake.transport)).toEqual({ status: 'settled', processorRef: 'po_key_1' })
    fake.payouts.get('po_key_1')!.status = 'Cancelled'
    expect(await payoneer.status(base(), request(), 'po_key_1', fake.transport)).toMatchObject({ status: 'declined', code: 'PAYONEER_CANCELLED' })
  })

  it('a reason code means rejected', () => {
    expect(mapPayoneerStatus({ status: 'Pending', reason_code: '1002', reason_description: 'Payee account blocked' }, 'k')).toEqual({ status: 'declined', code: 'PAYONEER_1002', reason: 'Payee account blocked' })
    expect(mapPayoneerStatus({ status: 'Pending Payee' }, 'k')).toEqual({ status: 'submitted', processorRef: 'k' })
  })
})
