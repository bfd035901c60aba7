import { md5 } from '@noble/hashes/legacy.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { PAXUM_LEGACY_ENDPOINT, paxum, paxumLegacyKey, paxumV2Signature, xmlText, type PaxumSettings } from './paxum'
import type { HttpRequest, HttpResponse, PayoutRequest, Transport } from './types'

const SECRET = 'sekrit'
const settings: PaxumSettings = { fromEmail: 'payouts@fanz.example', sharedSecret: SECRET, now: () => new Date('2026-11-26T12:00:00Z') }

const request = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({
  payoutId: 'po_01',
  idempotencyKey: 'po_key_1',
  amount: { minor: 2500, currency: 'USD' },
  method: { type: 'paxum', email: 'creator@example.com' },
  description: 'May payout',
  ...over,
})

const md5hex = (text: string) => bytesToHex(md5(utf8ToBytes(text)))

type Mode = 'ok' | 'http503' | 'http429' | 'decline' | 'timeoutAfterBooking' | 'timeoutBeforeBooking'

/**
 * A fake of Paxum's legacy Payment API: one POST endpoint, form bodies, MD5 keys checked against
 * the documented formulas, XML replies shaped like the doc's samples. It books transfers in its own
 * ledger and lists them in `transactionHistory` with their `Reference`. Like the real API (as far as
 * its docs say) it does NOT refuse a repeated reference: the adapter's own check must prevent it.
 */
function fakePaxum(modes: Mode[] = []) {
  const requests: HttpRequest[] = []
  const ledger: { id: string; reference: string; toEmail: string; amount: string; currency: string }[] = []
  const reply = (method: string, inner: string): HttpResponse => ({
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: `<?xml version="1.0"?> <Response> <Environment>PRODUCTION</Environment> <Method>${method}</Method> ${inner} </Response>`,
  })
  const transport: Transport = async (req) => {
    requests.push(req)
    const form = new URLSearchParams(req.body)
    const method = form.get('method')
    if (method === 'transactionHistory') {
      const expected = md5hex(SECRET + form.get('fromDate') + form.get('toDate') + form.get('pageSize') + form.get('pageNumber'))
      if (form.get('key') !== expected) return reply(method, '<ResponseCode>51</ResponseCode><ResponseDescription>Invalid key</ResponseDescription><Fee>0.00</Fee>')
      const size = Number(form.get('pageSize')), page = Number(form.get('pageNumber'))
      const rows = ledger.slice((page - 1) * size, page * size).map((t) => `<Transaction><TransactionId>${t.id}</TransactionId><TransactionTypeId>1</TransactionTypeId><Amount>-${t.amount}</Amount><Currency>${t.currency}</Currency><Description>Transfer</Description><Reference>${t.reference}</Reference></Transaction>`)
      return reply(method, `<ResponseCode>00</ResponseCode><ResponseDescription>Approved or Completed Successfully</ResponseDescription ><Fee>0.00</Fee><Results>${ledger.length}</Results><PageSize>${size}</PageSize><PageNumber>${page}</PageNumber><Transactions>${rows.join('')}</Transactions>`)
    }
    if (method === 'transferFunds') {
      const mode = modes.shift() ?? 'ok'
      if (mode === 'http503') return { status: 503, headers: {}, body: 'Service Unavailable' }
      if (mode === 'http429') return { status: 429, headers: { 'retry-after': '30' }, body: '' }
      if (mode === 'timeoutBeforeBooking') throw new Error('The operation was aborted due to timeout')
      const expected = md5hex(SECRET + form.get('toEmail') + form.get('amount') + form.get('currency') + (form.get('note') ?? '') + (form.get('reference') ?? ''))
      if (form.get('key') !== expected) return reply(method, '<ResponseCode>51</ResponseCode><ResponseDescription>Invalid key</ResponseDescription><Fee>0.00</Fee>')
      // fixture code: Paxum's list of decline codes was not found; any non-00 code is a decline
      if (mode === 'decline') return reply(method, '<ResponseCode>54</ResponseCode><ResponseDescription>Insufficient funds</ResponseDescription ><Fee>0.00</Fee>')
      const id = String(23646236 + ledger.length)
      ledger.push({ id, reference: form.get('reference') ?? '', toEmail: form.get('toEmail') ?? '', amount: form.get('amount') ?? '', currency: form.get('currency') ?? '' })
      if (mode === 'timeoutAfterBooking') throw new Error('The operation was aborted due to timeout')
      return reply(method, `<ResponseCode>00</ResponseCode><ResponseDescription>Approved or Completed Successfully</ResponseDescription ><Fee>0.50</Fee><TransactionId>${id}</TransactionId>`)
    }
    return { status: 400, headers: {}, body: 'unknown method' }
  }
  return { transport, requests, ledger }
}

describe('Paxum API 2.0 signature', () => {
  it('reproduces the doc example (api.paxum.com Authentication, Example 1)', () => {
    const signature = paxumV2Signature('iFK7L5K06KBlcIRUespQxRCtcxolknTGdHG0e4O31eM=', '/v2/account/590900/transactions?limit=3')
    // the doc's openssl output as far as the stored page shows it
    expect(signature.startsWith('aa6ecd0b6f5c3f90763a4c06')).toBe(true)
    // the full value, from `echo -n … | openssl dgst -sha256 -hmac …`
    expect(signature).toBe('aa6ecd0b6f5c3f90763a4c068a6d991ddb24f8e667411437761ed81c72da57b8')
  })
})

describe('Paxum legacy key', () => {
  it('is MD5 over secret + toEmail + amount + currency + note + reference (openssl md5)', () => {
    expect(paxumLegacyKey([SECRET, 'creator@example.com', '25.00', 'USD', 'May payout', 'po_key_1'])).toBe('1b3c8934b28dc84e9b4b7501458c3c31')
  })

  it('reads the doc sample reply, closing tags with a space included', () => {
    const xml = '<?xml version="1.0"?> <Response> <ResponseCode>00</ResponseCode> <ResponseDescription>Approved or Completed Successfully</ResponseDescription > <Fee>0.00</Fee> </Response>'
    expect(xmlText(xml, 'ResponseCode')).toBe('00')
    expect(xmlText(xml, 'ResponseDescription')).toBe('Approved or Completed Successfully')
  })
})

describe('paxum.submit', () => {
  it('checks the history for the reference, then sends transferFunds with the documented fields and key', async () => {
    const fake = fakePaxum()
    const outcome = await paxum.submit(settings, request(), fake.transport)
    expect(outcome).toEqual({ status: 'settled', processorRef: '23646236', feeMinor: 50 })

    expect(fake.requests).toHaveLength(2)
    const [history, transfer] = fake.requests as [HttpRequest, HttpRequest]
    expect(history.url).toBe(PAXUM_LEGACY_ENDPOINT)
    expect(Object.fromEntries(new URLSearchParams(history.body))).toEqual({
      method: 'transactionHistory',
      fromEmail: 'payouts@fanz.example',
      fromDate: '2026-10-27',
      toDate: '2026-11-27',
      pageSize: '100',
      pageNumber: '1',
      key: md5hex(`${SECRET}2026-10-272026-11-271001`),
    })

    expect(transfer).toMatchObject({ method: 'POST', url: 'https://secure.paxum.com/payment/api/paymentAPI.php', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(transfer.body).toBe('method=transferFunds&fromEmail=payouts%40fanz.example&toEmail=creator%40example.com&amount=25.00&currency=USD&note=May+payout&reference=po_key_1&key=1b3c8934b28dc84e9b4b7501458c3c31')
  })

  it('formats the amount from integer minor units by the currency exponent', async () => {
    const fake = fakePaxum()
    await paxum.submit(settings, request({ amount: { minor: 5, currency: 'EUR' } }), fake.transport)
    await paxum.submit(settings, request({ idempotencyKey: 'k2', amount: { minor: 1000, currency: 'JPY' } }), fake.transport)
    expect(fake.ledger.map((t) => `${t.amount} ${t.currency}`)).toEqual(['0.05 EUR', '1000 JPY'])
  })

  it('maps a non-00 ResponseCode to declined', async () => {
    const fake = fakePaxum(['decline'])
    expect(await paxum.submit(settings, request(), fake.transport)).toEqual({ status: 'declined', code: 'PAXUM_54', reason: 'Insufficient funds' })
    expect(fake.ledger).toHaveLength(0)
  })

  it('maps 503, 429 (with Retry-After) and a timeout to retryable', async () => {
    expect(await paxum.submit(settings, request(), fakePaxum(['http503']).transport)).toMatchObject({ status: 'retryable', code: 'HTTP_503' })
    expect(await paxum.submit(settings, request(), fakePaxum(['http429']).transport)).toMatchObject({ status: 'retryable', code: 'HTTP_429', retryAfterMs: 30_000 })
    expect(await paxum.submit(settings, request(), fakePaxum(['timeoutBeforeBooking']).transport)).toMatchObject({ status: 'retryable', code: 'TIMEOUT' })
  })

  it('a resubmit after a timeout that did book the transfer returns that transfer and pays nothing twice', async () => {
    const fake = fakePaxum(['timeoutAfterBooking'])
    expect(await paxum.submit(settings, request(), fake.transport)).toMatchObject({ status: 'retryable', code: 'TIMEOUT' })
    expect(fake.ledger).toHaveLength(1)

    expect(await paxum.submit(settings, request(), fake.transport)).toEqual({ status: 'settled', processorRef: '23646236' })
    expect(fake.ledger).toHaveLength(1)
    const transfers = fake.requests.filter((r) => new URLSearchParams(r.body).get('method') === 'transferFunds')
    expect(transfers).toHaveLength(1)
  })

  it('a resubmit after a timeout that did not book sends the same reference again', async () => {
    const fake = fakePaxum(['timeoutBeforeBooking'])
    await paxum.submit(settings, request(), fake.transport)
    expect(await paxum.submit(settings, request(), fake.transport)).toMatchObject({ status: 'settled' })
    const references = fake.requests.filter((r) => new URLSearchParams(r.body).get('method') === 'transferFunds').map((r) => new URLSearchParams(r.body).get('reference'))
    expect(references).toEqual(['po_key_1', 'po_key_1'])
    expect(fake.ledger).toHaveLength(1)
  })

  it('reads further history pages, and will not pay when the history it may read cannot rule out an earlier transfer', async () => {
    const fake = fakePaxum()
    for (let i = 0; i < 150; i++) fake.ledger.push({ id: String(i), reference: `other-${i}`, toEmail: 'x@example.com', amount: '1.00', currency: 'USD' })
    expect(await paxum.submit({ ...settings, historyPages: 1 }, request(), fake.transport)).toMatchObject({ status: 'declined', code: 'DEDUP_UNCONFIRMED' })
    expect(fake.ledger).toHaveLength(150)
    expect(await paxum.submit({ ...settings, historyPages: 2 }, request(), fake.transport)).toMatchObject({ status: 'settled' })
    expect(fake.ledger).toHaveLength(151)
    expect(await paxum.status({ ...settings, historyPages: 1 }, request(), null, fake.transport)).toMatchObject({ status: 'retryable', code: 'HISTORY_INCOMPLETE' })
    expect(await paxum.status({ ...settings, historyPages: 2 }, request(), null, fake.transport)).toMatchObject({ status: 'settled', processorRef: '23646386' })
  })

  it('refuses another method type without calling Paxum', async () => {
    const fake = fakePaxum()
    const outcome = await paxum.submit(settings, request({ method: { type: 'payoneer', payeeId: 'p1' } }), fake.transport)
    expect(outcome).toMatchObject({ status: 'declined', code: 'METHOD_NOT_SUPPORTED' })
    expect(fake.requests).toHaveLength(0)
  })
})

describe('paxum.status', () => {
  it('finds the transfer by reference, or says none was made', async () => {
    const fake = fakePaxum()
    expect(await paxum.status(settings, request(), null, fake.transport)).toMatchObject({ status: 'declined', code: 'NOT_FOUND' })
    await paxum.submit(settings, request(), fake.transport)
    expect(await paxum.status(settings, request(), '23646236', fake.transport)).toEqual({ status: 'settled', processorRef: '23646236' })
  })
})
