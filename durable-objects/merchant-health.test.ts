import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { auditLog } from '../workers/compliance/audit'
import { newId } from '../workers/lib/ids'
import type { HealthEventInput } from '../workers/payments/health/events'
import { findMid, insertMid, type MidRow } from '../workers/payments/health/mids'
import { merchantHealth } from '../workers/payments/health/view'

const MAR = Date.UTC(2026, 2, 15)
const APR = Date.UTC(2026, 3, 10)
const MAY = Date.UTC(2026, 4, 3)

async function freshMid(overrides: Partial<MidRow> = {}): Promise<MidRow> {
  const row: MidRow = {
    id: newId('merchantId'),
    gateway: 'sandbox',
    descriptor: 'FANZ*TEST',
    acquirer: 'Test Acquirer',
    currenciesJson: '["USD","EUR"]',
    brandsJson: '[]',
    monthlyCapMinor: null,
    capCurrency: null,
    region: 'global',
    status: 'active',
    createdAtMs: MAR,
    updatedAtMs: MAR,
    ...overrides,
  }
  await insertMid(env.DB, row)
  return row
}

let seq = 0
const uid = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`

function sales(n: number, network: 'visa' | 'mastercard' | 'other', atMs: number, extra: Partial<Extract<HealthEventInput, { kind: 'settled' }>> = {}): HealthEventInput[] {
  return Array.from({ length: n }, () => ({ kind: 'settled', id: uid('sale'), network, amountMinor: 1_000, currency: 'USD', settledAtMs: atMs, threeDs: false, ...extra }) as HealthEventInput)
}

function disputes(n: number, network: 'visa' | 'mastercard', atMs: number, extra: Partial<Extract<HealthEventInput, { kind: 'dispute' }>> = {}): HealthEventInput[] {
  return Array.from({ length: n }, () => ({ kind: 'dispute', id: uid('cb'), network, reasonCode: network === 'visa' ? '13.1' : '4853', fraud: false, amountMinor: 1_000, currency: 'USD', disputedAtMs: atMs, ...extra }) as HealthEventInput)
}

async function alerts(midId: string) {
  return (await auditLog(env).list({ action: 'payments.mid.alert', subject: midId, limit: 50 })).map((e) => ({ ...e, details: JSON.parse(e.details) as Record<string, unknown> }))
}

describe('MerchantHealth counting', () => {
  it('counts each event id once: within a batch, on redelivery and with twenty concurrent copies', async () => {
    const mid = await freshMid()
    const stub = merchantHealth(env, mid.id)
    const batch = [...sales(3, 'visa', MAR), ...disputes(2, 'visa', MAR)]
    expect(await stub.record([...batch, batch[0]!], { nowMs: MAR })).toEqual({ ok: true, recorded: 5, duplicates: 1, conflicts: [], drain: false })
    expect(await stub.record(batch, { nowMs: MAR })).toMatchObject({ ok: true, recorded: 0, duplicates: 5 })

    const copies = sales(1, 'mastercard', MAR)
    const results = await Promise.all(Array.from({ length: 20 }, () => stub.record(copies, { nowMs: MAR })))
    expect(results.filter((r) => r.ok && r.recorded === 1)).toHaveLength(1)
    expect(results.filter((r) => r.ok && r.duplicates === 1)).toHaveLength(19)

    const month = await stub.monthly('2026-03', { nowMs: MAR })
    if (!month.ok) throw new Error(month.message)
    expect(month.monthly.metrics).toEqual([
      { network: 'mastercard', metric: 'sales', count: 1, usdMinor: 1_000, usdUnknown: 0 },
      { network: 'visa', metric: 'disputes', count: 2, usdMinor: 2_000, usdUnknown: 0 },
      { network: 'visa', metric: 'sales', count: 3, usdMinor: 3_000, usdUnknown: 0 },
      { network: 'visa', metric: 'vamp_disputes', count: 2, usdMinor: 2_000, usdUnknown: 0 },
    ])
  })

  it('reports the same id with other content as a conflict and counts nothing for it', async () => {
    const stub = merchantHealth(env, (await freshMid()).id)
    const [sale] = sales(1, 'visa', MAR)
    await stub.record([sale!], { nowMs: MAR })
    const changed = { ...sale!, amountMinor: 9_999 } as HealthEventInput
    expect(await stub.record([changed], { nowMs: MAR })).toMatchObject({ ok: true, recorded: 0, duplicates: 0, conflicts: [sale!.id] })
    const month = await stub.monthly('2026-03', { nowMs: MAR })
    expect(month.ok && month.monthly.sums).toEqual([{ network: 'visa', metric: 'sales', currency: 'USD', amountMinor: 1_000 }])
  })

  it('refuses a batch holding an invalid event, whole', async () => {
    const stub = merchantHealth(env, (await freshMid()).id)
    const bad = { ...sales(1, 'visa', MAR)[0]!, currency: 'XXY' } as HealthEventInput
    const result = await stub.record([...sales(2, 'visa', MAR), bad], { nowMs: MAR })
    expect(result).toEqual({ ok: false, code: 'INVALID_EVENT', index: 2, message: 'currency: must be an ISO 4217 code' })
    const month = await stub.monthly('2026-03', { nowMs: MAR })
    expect(month.ok && month.monthly.metrics).toEqual([])
  })

  it('files events under the month of their settlement or dispute date', async () => {
    const stub = merchantHealth(env, (await freshMid()).id)
    const lastInstantOfMarch = Date.UTC(2026, 2, 31, 23, 59, 59, 999)
    await stub.record([...sales(1, 'visa', lastInstantOfMarch), ...disputes(1, 'visa', Date.UTC(2026, 3, 1))], { nowMs: APR })
    const march = await stub.monthly('2026-03', { nowMs: APR })
    const april = await stub.monthly('2026-04', { nowMs: APR })
    expect(march.ok && march.monthly.metrics.map((m) => m.metric)).toEqual(['sales'])
    expect(april.ok && april.monthly.metrics.map((m) => m.metric)).toEqual(['disputes', 'vamp_disputes'])
    expect(await stub.monthly('2026-05', { nowMs: APR })).toMatchObject({ ok: false, code: 'INVALID_MONTH' })
  })

  it('leaves RDR-resolved disputes and CE 3.0 fraud reports out of VAMP (MENA floor: above 100 and above USD 75,000)', async () => {
    const mid = await freshMid({ region: 'mena' })
    const stub = merchantHealth(env, mid.id)
    // 100 counted disputes of USD 800 plus one RDR-resolved and one CE 3.0 TC40: count 100, not above 100
    await stub.record(
      [
        ...sales(1_000, 'visa', APR),
        ...disputes(100, 'visa', APR, { amountMinor: 80_000 }),
        ...disputes(1, 'visa', APR, { amountMinor: 80_000, rdrResolved: true }),
        { kind: 'fraud_report', id: uid('tc40'), network: 'visa', amountMinor: 80_000, currency: 'USD', reportedAtMs: APR, ce3Qualified: true },
      ],
      { nowMs: APR },
    )
    const before = await stub.standing({ nowMs: APR })
    expect(before.ok && before.standing.visa).toMatchObject({ level: 'standard', count: 100, usdMinor: 8_000_000, floorMet: false, thresholdBps: 220 })
    // one counted TC40 in EUR with its USD value: 101 and USD 80,800 -> excessive at 10.1%
    await stub.record([{ kind: 'fraud_report', id: uid('tc40'), network: 'visa', amountMinor: 74_000, currency: 'EUR', usdMinor: 80_000, reportedAtMs: APR }], { nowMs: APR })
    const after = await stub.standing({ nowMs: APR })
    expect(after.ok && after.standing.visa).toMatchObject({ level: 'excessive', since: '2026-04-01', count: 101, usdMinor: 8_080_000, floorMet: true, ratio: { bps: 1_010 } })
    expect(after.ok && after.standing.drain).toBe(true)
  })

  it('counts Mastercard fraud chargebacks for EFM by reason code 4837 / 4863 only', async () => {
    const stub = merchantHealth(env, (await freshMid()).id)
    await stub.record(
      [...disputes(2, 'mastercard', APR, { reasonCode: '4837', fraud: true }), ...disputes(1, 'mastercard', APR, { reasonCode: '4863' }), ...disputes(1, 'mastercard', APR, { reasonCode: '4853', fraud: true })],
      { nowMs: APR },
    )
    const month = await stub.monthly('2026-04', { nowMs: APR })
    if (!month.ok) throw new Error(month.message)
    const count = (metric: string) => month.monthly.metrics.find((m) => m.metric === metric)?.count
    expect([count('disputes'), count('efm_fraud_chargebacks'), count('fraud_disputes')]).toEqual([4, 3, 3])
    expect(month.monthly.standing.mastercard.efm.fraudUsdMinor).toBe(3_000)
  })
})

describe('MerchantHealth alerts', () => {
  it('drains a MID over ECM: alert audited, D1 status draining, and back to active when the new month recovers', async () => {
    const mid = await freshMid()
    const stub = merchantHealth(env, mid.id)
    await stub.record(sales(100, 'mastercard', MAR), { nowMs: MAR })
    expect(await alerts(mid.id)).toEqual([])

    // 99 chargebacks over 100 sales: 99%, but below ECM's count floor; 90 is within the 10% floor margin -> drain
    const near = await stub.record(disputes(99, 'mastercard', APR), { nowMs: APR })
    expect(near).toMatchObject({ ok: true, recorded: 99, drain: true })
    expect((await findMid(env.DB, mid.id))?.status).toBe('draining')
    let entries = await alerts(mid.id)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ actor: 'system:merchant-health', subject: mid.id })
    expect(entries[0]!.details).toMatchObject({
      mid_id: mid.id,
      month: '2026-04',
      from: { drain: false, mastercard: 'none' },
      to: { drain: true, mastercard: 'none' },
      reasons: ['mastercard: CTR within 20 bps of ECM 150 bps'],
      status_changed: { from: 'active', to: 'draining' },
      mastercard: { chargebacks: 99, prev_month_sales: 100, ctr_bps: 9_900 },
    })

    // the 100th: ECM, a level change -> a second alert; the status is already draining
    await stub.record(disputes(1, 'mastercard', APR), { nowMs: APR })
    entries = await alerts(mid.id)
    expect(entries).toHaveLength(2)
    expect(entries[1]!.details).toMatchObject({ to: { mastercard: 'ecm', drain: true }, status_changed: null, mastercard: { level: 'ecm', since: '2026-04-01' } })

    // nothing changes, nothing is alerted
    await stub.record(sales(1, 'mastercard', APR), { nowMs: APR })
    expect(await alerts(mid.id)).toHaveLength(2)

    // May: no chargebacks yet -> no drain, still in ECM status (two complete months below 1.50% needed)
    await stub.record(sales(1, 'mastercard', MAY), { nowMs: MAY })
    entries = await alerts(mid.id)
    expect(entries).toHaveLength(3)
    expect(entries[2]!.details).toMatchObject({ month: '2026-05', to: { mastercard: 'ecm', drain: false }, status_changed: { from: 'draining', to: 'active' } })
    expect((await findMid(env.DB, mid.id))?.status).toBe('active')
    const may = await stub.standing({ nowMs: MAY })
    expect(may.ok && may.standing.mastercard).toMatchObject({ level: 'ecm', since: '2026-04-01', inExcessiveProgramme: true, monthsBelowExit: 0 })
  })

  it('never touches a disabled MID, but still audits the alert', async () => {
    const mid = await freshMid({ status: 'disabled' })
    const stub = merchantHealth(env, mid.id)
    await stub.record([...sales(100, 'mastercard', MAR), ...disputes(100, 'mastercard', APR)], { nowMs: APR })
    expect((await findMid(env.DB, mid.id))?.status).toBe('disabled')
    const entries = await alerts(mid.id)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.details).toMatchObject({ to: { mastercard: 'ecm', drain: true }, status_changed: null })
  })

  it('a configured margin starts draining at once; the given margin answers without changing it', async () => {
    const mid = await freshMid()
    const stub = merchantHealth(env, mid.id)
    // CTR 1.20% with 120 chargebacks: CMM, 30 bps below ECM
    await stub.record([...sales(10_000, 'mastercard', MAR, { amountMinor: 1 })], { nowMs: MAR })
    await stub.record(disputes(120, 'mastercard', APR), { nowMs: APR })
    expect((await findMid(env.DB, mid.id))?.status).toBe('active')
    const wide = await stub.standing({ nowMs: APR, marginBps: 30 })
    expect(wide.ok && wide.standing.drain).toBe(true)
    await expect(stub.getSettings()).resolves.toEqual({ marginBps: 20, floorMarginPct: 10 })
    expect(await stub.configure({ marginBps: 30, floorMarginPct: 10 }, { nowMs: APR })).toEqual({ ok: true, settings: { marginBps: 30, floorMarginPct: 10 }, drain: true })
    expect((await findMid(env.DB, mid.id))?.status).toBe('draining')
    expect(await stub.configure({ marginBps: -1, floorMarginPct: 10 })).toMatchObject({ ok: false, code: 'INVALID_MARGIN' })
  })

  it('re-reads the region on refresh: the same counts are excessive under the MENA floor', async () => {
    const mid = await freshMid()
    const stub = merchantHealth(env, mid.id)
    await stub.record([...sales(1_000, 'visa', APR), ...disputes(101, 'visa', APR, { amountMinor: 80_000 })], { nowMs: APR })
    expect(await stub.standing({ nowMs: APR })).toMatchObject({ ok: true, standing: { region: 'global', drain: false, visa: { level: 'standard', floorMet: false } } })
    await env.DB.prepare("UPDATE merchant_ids SET region = 'mena' WHERE id = ?").bind(mid.id).run()
    expect(await stub.refresh({ nowMs: APR })).toEqual({ drain: true })
    expect((await findMid(env.DB, mid.id))?.status).toBe('draining')
    const entries = await alerts(mid.id)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.details).toMatchObject({ region: 'mena', to: { visa: 'excessive', drain: true }, visa: { count: 101, settled: 1_000, threshold_bps: 220 } })
  })

  it('measures the monthly cap in its currency, USD values of other currencies counting for a USD cap', async () => {
    const stub = merchantHealth(env, (await freshMid()).id)
    const now = Date.now()
    await stub.record(
      [
        ...sales(2, 'visa', now, { amountMinor: 5_000 }),
        ...sales(1, 'mastercard', now, { amountMinor: 4_000, currency: 'EUR', usdMinor: 4_300 }),
        ...sales(1, 'other', now, { amountMinor: 100, currency: 'EUR' }),
      ],
      { nowMs: now },
    )
    expect((await stub.capUsage('USD', { nowMs: now })).usedMinor).toBe(14_300)
    expect((await stub.capUsage('EUR', { nowMs: now })).usedMinor).toBe(4_100)
    expect((await stub.capUsage('GBP', { nowMs: now })).usedMinor).toBe(0)
  })
})
