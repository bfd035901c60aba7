import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { bpsToDecimal, rateBps } from './query'

const API = 'api.localhost'
const B1 = 'brd_01JFANZ0000000000000000001'
const B2 = 'brd_01JFANZ0000000000000000002'
const B3 = 'brd_01JFANZ0000000000000000003'
const MID1 = 'mid_01JFANZ0000000000000000001'
const MID2 = 'mid_01JFANZ0000000000000000002'
const MID3 = 'mid_01JFANZ0000000000000000003'
const at = (iso: string) => Date.parse(iso)

interface Seed {
  brand: string
  gateway: string
  mid: string | null
  currency: string
  country: string
  method: string
  status: string
  amount: number
  refunded?: number
  technical?: 0 | 1 | null
  createdAt: number
  dispute?: { status: 'open' | 'evidence_submitted' | 'won' | 'lost'; amount: number }
}

const MARCH = '2026-03-15T12:00:00Z'
const SEEDS: Seed[] = [
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'succeeded', amount: 1_000, createdAt: at(MARCH) },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'partially_refunded', amount: 2_000, refunded: 500, createdAt: at(MARCH) },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'DE', method: 'card', status: 'charged_back', amount: 3_000, createdAt: at(MARCH), dispute: { status: 'open', amount: 3_000 } },
  // charged back, then won: the payment is back to succeeded and the dispute reinstated it
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'EUR', country: 'DE', method: 'card', status: 'succeeded', amount: 1_500, createdAt: at(MARCH), dispute: { status: 'won', amount: 1_500 } },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'failed', amount: 1_000, technical: 0, createdAt: at(MARCH) },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'failed', amount: 1_000, technical: 1, createdAt: at(MARCH) },
  // charged back before disputes were recorded: counts captured less refunds (2,000)
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'charged_back', amount: 2_500, refunded: 500, createdAt: at(MARCH) },
  { brand: B2, gateway: 'nowpayments', mid: MID2, currency: 'USD', country: 'US', method: 'crypto', status: 'succeeded', amount: 5_000, createdAt: at(MARCH) },
  { brand: B2, gateway: 'nowpayments', mid: MID2, currency: 'USD', country: 'US', method: 'crypto', status: 'failed', amount: 5_000, technical: null, createdAt: at(MARCH) },
  { brand: B2, gateway: 'bank_transfer', mid: MID3, currency: 'EUR', country: 'DE', method: 'sepa', status: 'refunded', amount: 4_000, refunded: 4_000, createdAt: at(MARCH) },
  // never counted: still pending; just before the range; exactly at its (exclusive) end
  { brand: B2, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'pending', amount: 700, createdAt: at(MARCH) },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'succeeded', amount: 9_999, createdAt: at('2026-02-28T23:59:59.999Z') },
  { brand: B1, gateway: 'sandbox', mid: MID1, currency: 'USD', country: 'US', method: 'card', status: 'succeeded', amount: 8_888, createdAt: at('2026-04-01T00:00:00Z') },
  // for the default range (last 30 days): one inside, one outside
  { brand: B3, gateway: 'sandbox', mid: null, currency: 'USD', country: 'US', method: 'card', status: 'succeeded', amount: 111, createdAt: Date.now() - 86_400_000 },
  { brand: B3, gateway: 'sandbox', mid: null, currency: 'USD', country: 'US', method: 'card', status: 'succeeded', amount: 222, createdAt: Date.now() - 40 * 86_400_000 },
]

const RANGE = 'from=2026-03-01&to=2026-04-01'
let finance: string

beforeAll(async () => {
  finance = await tokenFor(['finance'])
  for (const s of SEEDS) {
    const id = newId('payment', s.createdAt)
    await env.DB.prepare(
      `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, refunded_minor, method, country, failure_technical, created_at_ms, updated_at_ms)
       VALUES (?, 'tip', ?, 'crt_01JFANZ0000000000000000101', 'usr_01JFANZDEM0000000000000003', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(id, s.brand, s.amount, s.currency, s.gateway, s.mid, s.status, s.refunded ?? 0, s.method, s.country, s.technical ?? null, s.createdAt, s.createdAt)
      .run()
    if (s.dispute) {
      await env.DB.prepare(
        `INSERT INTO disputes (id, payment_id, brand_id, creator_id, gateway, mid_id, opened_by_event_id, amount_minor, currency, status, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, 'crt_01JFANZ0000000000000000101', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
        .bind(newId('dispute'), id, s.brand, s.gateway, s.mid, `cb-${id}`, s.dispute.amount, s.currency, s.dispute.status, s.createdAt, s.createdAt)
        .run()
    }
  }
})

async function get<T>(path: string, token = finance): Promise<{ status: number; body: T }> {
  const res = await call(API, path, { token })
  return { status: res.status, body: (await res.json()) as T }
}

type Revenue = { from: string; to: string; group_by: string[]; groups: Array<Record<string, unknown>> }
type Success = { groups: Array<Record<string, unknown>> }

describe('revenue', () => {
  it('per brand and gateway, each currency apart, with exact gross, refunds, chargebacks, reinstatements and net', async () => {
    const { status, body } = await get<Revenue>(`/api/payments/analytics/revenue?${RANGE}&group_by=brand,gateway`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', group_by: ['brand', 'gateway'] })
    expect(body.groups).toEqual([
      { group: { brand: B1, gateway: 'sandbox' }, currency: 'EUR', sales: 1, gross_minor: 1_500, refunded_minor: 0, charged_back_minor: 1_500, reinstated_minor: 1_500, net_minor: 1_500 },
      { group: { brand: B1, gateway: 'sandbox' }, currency: 'USD', sales: 4, gross_minor: 8_500, refunded_minor: 1_000, charged_back_minor: 5_000, reinstated_minor: 0, net_minor: 2_500 },
      { group: { brand: B2, gateway: 'bank_transfer' }, currency: 'EUR', sales: 1, gross_minor: 4_000, refunded_minor: 4_000, charged_back_minor: 0, reinstated_minor: 0, net_minor: 0 },
      { group: { brand: B2, gateway: 'nowpayments' }, currency: 'USD', sales: 1, gross_minor: 5_000, refunded_minor: 0, charged_back_minor: 0, reinstated_minor: 0, net_minor: 5_000 },
    ])
  })

  it('ungrouped: one row per currency, never a sum across them', async () => {
    const { body } = await get<Revenue>(`/api/payments/analytics/revenue?${RANGE}`)
    expect(body.groups).toEqual([
      { group: {}, currency: 'EUR', sales: 2, gross_minor: 5_500, refunded_minor: 4_000, charged_back_minor: 1_500, reinstated_minor: 1_500, net_minor: 1_500 },
      { group: {}, currency: 'USD', sales: 5, gross_minor: 13_500, refunded_minor: 1_000, charged_back_minor: 5_000, reinstated_minor: 0, net_minor: 7_500 },
    ])
  })

  it('filters (country, method, mid) combine with grouping by currency', async () => {
    const de = await get<Revenue>(`/api/payments/analytics/revenue?${RANGE}&country=DE&group_by=currency`)
    expect(de.body.groups).toEqual([
      { group: { currency: 'EUR' }, currency: 'EUR', sales: 2, gross_minor: 5_500, refunded_minor: 4_000, charged_back_minor: 1_500, reinstated_minor: 1_500, net_minor: 1_500 },
      { group: { currency: 'USD' }, currency: 'USD', sales: 1, gross_minor: 3_000, refunded_minor: 0, charged_back_minor: 3_000, reinstated_minor: 0, net_minor: 0 },
    ])
    const crypto = await get<Revenue>(`/api/payments/analytics/revenue?${RANGE}&method=crypto&group_by=mid,country`)
    expect(crypto.body.groups).toEqual([{ group: { mid: MID2, country: 'US' }, currency: 'USD', sales: 1, gross_minor: 5_000, refunded_minor: 0, charged_back_minor: 0, reinstated_minor: 0, net_minor: 5_000 }])
  })

  it('defaults to the last 30 days', async () => {
    const { body } = await get<Revenue>(`/api/payments/analytics/revenue?brand=${B3}`)
    expect(body.groups).toEqual([{ group: {}, currency: 'USD', sales: 1, gross_minor: 111, refunded_minor: 0, charged_back_minor: 0, reinstated_minor: 0, net_minor: 111 }])
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * 86_400_000)
  })
})

describe('success rate', () => {
  it('per gateway: attempts, approved, declined, technical errors and the rate', async () => {
    const { status, body } = await get<Success>(`/api/payments/analytics/success-rate?${RANGE}&group_by=gateway`)
    expect(status).toBe(200)
    expect(body.groups).toEqual([
      { group: { gateway: 'bank_transfer' }, attempts: 1, approved: 1, declined: 0, technical_errors: 0, rate: '1.0000', rate_bps: 10_000 },
      { group: { gateway: 'nowpayments' }, attempts: 2, approved: 1, declined: 1, technical_errors: 0, rate: '0.5000', rate_bps: 5_000 },
      // 5 of 7 = 0.714285...
      { group: { gateway: 'sandbox' }, attempts: 7, approved: 5, declined: 1, technical_errors: 1, rate: '0.7143', rate_bps: 7_143 },
    ])
    const all = await get<Success>(`/api/payments/analytics/success-rate?${RANGE}`)
    expect(all.body.groups).toEqual([{ group: {}, attempts: 10, approved: 7, declined: 2, technical_errors: 1, rate: '0.7000', rate_bps: 7_000 }])
    const none = await get<Success>('/api/payments/analytics/success-rate?from=2020-01-01&to=2020-02-01')
    expect(none.body.groups).toEqual([])
  })

  it('rounds half up in basis points', () => {
    expect(rateBps(2, 3)).toBe(6_667)
    expect(rateBps(1, 3)).toBe(3_333)
    expect(rateBps(1, 8)).toBe(1_250)
    expect(rateBps(1, 20_000)).toBe(1) // 0.5 bp rounds up
    expect(rateBps(0, 0)).toBe(0)
    expect(bpsToDecimal(7_143)).toBe('0.7143')
    expect(bpsToDecimal(50)).toBe('0.0050')
  })
})

describe('validation and access', () => {
  it.each([
    ['group_by=brand,planet', 'query.group_by'],
    ['group_by=brand,brand', 'query.group_by'],
    ['from=2026-02-30', 'query.from'],
    ['from=yesterday', 'query.from'],
    ['from=2026-03-02&to=2026-03-01', 'query.to'],
    ['from=2025-01-01&to=2026-03-01', 'query.from'],
    ['method=cash', 'query.method'],
    ['currency=usd', 'query.currency'],
  ])('%s -> 400 naming %s', async (query, path) => {
    const { status, body } = await get<{ errors: Array<{ path: string }> }>(`/api/payments/analytics/revenue?${query}`)
    expect(status).toBe(400)
    expect(body.errors.map((e) => e.path)).toContain(path)
  })

  it('366 days is allowed; operators may read, fans may not', async () => {
    expect((await get(`/api/payments/analytics/success-rate?from=2025-03-01&to=2026-03-02`)).status).toBe(200)
    expect((await get(`/api/payments/analytics/revenue?${RANGE}`, await tokenFor(['operator']))).status).toBe(200)
    expect((await get(`/api/payments/analytics/revenue?${RANGE}`, await tokenFor(['fan']))).status).toBe(403)
  })
})
