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

    const cb = await call('localhost', '/sandbox-gateway/chargebacks', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction_id: payment!.gateway_transaction_id }).toString(),
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
