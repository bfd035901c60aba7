/**
 * Earnings, payout history and remittance statements through the whole Worker (edge chain, access
 * declarations, `payoutCreator`), over a creator whose payouts went through the real lifecycle: one
 * settled, one failed (hold voided), later one still pending. Figures in test-fixtures.ts.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { returnPayout } from '../lifecycle'
import { REMITTANCE_CSV_HEADER } from './render'
import { pendingPayout, seedCreatorWithPayouts, T0, type Fixture } from './test-fixtures'

const API = 'api.localhost'
const DAY = 86_400_000

let f: Fixture
let owner: string
let stranger: Fixture
let strangerToken: string

beforeAll(async () => {
  f = await seedCreatorWithPayouts(env)
  stranger = await seedCreatorWithPayouts(env, { displayName: 'Other Creator' })
  owner = await tokenFor(['creator'], { subject: f.userId })
  strangerToken = await tokenFor(['creator'], { subject: stranger.userId })
})

const get = async (path: string, token = owner) => call(API, `/api/payouts${path}`, { token })

interface EarningsBody {
  creator_id: string
  display_name: string
  rule: { kind: string; weekday: number | null; currency: string; is_default: boolean; description: string }
  currencies: Array<{
    currency: string
    balances: Record<string, number>
    paid_out: Record<string, number>
    in_flight: Record<string, number>
    next_payout: { kind: string; date?: string; at?: string }
  }>
  methods: Array<{ id: string; summary: string; usable_from: string; is_default: boolean }>
  refusals: Array<{ id: string; code: string; message: string; at: string }>
}

describe('GET /creators/{id}/earnings', () => {
  it('shows the ledger balances, paid out to date, nothing in flight, the default rule with its next Tuesday, methods and refusals', async () => {
    const res = await get(`/creators/${f.creatorId}/earnings`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const body = (await res.json()) as EarningsBody
    expect(body.creator_id).toBe(f.creatorId)
    expect(body.display_name).toBe('Remy Payee')
    expect(body.rule).toMatchObject({ kind: 'weekly', weekday: 2, currency: 'USD', is_default: true, description: 'Every Tuesday (platform default)' })
    expect(body.currencies).toHaveLength(1)
    const usd = body.currencies[0]!
    // 200.00 sale: 160.00 creator share, 8.00 reserve; 50.00 paid, 30.00 voided back
    expect(usd.balances).toEqual({ pending_minor: 0, available_minor: 10_200, reserve_minor: 800, on_hold_minor: 0, debt_minor: 0 })
    expect(usd.paid_out).toEqual({ count: 1, amount_minor: 5_000, fee_minor: 25, net_minor: 4_975 })
    expect(usd.in_flight).toEqual({ count: 0, amount_minor: 0 })
    expect(usd.next_payout.kind).toBe('date')
    const next = Date.parse(usd.next_payout.at!)
    expect(new Date(next).getUTCDay()).toBe(2)
    expect(new Date(next).getUTCHours()).toBe(9)
    expect(next).toBeGreaterThan(Date.now())
    expect(next - Date.now()).toBeLessThanOrEqual(7 * DAY)
    expect(body.methods).toEqual([{ id: f.methodId, type: 'ach', rail: 'nacha', currency: 'USD', summary: 'ACH checking •••• 6789', is_default: true, usable_from: new Date(T0 + 3 * DAY).toISOString(), created_at: new Date(T0).toISOString() }])
    expect(body.refusals).toEqual([{ id: f.refusalId, run_id: null, code: 'kyc_not_verified', message: 'Verify your identity to get paid.', at: new Date(T0 + 8 * DAY).toISOString() }])
    // never the sealed details
    expect(JSON.stringify(body)).not.toContain('123456789')
  })

  it('counts a pending payout in flight and on hold, and a rule of the creator gives its own date', async () => {
    const c = await seedCreatorWithPayouts(env)
    await pendingPayout(env, { creatorId: c.creatorId, methodId: c.methodId, amountMinor: 1_000, feeMinor: 25, createdAtMs: T0 + 9 * DAY })
    await env.DB.prepare("INSERT INTO payout_rules (creator_id, kind, threshold_minor, currency, updated_by, updated_at_ms) VALUES (?, 'threshold', 50000, 'USD', ?, ?)").bind(c.creatorId, c.userId, T0).run()
    const body = (await (await get(`/creators/${c.creatorId}/earnings`, await tokenFor(['creator'], { subject: c.userId }))).json()) as EarningsBody
    expect(body.currencies[0]!.balances).toMatchObject({ available_minor: 9_200, on_hold_minor: 1_000 })
    expect(body.currencies[0]!.in_flight).toEqual({ count: 1, amount_minor: 1_000 })
    expect(body.rule).toMatchObject({ kind: 'threshold', is_default: false, description: 'When your available balance reaches 500.00 USD' })
    expect(body.currencies[0]!.next_payout).toEqual({ kind: 'threshold_not_reached', threshold_minor: 50_000 })
  })

  it('finance and admins read any creator (payouts:read)', async () => {
    for (const role of ['finance', 'admin'] as const) {
      const token = await tokenFor([role])
      const body = (await (await get(`/creators/${f.creatorId}/earnings`, token)).json()) as EarningsBody
      expect(body.currencies[0]!.paid_out.net_minor, role).toBe(4_975)
      expect((await get(`/payouts/${f.settledId}/remittance?format=csv`, token)).status, role).toBe(200)
      expect((await get(`/creators/${f.creatorId}/payouts`, token)).status, role).toBe(200)
    }
  })

  it("answers 404 for another creator's earnings and an unknown creator, 403 for a fan, 401 without a token", async () => {
    expect((await get(`/creators/${f.creatorId}/earnings`, strangerToken)).status).toBe(404)
    expect((await get(`/creators/${newId('creator')}/earnings`)).status).toBe(404)
    expect((await get(`/creators/${f.creatorId}/earnings`, await tokenFor(['fan']))).status).toBe(403)
    expect((await call(API, `/api/payouts/creators/${f.creatorId}/earnings`)).status).toBe(401)
  })
})

interface HistoryBody {
  items: Array<{ id: string; state: string; amount_minor: number; fee_minor: number; net_minor: number; method: { summary: string }; processor_ref: string | null; failure: { code: string; reason: string } | null; created_at: string; settled_at: string | null }>
  next_cursor: string | null
}

describe('GET /creators/{id}/payouts', () => {
  it('lists the history newest first with method summary, dates and the failure reason', async () => {
    const body = (await (await get(`/creators/${f.creatorId}/payouts`)).json()) as HistoryBody
    expect(body.items.map((p) => [p.id, p.state])).toEqual([
      [f.failedId, 'failed'],
      [f.settledId, 'settled'],
    ])
    expect(body.items[0]).toMatchObject({ amount_minor: 3_000, fee_minor: 25, net_minor: 2_975, failure: { code: 'R03', reason: 'No account / unable to locate account' }, settled_at: null, created_at: new Date(T0 + 6 * DAY).toISOString() })
    expect(body.items[1]).toMatchObject({
      amount_minor: 5_000,
      fee_minor: 25,
      net_minor: 4_975,
      method: { summary: 'ACH checking •••• 6789' },
      processor_ref: 'TRACE-021000020000001',
      failure: null,
      settled_at: new Date(T0 + 5 * DAY).toISOString(),
    })
    expect(body.next_cursor).toBeNull()
  })

  it('pages by cursor and refuses a foreign cursor', async () => {
    const first = (await (await get(`/creators/${f.creatorId}/payouts?limit=1`)).json()) as HistoryBody
    expect(first.items.map((p) => p.id)).toEqual([f.failedId])
    const second = (await (await get(`/creators/${f.creatorId}/payouts?limit=1&cursor=${first.next_cursor}`)).json()) as HistoryBody
    expect(second.items.map((p) => p.id)).toEqual([f.settledId])
    expect(second.next_cursor).toBeNull()
    expect((await get(`/creators/${f.creatorId}/payouts?cursor=nonsense`)).status).toBe(400)
    expect((await get(`/creators/${f.creatorId}/payouts`, strangerToken)).status).toBe(404)
  })
})

describe('remittance advice', () => {
  it('JSON names payer, payee, date, method, processor reference and amounts', async () => {
    const res = await get(`/payouts/${f.settledId}/remittance`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      payer: { name: 'FANZ', website: 'localhost' },
      payee: { creator_id: f.creatorId, display_name: 'Remy Payee' },
      date: '2030-01-15',
      payout: { id: f.settledId, amount_minor: 5_000, fee_minor: 25, net_minor: 4_975, currency: 'USD', state: 'settled', processor_ref: 'TRACE-021000020000001', method: { id: f.methodId, summary: 'ACH checking •••• 6789' } },
    })
  })

  it('CSV has the header and one row with exact amounts', async () => {
    const res = await get(`/payouts/${f.settledId}/remittance?format=csv`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="remittance-${f.settledId}.csv"`)
    expect(await res.text()).toBe(
      `${REMITTANCE_CSV_HEADER.join(',')}\r\nFANZ,Remy Payee,${f.creatorId},${f.settledId},2030-01-15,settled,ACH checking •••• 6789,TRACE-021000020000001,USD,5000,25,4975,50.00,0.25,49.75\r\n`,
    )
  })

  it('HTML is a printable page with every fact and no script', async () => {
    const res = await get(`/payouts/${f.settledId}/remittance?format=html`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html.startsWith('<!doctype html><html lang="en">')).toBe(true)
    expect(html).toContain('<h1 id="remittance-title">Remittance advice</h1>')
    expect(html).toContain('<dd data-field="payer">FANZ (localhost)</dd>')
    expect(html).toContain('<dd data-field="payee">Remy Payee</dd>')
    expect(html).toContain(`<code>${f.settledId}</code>`)
    expect(html).toContain('<time datetime="2030-01-15">2030-01-15</time>')
    expect(html).toContain('<dd data-field="method">ACH checking •••• 6789</dd>')
    expect(html).toContain('<dd data-field="processor-ref">TRACE-021000020000001</dd>')
    expect(html).toContain('<td data-amount="amount">50.00 USD</td>')
    expect(html).toContain('<td data-amount="fee">0.25 USD</td>')
    expect(html).toContain('<td data-amount="net">49.75 USD</td>')
    expect(html).not.toContain('<script')
  })

  it('a failed payout has none (409); someone else and unknown ids get 404', async () => {
    expect((await get(`/payouts/${f.failedId}/remittance`)).status).toBe(409)
    expect((await get(`/payouts/${f.settledId}/remittance`, strangerToken)).status).toBe(404)
    expect((await get(`/payouts/${newId('payout')}/remittance`)).status).toBe(404)
    expect((await get(`/payouts/${f.settledId}/remittance?format=pdf`)).status).toBe(400)
  })
})

describe('a returned payout', () => {
  it('leaves paid out to date, is credited back, keeps its remittance with the return and counts as returned in the month', async () => {
    const r = await seedCreatorWithPayouts(env, { displayName: 'Robin Returned' })
    const token = await tokenFor(['creator'], { subject: r.userId })
    await returnPayout(env, { env, actor: 'system:test' }, r.settledId, { id: newId('payoutReturn'), source: 'ach_return', code: 'R02', reason: 'Account closed', recordedBy: 'system:test' }, T0 + 9 * DAY)
    const earnings = (await (await get(`/creators/${r.creatorId}/earnings`, token)).json()) as EarningsBody
    expect(earnings.currencies[0]!.balances.available_minor).toBe(15_200)
    expect(earnings.currencies[0]!.paid_out).toEqual({ count: 0, amount_minor: 0, fee_minor: 0, net_minor: 0 })
    const advice = (await (await get(`/payouts/${r.settledId}/remittance`, token)).json()) as { payout: { state: string; returned_at: string; failure: unknown } }
    expect(advice.payout).toMatchObject({ state: 'returned', returned_at: new Date(T0 + 9 * DAY).toISOString(), failure: { code: 'R02', reason: 'Account closed' } })
    expect(await (await get(`/payouts/${r.settledId}/remittance?format=html`, token)).text()).toContain('This payout came back on 2030-01-19 (Account closed); the amount was credited to your balance again.')
    const month = (await (await get(`/creators/${r.creatorId}/remittances/2030-01`, token)).json()) as { totals: Record<string, Record<string, number>> }
    expect(month.totals.returned).toEqual({ count: 1, amount_minor: 5_000, fee_minor: 25, net_minor: 4_975 })
    expect(month.totals.paid!.count).toBe(0)
  })
})

describe('monthly remittance statement', () => {
  it('lists every payout of the month oldest first with integer totals per state', async () => {
    const res = await get(`/creators/${f.creatorId}/remittances/2030-01?currency=USD`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { payouts: Array<{ id: string }>; totals: Record<string, Record<string, number>>; from: string; to: string }
    expect(body.payouts.map((p) => p.id)).toEqual([f.settledId, f.failedId])
    expect(body.from).toBe('2030-01-01T00:00:00.000Z')
    expect(body.to).toBe('2030-02-01T00:00:00.000Z')
    expect(body.totals).toEqual({
      paid: { count: 1, amount_minor: 5_000, fee_minor: 25, net_minor: 4_975 },
      returned: { count: 0, amount_minor: 0, fee_minor: 0, net_minor: 0 },
      in_flight: { count: 0, amount_minor: 0, fee_minor: 0, net_minor: 0 },
      not_paid: { count: 1, amount_minor: 3_000, fee_minor: 25, net_minor: 2_975 },
    })
    const empty = (await (await get(`/creators/${f.creatorId}/remittances/2030-02`)).json()) as { payouts: unknown[]; totals: { paid: { count: number } } }
    expect(empty.payouts).toEqual([])
    expect(empty.totals.paid.count).toBe(0)
  })

  it('CSV: one row per payout, then the totals', async () => {
    const res = await get(`/creators/${f.creatorId}/remittances/2030-01?currency=USD&format=csv`)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="remittances-${f.creatorId}-2030-01-USD.csv"`)
    const lines = (await res.text()).split('\r\n')
    expect(lines[0]).toBe(`row,${REMITTANCE_CSV_HEADER.join(',')},count`)
    expect(lines[1]).toBe(`payout,FANZ,Remy Payee,${f.creatorId},${f.settledId},2030-01-15,settled,ACH checking •••• 6789,TRACE-021000020000001,USD,5000,25,4975,50.00,0.25,49.75,`)
    expect(lines[2]).toBe(`payout,FANZ,Remy Payee,${f.creatorId},${f.failedId},2030-01-16,failed,ACH checking •••• 6789,,USD,3000,25,2975,30.00,0.25,29.75,`)
    expect(lines[3]).toBe(`total_paid,FANZ,Remy Payee,${f.creatorId},,2030-01,,,,USD,5000,25,4975,50.00,0.25,49.75,1`)
    expect(lines[6]).toBe(`total_not_paid,FANZ,Remy Payee,${f.creatorId},,2030-01,,,,USD,3000,25,2975,30.00,0.25,29.75,1`)
    expect(lines).toHaveLength(8)
  })

  it('refuses a malformed month (400) and hides other creators (404)', async () => {
    expect((await get(`/creators/${f.creatorId}/remittances/2030-13`)).status).toBe(400)
    expect((await get(`/creators/${f.creatorId}/remittances/2030-01`, strangerToken)).status).toBe(404)
  })
})
