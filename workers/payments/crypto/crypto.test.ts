/**
 * Crypto pay-ins end to end through the sandbox processor: the payment opened the way checkout
 * opens it, the adapter's NOWPayments invoice request executed (crypto/invoice.ts) against the
 * sandbox's invoice API, the hosted invoice page, its signed IPNs into our webhook, the ledger.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { getConfig } from '../../config'
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { adapterFor } from '../gateways/registry'
import { gatewaySettings } from '../webhooks/settings'
import { hostedCheckoutRequest } from './invoice'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'
const FAN = 'usr_01JFANZDEM0000000000000003'
const RETURN = 'http://boyfanz.localhost/c/alex'

async function openCryptoPayment(amountMinor = 999, currency = 'USD'): Promise<{ paymentId: string; invoiceUrl: URL }> {
  const paymentId = newId('payment')
  const settings = (await gatewaySettings(env, getConfig(env), 'nowpayments'))!
  const built = adapterFor('nowpayments').buildCheckout(settings, { kind: 'tip', reference: paymentId, amount: { minor: amountMinor, currency }, description: 'Tip to Alex Rivers on BoyFanz', successUrl: RETURN })
  if (!built.ok) throw new Error(built.reason)
  expect(built.request).toMatchObject({ kind: 'api', method: 'POST', url: 'http://localhost/sandbox-crypto/v1/invoice' })
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, method, country, created_at_ms, updated_at_ms)
     VALUES (?, 'tip', ?, ?, ?, ?, ?, 'nowpayments', 'mid_01JFANZ0000000000000000002', 'pending', 'crypto', 'US', ?, ?)`,
  )
    .bind(paymentId, BRAND, CREATOR, FAN, amountMinor, currency, now, now)
    .run()
  const ctx = createExecutionContext()
  const next = await hostedCheckoutRequest(env, ctx, built.request)
  await waitOnExecutionContext(ctx)
  if (next.kind !== 'redirect') throw new Error('expected a redirect')
  return { paymentId, invoiceUrl: new URL(next.url) }
}

async function invoicePage(url: URL): Promise<{ html: string; q: string }> {
  const res = await call('localhost', url.pathname + url.search)
  expect(res.status).toBe(200)
  const html = await res.text()
  return { html, q: /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&') }
}

function act(q: string, coin: string, action: string, origin = 'http://localhost') {
  return call('localhost', '/sandbox-crypto/invoice', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ q, pay_currency: coin, action }).toString(),
  })
}

const pendingUsd = async () => (await ledgerFor(env, CREATOR).balances('USD')).summary[0]?.pendingMinor ?? 0
const payment = (id: string) => env.DB.prepare('SELECT status, gateway_transaction_id FROM payments WHERE id = ?').bind(id).first<{ status: string; gateway_transaction_id: string | null }>()

async function evidenceFor(paymentId: string): Promise<Array<{ body: string; headers: Record<string, string> }>> {
  const listed = await env.EXPORTS.list({ prefix: 'payments/postbacks/nowpayments/' })
  const all = await Promise.all(listed.objects.map(async (o) => (await (await env.EXPORTS.get(o.key))!.json()) as { body: string; headers: Record<string, string> }))
  return all.filter((e) => e.body.includes(paymentId))
}

describe('crypto pay-in through the sandbox processor', () => {
  it('prices the invoice in coins, and a sent payment reaches the ledger once, in fiat', async () => {
    const before = await pendingUsd()
    const { paymentId, invoiceUrl } = await openCryptoPayment()
    const { html, q } = await invoicePage(invoiceUrl)
    expect(html).toContain('Pay 9.99 USD')
    // 9.99 USD at 95,000.00 / 3,500.00 / 1.00, rounded up to the coin's decimals
    expect(html).toContain('0.00010516 BTC')
    expect(html).toContain('0.00285429 ETH')
    expect(html).toContain('9.99 USDT')
    expect(html).toMatch(/tb1q[a-z0-9]{38}/)

    expect((await act(q, 'btc', 'pay', 'http://evil.example')).status).toBe(403)
    const paid = await act(q, 'btc', 'pay')
    expect(paid.status).toBe(200)
    expect(paid.headers.get('refresh')).toBe(`0;url=${RETURN}`)

    const row = await payment(paymentId)
    expect(row?.status).toBe('succeeded')
    const events = await env.DB.prepare(`SELECT event_id, type, status, amount_minor, currency FROM gateway_events WHERE gateway = 'nowpayments' AND payment_id = ?`).bind(paymentId).all()
    expect(events.results).toEqual([{ event_id: `${row!.gateway_transaction_id}:finished`, type: 'sale', status: 'applied', amount_minor: 999, currency: 'USD' }])
    // 9.99 USD - 0.5% processor (0.04) = 9.95; 20% platform 1.99; creator 7.96; 5% reserve 0.39 -> 7.57 pending
    expect((await pendingUsd()) - before).toBe(757)

    // waiting, confirming and finished were all delivered, signed, and kept; the coins stay in the raw IPN
    const kept = await evidenceFor(paymentId)
    const statuses = kept.map((e) => (JSON.parse(e.body) as { payment_status: string }).payment_status).sort()
    expect(statuses).toEqual(['confirming', 'finished', 'waiting'])
    const finished = kept.find((e) => e.body.includes('"finished"'))!
    expect(JSON.parse(finished.body)).toMatchObject({ price_amount: 9.99, price_currency: 'usd', pay_currency: 'btc', pay_amount: 0.00010516, actually_paid: 0.00010516, order_id: paymentId })

    // the same IPN again changes nothing; an altered one is refused
    const webhook = (body: string, sig: string) => call('api.localhost', '/api/payments/webhooks/nowpayments', { headers: { 'content-type': 'application/json', 'x-nowpayments-sig': sig }, body })
    const sig = finished.headers['x-nowpayments-sig']!
    const again = await webhook(finished.body, sig)
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ received: 1, new: 0, duplicates: 1 })
    const tampered = await webhook(finished.body.replace('"price_amount":9.99', '"price_amount":99.99'), sig)
    expect(tampered.status).toBe(400)
    const forged = await webhook(finished.body.replace(paymentId, newId('payment')), sig)
    expect(forged.status).toBe(400)
    expect((await pendingUsd()) - before).toBe(757)
  })

  it('an underpaid invoice fails the payment and credits nothing; an expired one fails too', async () => {
    const before = await pendingUsd()
    const short = await openCryptoPayment(2500)
    const { q } = await invoicePage(short.invoiceUrl)
    const res = await act(q, 'eth', 'underpay')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('partially paid')
    expect((await payment(short.paymentId))?.status).toBe('failed')
    const failure = await env.DB.prepare(`SELECT event_id, type, status FROM gateway_events WHERE gateway = 'nowpayments' AND payment_id = ?`).bind(short.paymentId).first<{ event_id: string; type: string }>()
    expect(failure).toMatchObject({ type: 'failure', status: 'applied' })
    expect(failure!.event_id).toMatch(/:partially_paid$/)
    const kept = await evidenceFor(short.paymentId)
    // 90% of 0.00714286 ETH arrived
    expect(JSON.parse(kept.find((e) => e.body.includes('"partially_paid"'))!.body)).toMatchObject({ pay_amount: 0.00714286, actually_paid: 0.00642857, pay_currency: 'eth' })

    const late = await openCryptoPayment(999)
    const expired = await act((await invoicePage(late.invoiceUrl)).q, 'usdc', 'expire')
    expect(expired.status).toBe(200)
    expect((await payment(late.paymentId))?.status).toBe('failed')
    expect((await pendingUsd()) - before).toBe(0)
  })

  it('the sandbox invoice API wants its key and a signed invoice link', async () => {
    const res = await call('localhost', '/sandbox-crypto/v1/invoice', { headers: { 'x-api-key': 'guess' }, body: { price_amount: 9.99, price_currency: 'usd', order_id: 'x' } })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ code: 'INVALID_API_KEY' })
    const { invoiceUrl } = await openCryptoPayment(999)
    const forged = await call('localhost', invoiceUrl.pathname + invoiceUrl.search.replace('price=999', 'price=1'))
    expect(forged.status).toBe(400)
  })
})
