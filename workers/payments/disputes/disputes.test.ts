import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { getConfig } from '../../config'
import { auditLog } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { signSandboxPostback, type SandboxEventBody } from '../gateways/sandbox'
import { sandboxSecret } from '../webhooks/settings'
import { DAY_MS, DEFAULT_RESPONSE_DAYS } from './cases'
import { disputeCodes, postbackFields } from './codes'

const config = getConfig(env)
const BRAND = 'brd_01JFANZ0000000000000000001'
const MID = 'mid_01JFANZ0000000000000000001'
const FAN = 'usr_01JFANZDEM0000000000000003'
const API = 'api.localhost'
const SANDBOX = { host: 'localhost', headers: { origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' } }

/** A creator of its own per test, so its ledger balances are exact (BoyFanz split: 20% platform, 5% reserve). */
async function newCreator(): Promise<string> {
  const id = newId('creator')
  await env.DB.prepare(`INSERT INTO creators (id, brand_id, handle, display_name, created_at_ms) VALUES (?, ?, ?, 'Test Creator', ?)`).bind(id, BRAND, id.toLowerCase(), Date.now()).run()
  return id
}

async function newPayment(creatorId: string, amountMinor: number): Promise<string> {
  const id = newId('payment')
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, created_at_ms, updated_at_ms)
     VALUES (?, 'tip', ?, ?, ?, ?, 'USD', 'sandbox', ?, 'pending', ?, ?)`,
  )
    .bind(id, BRAND, creatorId, FAN, amountMinor, MID, now, now)
    .run()
  return id
}

function event(id: string, type: SandboxEventBody['type'], reference: string, extra: Partial<SandboxEventBody> = {}): SandboxEventBody {
  return { id, type, occurredAt: new Date().toISOString(), reference, transactionId: null, subscriptionId: null, originalTransactionId: null, amount: null, reason: null, ...extra }
}

async function deliver(body: SandboxEventBody): Promise<{ new: number; duplicates: number }> {
  const signed = signSandboxPostback(await sandboxSecret(config), body, Date.now())
  const res = await call(API, '/api/payments/webhooks/sandbox', { method: 'POST', headers: signed.headers, body: signed.rawBody })
  expect(res.status).toBe(200)
  return (await res.json()) as { new: number; duplicates: number }
}

const sale = (pay: string, minor: number) => event(`sale-${pay}`, 'sale', pay, { transactionId: `tx-${pay}`, amount: { minor, currency: 'USD' } })
const chargeback = (pay: string, minor: number, id = `cb-${pay}`) =>
  event(id, 'chargeback', pay, { originalTransactionId: `tx-${pay}`, amount: { minor, currency: 'USD' }, reason: '10.4 Other Fraud - Card Absent Environment' })

const usd = async (creatorId: string) => {
  const s = (await ledgerFor(env, creatorId).balances('USD')).summary[0]!
  return { pending: s.pendingMinor, reserve: s.reserveMinor, available: s.availableMinor, debt: s.debtMinor }
}
const eventStatus = async (eventId: string) => (await env.DB.prepare("SELECT status FROM gateway_events WHERE gateway = 'sandbox' AND event_id = ?").bind(eventId).first<{ status: string }>())?.status
const paymentStatus = async (id: string) => (await env.DB.prepare('SELECT status FROM payments WHERE id = ?').bind(id).first<{ status: string }>())?.status
const disputesOf = async (paymentId: string) => (await env.DB.prepare('SELECT * FROM disputes WHERE payment_id = ?').bind(paymentId).all<Record<string, unknown>>()).results
async function auditActions(subject: string): Promise<string[]> {
  return (await auditLog(env).list({ subject, limit: 50 })).map((e) => e.action)
}

async function chargedBack(amount = 10_000): Promise<{ creator: string; pay: string; disputeId: string }> {
  const creator = await newCreator()
  const pay = await newPayment(creator, amount)
  await deliver(sale(pay, amount))
  await deliver(chargeback(pay, amount))
  const [dispute] = await disputesOf(pay)
  return { creator, pay, disputeId: dispute!.id as string }
}

const representment = (pay: string) => ({
  summary: 'The fan used the content for weeks after paying; the card was theirs and they signed in with it.',
  category: 'fraud',
  evidence: {
    access_log: [{ at: '2026-11-01T10:00:00Z', action: 'viewed post 42', ip: '203.0.113.7' }],
    delivery: [{ at: '2026-11-01T09:59:00Z', description: 'subscriber access granted' }],
    consent: [{ at: '2026-10-01T08:00:00Z', document: 'terms-of-service', version: '2026-09' }],
    prior_payments: [{ payment_id: pay, at: '2026-10-01T08:00:00Z', amount_minor: 999, currency: 'USD' }],
  },
})

describe('disputes opened by chargeback postbacks', () => {
  it('a signed sandbox chargeback opens one dispute with the payment’s amount, MID, Visa reason code and deadline; a duplicate opens none', async () => {
    const before = Date.now()
    const { creator, pay, disputeId } = await chargedBack(10_000)
    const rows = await disputesOf(pay)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      id: disputeId, status: 'open', amount_minor: 10_000, currency: 'USD', gateway: 'sandbox', mid_id: MID, brand_id: BRAND, creator_id: creator,
      opened_by_event_id: `cb-${pay}`, network: 'visa', reason_code: '10.4',
    })
    const opened = rows[0]!.created_at_ms as number
    expect(opened).toBeGreaterThanOrEqual(before)
    expect(rows[0]!.respond_by_ms).toBe(opened + DEFAULT_RESPONSE_DAYS * DAY_MS)
    expect(await paymentStatus(pay)).toBe('charged_back')

    // the same postback again, and a second chargeback event for the same payment: still one dispute
    expect((await deliver(chargeback(pay, 10_000))).duplicates).toBe(1)
    await deliver(chargeback(pay, 10_000, `cb2-${pay}`))
    expect(await eventStatus(`cb2-${pay}`)).toBe('failed')
    expect(await disputesOf(pay)).toHaveLength(1)
    expect(await auditActions(`dispute:${disputeId}`)).toEqual(['payments.dispute.open'])
  })

  it('the amount is what the chargeback reversed: captured less refunds', async () => {
    const creator = await newCreator()
    const pay = await newPayment(creator, 8_000)
    await deliver(sale(pay, 8_000))
    await deliver(event(`rf-${pay}`, 'refund', pay, { transactionId: `rf-${pay}`, originalTransactionId: `tx-${pay}`, amount: { minor: 3_000, currency: 'USD' } }))
    await deliver(chargeback(pay, 8_000))
    expect((await disputesOf(pay))[0]).toMatchObject({ amount_minor: 5_000, status: 'open' })
  })

  it('lists with filters and cursor pages, and shows one dispute with its payment and event trail', async () => {
    const finance = await tokenFor(['finance'])
    const a = await chargedBack(1_000)
    const b = await chargedBack(2_000)
    const page1 = (await (await call(API, `/api/payments/disputes?gateway=sandbox&mid=${MID}&status=open&limit=1`, { token: finance })).json()) as { items: Array<{ id: string }>; next_cursor: string }
    expect(page1.items.map((d) => d.id)).toEqual([b.disputeId])
    const page2 = (await (await call(API, `/api/payments/disputes?gateway=sandbox&status=open&limit=1&cursor=${page1.next_cursor}`, { token: finance })).json()) as { items: Array<{ id: string }> }
    expect(page2.items.map((d) => d.id)).toEqual([a.disputeId])
    expect(((await (await call(API, '/api/payments/disputes?status=won', { token: finance })).json()) as { items: unknown[] }).items).toEqual([])
    const bad = await call(API, '/api/payments/disputes?status=maybe', { token: finance })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('query.status')

    const one = (await (await call(API, `/api/payments/disputes/${a.disputeId}`, { token: finance })).json()) as {
      payment: { id: string; amount_minor: number; status: string }
      events: Array<{ event_id: string; type: string; status: string }>
    }
    expect(one.payment).toMatchObject({ id: a.pay, amount_minor: 1_000, status: 'charged_back' })
    expect(one.events.map((e) => [e.type, e.status])).toEqual([['sale', 'applied'], ['chargeback', 'applied']])
    expect((await call(API, `/api/payments/disputes/${a.disputeId}`, { token: await tokenFor(['fan']) })).status).toBe(403)
  })
})

describe('representment', () => {
  it('prefills a draft from the platform’s facts, stores the submitted bundle in R2 and audits it; a second submission is refused', async () => {
    const finance = await tokenFor(['finance'])
    const creator = await newCreator()
    // an earlier, undisputed payment of the same fan to the same creator
    const earlier = await newPayment(creator, 999)
    await deliver(sale(earlier, 999))
    const pay = await newPayment(creator, 4_000)
    await deliver(sale(pay, 4_000))
    await deliver(chargeback(pay, 4_000))
    const disputeId = (await disputesOf(pay))[0]!.id as string

    const draft = (await (await call(API, `/api/payments/disputes/${disputeId}/evidence-draft`, { token: finance })).json()) as {
      category: string
      evidence: { prior_payments: Array<{ payment_id: string; amount_minor: number }> }
      facts: { gateway_events: Array<{ type: string }> }
      gaps: string[]
    }
    expect(draft.category).toBe('fraud')
    expect(draft.evidence.prior_payments).toEqual([expect.objectContaining({ payment_id: earlier, amount_minor: 999 })])
    expect(draft.facts.gateway_events.map((e) => e.type)).toEqual(['sale', 'chargeback'])
    expect(draft.gaps.length).toBeGreaterThan(0)

    const submit = (body: unknown, key: string) => call(API, `/api/payments/disputes/${disputeId}/evidence`, { token: finance, headers: { 'idempotency-key': `"${key}"` }, body })
    const invalid = await submit({ ...representment(earlier), category: 'because' }, crypto.randomUUID())
    expect(invalid.status).toBe(422)
    expect(((await invalid.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain('body.category')
    const empty = await submit({ summary: representment(earlier).summary, category: 'fraud', evidence: {} }, crypto.randomUUID())
    expect(((await empty.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain('body.evidence')

    const key = crypto.randomUUID()
    const res = await submit(representment(earlier), key)
    expect(res.status).toBe(200)
    const submitted = (await res.json()) as { status: string; evidence_key: string }
    expect(submitted.status).toBe('evidence_submitted')
    expect(submitted.evidence_key).toMatch(new RegExp(`^payments/disputes/${disputeId}/evidence/[0-9A-Z]{26}\\.json$`))
    const stored = (await (await env.EXPORTS.get(submitted.evidence_key))!.json()) as { representment: { category: string; evidence: { access_log: unknown[] } }; dispute: { payment_id: string } }
    expect(stored.representment.category).toBe('fraud')
    expect(stored.representment.evidence.access_log).toHaveLength(1)
    expect(stored.dispute.payment_id).toBe(pay)
    // the same request replayed answers the same; a new one finds the dispute no longer open
    expect(((await (await submit(representment(earlier), key)).json()) as { evidence_key: string }).evidence_key).toBe(submitted.evidence_key)
    expect((await submit(representment(earlier), crypto.randomUUID())).status).toBe(409)
    expect(await auditActions(`dispute:${disputeId}`)).toEqual(['payments.dispute.open', 'payments.dispute.evidence_submit'])
    const view = (await (await call(API, `/api/payments/disputes/${disputeId}`, { token: finance })).json()) as { status: string; evidence: { representment: { summary: string } } }
    expect(view.status).toBe('evidence_submitted')
    expect(view.evidence.representment.summary).toBe(representment(earlier).summary)
  })

  it('refuses evidence after respond_by (409)', async () => {
    const finance = await tokenFor(['finance'])
    const { disputeId, pay } = await chargedBack(1_500)
    await env.DB.prepare('UPDATE disputes SET respond_by_ms = ? WHERE id = ?').bind(Date.now() - 1, disputeId).run()
    const res = await call(API, `/api/payments/disputes/${disputeId}/evidence`, { token: finance, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` }, body: representment(pay) })
    expect(res.status).toBe(409)
    expect((await disputesOf(pay))[0]).toMatchObject({ status: 'open', evidence_key: null })
  })
})

describe('decisions', () => {
  it('sandbox "merchant wins" sends a signed reversal: the ledger reinstates the creator, the dispute is won, the payment succeeded', async () => {
    const creator = await newCreator()
    const pay = await newPayment(creator, 10_000)
    await deliver(sale(pay, 10_000))
    // 100.00 - 10% processor = 90.00; 20% platform = 18.00; creator 72.00 = 68.40 pending + 3.60 reserve
    expect(await usd(creator)).toEqual({ pending: 6_840, reserve: 360, available: 0, debt: 0 })
    await deliver(chargeback(pay, 10_000))
    // the creator's 72.00 comes back out of pending and reserve; the 25.00 chargeback fee becomes debt
    expect(await usd(creator)).toEqual({ pending: 0, reserve: 0, available: 0, debt: 2_500 })
    const disputeId = (await disputesOf(pay))[0]!.id as string

    const console = await (await call(SANDBOX.host, '/sandbox-gateway/disputes')).text()
    expect(console).toContain(disputeId)
    expect((await call(SANDBOX.host, `/sandbox-gateway/disputes/${disputeId}/win`, { method: 'POST', headers: { 'content-type': SANDBOX.headers['content-type'], origin: 'https://evil.example' } })).status).toBe(403)
    const won = await call(SANDBOX.host, `/sandbox-gateway/disputes/${disputeId}/win`, { method: 'POST', headers: SANDBOX.headers, body: '' })
    expect(won.status).toBe(200)
    expect(await eventStatus(`sbx_cbr_${disputeId}`)).toBe('applied')
    // reinstated 72.00 nets the 25.00 debt first: 47.00 available (the fee is not returned)
    expect(await usd(creator)).toEqual({ pending: 0, reserve: 0, available: 4_700, debt: 0 })
    expect((await disputesOf(pay))[0]).toMatchObject({ status: 'won' })
    expect(await paymentStatus(pay)).toBe('succeeded')
    expect(await auditActions(`dispute:${disputeId}`)).toEqual(['payments.dispute.open', 'payments.dispute.won'])

    // decided: a second click is refused, and the reversal redelivered changes nothing
    expect((await call(SANDBOX.host, `/sandbox-gateway/disputes/${disputeId}/win`, { method: 'POST', headers: SANDBOX.headers, body: '' })).status).toBe(409)
    const again = await deliver({ ...event(`sbx_cbr2_${disputeId}`, 'chargeback_reversal', pay, { originalTransactionId: `tx-${pay}` }) })
    expect(again.new).toBe(1)
    expect(await eventStatus(`sbx_cbr2_${disputeId}`)).toBe('ignored')
    expect(await usd(creator)).toEqual({ pending: 0, reserve: 0, available: 4_700, debt: 0 })
    expect((await ledgerFor(env, creator).verify()).ok).toBe(true)
  })

  it('a reversal that arrives before its chargeback waits, then applies when the chargeback lands', async () => {
    const creator = await newCreator()
    const pay = await newPayment(creator, 10_000)
    await deliver(sale(pay, 10_000))
    await deliver(event(`rev-${pay}`, 'chargeback_reversal', pay, { originalTransactionId: `tx-${pay}`, amount: { minor: 10_000, currency: 'USD' } }))
    expect(await eventStatus(`rev-${pay}`)).toBe('waiting')
    expect(await usd(creator)).toEqual({ pending: 6_840, reserve: 360, available: 0, debt: 0 })
    await deliver(chargeback(pay, 10_000))
    expect(await eventStatus(`cb-${pay}`)).toBe('applied')
    expect(await eventStatus(`rev-${pay}`)).toBe('applied')
    expect((await disputesOf(pay))[0]).toMatchObject({ status: 'won' })
    expect(await paymentStatus(pay)).toBe('succeeded')
    expect(await usd(creator)).toEqual({ pending: 0, reserve: 0, available: 4_700, debt: 0 })
  })

  it('a reversal before the sale itself waits through both', async () => {
    const creator = await newCreator()
    const pay = await newPayment(creator, 2_000)
    await deliver(event(`rev-${pay}`, 'chargeback_reversal', pay, { originalTransactionId: `tx-${pay}` }))
    expect(await eventStatus(`rev-${pay}`)).toBe('waiting')
    await deliver(sale(pay, 2_000))
    expect(await eventStatus(`rev-${pay}`)).toBe('waiting')
    await deliver(chargeback(pay, 2_000))
    expect(await eventStatus(`rev-${pay}`)).toBe('applied')
    expect((await disputesOf(pay))[0]).toMatchObject({ status: 'won' })
  })

  it('accept closes the dispute lost and moves no money; accepting again is 409', async () => {
    const finance = await tokenFor(['finance'])
    const { creator, disputeId, pay } = await chargedBack(10_000)
    const after = await usd(creator)
    const res = await call(API, `/api/payments/disputes/${disputeId}/accept`, { method: 'POST', token: finance })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { status: string }).status).toBe('lost')
    expect(await usd(creator)).toEqual(after)
    expect(await paymentStatus(pay)).toBe('charged_back')
    expect((await call(API, `/api/payments/disputes/${disputeId}/accept`, { method: 'POST', token: finance })).status).toBe(409)
    expect((await call(API, `/api/payments/disputes/${disputeId}/accept`, { method: 'POST', token: await tokenFor(['support']) })).status).toBe(403)
    expect(await auditActions(`dispute:${disputeId}`)).toEqual(['payments.dispute.open', 'payments.dispute.lost'])
  })

  it('sandbox "merchant loses" closes the dispute lost through the same path', async () => {
    const { disputeId, pay } = await chargedBack(3_000)
    const res = await call(SANDBOX.host, `/sandbox-gateway/disputes/${disputeId}/lose`, { method: 'POST', headers: SANDBOX.headers, body: '' })
    expect(res.status).toBe(200)
    expect((await disputesOf(pay))[0]).toMatchObject({ status: 'lost' })
    expect(await paymentStatus(pay)).toBe('charged_back')
    expect(await (await call(SANDBOX.host, '/sandbox-gateway/disputes')).text()).not.toContain(disputeId)
  })
})

describe('network and reason codes', () => {
  it('reads explicit fields, else a leading Visa or Mastercard code in the reason, else nothing', () => {
    expect(disputeCodes(postbackFields('{"reason":"10.4 Other Fraud - Card Absent Environment"}'))).toEqual({ network: 'visa', reasonCode: '10.4' })
    expect(disputeCodes(postbackFields('reasonCode=4837&cardType=MC'))).toEqual({ network: 'mastercard', reasonCode: '4837' })
    expect(disputeCodes(postbackFields('{"reason":"4863 Cardholder does not recognize"}'))).toEqual({ network: 'mastercard', reasonCode: '4863' })
    expect(disputeCodes(postbackFields('{"reason":"customer unhappy"}'))).toEqual({ network: null, reasonCode: null })
    expect(disputeCodes(postbackFields('{"reason":"2024 was a year"}'))).toEqual({ network: null, reasonCode: null })
  })
})
