import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getConfig } from '../config'
import { call } from '../../test/helpers'
import { newId } from '../lib/ids'
import { ledgerFor } from '../ledger/stub'
import { signSandboxPostback, type SandboxEventBody } from './gateways/sandbox'
import { sandboxSecret } from './webhooks/settings'

const config = getConfig(env)
// Alex Rivers on BoyFanz (seed): split 20% platform, 5% reserve for 90 days, 7 pending days
const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'

async function newPayment(amountMinor = 10_000): Promise<string> {
  const id = newId('payment')
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, status, created_at_ms, updated_at_ms)
     VALUES (?, 'subscription', ?, ?, 'usr_01JFANZDEM0000000000000003', ?, 'USD', 'sandbox', 'pending', ?, ?)`,
  )
    .bind(id, BRAND, CREATOR, amountMinor, now, now)
    .run()
  return id
}

function event(id: string, type: SandboxEventBody['type'], reference: string, extra: Partial<SandboxEventBody> = {}): SandboxEventBody {
  return { id, type, occurredAt: new Date().toISOString(), reference, transactionId: null, subscriptionId: null, originalTransactionId: null, amount: null, reason: null, ...extra }
}

async function deliver(body: SandboxEventBody): Promise<{ new: number }> {
  const signed = signSandboxPostback(await sandboxSecret(config), body, Date.now())
  const res = await call('api.localhost', '/api/payments/webhooks/sandbox', { method: 'POST', headers: signed.headers, body: signed.rawBody })
  expect(res.status).toBe(200)
  return (await res.json()) as { new: number }
}

const status = async (eventId: string) =>
  (await env.DB.prepare("SELECT status, detail FROM gateway_events WHERE gateway = 'sandbox' AND event_id = ?").bind(eventId).first<{ status: string; detail: string | null }>())?.status
const payment = async (id: string) => env.DB.prepare('SELECT status, refunded_minor FROM payments WHERE id = ?').bind(id).first<{ status: string; refunded_minor: number }>()
const usd = async () => (await ledgerFor(env, CREATOR).balances('USD')).summary[0]

describe('postbacks applied to the creator ledger', () => {
  it('a sale lands as the creator share pending; a duplicate changes nothing; a chargeback reverses it', async () => {
    const before = (await usd()) ?? { pendingMinor: 0, reserveMinor: 0 }
    const pay = await newPayment(10_000)
    await deliver(event(`sale-${pay}`, 'sale', pay, { transactionId: `tx-${pay}`, amount: { minor: 10_000, currency: 'USD' } }))
    expect(await status(`sale-${pay}`)).toBe('applied')
    expect(await payment(pay)).toMatchObject({ status: 'succeeded' })
    // gross 100.00 - processor 10% = 90.00; platform 20% = 18.00; creator 72.00, of which 5% (3.60) reserved
    const after = await usd()
    expect(after!.pendingMinor - before.pendingMinor).toBe(6840)
    expect(after!.reserveMinor - before.reserveMinor).toBe(360)

    expect((await deliver(event(`sale-${pay}`, 'sale', pay, { transactionId: `tx-${pay}`, amount: { minor: 10_000, currency: 'USD' } }))).new).toBe(0)
    expect((await usd())!.pendingMinor).toBe(after!.pendingMinor)

    await deliver(event(`cb-${pay}`, 'chargeback', pay, { originalTransactionId: `tx-${pay}`, amount: { minor: 10_000, currency: 'USD' } }))
    expect(await status(`cb-${pay}`)).toBe('applied')
    expect(await payment(pay)).toMatchObject({ status: 'charged_back' })
    expect((await usd())!.pendingMinor).toBeLessThan(after!.pendingMinor)
  })

  it('a refund that arrives before its sale waits, then applies when the sale lands', async () => {
    const pay = await newPayment(5_000)
    await deliver(event(`refund-${pay}`, 'refund', pay, { originalTransactionId: `tx-${pay}`, amount: { minor: 2_000, currency: 'USD' } }))
    expect(await status(`refund-${pay}`)).toBe('waiting')
    await deliver(event(`sale-${pay}`, 'sale', pay, { transactionId: `tx-${pay}`, amount: { minor: 5_000, currency: 'USD' } }))
    expect(await status(`sale-${pay}`)).toBe('applied')
    expect(await status(`refund-${pay}`)).toBe('applied')
    expect(await payment(pay)).toMatchObject({ status: 'partially_refunded', refunded_minor: 2_000 })
  })

  it('an event for a payment nobody knows waits instead of being lost', async () => {
    await deliver(event('orphan-1', 'sale', 'pay_01JFANZ00000000000000NOPE', { amount: { minor: 100, currency: 'USD' } }))
    expect(await status('orphan-1')).toBe('waiting')
  })
})
