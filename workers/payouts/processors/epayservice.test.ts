import { describe, expect, it } from 'vitest'
import type { PayoutMethod } from '../methods/methods'
import { epayDetails, epayserviceProcessor, type EpayserviceSettings } from './epayservice'
import type { HttpRequest, HttpResponse, PayoutRequest } from './types'

const settings: EpayserviceSettings = { apiToken: 'tok-partner', wallets: { USD: 'W100200300', EUR: 'W100200301' } }
const BASE = 'https://online.epayservices.com/partners_api/v2'
const toWallet: PayoutMethod = { type: 'epayservice', accountId: 'E-123456' }
const payout = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({ payoutId: 'po_01JEPS', idempotencyKey: 'fanz-po_01JEPS', amount: { minor: 250_075, currency: 'USD' }, method: toWallet, description: 'FANZ payout po_01JEPS for November', ...over })

/** Answers like the Partners API as this adapter understands it: Bearer token, reference_id unique, lookup by reference. */
function fakeEpay(opts: { status?: string; failFirst?: HttpResponse | 'timeout' } = {}) {
  const requests: HttpRequest[] = []
  const byRef = new Map<string, { id: number; reference_id: string; status: string; amount: string; fee: string }>()
  let fail = opts.failFirst
  let seq = 0
  const json = (status: number, body: unknown): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req)
    if (req.headers.authorization !== 'Bearer tok-partner') return json(401, { message: 'Unauthenticated' })
    const path = req.url.slice(BASE.length)
    if (req.method === 'POST' && path === '/transfers/internal') {
      const body = JSON.parse(req.body!) as Record<string, string>
      if (body.details!.length < 5 || body.details!.length > 32) return json(422, { message: 'details must be 5-32 characters' })
      if (byRef.has(body.reference_id!)) return json(422, { message: 'The reference id has already been taken.' })
      const t = { id: 9000 + ++seq, reference_id: body.reference_id!, status: opts.status ?? 'processing', amount: body.amount!, fee: '1.25' }
      byRef.set(t.reference_id, t)
      if (fail) {
        const f = fail
        fail = undefined
        if (f === 'timeout') throw new Error('socket hang up')
        return f
      }
      return json(201, { data: t })
    }
    const m = /^\/transfers\/(.+)$/.exec(path)
    if (req.method === 'GET' && m) {
      const t = byRef.get(decodeURIComponent(m[1]!))
      return t ? json(200, { data: t }) : json(404, { message: 'Not found' })
    }
    return json(404, { message: 'no route' })
  }
  return { transport, requests, byRef }
}

describe('ePayService adapter', () => {
  it('sends a wallet transfer from our USD wallet with reference_id = our key, Bearer auth', async () => {
    const fake = fakeEpay()
    expect(await epayserviceProcessor.submit(settings, payout(), fake.transport)).toEqual({ status: 'submitted', processorRef: '9001', feeMinor: 125 })
    const sent = fake.requests[0]!
    expect(sent.url).toBe(`${BASE}/transfers/internal`)
    expect(JSON.parse(sent.body!)).toEqual({ reference_id: 'fanz-po_01JEPS', account_number: 'W100200300', amount: '2500.75', currency: 'USD', details: 'FANZ payout po_01JEPS for Novemb', beneficiary_account_number: 'E-123456' })
    expect(epayDetails('FANZ')).toBe('FANZ.')
  })

  it('a resubmit after a lost answer reads the first transfer by its reference; never two', async () => {
    const fake = fakeEpay({ failFirst: 'timeout' })
    expect(await epayserviceProcessor.submit(settings, payout(), fake.transport)).toMatchObject({ status: 'retryable', code: 'EPAYSERVICE_TIMEOUT' })
    expect(await epayserviceProcessor.submit(settings, payout(), fake.transport)).toEqual({ status: 'submitted', processorRef: '9001', feeMinor: 125 })
    expect(fake.byRef.size).toBe(1)
    fake.byRef.get('fanz-po_01JEPS')!.status = 'completed'
    expect(await epayserviceProcessor.status(settings, payout(), '9001', fake.transport)).toEqual({ status: 'settled', processorRef: '9001', feeMinor: 125 })
  })

  it('transient answers retry (with Retry-After), business answers decline, no wallet in the currency declines', async () => {
    const busy = fakeEpay({ failFirst: { status: 503, headers: { 'retry-after': '12' }, body: '{}' } })
    expect(await epayserviceProcessor.submit(settings, payout(), busy.transport)).toMatchObject({ status: 'retryable', code: 'EPAYSERVICE_HTTP_503', retryAfterMs: 12_000 })
    const refused = fakeEpay({ status: 'declined' })
    expect(await epayserviceProcessor.submit(settings, payout(), refused.transport)).toMatchObject({ status: 'declined', code: 'EPAYSERVICE_DECLINED' })
    expect(await epayserviceProcessor.submit(settings, payout({ amount: { minor: 100, currency: 'GBP' } }), refused.transport)).toMatchObject({ status: 'declined', code: 'EPAYSERVICE_NO_WALLET' })
    expect(await epayserviceProcessor.submit({ ...settings, apiToken: 'wrong' }, payout(), refused.transport)).toMatchObject({ status: 'declined', code: 'EPAYSERVICE_AUTH_401' })
    expect(await epayserviceProcessor.status(settings, payout({ idempotencyKey: 'never' }), null, refused.transport)).toMatchObject({ status: 'retryable', code: 'EPAYSERVICE_NOT_FOUND' })
  })
})
