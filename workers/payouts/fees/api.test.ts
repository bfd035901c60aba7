/**
 * Fee schedules and the creator's fee preview through the API: the seeded schedules (d1/seed.sql)
 * give exact figures, e.g. Wise USD 100.00 = 45 fixed + ceil(10000 * 41 / 10000) = 41 -> fee 86,
 * net 9914; Paxum EUR converts (USD-funded) and adds its 150 bps spread. Finance edits a schedule
 * with a strong step-up and the audit entry keeps before and after.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { mint, newCreator } from '../../vault/kyc/test-kit'
import { feeSchedule, feeSchedules, railConverts } from './schedule'

const API = 'api.localhost'
const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })
const newYork = { streetName: 'Main Street', buildingNumber: '100', postCode: '10001', townName: 'New York', countrySubDivision: 'NY', country: 'US' }
const berlin = { streetName: 'Unter den Linden', buildingNumber: '77', postCode: '10117', townName: 'Berlin', country: 'DE' }
const WISE_USD = { type: 'wise', currency: 'USD', accountHolderName: 'Alex Example', details: { kind: 'aba', routingNumber: '026009593', accountNumber: '12345678', accountType: 'savings' }, address: newYork }
const SEPA = { type: 'sepa', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', name: 'Alex Example', address: berlin }

interface Quote {
  fee_minor: number
  net_minor: number
  parts: { fixed_minor: number; percent_minor: number; fx_minor: number }
}
interface RailPreview {
  rail: string
  method_types: string[]
  currency: string
  minimum_minor: number
  maximum_minor: number | null
  instant_available: boolean
  converts: boolean
  fx_spread_bps: number
  quote: Quote | null
  refusal: { code: string; detail: string } | null
}
interface Preview {
  amount_minor: number
  currency: string
  instant: boolean
  rails: RailPreview[]
  methods: Array<Omit<RailPreview, 'method_types'> & { method_id: string; summary: string; usable_from: string }>
}

async function addMethod(token: string, creatorId: string, method: Record<string, unknown>): Promise<string> {
  const res = await call(API, `/api/payouts/creators/${creatorId}/methods`, { token, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` }, body: { method } })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { method: { id: string } }).method.id
}

async function preview(token: string, creatorId: string, query: string): Promise<Response> {
  return call(API, `/api/payouts/creators/${creatorId}/fee-preview?${query}`, { token })
}

const byRail = (p: Preview) => Object.fromEntries(p.rails.map((r) => [r.rail, r]))

describe('fee schedules', () => {
  it('are public, with conversion and instant availability per rail and currency', async () => {
    const res = await call(API, '/api/payouts/fees')
    expect(res.status).toBe(200)
    const items = ((await res.json()) as { items: Array<Record<string, unknown>> }).items
    const find = (rail: string, currency: string) => items.find((s) => s.rail === rail && s.currency === currency)
    expect(find('wise', 'USD')).toMatchObject({ fixed_minor: 45, percent_bps: 41, fx_spread_bps: 0, converts: false, instant: null, min_payout_minor: 2000, method_types: ['wise'] })
    expect(find('paxum', 'EUR')).toMatchObject({ fixed_minor: 100, fx_spread_bps: 150, converts: true, instant: { fixed_minor: 300, percent_bps: 0 } })
    expect(find('nacha', 'USD')).toMatchObject({ method_types: ['ach'], per_batch_fixed_minor: 1500 })
    expect(find('sandbox', 'USD')).toMatchObject({ method_types: [] })
    expect(items.some((s) => 'updated_by' in s)).toBe(false)
    const filtered = await call(API, '/api/payouts/fees?currency=EUR&rail=sepa')
    expect(((await filtered.json()) as { items: unknown[] }).items).toEqual([expect.objectContaining({ rail: 'sepa', currency: 'EUR', fixed_minor: 20 })])
    expect((await call(API, '/api/payouts/fees?currency=ABC')).status).toBe(400)
    expect(railConverts('wire', 'EUR')).toBe(true)
    expect(railConverts('sepa', 'EUR')).toBe(false)
    const all = await feeSchedules(env)
    expect(all.get('wise:GBP')).toMatchObject({ fixedMinor: 30, percentBps: 35 })
  })

  it('finance sets a schedule with a strong step-up, audited with before and after', async () => {
    const weak = await mint({ roles: ['finance'] })
    const body = { fixed_minor: 50, percent_bps: 45, fx_spread_bps: 0, min_payout_minor: 2500, max_payout_minor: 5_000_000 }
    const refused = await call(API, '/api/payouts/fees/wise/GBP', { token: weak, method: 'PUT', body })
    expect(refused.status).toBe(401)
    const creator = await newCreator()
    expect((await call(API, '/api/payouts/fees/wise/GBP', { token: await strong(['creator'], creator.userId), method: 'PUT', body })).status).toBe(403)
    expect((await call(API, '/api/payouts/fees/wise/GBP', { token: await strong(['compliance_officer']), method: 'PUT', body })).status).toBe(403)

    const finance = await strong(['finance'])
    const res = await call(API, '/api/payouts/fees/wise/GBP', { token: finance, method: 'PUT', body })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { schedule: Record<string, unknown>; created: boolean })).toMatchObject({ created: false, schedule: { fixed_minor: 50, percent_bps: 45, min_payout_minor: 2500, max_payout_minor: 5_000_000, instant: null } })
    expect(await feeSchedule(env, 'wise', 'GBP')).toMatchObject({ fixedMinor: 50, percentBps: 45, minPayoutMinor: 2500, maxPayoutMinor: 5_000_000, perBatchFixedMinor: 0 })

    const admin = await mint({ roles: ['admin'] })
    const log = await call(API, `/api/compliance/audit?${new URLSearchParams({ action: 'payouts.fee_schedule.set', subject: 'payout_fee_schedule:wise:GBP' })}`, { token: admin })
    const entries = ((await log.json()) as { items: Array<{ details: Record<string, unknown> }> }).items
    expect(entries).toHaveLength(1)
    expect(entries[0]!.details).toEqual({
      rail: 'wise',
      currency: 'GBP',
      before: { fixed_minor: 30, percent_bps: 35, fx_spread_bps: 0, instant_fixed_minor: null, instant_percent_bps: null, min_payout_minor: 2000, max_payout_minor: null, per_batch_fixed_minor: 0 },
      after: { fixed_minor: 50, percent_bps: 45, fx_spread_bps: 0, instant_fixed_minor: null, instant_percent_bps: null, min_payout_minor: 2500, max_payout_minor: 5_000_000, per_batch_fixed_minor: 0 },
    })

    // a new pair lets the rail pay that currency
    const created = await call(API, '/api/payouts/fees/wise/CAD', { token: finance, method: 'PUT', body: { fixed_minor: 60, percent_bps: 50, min_payout_minor: 2000 } })
    expect(created.status).toBe(201)
    expect((await feeSchedule(env, 'wise', 'CAD'))!.fxSpreadBps).toBe(0)

    const bad: Array<[string, Record<string, unknown>, string[]]> = [
      ['/api/payouts/fees/wise/GBP', { ...body, instant_fixed_minor: 100 }, ['body.instant_percent_bps']],
      ['/api/payouts/fees/wise/GBP', { ...body, max_payout_minor: 100 }, ['body.max_payout_minor']],
      ['/api/payouts/fees/wise/GBP', { ...body, percent_bps: 10_001 }, ['body.percent_bps']],
      ['/api/payouts/fees/wise/GBP', { ...body, fixed_minor: 1.5 }, ['body.fixed_minor']],
    ]
    for (const [path, b, paths] of bad) {
      const r = await call(API, path, { token: finance, method: 'PUT', body: b })
      expect(r.status).toBe(422)
      expect(((await r.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(paths)
    }
    expect((await call(API, '/api/payouts/fees/bank/GBP', { token: finance, method: 'PUT', body })).status).toBe(400)
    expect((await call(API, '/api/payouts/fees/wise/XYZ', { token: finance, method: 'PUT', body })).status).toBe(400)
  })
})

describe('fee preview', () => {
  it('quotes every rail paying the currency and each of the creator’s methods, exactly', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const wiseId = await addMethod(token, creator.creatorId, WISE_USD)
    const sepaId = await addMethod(token, creator.creatorId, SEPA)

    const res = await preview(token, creator.creatorId, 'amount_minor=10000&currency=USD')
    expect(res.status).toBe(200)
    const usd = (await res.json()) as Preview
    expect(usd).toMatchObject({ amount_minor: 10000, currency: 'USD', instant: false })
    const rails = byRail(usd)
    expect(Object.keys(rails).sort()).toEqual(['check', 'crypto_custodian', 'epayservice', 'nacha', 'paxum', 'payoneer', 'wire', 'wise'])
    expect(rails.wise).toMatchObject({ method_types: ['wise'], converts: false, instant_available: false, minimum_minor: 2000, quote: { fee_minor: 86, net_minor: 9914, parts: { fixed_minor: 45, percent_minor: 41, fx_minor: 0 } }, refusal: null })
    const net = Object.fromEntries(usd.rails.map((r) => [r.rail, r.quote?.net_minor]))
    expect(net).toEqual({ wise: 9914, paxum: 9900, epayservice: 9800, payoneer: 9700, crypto_custodian: 9850, nacha: 9975, wire: 7500, check: 9500 })
    expect(rails.paxum!.instant_available).toBe(true)
    // the creator's own methods: Wise USD quoted, the EUR SEPA account is not a USD payout
    expect(usd.methods.find((m) => m.method_id === wiseId)).toMatchObject({ rail: 'wise', summary: 'Wise USD savings •••• 5678', quote: { fee_minor: 86, net_minor: 9914 } })
    expect(usd.methods.find((m) => m.method_id === sepaId)).toMatchObject({ rail: 'sepa', currency: 'EUR', quote: null, refusal: { code: 'other_currency' } })

    // EUR: Paxum is funded in USD, so it converts and charges its 150 bps spread: 100 + 0 + 150
    const eur = (await (await preview(token, creator.creatorId, 'amount_minor=10000&currency=EUR')).json()) as Preview
    const eurRails = byRail(eur)
    expect(eurRails.paxum).toMatchObject({ converts: true, fx_spread_bps: 150, quote: { fee_minor: 250, net_minor: 9750, parts: { fixed_minor: 100, percent_minor: 0, fx_minor: 150 } } })
    expect(eurRails.wise).toMatchObject({ converts: false, quote: { fee_minor: 86, net_minor: 9914 } })
    expect(eurRails.sepa).toMatchObject({ quote: { fee_minor: 20, net_minor: 9980 } })
    expect(eurRails.wire).toMatchObject({ converts: true, minimum_minor: 10000, quote: { fee_minor: 2600, net_minor: 7400, parts: { fixed_minor: 2500, percent_minor: 0, fx_minor: 100 } } })
    expect(eur.methods.find((m) => m.method_id === sepaId)).toMatchObject({ quote: { fee_minor: 20, net_minor: 9980 } })

    // instant: offered by Paxum (300 fixed) and the custodian (200 + 1%), not by Wise
    const instant = byRail((await (await preview(token, creator.creatorId, 'amount_minor=10000&currency=USD&instant=true')).json()) as Preview)
    expect(instant.paxum!.quote).toMatchObject({ fee_minor: 300, net_minor: 9700 })
    expect(instant.crypto_custodian!.quote).toMatchObject({ fee_minor: 300, net_minor: 9700, parts: { fixed_minor: 200, percent_minor: 100, fx_minor: 0 } })
    expect(instant.wise!.refusal).toMatchObject({ code: 'instant_not_offered' })

    // percentages round up: 12345 * 41 / 10000 = 50.6 -> 51
    const odd = byRail((await (await preview(token, creator.creatorId, 'amount_minor=12345&currency=USD')).json()) as Preview)
    expect(odd.wise!.quote).toMatchObject({ fee_minor: 96, net_minor: 12249 })
    // below every minimum
    const small = (await (await preview(token, creator.creatorId, 'amount_minor=1999&currency=USD')).json()) as Preview
    expect(small.rails.every((r) => r.quote === null && r.refusal?.code === 'below_minimum')).toBe(true)
    // a currency no rail pays: nothing to offer
    expect(((await (await preview(token, creator.creatorId, 'amount_minor=10000&currency=JPY')).json()) as Preview).rails).toEqual([])
  })

  it('answers 400 naming the query field, 404 for another creator, 403 for a fan', async () => {
    const creator = await newCreator()
    const token = await mint({ roles: ['creator'], subject: creator.userId })
    for (const [query, path] of [
      ['amount_minor=abc&currency=USD', 'query.amount_minor'],
      ['amount_minor=0&currency=USD', 'query.amount_minor'],
      ['amount_minor=12.5&currency=USD', 'query.amount_minor'],
      ['currency=USD', 'query.amount_minor'],
      ['amount_minor=100&currency=usd', 'query.currency'],
      ['amount_minor=100&currency=USD&instant=yes', 'query.instant'],
    ] as const) {
      const res = await preview(token, creator.creatorId, query)
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path), query).toEqual([path])
    }
    const other = await newCreator()
    expect((await preview(token, other.creatorId, 'amount_minor=10000&currency=USD')).status).toBe(404)
    expect((await preview(await mint({ roles: ['fan'], subject: creator.userId }), creator.creatorId, 'amount_minor=10000&currency=USD')).status).toBe(403)
    // no step-up needed to look
    expect((await preview(token, creator.creatorId, 'amount_minor=10000&currency=USD')).status).toBe(200)
  })
})
