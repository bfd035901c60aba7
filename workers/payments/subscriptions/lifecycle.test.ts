/**
 * A subscription's whole life as the sandbox biller drives it through signed postbacks to the
 * webhook route: checkout -> sale (active) -> rebills (one payment and one ledger sale each, even
 * when a postback comes twice) -> a declined rebill (past due) -> a rebill (active) -> cancel
 * through the API (cancelled, access kept) -> the sweep (expired). Then out-of-order postbacks.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { getConfig } from '../../config'
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { signSandboxPostback, SandboxEventBody } from '../gateways/sandbox'
import { sandboxSecret } from '../webhooks/settings'
import { DAY_MS, type SubscriptionRow } from './lifecycle'
import { LAPSED_REASON, SUBSCRIPTION_GRACE_MS, sweepSubscriptions } from './sweep'

const config = getConfig(env)
const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'
const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }

const pending = async () => (await ledgerFor(env, CREATOR).balances('USD')).summary[0]?.pendingMinor ?? 0
const subOf = async (paymentId: string) => env.DB.prepare('SELECT * FROM subscriptions WHERE initial_payment_id = ?').bind(paymentId).first<SubscriptionRow>()
const eventStatus = async (eventId: string) =>
  (await env.DB.prepare("SELECT status FROM gateway_events WHERE gateway = 'sandbox' AND event_id = ?").bind(eventId).first<{ status: string }>())?.status
const rebillPayments = async (subId: string) =>
  (await env.DB.prepare("SELECT id, amount_minor, status, gateway_transaction_id, fan_user_id, mid_id FROM payments WHERE subscription_id = ? AND kind = 'rebill' ORDER BY id").bind(subId).all<{ id: string; amount_minor: number; status: string; gateway_transaction_id: string; fan_user_id: string; mid_id: string }>()).results

async function deliver(body: SandboxEventBody | string): Promise<{ new: number; duplicates: number }> {
  const signed = signSandboxPostback(await sandboxSecret(config), body, Date.now())
  const res = await call('api.localhost', '/api/payments/webhooks/sandbox', { method: 'POST', headers: signed.headers, body: signed.rawBody })
  expect(res.status).toBe(200)
  return (await res.json()) as { new: number; duplicates: number }
}

/** A fan subscribes through the API and pays on the sandbox's hosted form with an approving card. */
async function subscribeAndPay(fan: string, key: string): Promise<string> {
  const res = await call('api.localhost', '/api/payments/checkout', {
    token: await tokenFor(['fan'], { subject: fan }),
    headers: { 'idempotency-key': `"${key}"` },
    body: { creator_id: CREATOR, kind: 'subscription', amount_minor: 999, currency: 'USD', return_url: 'http://boyfanz.localhost/c/alex' },
  })
  expect(res.status).toBe(201)
  const started = (await res.json()) as { payment_id: string; next: { url: string } }
  const formUrl = new URL(started.next.url)
  const html = await (await call('localhost', formUrl.pathname + formUrl.search)).text()
  const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
  const paid = await call('localhost', '/sandbox-gateway/checkout', { method: 'POST', headers: FORM, body: new URLSearchParams({ q, card: '4242424242424242' }).toString() })
  expect(paid.status).toBe(200)
  await paid.body?.cancel()
  return started.payment_id
}

async function consoleAction(gatewaySubId: string, action: 'rebill' | 'fail' | 'cancel'): Promise<number> {
  const res = await call('localhost', `/sandbox-gateway/subscriptions/${gatewaySubId}/${action}`, { method: 'POST', headers: FORM, body: '' })
  await res.body?.cancel()
  return res.status
}

describe('a subscription driven by the sandbox biller', () => {
  it('sale -> active; rebills (one payment and one ledger sale each, duplicates included); cancel through the API -> cancelled -> sweep -> expired', async () => {
    const fan = newId('user')
    const before = Date.now()
    const paymentId = await subscribeAndPay(fan, `sub-life-${fan}`)

    // the first sale opened the subscription at the creator's price, for one period
    const started = (await subOf(paymentId))!
    expect(started).toMatchObject({ status: 'active', fan_user_id: fan, creator_id: CREATOR, brand_id: BRAND, gateway: 'sandbox', price_minor: 999, currency: 'USD', period_days: 30, rebills: 0 })
    expect(started.gateway_subscription_id).toMatch(/^sbx_sub_[A-Za-z0-9_-]{16}$/)
    expect(started.current_period_end_ms! - before).toBeGreaterThanOrEqual(30 * DAY_MS - 1000)
    expect(started.current_period_end_ms! - Date.now()).toBeLessThanOrEqual(30 * DAY_MS)
    expect(await env.DB.prepare('SELECT subscription_id FROM payments WHERE id = ?').bind(paymentId).first()).toEqual({ subscription_id: started.id })
    const consoleHtml = await (await call('localhost', '/sandbox-gateway/subscriptions')).text()
    expect(consoleHtml).toContain(`data-subscription="${started.gateway_subscription_id}"`)
    expect(consoleHtml).toContain(`Rebill now ${started.gateway_subscription_id}`)

    // "Rebill now": a payment of kind rebill, its own ledger sale (9.99 -> 6.84 pending), one period more
    const pendingBefore = await pending()
    expect(await consoleAction(started.gateway_subscription_id!, 'rebill')).toBe(200)
    const [first] = await rebillPayments(started.id)
    expect(first).toMatchObject({ amount_minor: 999, status: 'succeeded', fan_user_id: fan, mid_id: 'mid_01JFANZ0000000000000000001' })
    expect(first!.gateway_transaction_id).toMatch(/^sbx_tx_/)
    expect((await pending()) - pendingBefore).toBe(684)
    const afterOne = (await subOf(paymentId))!
    expect(afterOne).toMatchObject({ status: 'active', rebills: 1 })
    // extended from the old end (later than now) by exactly one period
    expect(afterOne.current_period_end_ms! - started.current_period_end_ms!).toBe(30 * DAY_MS)

    // the same rebill postback again: stored once, no second payment, no second sale, no extension
    const stored = await env.EXPORTS.get(`sandbox-gateway/transactions/${first!.gateway_transaction_id}.json`)
    const rebillBody = SandboxEventBody.parse(await stored!.json())
    expect(await deliver(rebillBody)).toMatchObject({ new: 0, duplicates: 1 })
    // the same charge under another event id (some billers resend so): still one payment and one sale
    await deliver({ ...rebillBody, id: `${rebillBody.id}-resent` })
    expect(await eventStatus(`${rebillBody.id}-resent`)).toBe('applied')
    expect(await rebillPayments(started.id)).toHaveLength(1)
    expect((await pending()) - pendingBefore).toBe(684)
    expect((await subOf(paymentId))!).toMatchObject({ rebills: 1, current_period_end_ms: afterOne.current_period_end_ms })

    // a second rebill: a second payment and sale
    expect(await consoleAction(started.gateway_subscription_id!, 'rebill')).toBe(200)
    expect(await rebillPayments(started.id)).toHaveLength(2)
    expect((await pending()) - pendingBefore).toBe(2 * 684)
    const afterTwo = (await subOf(paymentId))!
    expect(afterTwo).toMatchObject({ status: 'active', rebills: 2, current_period_end_ms: afterOne.current_period_end_ms! + 30 * DAY_MS })

    const recovered = afterTwo

    // the fan cancels through the API: the gateway is asked, its cancellation postback lands
    const token = await tokenFor(['fan'], { subject: fan })
    const cancel = (key: string, body: unknown = { reason: 'too expensive' }) =>
      call('api.localhost', `/api/payments/subscriptions/${started.id}/cancel`, { token, headers: { 'idempotency-key': `"${key}"` }, body })
    const res = await cancel(`cancel-${fan}`)
    expect(res.status).toBe(200)
    const answer = (await res.json()) as { status: string; subscription: { status: string; cancel_reason: string; current_period_end: string } }
    expect(answer).toMatchObject({ status: 'cancelled', subscription: { status: 'cancelled', cancel_reason: 'too expensive', rebills: 2, current_period_end: new Date(recovered.current_period_end_ms!).toISOString() } })
    const replay = await cancel(`cancel-${fan}`)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(await replay.json()).toEqual(answer)
    expect((await cancel(`cancel-${fan}`, { reason: 'another body' })).status).toBe(422)
    expect((await call('api.localhost', `/api/payments/subscriptions/${started.id}/cancel`, { token, body: {} })).status).toBe(400)
    // cancelled already: a new request is a conflict, and the biller has stopped
    expect((await cancel(`cancel-again-${fan}`)).status).toBe(409)
    expect(await consoleAction(started.gateway_subscription_id!, 'rebill')).toBe(400)
    const cancelled = (await subOf(paymentId))!
    expect(cancelled).toMatchObject({ status: 'cancelled', cancel_reason: 'too expensive', current_period_end_ms: recovered.current_period_end_ms })
    expect(cancelled.cancelled_at_ms).toBeGreaterThanOrEqual(before)

    // the sweep: nothing before the paid period ends, expired after, once
    const end = cancelled.current_period_end_ms!
    expect((await sweepSubscriptions(env, end - 1)).expired).not.toContain(started.id)
    expect((await subOf(paymentId))!.status).toBe('cancelled')
    expect((await sweepSubscriptions(env, end)).expired).toContain(started.id)
    expect((await subOf(paymentId))!).toMatchObject({ status: 'expired', expired_at_ms: end })
    expect((await sweepSubscriptions(env, end + DAY_MS)).expired).not.toContain(started.id)

    // every transition is in the audit log, in order
    const entries = await auditLog(env).list({ subject: `subscription:${started.id}`, limit: 50 })
    expect(entries.map((e) => e.action)).toEqual([
      'payments.subscription.start',
      'payments.subscription.rebill',
      'payments.subscription.rebill',
      // the gateway's cancellation postback lands while the cancel request is being answered
      'payments.subscription.cancel',
      'payments.subscription.cancel_request',
      'payments.subscription.expire',
    ])
  })

  it('a declined rebill makes it past due; the next rebill makes it active again', async () => {
    const fan = newId('user')
    const paymentId = await subscribeAndPay(fan, `sub-fail-${fan}`)
    const started = (await subOf(paymentId))!
    expect(await consoleAction(started.gateway_subscription_id!, 'fail')).toBe(200)
    expect((await subOf(paymentId))!).toMatchObject({ status: 'past_due', rebills: 0, current_period_end_ms: started.current_period_end_ms })
    expect(await rebillPayments(started.id)).toHaveLength(0)
    // the first sale's payment is not touched by its subscription's declined rebill
    expect(await env.DB.prepare('SELECT status FROM payments WHERE id = ?').bind(paymentId).first()).toEqual({ status: 'succeeded' })
    expect(await consoleAction(started.gateway_subscription_id!, 'rebill')).toBe(200)
    expect((await subOf(paymentId))!).toMatchObject({ status: 'active', rebills: 1, current_period_end_ms: started.current_period_end_ms! + 30 * DAY_MS })
    const entries = await auditLog(env).list({ subject: `subscription:${started.id}`, limit: 50 })
    expect(entries.map((e) => e.action)).toEqual(['payments.subscription.start', 'payments.subscription.past_due', 'payments.subscription.rebill'])
  })

  it("a refund of a rebill reverses that rebill's sale, not the first one", async () => {
    const fan = newId('user')
    const paymentId = await subscribeAndPay(fan, `sub-refund-${fan}`)
    const started = (await subOf(paymentId))!
    expect(await consoleAction(started.gateway_subscription_id!, 'rebill')).toBe(200)
    const [rebill] = await rebillPayments(started.id)
    const pendingBefore = await pending()
    const res = await call('api.localhost', `/api/payments/transactions/${rebill!.id}/refund`, {
      token: await tokenFor(['finance']),
      headers: { 'idempotency-key': `"rf-${rebill!.id}"` },
      body: { amount_minor: 999, reason: 'fan asked' },
    })
    expect(res.status).toBe(202)
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(rebill!.id).first()).toEqual({ status: 'refunded', refunded_minor: 999 })
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(paymentId).first()).toEqual({ status: 'succeeded', refunded_minor: 0 })
    expect(await pending()).toBeLessThan(pendingBefore)
  })

  it('a refund of a rebill that comes before the rebill waits for it, then reverses that rebill', async () => {
    const fan = newId('user')
    const paymentId = await subscribeAndPay(fan, `sub-early-refund-${fan}`)
    const started = (await subOf(paymentId))!
    const base = { reference: paymentId, subscriptionId: started.gateway_subscription_id, reason: null }
    const tx = `sbx_tx_early${fan.slice(-12)}`
    await deliver({ ...base, id: `rf-${tx}`, type: 'refund', occurredAt: new Date().toISOString(), transactionId: `rf-${tx}`, originalTransactionId: tx, amount: { minor: 500, currency: 'USD' } })
    expect(await eventStatus(`rf-${tx}`)).toBe('waiting')
    // the first payment was not touched by it
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(paymentId).first()).toEqual({ status: 'succeeded', refunded_minor: 0 })
    await deliver({ ...base, id: `rb-${tx}`, type: 'rebill', occurredAt: new Date().toISOString(), transactionId: tx, originalTransactionId: null, amount: { minor: 999, currency: 'USD' } })
    expect(await eventStatus(`rb-${tx}`)).toBe('applied')
    expect(await eventStatus(`rf-${tx}`)).toBe('applied')
    const [rebill] = await rebillPayments(started.id)
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(rebill!.id).first()).toEqual({ status: 'partially_refunded', refunded_minor: 500 })
    expect(await env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(paymentId).first()).toEqual({ status: 'succeeded', refunded_minor: 0 })
  })

  it('a rebill and a cancellation that come before the first sale wait, then apply when it lands', async () => {
    const payment = newId('payment')
    const now = Date.now()
    await env.DB.prepare(
      `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, created_at_ms, updated_at_ms)
       VALUES (?, 'subscription', ?, ?, ?, 999, 'USD', 'sandbox', 'mid_01JFANZ0000000000000000001', 'pending', ?, ?)`,
    )
      .bind(payment, BRAND, CREATOR, newId('user'), now, now)
      .run()
    const gatewaySub = `sbx_sub_${payment.slice(-16)}`
    const base = { reference: payment, subscriptionId: gatewaySub, originalTransactionId: null, reason: null }
    const occurredAt = new Date(now).toISOString()
    await deliver({ ...base, id: `rb-${payment}`, type: 'rebill', occurredAt, transactionId: `tx-rb-${payment}`, amount: { minor: 999, currency: 'USD' } })
    await deliver({ ...base, id: `cn-${payment}`, type: 'cancellation', occurredAt, transactionId: null, amount: null, reason: 'fan cancelled at the biller' })
    expect(await eventStatus(`rb-${payment}`)).toBe('waiting')
    expect(await eventStatus(`cn-${payment}`)).toBe('waiting')
    expect(await subOf(payment)).toBeNull()

    const pendingBefore = await pending()
    await deliver({ ...base, id: `sale-${payment}`, type: 'sale', occurredAt, transactionId: `tx-${payment}`, amount: { minor: 999, currency: 'USD' } })
    expect(await eventStatus(`sale-${payment}`)).toBe('applied')
    expect(await eventStatus(`rb-${payment}`)).toBe('applied')
    expect(await eventStatus(`cn-${payment}`)).toBe('applied')
    const sub = (await subOf(payment))!
    // one period from the sale, one more from the rebill; then cancelled, access kept to that end
    expect(sub).toMatchObject({ gateway_subscription_id: gatewaySub, status: 'cancelled', rebills: 1, cancel_reason: 'fan cancelled at the biller', current_period_end_ms: now + 60 * DAY_MS })
    expect(await rebillPayments(sub.id)).toHaveLength(1)
    expect((await pending()) - pendingBefore).toBe(2 * 684)
  })

  it('the sweep expires a subscription no rebill renewed within the grace period, once', async () => {
    const payment = newId('payment')
    const now = Date.now()
    await env.DB.prepare(
      `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, status, created_at_ms, updated_at_ms)
       VALUES (?, 'subscription', ?, ?, ?, 999, 'USD', 'sandbox', 'pending', ?, ?)`,
    )
      .bind(payment, BRAND, CREATOR, newId('user'), now, now)
      .run()
    const occurred = now - 40 * DAY_MS
    await deliver({ id: `sale-${payment}`, type: 'sale', occurredAt: new Date(occurred).toISOString(), reference: payment, transactionId: `tx-${payment}`, subscriptionId: `sbx_sub_${payment.slice(-16)}`, originalTransactionId: null, amount: { minor: 999, currency: 'USD' }, reason: null })
    const sub = (await subOf(payment))!
    expect(sub).toMatchObject({ status: 'active', current_period_end_ms: occurred + 30 * DAY_MS })
    const end = sub.current_period_end_ms!
    expect((await sweepSubscriptions(env, end + SUBSCRIPTION_GRACE_MS - 1)).lapsed).not.toContain(sub.id)
    expect((await subOf(payment))!.status).toBe('active')
    const swept = await sweepSubscriptions(env, end + SUBSCRIPTION_GRACE_MS)
    expect(swept.lapsed).toContain(sub.id)
    expect((await subOf(payment))!).toMatchObject({ status: 'expired', cancel_reason: LAPSED_REASON, expired_at_ms: end + SUBSCRIPTION_GRACE_MS })
    expect((await sweepSubscriptions(env, end + SUBSCRIPTION_GRACE_MS + DAY_MS)).lapsed).not.toContain(sub.id)
  })
})
