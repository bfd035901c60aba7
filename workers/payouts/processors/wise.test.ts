import { describe, expect, it } from 'vitest'
import type { PayoutMethod } from '../methods/methods'
import type { HttpRequest, HttpResponse, PayoutRequest, Transport } from './types'
import {
  addBatchTransfer,
  completeBatchGroup,
  createBatchGroup,
  customerTransactionId,
  minorToDecimal,
  recipientBody,
  wiseProcessor,
  type WiseSettings,
} from './wise'

const settings: WiseSettings = { apiToken: 'tok_test', profileId: 12345678, environment: 'sandbox' }
const BASE = 'https://api.wise-sandbox.com'

const gbpSortCode: PayoutMethod = { type: 'wise', currency: 'GBP', accountHolderName: 'Ann Johnson', details: { kind: 'sort_code', sortCode: '231470', accountNumber: '28821822' } }

const payout = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({
  payoutId: 'po_01JABC',
  idempotencyKey: 'po_01JABC:attempt-key',
  amount: { minor: 12345, currency: 'GBP' },
  method: gbpSortCode,
  description: 'FANZ payout Nov',
  ...over,
})

interface FakeTransfer {
  id: number
  status: string
  customerTransactionId: string
  targetAccount: number
  quoteUuid: string
  details: { reference: string }
}

/**
 * Answers like Wise (docs.wise.com): quote with a UUID id and paymentOptions, recipient with an
 * integer id, transfer deduplicated by customerTransactionId (a repeat answers the first transfer),
 * funding {type, status: COMPLETED, errorCode}. Hooks let a test fail a step.
 */
function fakeWise(opts: { failNext?: Partial<Record<string, HttpResponse | 'timeout' | 'timeout-after'>>; balanceShort?: boolean } = {}) {
  const requests: HttpRequest[] = []
  const transfers = new Map<number, FakeTransfer>()
  const byCtid = new Map<string, number>()
  const batches = new Map<string, { id: string; version: number; status: string; name: string; sourceCurrency: string; transferIds: number[] }>()
  let seq = 0
  const fail = { ...opts.failNext }
  const ok = (body: unknown, status = 200): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  const route = (req: HttpRequest): { step: string; answer: () => HttpResponse } => {
    const path = req.url.slice(BASE.length)
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {}
    const createTransfer = (batchId?: string) => {
      const ctid = String(body.customerTransactionId)
      const existing = byCtid.get(ctid)
      if (existing !== undefined) return ok(transfers.get(existing))
      const t: FakeTransfer = { id: 50000000 + ++seq, status: 'incoming_payment_waiting', customerTransactionId: ctid, targetAccount: Number(body.targetAccount), quoteUuid: String(body.quoteUuid), details: body.details as { reference: string } }
      transfers.set(t.id, t)
      byCtid.set(ctid, t.id)
      if (batchId) {
        const b = batches.get(batchId)!
        b.transferIds.push(t.id)
        b.version += 7
      }
      return ok(t)
    }
    if (req.method === 'POST' && path === `/v3/profiles/${settings.profileId}/quotes`)
      return {
        step: 'quote',
        answer: () =>
          ok({ id: `11144c35-9fe8-4c32-b7fd-d05c2a7734${String(++seq).padStart(2, '0')}`, sourceCurrency: body.sourceCurrency, targetCurrency: body.targetCurrency, paymentOptions: [{ payIn: 'BANK_TRANSFER', fee: { total: 1.5 } }, { payIn: 'BALANCE', disabled: false, fee: { total: 0.42 } }] }),
      }
    if (req.method === 'POST' && path === '/v1/accounts') return { step: 'recipient', answer: () => ok({ id: 40000000 + ++seq, ...body }) }
    if (req.method === 'POST' && path === '/v1/transfers') return { step: 'transfer', answer: () => createTransfer() }
    const fund = new RegExp(`^/v3/profiles/${settings.profileId}/transfers/(\\d+)/payments$`).exec(path)
    if (req.method === 'POST' && fund)
      return {
        step: 'fund',
        answer: () => {
          const t = transfers.get(Number(fund[1]))!
          if (t.status !== 'incoming_payment_waiting') return ok({ errors: [{ code: 'transfer.already.funded', message: 'already funded' }] }, 409)
          if (opts.balanceShort) return ok({ type: 'BALANCE', status: 'REJECTED', errorCode: 'transfer.insufficient_funds' })
          t.status = 'processing'
          return ok({ type: 'BALANCE', status: 'COMPLETED', errorCode: null })
        },
      }
    const get = /^\/v1\/transfers\/(\d+)$/.exec(path)
    if (req.method === 'GET' && get) return { step: 'get', answer: () => (transfers.has(Number(get[1])) ? ok(transfers.get(Number(get[1]))) : ok({ errors: [{ code: 'NOT_FOUND', message: 'no transfer' }] }, 404)) }
    if (req.method === 'POST' && path === `/v3/profiles/${settings.profileId}/batch-groups`)
      return {
        step: 'batch-create',
        answer: () => {
          const b = { id: '54a6bc09-cef9-49a8-9041-f1f0c654cd88', version: 1, status: 'NEW', name: String(body.name), sourceCurrency: String(body.sourceCurrency), transferIds: [] as number[] }
          batches.set(b.id, b)
          return ok(b, 201)
        },
      }
    const bt = new RegExp(`^/v3/profiles/${settings.profileId}/batch-groups/([0-9a-f-]+)/transfers$`).exec(path)
    if (req.method === 'POST' && bt) return { step: 'batch-transfer', answer: () => createTransfer(bt[1]) }
    const bp = new RegExp(`^/v3/profiles/${settings.profileId}/batch-groups/([0-9a-f-]+)$`).exec(path)
    if (req.method === 'PATCH' && bp)
      return {
        step: 'batch-complete',
        answer: () => {
          const b = batches.get(bp[1]!)!
          if (body.version !== b.version) return ok({ errors: [{ code: 'batch.version.mismatch', message: 'version mismatch' }] }, 409)
          b.status = String(body.status)
          b.version += 1
          return ok(b)
        },
      }
    return { step: 'unknown', answer: () => ok({ errors: [{ code: 'NOT_FOUND', message: path }] }, 404) }
  }

  const transport: Transport = async (req) => {
    requests.push(req)
    const { step, answer } = route(req)
    const f = fail[step]
    if (f !== undefined) {
      delete fail[step]
      if (f === 'timeout') throw new Error('The operation was aborted due to timeout')
      if (f === 'timeout-after') {
        answer() // Wise did the work, the answer was lost
        throw new Error('The operation was aborted due to timeout')
      }
      return f
    }
    return answer()
  }
  return { transport, requests, transfers, batches, fail }
}

const bodyOf = (r: HttpRequest) => JSON.parse(r.body!) as Record<string, unknown>

describe('customerTransactionId', () => {
  it('keeps a UUID key (lowercased) and maps any other key to a fixed v8 UUID', () => {
    expect(customerTransactionId('F47AC10B-58CC-4372-A567-0E02B2C3D479')).toBe('f47ac10b-58cc-4372-a567-0e02b2c3d479')
    // first 16 bytes of SHA-256("fanz-payout:po_01JABC:attempt-key"), version 8, variant 10
    expect(customerTransactionId('po_01JABC:attempt-key')).toBe('f7b0bd7f-91b2-8641-bb77-8465994bb7f1')
    expect(customerTransactionId('po_01JABC:attempt-key')).toBe(customerTransactionId('po_01JABC:attempt-key'))
    expect(customerTransactionId('other')).not.toBe(customerTransactionId('po_01JABC:attempt-key'))
  })

  it('writes minor units as Wise decimals', () => {
    expect(minorToDecimal(12345, 'GBP')).toBe(123.45)
    expect(minorToDecimal(5, 'EUR')).toBe(0.05)
    expect(minorToDecimal(1000, 'JPY')).toBe(1000)
  })
})

describe('wiseProcessor.submit', () => {
  it('sends quote, recipient, transfer and funding with Bearer auth and the derived customerTransactionId', async () => {
    const wise = fakeWise()
    const outcome = await wiseProcessor.submit(settings, payout(), wise.transport)
    expect(outcome).toEqual({ status: 'submitted', processorRef: '50000003', feeMinor: 42 })

    const [quote, recipient, transfer, fund] = wise.requests
    expect(wise.requests).toHaveLength(4)
    for (const r of wise.requests) {
      expect(r.headers.authorization).toBe('Bearer tok_test')
      expect(r.headers['content-type']).toBe('application/json')
    }
    expect(quote).toMatchObject({ method: 'POST', url: `${BASE}/v3/profiles/12345678/quotes` })
    expect(bodyOf(quote!)).toEqual({ sourceCurrency: 'GBP', targetCurrency: 'GBP', targetAmount: 123.45 })
    expect(recipient).toMatchObject({ method: 'POST', url: `${BASE}/v1/accounts` })
    expect(bodyOf(recipient!)).toEqual({ currency: 'GBP', type: 'sort_code', profile: 12345678, accountHolderName: 'Ann Johnson', details: { legalType: 'PRIVATE', sortCode: '231470', accountNumber: '28821822' } })
    expect(transfer).toMatchObject({ method: 'POST', url: `${BASE}/v1/transfers` })
    expect(bodyOf(transfer!)).toEqual({ targetAccount: 40000002, quoteUuid: '11144c35-9fe8-4c32-b7fd-d05c2a773401', customerTransactionId: 'f7b0bd7f-91b2-8641-bb77-8465994bb7f1', details: { reference: 'FANZ payou' } })
    expect(fund).toMatchObject({ method: 'POST', url: `${BASE}/v3/profiles/12345678/transfers/50000003/payments` })
    expect(bodyOf(fund!)).toEqual({ type: 'BALANCE' })
  })

  it('uses the live host and quotes sourceAmount when the payout currency differs from the recipient currency', async () => {
    const wise = fakeWise()
    const live = { ...settings, environment: 'live' as const }
    const requests: HttpRequest[] = []
    await wiseProcessor.submit(live, payout({ amount: { minor: 10000, currency: 'USD' } }), async (r) => {
      requests.push(r)
      return wise.transport({ ...r, url: r.url.replace('https://api.wise.com', BASE) })
    })
    expect(requests[0]!.url).toBe('https://api.wise.com/v3/profiles/12345678/quotes')
    expect(bodyOf(requests[0]!)).toEqual({ sourceCurrency: 'USD', targetCurrency: 'GBP', sourceAmount: 100 })
  })

  it('a resubmit after a timeout on transfer creation reuses the key: one transfer, funded once', async () => {
    const wise = fakeWise({ failNext: { transfer: 'timeout-after' } })
    const first = await wiseProcessor.submit(settings, payout(), wise.transport)
    expect(first).toMatchObject({ status: 'retryable', code: 'WISE_TRANSPORT' })
    expect(wise.transfers.size).toBe(1) // Wise created it; we never heard back

    const second = await wiseProcessor.submit(settings, payout(), wise.transport)
    expect(second).toMatchObject({ status: 'submitted', processorRef: '50000003' })
    expect(wise.transfers.size).toBe(1)
    const ctids = wise.requests.filter((r) => r.url.endsWith('/v1/transfers')).map((r) => bodyOf(r).customerTransactionId)
    expect(ctids).toEqual(['f7b0bd7f-91b2-8641-bb77-8465994bb7f1', 'f7b0bd7f-91b2-8641-bb77-8465994bb7f1'])
    expect(wise.requests.filter((r) => r.url.endsWith('/payments'))).toHaveLength(1)
  })

  it('a resubmit after a timeout on funding does not fund again once the transfer moved on', async () => {
    const wise = fakeWise({ failNext: { fund: 'timeout-after' } })
    expect(await wiseProcessor.submit(settings, payout(), wise.transport)).toMatchObject({ status: 'retryable' })
    expect(await wiseProcessor.submit(settings, payout(), wise.transport)).toMatchObject({ status: 'submitted', processorRef: '50000003' })
    expect(wise.transfers.size).toBe(1)
    expect(wise.requests.filter((r) => r.url.endsWith('/payments'))).toHaveLength(1)
  })

  it('maps 5xx and 429 to retryable (with Retry-After) and 4xx to declined', async () => {
    const e503 = fakeWise({ failNext: { quote: { status: 503, headers: {}, body: '{"errors":[{"code":"unavailable","message":"try later"}]}' } } })
    expect(await wiseProcessor.submit(settings, payout(), e503.transport)).toMatchObject({ status: 'retryable', code: 'WISE_HTTP_503' })

    const e429 = fakeWise({ failNext: { recipient: { status: 429, headers: { 'retry-after': '30' }, body: '{"error":"rate_limited"}' } } })
    expect(await wiseProcessor.submit(settings, payout(), e429.transport)).toMatchObject({ status: 'retryable', code: 'WISE_HTTP_429', retryAfterMs: 30000 })

    const e422 = fakeWise({ failNext: { recipient: { status: 422, headers: {}, body: '{"errors":[{"code":"NOT_VALID","message":"Please specify a valid sort code","path":"sortCode"}]}' } } })
    expect(await wiseProcessor.submit(settings, payout(), e422.transport)).toEqual({ status: 'declined', code: 'WISE_NOT_VALID', reason: 'POST /v1/accounts (422): Please specify a valid sort code' })
    expect(e422.transfers.size).toBe(0)
  })

  it('a funding rejection (balance short) is retryable under the same key', async () => {
    const wise = fakeWise({ balanceShort: true })
    expect(await wiseProcessor.submit(settings, payout(), wise.transport)).toMatchObject({ status: 'retryable', code: 'WISE_FUNDING_transfer.insufficient_funds' })
  })

  it('declines a method Wise does not pay to, without any request', async () => {
    const wise = fakeWise()
    const outcome = await wiseProcessor.submit(settings, payout({ method: { type: 'paxum', email: 'a@b.example' } }), wise.transport)
    expect(outcome).toMatchObject({ status: 'declined', code: 'WISE_METHOD_UNSUPPORTED' })
    expect(wise.requests).toHaveLength(0)
  })
})

describe('recipientBody', () => {
  it('builds iban, aba and swift_code recipients', () => {
    expect(recipientBody(settings, { type: 'wise', currency: 'EUR', accountHolderName: 'Jo Doe', details: { kind: 'iban', iban: 'DE89370400440532013000' } })).toEqual({
      currency: 'EUR',
      type: 'iban',
      profile: 12345678,
      accountHolderName: 'Jo Doe',
      details: { legalType: 'PRIVATE', IBAN: 'DE89370400440532013000' },
    })
    expect(recipientBody(settings, { type: 'wise', currency: 'USD', accountHolderName: 'Jo Doe', details: { kind: 'aba', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking' } }).details).toEqual({
      legalType: 'PRIVATE',
      abartn: '021000021',
      accountNumber: '123456789',
      accountType: 'CHECKING',
    })
    const swift = recipientBody({ ...settings, legalType: 'BUSINESS' }, { type: 'wise', currency: 'USD', accountHolderName: 'Jo Ltd', details: { kind: 'swift', bic: 'CHASUS33', accountNumber: 'AB12345' } })
    expect(swift).toMatchObject({ type: 'swift_code', details: { legalType: 'BUSINESS', swiftCode: 'CHASUS33', accountNumber: 'AB12345' } })
    // a USD recipient's address in Wise's shape
    const addressed = recipientBody(settings, {
      type: 'wise',
      currency: 'USD',
      accountHolderName: 'Jo Doe',
      details: { kind: 'aba', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking' },
      address: { streetName: 'Main Street', buildingNumber: '100', postCode: '10001', townName: 'New York', countrySubDivision: 'NY', country: 'US' },
    })
    expect(addressed.details).toMatchObject({ address: { country: 'US', city: 'New York', postCode: '10001', firstLine: '100 Main Street', state: 'NY' } })
  })
})

describe('wiseProcessor.status', () => {
  it('maps Wise transfer states', async () => {
    const wise = fakeWise()
    await wiseProcessor.submit(settings, payout(), wise.transport)
    const t = wise.transfers.get(50000003)!
    const cases: Array<[string, string]> = [
      ['incoming_payment_waiting', 'submitted'],
      ['processing', 'submitted'],
      ['funds_converted', 'submitted'],
      ['outgoing_payment_sent', 'settled'],
      ['bounced_back', 'declined'],
      ['cancelled', 'declined'],
      ['funds_refunded', 'declined'],
    ]
    for (const [state, expected] of cases) {
      t.status = state
      const outcome = await wiseProcessor.status(settings, payout(), '50000003', wise.transport)
      expect(outcome.status, state).toBe(expected)
    }
    const last = wise.requests.at(-1)!
    expect(last).toMatchObject({ method: 'GET', url: `${BASE}/v1/transfers/50000003` })
    expect(last.headers.authorization).toBe('Bearer tok_test')
    expect(last.body).toBeUndefined()
  })

  it('without a ref asks for a resubmit; transport failure is retryable', async () => {
    const wise = fakeWise({ failNext: { get: 'timeout' } })
    expect(await wiseProcessor.status(settings, payout(), null, wise.transport)).toMatchObject({ status: 'retryable', code: 'WISE_REF_UNKNOWN' })
    expect(await wiseProcessor.status(settings, payout(), '1', wise.transport)).toMatchObject({ status: 'retryable', code: 'WISE_TRANSPORT' })
  })
})

describe('batch groups', () => {
  it('creates a group, adds transfers (deduplicated by customerTransactionId) and completes with the version', async () => {
    const wise = fakeWise()
    const group = await createBatchGroup(settings, { sourceCurrency: 'GBP', name: 'FANZ payouts 2026-11-26' }, wise.transport)
    expect(group.ok).toBe(true)
    if (!group.ok) return
    expect(wise.requests[0]).toMatchObject({ method: 'POST', url: `${BASE}/v3/profiles/12345678/batch-groups` })
    expect(bodyOf(wise.requests[0]!)).toEqual({ sourceCurrency: 'GBP', name: 'FANZ payouts 2026-11-26' })

    const input = { targetAccount: 40000001, quoteUuid: '11144c35-9fe8-4c32-b7fd-d05c2a7734bf', customerTransactionId: customerTransactionId('k1'), reference: 'FANZ' }
    const a = await addBatchTransfer(settings, group.value.id, input, wise.transport)
    const again = await addBatchTransfer(settings, group.value.id, input, wise.transport)
    expect(a.ok && again.ok && a.value.id === again.value.id).toBe(true)
    expect(wise.requests[1]).toMatchObject({ method: 'POST', url: `${BASE}/v3/profiles/12345678/batch-groups/${group.value.id}/transfers` })
    expect(bodyOf(wise.requests[1]!)).toEqual({ targetAccount: 40000001, quoteUuid: input.quoteUuid, customerTransactionId: input.customerTransactionId, details: { reference: 'FANZ' } })
    expect(wise.batches.get(group.value.id)!.transferIds).toHaveLength(1)

    const stale = await completeBatchGroup(settings, group.value.id, group.value.version, wise.transport)
    expect(stale).toMatchObject({ ok: false, outcome: { status: 'declined', code: 'WISE_batch.version.mismatch' } })
    const done = await completeBatchGroup(settings, group.value.id, wise.batches.get(group.value.id)!.version, wise.transport)
    expect(done).toMatchObject({ ok: true, value: { status: 'COMPLETED' } })
    const patch = wise.requests.at(-1)!
    expect(patch.method).toBe('PATCH')
    expect(bodyOf(patch)).toEqual({ status: 'COMPLETED', version: 8 })
  })

  it('refuses a name over 100 characters without a request', async () => {
    const wise = fakeWise()
    expect(await createBatchGroup(settings, { sourceCurrency: 'GBP', name: 'x'.repeat(101) }, wise.transport)).toMatchObject({ ok: false, outcome: { code: 'WISE_BATCH_NAME' } })
    expect(wise.requests).toHaveLength(0)
  })
})
