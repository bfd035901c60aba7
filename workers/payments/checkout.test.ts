/**
 * The whole pay-in flow through the Worker, as a fan's browser and the sandbox gateway drive it:
 * checkout (routing, payment opened) -> the gateway's hosted card form -> its signed postback ->
 * the creator's ledger -> a chargeback on demand reverses the share.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import { ledgerFor } from '../ledger/stub'
import { routingStats } from './checkout'
import { bankReferenceFor, isCreditorReference } from './bank/reference'
import { parseRoutingState, windowStats } from './routing'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const FAN = 'usr_01JFANZDEM0000000000000003'

async function checkout(key: string, body: Record<string, unknown>, token?: string): Promise<Response> {
  return call('api.localhost', '/api/payments/checkout', {
    token: token ?? (await tokenFor(['fan'], { subject: FAN })),
    headers: { 'idempotency-key': `"${key}"` },
    body,
  })
}

const order = { creator_id: CREATOR, kind: 'subscription', amount_minor: 999, currency: 'USD', return_url: 'http://boyfanz.localhost/c/alex' }

describe('checkout through the sandbox gateway', () => {
  it('routes, opens a pending payment, and a test card completes it into the creator ledger', async () => {
    const pendingBefore = (await ledgerFor(env, CREATOR).balances('USD')).summary[0]?.pendingMinor ?? 0
    const res = await checkout('order-1', order)
    expect(res.status).toBe(201)
    const started = (await res.json()) as { payment_id: string; gateway: string; mid_id: string; next: { method: string; url: string }; routing: string[] }
    expect(started).toMatchObject({ gateway: 'sandbox', mid_id: 'mid_01JFANZ0000000000000000001', next: { method: 'GET' } })
    expect(started.routing.length).toBeGreaterThan(0)
    expect(await env.DB.prepare('SELECT status, fan_user_id FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ status: 'pending', fan_user_id: FAN })

    // the same click again: the same answer, no second payment
    const again = await checkout('order-1', order)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(((await again.json()) as { payment_id: string }).payment_id).toBe(started.payment_id)

    const formUrl = new URL(started.next.url)
    const form = await call('localhost', formUrl.pathname + formUrl.search)
    expect(form.status).toBe(200)
    const html = await form.text()
    expect(html).toContain('Pay 9.99 USD')
    const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
    const paid = await call('localhost', '/sandbox-gateway/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ q, card: '4242 4242 4242 4242' }).toString(),
    })
    expect(paid.status).toBe(200)
    expect(paid.headers.get('refresh')).toBe('0;url=http://boyfanz.localhost/c/alex')

    const payment = await env.DB.prepare('SELECT status, gateway_transaction_id, routing_json FROM payments WHERE id = ?').bind(started.payment_id).first<{ status: string; gateway_transaction_id: string; routing_json: string }>()
    expect(payment?.status).toBe('succeeded')
    // the router learnt the outcome for the payment's segment
    const segment = (JSON.parse(payment!.routing_json) as { segment: string }).segment
    expect(segment).toBe('card/USD')
    expect(windowStats(parseRoutingState(await routingStats(env).snapshot()), 'sandbox', segment, 200).approved).toBeGreaterThanOrEqual(1)
    // 9.99 - 10% processor (0.99) = 9.00; 20% platform = 1.80; creator 7.20, 5% reserve 0.36 -> 6.84 pending
    const afterSale = (await ledgerFor(env, CREATOR).balances('USD')).summary[0]!
    expect(afterSale.pendingMinor - pendingBefore).toBe(684)

    const chargeback = { transaction_id: payment!.gateway_transaction_id }
    // the console's button, not a cross-site form
    const forged = await call('localhost', '/sandbox-gateway/chargebacks', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: new URLSearchParams(chargeback).toString() })
    expect(forged.status).toBe(403)
    const cb = await call('localhost', '/sandbox-gateway/chargebacks', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams(chargeback).toString(),
    })
    expect(cb.status).toBe(200)
    expect(await env.DB.prepare('SELECT status FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ status: 'charged_back' })
    expect((await ledgerFor(env, CREATOR).balances('USD')).summary[0]!.pendingMinor).toBe(pendingBefore)
  })

  it('declines a declined card, and refuses bad orders with field-named problems', async () => {
    const res = await checkout('order-decline', { ...order, kind: 'tip', amount_minor: 500 })
    const started = (await res.json()) as { payment_id: string; next: { url: string } }
    const formUrl = new URL(started.next.url)
    const html = await (await call('localhost', formUrl.pathname + formUrl.search)).text()
    const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
    const declined = await call('localhost', '/sandbox-gateway/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ q, card: '4000 0000 0000 0002' }).toString(),
    })
    expect(declined.status).toBe(402)
    expect(await env.DB.prepare('SELECT status FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ status: 'failed' })

    const tampered = await call('localhost', `${formUrl.pathname}${formUrl.search.replace('amount=500', 'amount=5')}`)
    expect(tampered.status).toBe(400)

    const foreign = await checkout('order-foreign', { ...order, return_url: 'https://evil.example/x' })
    expect(foreign.status).toBe(422)
    expect(((await foreign.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.return_url')
    expect((await checkout('order-missing-key', order).then(() => call('api.localhost', '/api/payments/checkout', { token: 'x', body: order }))).status).toBe(401)
    const noKey = await call('api.localhost', '/api/payments/checkout', { token: await tokenFor(['fan'], { subject: FAN }), body: order })
    expect(noKey.status).toBe(400)
  })
})

async function paidPayment(key: string): Promise<string> {
  const started = (await (await checkout(key, order)).json()) as { payment_id: string; next: { url: string } }
  const formUrl = new URL(started.next.url)
  const html = await (await call('localhost', formUrl.pathname + formUrl.search)).text()
  const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
  await call('localhost', '/sandbox-gateway/checkout', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ q, card: '4242424242424242' }).toString(),
  })
  return started.payment_id
}

describe('transactions and refunds', () => {
  it('finance sees the payment with its events and refunds part of it through the gateway', async () => {
    const id = await paidPayment('order-refund')
    const finance = await tokenFor(['finance'])
    const list = await call('api.localhost', `/api/payments/transactions?creator_id=${CREATOR}&status=succeeded`, { token: finance })
    expect(((await list.json()) as { items: Array<{ id: string }> }).items.map((p) => p.id)).toContain(id)
    const one = (await (await call('api.localhost', `/api/payments/transactions/${id}`, { token: finance })).json()) as { status: string; events: Array<{ type: string; status: string }> }
    expect(one.status).toBe('succeeded')
    expect(one.events.map((e) => `${e.type}:${e.status}`)).toEqual(['sale:applied'])

    const pendingBefore = (await ledgerFor(env, CREATOR).balances('USD')).summary[0]!.pendingMinor
    const refund = (key: string, amount: number) =>
      call('api.localhost', `/api/payments/transactions/${id}/refund`, { token: finance, headers: { 'idempotency-key': `"${key}"` }, body: { amount_minor: amount, reason: 'fan asked' } })
    const res = await refund('rf-1', 300)
    expect(res.status).toBe(202)
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(id).first()).toEqual({ status: 'partially_refunded', refunded_minor: 300 })
    expect((await ledgerFor(env, CREATOR).balances('USD')).summary[0]!.pendingMinor).toBeLessThan(pendingBefore)
    // the same request again is the same answer, not a second refund
    expect((await refund('rf-1', 300)).headers.get('idempotent-replayed')).toBe('true')
    expect(((await env.DB.prepare('SELECT refunded_minor FROM payments WHERE id = ?').bind(id).first()) as { refunded_minor: number }).refunded_minor).toBe(300)
    const tooMuch = await refund('rf-2', 1000)
    expect(tooMuch.status).toBe(422)
    expect(((await tooMuch.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.amount_minor')
    expect((await call('api.localhost', `/api/payments/transactions/${id}`, { token: await tokenFor(['fan']) })).status).toBe(403)
  })
})

type Started = { payment_id: string; gateway: string; mid_id: string; method: string; amount_minor: number; currency: string; retry_of: string | null; bank_reference: string | null; next: { url: string }; routing: string[] }
type Problem = { code: string; detail: string; errors?: Array<{ path: string; message: string }>; reasons?: string[] }

/** Types `card` into the sandbox gateway's hosted form of a started checkout. */
async function payAtSandbox(started: Started, card: string): Promise<Response> {
  const formUrl = new URL(started.next.url)
  const html = await (await call('localhost', formUrl.pathname + formUrl.search)).text()
  const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
  return call('localhost', '/sandbox-gateway/checkout', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ q, card }).toString(),
  })
}

const tip = { creator_id: CREATOR, kind: 'tip', amount_minor: 700, currency: 'USD', return_url: 'http://boyfanz.localhost/c/alex' }

describe('prices and methods', () => {
  it('takes a subscription price from the creator, not the client, and needs an amount for a tip', async () => {
    const res = await checkout('price-server', { creator_id: CREATOR, kind: 'subscription', return_url: order.return_url })
    expect(res.status).toBe(201)
    const started = (await res.json()) as Started
    expect(started).toMatchObject({ amount_minor: 999, currency: 'USD', method: 'card', gateway: 'sandbox', retry_of: null, bank_reference: null })
    expect(await env.DB.prepare('SELECT amount_minor, currency, method, country FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ amount_minor: 999, currency: 'USD', method: 'card', country: 'US' })

    const cheaper = await checkout('price-cheaper', { ...order, amount_minor: 100 })
    expect(cheaper.status).toBe(422)
    expect(((await cheaper.json()) as Problem).errors).toEqual([{ path: 'body.amount_minor', message: expect.stringContaining('costs 999') }])
    const otherCurrency = await checkout('price-eur', { ...order, currency: 'EUR' })
    expect(((await otherCurrency.json()) as Problem).errors?.[0]?.path).toBe('body.currency')
    const noAmount = await checkout('tip-no-amount', { creator_id: CREATOR, kind: 'tip', currency: 'USD', return_url: order.return_url })
    expect(noAmount.status).toBe(422)
    expect(((await noAmount.json()) as Problem).errors?.[0]?.path).toBe('body.amount_minor')
    const badMethod = await checkout('tip-paypal', { ...tip, method: 'paypal' })
    expect(((await badMethod.json()) as Problem).errors?.[0]?.path).toBe('body.method')
  })
})

describe('pay-in methods', () => {
  it('crypto goes to the crypto processor, whose invoice is made server-side; the fan gets its hosted page', async () => {
    const res = await checkout('crypto-1', { ...tip, method: 'crypto' })
    expect(res.status).toBe(201)
    const started = (await res.json()) as Started
    expect(started).toMatchObject({ gateway: 'nowpayments', mid_id: 'mid_01JFANZ0000000000000000002', method: 'crypto', bank_reference: null })
    expect(new URL(started.next.url).pathname).toBe('/sandbox-crypto/invoice')
    expect(started.routing).toContain('gateway sandbox excluded: does not take crypto payments')
    expect(await env.DB.prepare('SELECT gateway, method, status FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ gateway: 'nowpayments', method: 'crypto', status: 'pending' })
    const invoice = await call('localhost', new URL(started.next.url).pathname + new URL(started.next.url).search)
    expect(invoice.status).toBe(200)
  })

  it('a bank transfer goes to the receiving account with an ISO 11649 reference kept on the payment', async () => {
    for (const method of ['sepa', 'ach', 'wire'] as const) {
      const res = await checkout(`bank-${method}`, { ...tip, currency: 'EUR', method })
      expect(res.status).toBe(201)
      const started = (await res.json()) as Started
      expect(started).toMatchObject({ gateway: 'bank_transfer', mid_id: 'mid_01JFANZ0000000000000000003', method, currency: 'EUR', bank_reference: bankReferenceFor(started.payment_id) })
      expect(isCreditorReference(started.bank_reference!)).toBe(true)
      expect(new URL(started.next.url).searchParams.get('reference')).toBe(started.bank_reference)
      expect(await env.DB.prepare('SELECT method, bank_reference FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ method, bank_reference: started.bank_reference })
    }
    // no gateway takes bank transfers in a currency its account does not hold
    const gbp = await checkout('bank-gbp', { ...tip, currency: 'GBP', method: 'sepa' })
    expect(gbp.status).toBe(422)
    expect(((await gbp.json()) as Problem).reasons).toContain('gateway bank_transfer excluded: does not support currency GBP')
  })
})

describe('retries on another gateway after technical failures', () => {
  it('a technical error is recorded as technical and fed to the router; with only the sandbox, the retry has nowhere to go', async () => {
    const started = (await (await checkout('tech-1', tip)).json()) as Started
    const failed = await payAtSandbox(started, '4000 0000 0000 0119')
    expect(failed.status).toBe(502)
    const page = await failed.text()
    expect(page).toContain('processing_error')
    expect(page).toContain('href="http://boyfanz.localhost/c/alex"')
    expect(await env.DB.prepare('SELECT status, failure_code, failure_technical FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ status: 'failed', failure_code: 'processing_error', failure_technical: 1 })
    // the router heard a technical error (T), which counts toward eliminating the gateway
    const state = parseRoutingState(await routingStats(env).snapshot())
    expect(state.windows.sandbox?.['card/USD']?.at(-1)).toBe('T')
    expect(state.gateways.sandbox?.failureStreakAtMs.length).toBeGreaterThanOrEqual(1)

    const retry = await checkout('tech-1-retry', { ...tip, retry_of: started.payment_id })
    expect(retry.status).toBe(422)
    const problem = (await retry.json()) as Problem
    expect(problem.code).toBe('PAYMENT_NOT_ROUTABLE')
    expect(problem.reasons).toContain(`gateway sandbox excluded: failed technically on ${started.payment_id} (processing_error) in this retry chain`)
    expect(problem.reasons?.[0]).toMatch(/^retry 1 of 2 for pay_\w+ \(retrying pay_\w+\): gateways that already failed in the chain are excluded: sandbox$/)
  })

  it('a card decline, someone else\'s payment, a pending payment or a different order are not retried', async () => {
    const started = (await (await checkout('decline-1', tip)).json()) as Started
    expect((await payAtSandbox(started, '4000 0000 0000 0002')).status).toBe(402)
    expect(await env.DB.prepare('SELECT status, failure_code, failure_technical FROM payments WHERE id = ?').bind(started.payment_id).first()).toEqual({ status: 'failed', failure_code: 'card_declined', failure_technical: 0 })
    // a decline (D) is the issuer's answer: it ends the gateway's run of technical errors
    const state = parseRoutingState(await routingStats(env).snapshot())
    expect(state.windows.sandbox?.['card/USD']?.at(-1)).toBe('D')
    expect(state.gateways.sandbox?.failureStreakAtMs ?? []).toEqual([])
    const refused = await checkout('decline-1-retry', { ...tip, retry_of: started.payment_id })
    expect(refused.status).toBe(422)
    const problem = (await refused.json()) as Problem
    expect(problem.errors).toEqual([{ path: 'body.retry_of', message: expect.stringContaining('declined (card_declined), not a technical failure') }])

    const pending = (await (await checkout('pending-1', tip)).json()) as Started
    const notFailed = (await (await checkout('pending-1-retry', { ...tip, retry_of: pending.payment_id })).json()) as Problem
    expect(notFailed.errors?.[0]).toEqual({ path: 'body.retry_of', message: `payment ${pending.payment_id} is pending; only a failed payment is retried` })

    const technical = (await (await checkout('tech-2', tip)).json()) as Started
    await payAtSandbox(technical, '4000000000000119')
    const stranger = await checkout('tech-2-stranger', { ...tip, retry_of: technical.payment_id }, await tokenFor(['fan'], { subject: 'usr_01JFANZDEM0000000000000009' }))
    expect(((await stranger.json()) as Problem).errors?.[0]).toEqual({ path: 'body.retry_of', message: `no payment ${technical.payment_id} of yours` })
    const otherAmount = await checkout('tech-2-more', { ...tip, amount_minor: 900, retry_of: technical.payment_id })
    expect(((await otherAmount.json()) as Problem).errors?.[0]?.path).toBe('body.amount_minor')
  })

  it('with a second card gateway configured, the retry goes there, stores retry_of and says why; the budget holds', async () => {
    const finance = await tokenFor(['finance'])
    // CCBill credentials as the PAYMENT_GATEWAYS secret would carry them (test values, no network is reached)
    const bindings = env as unknown as { PAYMENT_GATEWAYS?: string }
    bindings.PAYMENT_GATEWAYS = JSON.stringify({ ccbill: { flexId: 'f00d-test', clientSubacc: '0000', salt: 'test-salt', postbackToken: 'test-token' } })
    try {
      const mid = await call('api.localhost', '/api/payments/mids', {
        token: finance,
        body: { gateway: 'ccbill', descriptor: 'FANZ*CCBILL', acquirer: 'Test acquirer', currencies: ['USD', 'EUR'], brand_ids: ['brd_01JFANZ0000000000000000001'] },
      })
      expect(mid.status).toBe(201)
      const midId = ((await mid.json()) as { id: string }).id
      expect((await call('api.localhost', '/api/payments/gateways/ccbill', { method: 'PATCH', token: finance, body: { enabled: true } })).status).toBe(200)
      // a fixed order (no success-rate exploration): the first attempt goes to the sandbox
      const config = { rules: [], defaultOrder: ['sandbox', 'ccbill'], successRate: { enabled: false, windowSize: 200, explorationBps: 0, minSamples: 20, segmentBy: ['method', 'currency'] }, elimination: { failures: 5, withinMs: 60_000, cooldownMs: 300_000 } }
      const created = await call('api.localhost', '/api/payments/routing/configs', { token: finance, headers: { 'idempotency-key': '"retry-config"' }, body: { config, note: 'sandbox, then ccbill' } })
      expect(created.status).toBe(201)

      const first = (await (await checkout('tech-3', tip)).json()) as Started
      expect(first.gateway).toBe('sandbox')
      await payAtSandbox(first, '4000000000000119')
      const res = await checkout('tech-3-retry', { ...tip, retry_of: first.payment_id })
      expect(res.status).toBe(201)
      const retry = (await res.json()) as Started
      expect(retry).toMatchObject({ gateway: 'ccbill', mid_id: midId, retry_of: first.payment_id, amount_minor: 700, currency: 'USD' })
      expect(retry.next.url).toContain('https://api.ccbill.com/wap-frontflex/flexforms/f00d-test')
      expect(retry.routing).toContain(`gateway sandbox excluded: failed technically on ${first.payment_id} (processing_error) in this retry chain`)
      expect(await env.DB.prepare('SELECT gateway, status, retry_of FROM payments WHERE id = ?').bind(retry.payment_id).first()).toEqual({ gateway: 'ccbill', status: 'pending', retry_of: first.payment_id })
      // finance sees the chain and the failure in the transactions
      const retried = (await (await call('api.localhost', `/api/payments/transactions/${retry.payment_id}`, { token: finance })).json()) as Record<string, unknown>
      expect(retried).toMatchObject({ gateway: 'ccbill', method: 'card', country: 'US', retry_of: first.payment_id, failure_code: null, failure_technical: null })
      const original = (await (await call('api.localhost', `/api/payments/transactions/${first.payment_id}`, { token: finance })).json()) as Record<string, unknown>
      expect(original).toMatchObject({ status: 'failed', retry_of: null, failure_code: 'processing_error', failure_technical: true })
      // the same click again is the same answer
      const replay = await checkout('tech-3-retry', { ...tip, retry_of: first.payment_id })
      expect(replay.headers.get('idempotent-replayed')).toBe('true')
      // the failed attempt has its retry: it is not retried twice
      const twice = (await (await checkout('tech-3-retry-2', { ...tip, retry_of: first.payment_id })).json()) as Problem
      expect(twice.errors?.[0]).toEqual({ path: 'body.retry_of', message: `payment ${first.payment_id} was already retried by ${retry.payment_id}` })

      // ccbill fails technically too (its failure recorded as the postback path would): the chain has spent one retry, one is left, and no gateway
      await env.DB.prepare(`UPDATE payments SET status = 'failed', failure_code = 'system_error', failure_technical = 1 WHERE id = ?`).bind(retry.payment_id).run()
      const third = (await (await checkout('tech-3-retry-3', { ...tip, retry_of: retry.payment_id })).json()) as Problem
      expect(third.code).toBe('PAYMENT_NOT_ROUTABLE')
      expect(third.reasons?.[0]).toContain('retry 2 of 2')
      expect(third.reasons).toContain(`gateway ccbill excluded: failed technically on ${retry.payment_id} (system_error) in this retry chain`)
    } finally {
      delete bindings.PAYMENT_GATEWAYS
      await call('api.localhost', '/api/payments/routing/configs/1/activate', { method: 'POST', token: finance })
      await call('api.localhost', '/api/payments/gateways/ccbill', { method: 'PATCH', token: finance, body: { enabled: false } })
    }
  })
})
