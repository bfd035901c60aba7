/**
 * Creators' prices, the subscriptions API (a fan's own, staff's all, cursor pages, cancel) and the
 * fan's "My subscriptions" page and creator page on the brand host.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { getConfig } from '../../config'
import { newId } from '../../lib/ids'
import { signSandboxPostback, type SandboxEventBody } from '../gateways/sandbox'
import { sandboxSecret } from '../webhooks/settings'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const CREATOR_USER = 'usr_01JFANZDEM0000000000000004'
const BRAND = 'brd_01JFANZ0000000000000000001'
const API = 'api.localhost'
const SITE = 'boyfanz.localhost'

type Problem = { errors?: Array<{ path: string; message: string }> }
type Sub = { id: string; status: string; fan_user_id: string; price_minor: number; currency: string; current_period_end: string; cancel_reason: string | null }

async function deliver(body: SandboxEventBody): Promise<void> {
  const signed = signSandboxPostback(await sandboxSecret(getConfig(env)), body, Date.now())
  const res = await call(API, '/api/payments/webhooks/sandbox', { method: 'POST', headers: signed.headers, body: signed.rawBody })
  expect(res.status).toBe(200)
  await res.body?.cancel()
}

/** A subscription started by a first sale postback; no gateway cancel API behind it unless `sandbox` is asked for. */
async function subscription(fan: string, gatewaySub: string | null = null): Promise<string> {
  const payment = newId('payment')
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, status, created_at_ms, updated_at_ms)
     VALUES (?, 'subscription', ?, ?, ?, 999, 'USD', 'sandbox', 'pending', ?, ?)`,
  )
    .bind(payment, BRAND, CREATOR, fan, now, now)
    .run()
  await deliver({ id: `sale-${payment}`, type: 'sale', occurredAt: new Date(now).toISOString(), reference: payment, transactionId: `tx-${payment}`, subscriptionId: gatewaySub, originalTransactionId: null, amount: { minor: 999, currency: 'USD' }, reason: null })
  return (await env.DB.prepare('SELECT id FROM subscriptions WHERE initial_payment_id = ?').bind(payment).first<{ id: string }>())!.id
}

describe('creator subscription prices', () => {
  const put = (token: string, body: unknown, creator = CREATOR) => call(API, `/api/payments/creators/${creator}/subscription-price`, { method: 'PUT', token, body })
  const price = async () => (await call(API, `/api/payments/creators/${CREATOR}/subscription-price`)).json()

  it('anyone reads the price; the owning creator sets it within bounds; others are refused', async () => {
    expect(await price()).toEqual({ creator_id: CREATOR, amount_minor: 999, currency: 'USD', period_days: 30, custom: true })
    const owner = await tokenFor(['fan', 'creator'], { subject: CREATOR_USER })

    const res = await put(owner, { amount_minor: 1499, currency: 'EUR' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ creator_id: CREATOR, amount_minor: 1499, currency: 'EUR', period_days: 30, custom: true })
    expect(await price()).toMatchObject({ amount_minor: 1499, currency: 'EUR' })

    const refused = async (body: unknown, path: string) => {
      const bad = await put(owner, body)
      expect(bad.status).toBe(422)
      expect(((await bad.json()) as Problem).errors![0]!.path).toBe(path)
    }
    await refused({ amount_minor: 299, currency: 'USD' }, 'body.amount_minor')
    await refused({ amount_minor: 10_001, currency: 'USD' }, 'body.amount_minor')
    await refused({ amount_minor: 12.5, currency: 'USD' }, 'body.amount_minor')
    await refused({ amount_minor: 999, currency: 'XYZ' }, 'body.currency')
    await refused({ currency: 'USD' }, 'body.amount_minor')
    await refused({ amount_minor: 999, currency: 'USD', period_days: 7 }, 'body.period_days')
    // JPY has no minor unit: 3 to 100 yen is the same bound in its own unit
    await refused({ amount_minor: 300, currency: 'JPY' }, 'body.amount_minor')

    // another creator (any other account) may not; support (payments:subscriptions:manage) may
    const other = await put(await tokenFor(['fan', 'creator'], { subject: newId('user') }), { amount_minor: 500, currency: 'USD' })
    expect(other.status).toBe(403)
    expect(await price()).toMatchObject({ amount_minor: 1499, currency: 'EUR' })
    expect((await put(await tokenFor(['fan', 'support']), { amount_minor: 999, currency: 'USD' })).status).toBe(200)
    expect(await price()).toMatchObject({ amount_minor: 999, currency: 'USD' })

    expect((await put(owner, { amount_minor: 999, currency: 'USD' }, newId('creator'))).status).toBe(404)
    expect((await put(owner, { amount_minor: 999, currency: 'USD' }, 'alex')).status).toBe(400)
    expect((await call(API, `/api/payments/creators/${CREATOR}/subscription-price`, { method: 'PUT', body: { amount_minor: 999, currency: 'USD' } })).status).toBe(401)
  })

  it("the creator page's Subscribe button shows the creator's price", async () => {
    const cookie = `fanz_session=${await tokenFor(['fan'], { subject: newId('user'), age_verified: true })}`
    const owner = await tokenFor(['fan', 'creator'], { subject: CREATOR_USER })
    expect((await put(owner, { amount_minor: 1250, currency: 'USD' })).status).toBe(200)
    expect(await (await call(SITE, '/c/alex', { headers: { cookie } })).text()).toContain('Subscribe to Alex Rivers for 12.50 USD a month')
    expect((await put(owner, { amount_minor: 999, currency: 'USD' })).status).toBe(200)
    expect(await (await call(SITE, '/c/alex', { headers: { cookie } })).text()).toContain('Subscribe to Alex Rivers for 9.99 USD a month')
  })
})

describe('/api/payments/subscriptions', () => {
  it('a fan lists and views their own, page by page; staff see all and filter; cancel is the owner’s or support’s', async () => {
    const alice = newId('user')
    const bob = newId('user')
    const a1 = await subscription(alice)
    const a2 = await subscription(alice)
    const b1 = await subscription(bob)
    const aliceToken = await tokenFor(['fan'], { subject: alice })
    const bobToken = await tokenFor(['fan'], { subject: bob })

    const first = (await (await call(API, '/api/payments/subscriptions?limit=1', { token: aliceToken })).json()) as { items: Sub[]; next_cursor: string }
    expect(first.items.map((s) => s.id)).toEqual([a2])
    const second = (await (await call(API, `/api/payments/subscriptions?limit=1&cursor=${first.next_cursor}`, { token: aliceToken })).json()) as { items: Sub[]; next_cursor: string | null }
    expect(second).toEqual({ items: [expect.objectContaining({ id: a1, status: 'active', fan_user_id: alice, price_minor: 999, currency: 'USD' })], next_cursor: null })
    // a fan's filter on someone else is ignored: always their own
    const own = (await (await call(API, `/api/payments/subscriptions?fan_user_id=${bob}`, { token: aliceToken })).json()) as { items: Sub[] }
    expect(own.items.map((s) => s.id).sort()).toEqual([a1, a2].sort())
    expect((await call(API, '/api/payments/subscriptions?cursor=bogus', { token: aliceToken })).status).toBe(400)

    const support = await tokenFor(['fan', 'support'])
    const all = (await (await call(API, `/api/payments/subscriptions?creator_id=${CREATOR}&brand_id=${BRAND}&status=active&limit=200`, { token: support })).json()) as { items: Sub[] }
    expect(all.items.map((s) => s.id)).toEqual(expect.arrayContaining([a1, a2, b1]))
    const bobs = (await (await call(API, `/api/payments/subscriptions?fan_user_id=${bob}`, { token: support })).json()) as { items: Sub[] }
    expect(bobs.items.map((s) => s.id)).toEqual([b1])

    const view = (await (await call(API, `/api/payments/subscriptions/${a1}`, { token: aliceToken })).json()) as Sub & { payments: Array<{ kind: string; status: string; amount_minor: number }> }
    expect(view).toMatchObject({ id: a1, status: 'active' })
    expect(view.payments).toEqual([expect.objectContaining({ kind: 'subscription', status: 'succeeded', amount_minor: 999 })])
    expect((await call(API, `/api/payments/subscriptions/${a1}`, { token: bobToken })).status).toBe(404)
    expect((await call(API, `/api/payments/subscriptions/${a1}`, { token: support })).status).toBe(200)
    expect((await call(API, '/api/payments/subscriptions/nope', { token: aliceToken })).status).toBe(400)

    const cancel = (id: string, token: string, key: string) => call(API, `/api/payments/subscriptions/${id}/cancel`, { token, headers: { 'idempotency-key': `"${key}"` }, body: {} })
    // someone else's: not found, so ids cannot be probed
    expect((await cancel(a1, bobToken, 'bob-tries')).status).toBe(404)
    // a subscription the gateway never named cannot be cancelled through its API: the request is recorded
    const requested = await cancel(a1, aliceToken, 'alice-a1')
    expect(requested.status).toBe(202)
    expect(await requested.json()).toMatchObject({ status: 'requested', subscription: { id: a1, status: 'active', cancel_requested: true, cancel_reason: 'cancelled by the fan' } })
    // support cancels Bob's; the row changes when the gateway's cancellation postback arrives
    expect((await cancel(b1, support, 'support-b1')).status).toBe(202)
    const payment = (await env.DB.prepare('SELECT initial_payment_id FROM subscriptions WHERE id = ?').bind(b1).first<{ initial_payment_id: string }>())!.initial_payment_id
    await deliver({ id: `cn-${b1}`, type: 'cancellation', occurredAt: new Date().toISOString(), reference: payment, transactionId: null, subscriptionId: null, originalTransactionId: null, amount: null, reason: 'merchant request' })
    const b = (await (await call(API, `/api/payments/subscriptions/${b1}`, { token: bobToken })).json()) as Sub & { cancel_requested: boolean }
    expect(b).toMatchObject({ status: 'cancelled', cancel_requested: false, cancel_reason: 'cancelled by support' })
  })
})

describe('the fan on the brand site', () => {
  it('"My subscriptions" lists the subscription with its renewal date and price; Cancel asks the gateway; the creator page says until when', async () => {
    const fan = newId('user')
    const id = await subscription(fan, `sbx_sub_${newId('user').slice(-16)}`)
    const row = (await env.DB.prepare('SELECT current_period_end_ms, gateway_subscription_id FROM subscriptions WHERE id = ?').bind(id).first<{ current_period_end_ms: number; gateway_subscription_id: string }>())!
    // the sandbox must know the subscription to cancel it: put it there as its checkout would have
    const payment = (await env.DB.prepare('SELECT initial_payment_id FROM subscriptions WHERE id = ?').bind(id).first<{ initial_payment_id: string }>())!.initial_payment_id
    await env.EXPORTS.put(
      `sandbox-gateway/subscriptions/${row.gateway_subscription_id}.json`,
      JSON.stringify({ id: row.gateway_subscription_id, reference: payment, amount: { minor: 999, currency: 'USD' }, periodDays: 30, status: 'active', createdAt: new Date().toISOString(), rebills: 0, cancelledAt: null, cancelReason: null }),
    )
    const cookie = `fanz_session=${await tokenFor(['fan'], { subject: fan, age_verified: true })}`
    const until = new Date(row.current_period_end_ms).toISOString()

    const page = await call(SITE, '/me/subscriptions', { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(page.headers.get('cache-control')).toBe('private, no-store')
    const html = await page.text()
    expect(html).toContain('<h1 id="title">My subscriptions</h1>')
    expect(html).toContain(`data-subscription="${id}" data-status="active"`)
    expect(html).toContain('<a href="/c/alex">Alex Rivers</a>')
    expect(html).toContain(`Renews <time datetime="${until}">${until.slice(0, 10)}</time>`)
    expect(html).toContain('9.99 USD every 30 days')
    expect(html).toContain(`action="/me/subscriptions/${id}/cancel"`)
    expect(html).not.toContain('<script')

    const creatorPage = await (await call(SITE, '/c/alex', { headers: { cookie } })).text()
    expect(creatorPage).toContain(`Subscribed until <time datetime="${until}">${until.slice(0, 10)}</time> (renews automatically).`)
    expect(creatorPage).not.toContain('Subscribe to Alex Rivers')
    // a second subscription while one runs is refused
    const again = await call(SITE, '/c/alex/subscribe', { method: 'POST', headers: { cookie, origin: `http://${SITE}` } })
    expect(again.status).toBe(409)
    await again.body?.cancel()

    // cross-site posts are refused; the fan's own same-origin post cancels at the gateway
    const forged = await call(SITE, `/me/subscriptions/${id}/cancel`, { method: 'POST', headers: { cookie, origin: 'http://evil.example' } })
    expect(forged.status).toBe(403)
    await forged.body?.cancel()
    expect((await env.DB.prepare('SELECT status FROM subscriptions WHERE id = ?').bind(id).first())).toEqual({ status: 'active' })
    const cancelled = await call(SITE, `/me/subscriptions/${id}/cancel`, { method: 'POST', headers: { cookie, origin: `http://${SITE}` } })
    expect(cancelled.status).toBe(200)
    expect(cancelled.headers.get('refresh')).toBe('0;url=/me/subscriptions?cancelled')
    await cancelled.body?.cancel()
    expect(await env.DB.prepare('SELECT status, cancel_reason FROM subscriptions WHERE id = ?').bind(id).first()).toEqual({ status: 'cancelled', cancel_reason: 'cancelled by the fan' })

    const after = await (await call(SITE, '/me/subscriptions?cancelled', { headers: { cookie } })).text()
    expect(after).toContain('You keep access until the end of the period you paid for.')
    expect(after).toContain(`Access until <time datetime="${until}">`)
    expect(after).not.toContain(`action="/me/subscriptions/${id}/cancel"`)
    expect(await (await call(SITE, '/c/alex', { headers: { cookie } })).text()).toContain('(cancelled: it will not renew).')

    // someone else's subscription, or nobody signed in
    const stranger = `fanz_session=${await tokenFor(['fan'], { subject: newId('user'), age_verified: true })}`
    expect((await call(SITE, `/me/subscriptions/${id}/cancel`, { method: 'POST', headers: { cookie: stranger, origin: `http://${SITE}` } })).status).toBe(404)
    const anonymous = await call(SITE, '/me/subscriptions')
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.get('location')).toBe('/auth/login?return_to=%2Fme%2Fsubscriptions')
  })
})
