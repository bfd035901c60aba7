/**
 * CreatorLedger, one operation at a time, with exact balances (payments.md §4: L1-L10).
 */
import { env } from 'cloudflare:workers'
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { newId } from '../workers/lib/ids'
import { ledgerFor } from '../workers/ledger/stub'
import { readProjection } from '../workers/ledger/projection'
import type { BalanceSummary, LedgerOp, OpResult, SaleSplit } from '../workers/ledger/model'

const DAY = 86_400_000
// far enough ahead that no real alarm fires during the test (release dates follow the op clock)
const T0 = Date.UTC(2030, 0, 10, 12)
const SPLIT: SaleSplit = { platformFeeBps: 2000, reserveBps: 500, reserveDays: 90, pendingDays: 7 }

function fresh() {
  const creatorId = newId('creator')
  return { creatorId, ledger: ledgerFor(env, creatorId) }
}

async function summary(ledger: ReturnType<typeof ledgerFor>, currency = 'USD'): Promise<Omit<BalanceSummary, 'currency'>> {
  const b = await ledger.balances(currency)
  const { currency: _c, ...rest } = b.summary[0] ?? { currency, pendingMinor: 0, availableMinor: 0, reserveMinor: 0, onHoldMinor: 0, debtMinor: 0 }
  return rest
}

async function account(ledger: ReturnType<typeof ledgerFor>, code: string, currency = 'USD'): Promise<number> {
  const b = await ledger.balances(currency)
  return b.accounts.find((a) => a.account === code)?.postedMinor ?? 0
}

function ok(r: OpResult): asserts r is Extract<OpResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.detail}`)
}

const sale = (paymentId: string, grossMinor = 10_000, processorFeeMinor = 1_000, split = SPLIT) => ({ opId: `sale:${paymentId}`, paymentId, currency: 'USD', grossMinor, processorFeeMinor, split })

describe('sale', () => {
  it('splits gross into processor fee, platform fee, reserve and pending share as one linked unit', async () => {
    const { ledger } = fresh()
    const r = await ledger.sale(sale('pay_1'), T0)
    ok(r)
    // net 9000; platform 20% = 1800; share 7200; reserve 5% = 360; pending 6840
    expect(r.transferIds).toHaveLength(4)
    expect(await summary(ledger)).toEqual({ pendingMinor: 6840, availableMinor: 0, reserveMinor: 360, onHoldMinor: 0, debtMinor: 0 })
    expect(await account(ledger, 'platform_fees')).toBe(1800)
    expect(await account(ledger, 'processor_fees')).toBe(1000)
    expect(await account(ledger, 'gateway_receivable')).toBe(10_000)
    const h = await ledger.history({ limit: 10 })
    expect(h.items.map((t) => [t.code, t.amountMinor, t.flags])).toEqual([
      ['sale.creator_share', 6840, []],
      ['sale.reserve', 360, ['linked']],
      ['sale.platform_fee', 1800, ['linked']],
      ['sale.processor_fee', 1000, ['linked']],
    ])
    expect((await ledger.verify()).ok).toBe(true)
  })

  it('gives every rounding remainder to the creator', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_r', 999, 33, { platformFeeBps: 1999, reserveBps: 333, reserveDays: 30, pendingDays: 3 }), T0))
    // net 966; platform floor(966*0.1999)=193; share 773; reserve floor(773*0.0333)=25; pending 748
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 748, reserveMinor: 25 })
    expect(await account(ledger, 'platform_fees')).toBe(193)
  })

  it('replays the first result for the same op id and body, refuses another body', async () => {
    const { ledger } = fresh()
    const first = await ledger.sale(sale('pay_2'), T0)
    const again = await ledger.sale(sale('pay_2'), T0 + 5)
    ok(first)
    expect(again).toEqual({ ...first, replayed: true })
    const other = await ledger.sale({ ...sale('pay_2'), grossMinor: 20_000 }, T0)
    expect(other).toMatchObject({ ok: false, code: 'exists_with_different_gross' })
    const otherKind = await ledger.refund({ opId: 'sale:pay_2', paymentId: 'pay_2', amountMinor: 1 }, T0)
    expect(otherKind).toMatchObject({ ok: false, code: 'exists_with_different_kind' })
    const samePaymentNewOp = await ledger.sale({ ...sale('pay_2'), opId: 'other' }, T0)
    expect(samePaymentNewOp).toMatchObject({ ok: false, code: 'payment_exists' })
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 6840 })
  })

  it('twenty identical concurrent sales have one effect', async () => {
    const { ledger } = fresh()
    const results = await Promise.all(Array.from({ length: 20 }, () => ledger.sale(sale('pay_c'), T0)))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(results.filter((r) => r.ok && !r.replayed)).toHaveLength(1)
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 6840, reserveMinor: 360 })
    expect((await ledger.history({ limit: 100 })).items).toHaveLength(4)
  })

  it('refuses bad input without writing anything', async () => {
    const { ledger } = fresh()
    expect(await ledger.sale({ ...sale('p'), grossMinor: 10.5 }, T0)).toMatchObject({ ok: false, code: 'invalid_request' })
    expect(await ledger.sale({ ...sale('p'), currency: 'usd' }, T0)).toMatchObject({ ok: false, code: 'invalid_request' })
    expect(await ledger.sale({ ...sale('p'), processorFeeMinor: 20_000 }, T0)).toMatchObject({ ok: false, code: 'invalid_request' })
    expect((await ledger.balances()).accounts).toEqual([])
  })
})

describe('release by date', () => {
  it('moves pending after pendingDays and reserve after reserveDays to available', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_1'), T0))
    expect(await ledger.releaseDue(T0 + 7 * DAY - 1)).toMatchObject({ released: 0 })
    expect(await ledger.releaseDue(T0 + 7 * DAY)).toMatchObject({ released: 6840 })
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 0, availableMinor: 6840, reserveMinor: 360 })
    expect(await ledger.releaseDue(T0 + 90 * DAY)).toMatchObject({ released: 360 })
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 0, availableMinor: 7200, reserveMinor: 0 })
    expect(await ledger.releaseDue(T0 + 91 * DAY)).toMatchObject({ released: 0 })
  })

  it('credits available at once when the brand has no pending or reserve period', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_0', 10_000, 0, { platformFeeBps: 2000, reserveBps: 1000, reserveDays: 0, pendingDays: 0 }), T0))
    expect(await summary(ledger)).toEqual({ pendingMinor: 0, availableMinor: 8000, reserveMinor: 0, onHoldMinor: 0, debtMinor: 0 })
  })
})

describe('refund', () => {
  it('reverses fees pro rata and takes the creator part from pending, then reserve, then available, then debt', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_1'), T0))
    // refund 5000 of 10000: processor 500, platform 900, creator 3600 (all from pending 6840)
    ok(await ledger.refund({ opId: 'r1', paymentId: 'pay_1', amountMinor: 5000 }, T0 + 1))
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 3240, reserveMinor: 360 })
    expect(await account(ledger, 'platform_fees')).toBe(900)
    expect(await account(ledger, 'processor_fees')).toBe(500)
    expect(await account(ledger, 'gateway_receivable')).toBe(5000)
    // the rest: creator part 3600 = pending 3240 + reserve 360
    ok(await ledger.refund({ opId: 'r2', paymentId: 'pay_1', amountMinor: 5000 }, T0 + 2))
    expect(await summary(ledger)).toEqual({ pendingMinor: 0, availableMinor: 0, reserveMinor: 0, onHoldMinor: 0, debtMinor: 0 })
    expect(await account(ledger, 'gateway_receivable')).toBe(0)
    expect(await ledger.refund({ opId: 'r3', paymentId: 'pay_1', amountMinor: 1 }, T0 + 3)).toMatchObject({ ok: false, code: 'exceeds_refundable' })
    expect(await ledger.refund({ opId: 'r4', paymentId: 'nope', amountMinor: 1 }, T0 + 3)).toMatchObject({ ok: false, code: 'payment_not_found' })
  })

  it('after the money was paid out, a refund takes available and then books debt, repaid by the next release', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_1'), T0))
    await ledger.releaseDue(T0 + 90 * DAY)
    const hold = await ledger.holdForPayout({ opId: 'h1', payoutId: 'po_1', currency: 'USD', amountMinor: 7000 }, T0 + 90 * DAY)
    ok(hold)
    ok(await ledger.postHold({ opId: 'p1', holdId: hold.holdId! }, T0 + 90 * DAY))
    expect(await summary(ledger)).toMatchObject({ availableMinor: 200 })
    ok(await ledger.refund({ opId: 'r1', paymentId: 'pay_1', amountMinor: 10_000 }, T0 + 91 * DAY))
    expect(await summary(ledger)).toEqual({ pendingMinor: 0, availableMinor: 0, reserveMinor: 0, onHoldMinor: 0, debtMinor: 7000 })
    ok(await ledger.sale(sale('pay_2'), T0 + 92 * DAY))
    await ledger.releaseDue(T0 + 99 * DAY)
    // 6840 released, all of it pays debt back
    expect(await summary(ledger)).toMatchObject({ availableMinor: 0, debtMinor: 160, pendingMinor: 0, reserveMinor: 360 })
    expect((await ledger.verify()).ok).toBe(true)
  })

  it('concurrent refunds never exceed the capture', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_1'), T0))
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ledger.refund({ opId: `r${i}`, paymentId: 'pay_1', amountMinor: 1000 }, T0 + 1)))
    expect(results.filter((r) => r.ok)).toHaveLength(10)
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(['exceeds_refundable', 'exceeds_refundable'])
    expect(await account(ledger, 'gateway_receivable')).toBe(0)
    expect((await ledger.verify()).ok).toBe(true)
  })
})

describe('chargeback and dispute', () => {
  it('reverses the rest of the sale plus the fee; into debt when already paid out; a won dispute nets the debt', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('pay_1'), T0))
    ok(await ledger.refund({ opId: 'r1', paymentId: 'pay_1', amountMinor: 1000 }, T0 + 1)) // creator 720 from pending
    await ledger.releaseDue(T0 + 90 * DAY) // available 6480
    const hold = await ledger.holdForPayout({ opId: 'h1', payoutId: 'po_1', currency: 'USD', amountMinor: 6480 }, T0 + 90 * DAY)
    ok(hold)
    ok(await ledger.postHold({ opId: 'p1', holdId: hold.holdId! }, T0 + 90 * DAY))
    ok(await ledger.chargeback({ opId: 'cb1', paymentId: 'pay_1', feeMinor: 1500 }, T0 + 91 * DAY))
    // reversal of 9000: processor 900, platform 1620, creator 6480 -> all debt, plus fee 1500
    expect(await summary(ledger)).toEqual({ pendingMinor: 0, availableMinor: 0, reserveMinor: 0, onHoldMinor: 0, debtMinor: 7980 })
    expect(await account(ledger, 'chargeback_fees')).toBe(1500)
    expect(await ledger.chargeback({ opId: 'cb2', paymentId: 'pay_1', feeMinor: 1500 }, T0 + 91 * DAY)).toMatchObject({ ok: false, code: 'payment_charged_back' })
    expect(await ledger.refund({ opId: 'r2', paymentId: 'pay_1', amountMinor: 1 }, T0 + 91 * DAY)).toMatchObject({ ok: false, code: 'payment_charged_back' })
    ok(await ledger.disputeWon({ opId: 'dw1', paymentId: 'pay_1' }, T0 + 100 * DAY))
    // 6480 reinstated nets debt first: 7980 - 6480 = 1500 (the fee stays)
    expect(await summary(ledger)).toMatchObject({ availableMinor: 0, debtMinor: 1500 })
    expect(await account(ledger, 'platform_fees')).toBe(1800 - 180)
    expect(await ledger.disputeWon({ opId: 'dw2', paymentId: 'pay_1' }, T0 + 100 * DAY)).toMatchObject({ ok: false, code: 'not_charged_back' })
    // refundable again after reinstatement: the remaining 9000
    expect(await ledger.refund({ opId: 'r3', paymentId: 'pay_1', amountMinor: 9001 }, T0 + 101 * DAY)).toMatchObject({ ok: false, code: 'exceeds_refundable' })
    expect((await ledger.verify()).ok).toBe(true)
  })
})

describe('payout holds (two-phase)', () => {
  async function funded() {
    const f = fresh()
    ok(await f.ledger.adjust({ opId: 'a1', currency: 'USD', direction: 'credit', amountMinor: 10_000, reason: 'opening balance', actor: 'usr_admin' }, T0))
    return f
  }

  it('hold -> partial post releases the rest; resolved at most once', async () => {
    const { ledger } = await funded()
    const hold = await ledger.holdForPayout({ opId: 'h1', payoutId: 'po_1', currency: 'USD', amountMinor: 6000 }, T0)
    ok(hold)
    expect(await summary(ledger)).toMatchObject({ availableMinor: 4000, onHoldMinor: 6000 })
    expect(await ledger.holdForPayout({ opId: 'h2', payoutId: 'po_2', currency: 'USD', amountMinor: 4001 }, T0)).toMatchObject({ ok: false, code: 'insufficient_funds' })
    expect(await ledger.postHold({ opId: 'p0', holdId: hold.holdId!, amountMinor: 6001 }, T0)).toMatchObject({ ok: false, code: 'exceeds_pending_transfer_amount' })
    ok(await ledger.postHold({ opId: 'p1', holdId: hold.holdId!, amountMinor: 2500 }, T0))
    expect(await summary(ledger)).toMatchObject({ availableMinor: 7500, onHoldMinor: 0 })
    expect(await account(ledger, 'payouts_in_transit')).toBe(2500)
    expect(await ledger.postHold({ opId: 'p2', holdId: hold.holdId! }, T0)).toMatchObject({ ok: false, code: 'pending_transfer_already_posted' })
    expect(await ledger.voidHold({ opId: 'v1', holdId: hold.holdId! }, T0)).toMatchObject({ ok: false, code: 'pending_transfer_already_posted' })
    const b = await ledger.balances('USD')
    expect(b.accounts.find((a) => a.account === 'creator_available')).toMatchObject({ debitsPending: 0, debitsPosted: 2500, creditsPosted: 10_000 })
  })

  it('void releases the whole hold and carries 0 or exactly the held amount', async () => {
    const { ledger } = await funded()
    const hold = await ledger.holdForPayout({ opId: 'h1', payoutId: 'po_1', currency: 'USD', amountMinor: 6000 }, T0)
    ok(hold)
    expect(await ledger.voidHold({ opId: 'v0', holdId: hold.holdId!, amountMinor: 10 }, T0)).toMatchObject({ ok: false, code: 'pending_transfer_has_different_amount' })
    ok(await ledger.voidHold({ opId: 'v1', holdId: hold.holdId!, amountMinor: 6000 }, T0))
    expect(await summary(ledger)).toMatchObject({ availableMinor: 10_000, onHoldMinor: 0 })
    expect(await ledger.postHold({ opId: 'p1', holdId: hold.holdId! }, T0)).toMatchObject({ ok: false, code: 'pending_transfer_already_voided' })
    expect(await ledger.holdForPayout({ opId: 'h3', payoutId: 'po_1', currency: 'USD', amountMinor: 1 }, T0)).toMatchObject({ ok: false, code: 'hold_exists' })
    expect(await ledger.postHold({ opId: 'p9', holdId: 'ltx_nothing' }, T0)).toMatchObject({ ok: false, code: 'hold_not_found' })
  })

  it('a returned payout credits what was sent back to available, once, and only after it was posted', async () => {
    const { ledger } = await funded()
    const hold = await ledger.holdForPayout({ opId: 'h1', payoutId: 'po_1', currency: 'USD', amountMinor: 6000 }, T0)
    ok(hold)
    const ret = { opId: 'r1', holdId: hold.holdId!, reason: 'ach_return R01' }
    expect(await ledger.payoutReturned(ret, T0)).toMatchObject({ ok: false, code: 'hold_not_posted' })
    ok(await ledger.postHold({ opId: 'p1', holdId: hold.holdId!, amountMinor: 5000 }, T0))
    expect(await summary(ledger)).toMatchObject({ availableMinor: 5000, onHoldMinor: 0 })
    expect(await ledger.payoutReturned({ ...ret, amountMinor: 5001 }, T0)).toMatchObject({ ok: false, code: 'exceeds_posted_amount' })
    const first = await ledger.payoutReturned(ret, T0)
    ok(first)
    expect(await summary(ledger)).toMatchObject({ availableMinor: 10_000, onHoldMinor: 0 })
    expect(await account(ledger, 'payouts_in_transit')).toBe(0)
    // the same delivery again is a replay; another op id for the same hold is refused
    expect(await ledger.payoutReturned(ret, T0)).toMatchObject({ ok: true, replayed: true, seq: first.seq })
    expect(await ledger.payoutReturned({ ...ret, opId: 'r2' }, T0)).toMatchObject({ ok: false, code: 'payout_already_returned' })
    expect(await summary(ledger)).toMatchObject({ availableMinor: 10_000 })
    const voided = await ledger.holdForPayout({ opId: 'h2', payoutId: 'po_2', currency: 'USD', amountMinor: 100 }, T0)
    ok(voided)
    ok(await ledger.voidHold({ opId: 'v2', holdId: voided.holdId! }, T0))
    expect(await ledger.payoutReturned({ opId: 'r3', holdId: voided.holdId!, reason: 'x' }, T0)).toMatchObject({ ok: false, code: 'hold_not_posted' })
    expect((await ledger.verify()).problems).toEqual([])
  })
})

describe('adjust', () => {
  it('credits and debits available with a reason and actor; never below zero', async () => {
    const { ledger } = fresh()
    ok(await ledger.adjust({ opId: 'a1', currency: 'EUR', direction: 'credit', amountMinor: 500, reason: 'goodwill', actor: 'usr_x' }, T0))
    expect(await ledger.adjust({ opId: 'a2', currency: 'EUR', direction: 'debit', amountMinor: 501, reason: 'correction', actor: 'usr_x' }, T0)).toMatchObject({ ok: false, code: 'insufficient_funds' })
    ok(await ledger.adjust({ opId: 'a3', currency: 'EUR', direction: 'debit', amountMinor: 200, reason: 'correction', actor: 'usr_x' }, T0))
    expect(await summary(ledger, 'EUR')).toMatchObject({ availableMinor: 300 })
    expect(await ledger.adjust({ opId: 'a4', currency: 'EUR', direction: 'credit', amountMinor: 5, reason: '  ', actor: 'usr_x' }, T0)).toMatchObject({ ok: false, code: 'invalid_request' })
    const h = await ledger.history({ limit: 1 })
    expect(JSON.parse(h.items[0]!.note!)).toEqual({ reason: 'correction', actor: 'usr_x' })
  })

  it('keeps currencies apart', async () => {
    const { ledger } = fresh()
    ok(await ledger.adjust({ opId: 'a1', currency: 'EUR', direction: 'credit', amountMinor: 500, reason: 'goodwill', actor: 'usr_x' }, T0))
    expect(await ledger.holdForPayout({ opId: 'h1', payoutId: 'po', currency: 'USD', amountMinor: 1 }, T0)).toMatchObject({ ok: false, code: 'insufficient_funds' })
  })
})

describe('batch, history, statement, projection', () => {
  it('runs many operations in one call, each all-or-nothing', async () => {
    const { ledger } = fresh()
    const ops = [
      { kind: 'sale' as const, ...sale('b1') },
      { kind: 'refund' as const, opId: 'bad', paymentId: 'b1', amountMinor: 20_000 },
      { kind: 'sale' as const, ...sale('b2') },
      { kind: 'sale' as const, ...sale('b1') },
    ]
    const { results } = await ledger.batch(ops, T0)
    expect(results.map((r) => (r.ok ? (r.replayed ? 'replayed' : 'ok') : r.code))).toEqual(['ok', 'exceeds_refundable', 'ok', 'replayed'])
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 2 * 6840 })
  })

  it('inside one batch, later operations see the earlier ones exactly as if they came one by one', async () => {
    const ops: LedgerOp[] = [
      { kind: 'sale', ...sale('m1') },
      { kind: 'refund', opId: 'm1-r1', paymentId: 'm1', amountMinor: 1000 },
      { kind: 'sale', ...sale('m1') }, // same op id and body: the first result
      { kind: 'sale', ...sale('m1'), grossMinor: 20_000 }, // same op id, other body
      { kind: 'sale', ...sale('m1'), opId: 'm1-again' }, // a second sale of the same payment
      { kind: 'adjust', opId: 'm-adj', currency: 'USD', direction: 'credit', amountMinor: 5000, reason: 'goodwill', actor: 'usr_x' },
      { kind: 'holdForPayout', opId: 'm-hold', payoutId: 'po_m', currency: 'USD', amountMinor: 3000 },
      { kind: 'holdForPayout', opId: 'm-hold-2', payoutId: 'po_m', currency: 'USD', amountMinor: 1000 },
      { kind: 'refund', opId: 'm1-r1', paymentId: 'm1', amountMinor: 1000 }, // replay of the refund
      { kind: 'chargeback', opId: 'm1-cb', paymentId: 'm1', feeMinor: 1500 },
      { kind: 'disputeWon', opId: 'm1-won', paymentId: 'm1' },
      { kind: 'sale', ...sale('m2') },
    ]
    const batched = fresh().ledger
    const { results } = await batched.batch(ops, T0)
    const single = fresh().ledger
    const oneByOne: OpResult[] = []
    for (const op of ops) oneByOne.push((await single.batch([op], T0)).results[0]!)
    const outcome = (r: OpResult) => (r.ok ? { ok: true, seq: r.seq, legs: r.transferIds.length, replayed: r.replayed } : { ok: false, code: r.code })
    expect(results.map(outcome)).toEqual(oneByOne.map(outcome))
    expect(results.map((r) => (r.ok ? (r.replayed ? 'replayed' : 'ok') : r.code))).toEqual([
      'ok', 'ok', 'replayed', 'exists_with_different_gross', 'payment_exists', 'ok', 'ok', 'hold_exists', 'replayed', 'ok', 'ok', 'ok',
    ])
    // a replay inside the batch answers the very transfer ids of the first delivery
    expect(results[2]).toEqual({ ...results[0], replayed: true })
    expect(results[8]).toEqual({ ...results[1], replayed: true })
    expect((await batched.balances()).accounts).toEqual((await single.balances()).accounts)
    const rows = async (l: typeof batched) => (await l.history({ limit: 100 })).items.map((t) => [t.seq, t.code, t.debitAccount, t.creditAccount, t.amountMinor, t.flags, t.paymentId, t.opId])
    expect(await rows(batched)).toEqual(await rows(single))
    expect((await batched.verify()).ok).toBe(true)
  })

  it('a batch larger than one write statement keeps every row, in order, and replays from it', async () => {
    const { ledger } = fresh()
    const ops: LedgerOp[] = Array.from({ length: 700 }, (_, i) => ({ kind: 'sale' as const, ...sale(`big${i}`, 1000 + i, 10) }))
    ops.push(ops[0]!, { kind: 'refund', opId: 'big-r', paymentId: 'big650', amountMinor: 1650 })
    const { results, seq } = await ledger.batch(ops, T0)
    expect(results.slice(0, 700).every((r) => r.ok && !r.replayed)).toBe(true)
    expect(results[700]).toEqual({ ...results[0], replayed: true })
    expect(results[701]).toMatchObject({ ok: true, replayed: false })
    expect(seq).toBe(700 * 4 + (results[701] as { transferIds: string[] }).transferIds.length)
    const report = await ledger.verify()
    expect(report).toEqual({ ok: true, problems: [], transfers: seq })
    // transfer seq n belongs to the operation that reported it
    const page = await ledger.history({ cursor: 2 * 4 + 1, limit: 4 })
    expect(page.items.map((t) => t.id)).toEqual([...(results[1] as { transferIds: string[] }).transferIds].reverse())
    expect(await ledger.sale(sale('big699', 1699, 10), T0)).toMatchObject({ ok: true, replayed: true })
  })

  it('refuses a payment id that is not well-formed Unicode (a lone surrogate), in a batch and alone', async () => {
    const { ledger } = fresh()
    const odd = 'pay_\ud800odd'
    const { results } = await ledger.batch([
      { kind: 'sale', ...sale('fine') },
      { kind: 'sale', ...sale(odd), opId: 'odd-sale' },
      { kind: 'refund', opId: 'odd-r', paymentId: odd, amountMinor: 1000 },
    ], T0)
    expect(results.map((r) => (r.ok ? 'ok' : `${r.code} ${r.detail}`))).toEqual(['ok', 'invalid_request paymentId: well-formed Unicode (no lone surrogates)', 'invalid_request paymentId: well-formed Unicode (no lone surrogates)'])
    expect(await ledger.sale({ ...sale(odd), opId: 'odd-sale-2' }, T0)).toMatchObject({ ok: false, code: 'invalid_request' })
    expect((await ledger.history({ limit: 10 })).items).toHaveLength(4)
    expect((await ledger.verify()).ok).toBe(true)
  })

  it('pages history newest first by cursor', async () => {
    const { ledger } = fresh()
    await ledger.batch(Array.from({ length: 5 }, (_, i) => ({ kind: 'sale' as const, ...sale(`h${i}`) })), T0)
    const seen: number[] = []
    let cursor: number | null = null
    do {
      const page: Awaited<ReturnType<typeof ledger.history>> = await ledger.history({ cursor, limit: 7 })
      seen.push(...page.items.map((t) => t.seq))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i))
  })

  it('statement: opening, lines, closing per month', async () => {
    const { ledger } = fresh()
    const jan = Date.UTC(2030, 0, 15)
    ok(await ledger.sale(sale('s1'), jan))
    await ledger.releaseDue(Date.UTC(2030, 1, 2))
    ok(await ledger.refund({ opId: 'r1', paymentId: 's1', amountMinor: 1000 }, Date.UTC(2030, 1, 3)))
    const feb = await ledger.statement('2030-02', 'USD')
    if ('ok' in feb) throw new Error(feb.detail)
    expect(feb.opening).toEqual({ creator_pending: 6840, creator_available: 0, reserve: 360, payout_hold: 0, debt: 0 })
    expect(feb.lines.map((l) => [l.code, l.account, l.amountMinor, l.accountBalanceAfterMinor])).toEqual([
      ['release.pending', 'creator_pending', -6840, 0],
      ['release.pending', 'creator_available', 6840, 6840],
      // the payment's own reserve first, then available
      ['refund.creator_share', 'reserve', -360, 0],
      ['refund.creator_share', 'creator_available', -360, 6480],
    ])
    expect(feb.closing).toEqual({ creator_pending: 0, creator_available: 6480, reserve: 0, payout_hold: 0, debt: 0 })
    expect(feb.openingTotalMinor).toBe(7200)
    expect(feb.closingTotalMinor).toBe(6480)
    expect(await ledger.statement('2030-13', 'USD')).toMatchObject({ ok: false, code: 'invalid_request' })
  })

  it('projects balances into D1 with the ledger sequence after each write', async () => {
    const { creatorId, ledger } = fresh()
    ok(await ledger.sale(sale('s1'), T0))
    await ledger.projectionSettled()
    const rows = await readProjection(env.DB, creatorId)
    expect(rows.find((r) => r.account === 'creator_pending')).toMatchObject({ currency: 'USD', postedMinor: 6840, pendingMinor: 0, ledgerSeq: 4 })
    ok(await ledger.refund({ opId: 'r1', paymentId: 's1', amountMinor: 1000 }, T0))
    await ledger.projectionSettled()
    const after = await readProjection(env.DB, creatorId)
    expect(after.find((r) => r.account === 'creator_pending')).toMatchObject({ postedMinor: 6120, ledgerSeq: 7 })
  })

  it('the alarm, set at the earliest due date, releases what is due', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('s1'), T0))
    expect(await runDurableObjectAlarm(ledger)).toBe(true) // runs now: nothing is due yet
    expect(await summary(ledger)).toMatchObject({ pendingMinor: 6840 })
    // another creator's sale 8 days ago: its pending date has come, the alarm (due in the past) fires by itself
    const other = fresh().ledger
    ok(await other.sale(sale('s2'), Date.now() - 8 * DAY))
    await vi.waitFor(async () => expect(await summary(other)).toMatchObject({ availableMinor: 6840, pendingMinor: 0, reserveMinor: 360 }), { timeout: 5000 })
  })
})

describe('immutability and the auditor', () => {
  it('refuses to UPDATE or DELETE a transfer, and verify() names an account whose balance was tampered with', async () => {
    const { ledger } = fresh()
    ok(await ledger.sale(sale('s1'), T0))
    await runInDurableObject(ledger, (_instance, state) => {
      expect(() => state.storage.sql.exec('UPDATE transfers SET amount = 1 WHERE seq = 1')).toThrow(/immutable/)
      expect(() => state.storage.sql.exec('DELETE FROM transfers')).toThrow(/immutable/)
      state.storage.sql.exec("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE code = 'platform_fees'")
    })
    const report = await ledger.verify()
    expect(report.ok).toBe(false)
    expect(report.problems).toContain('USD:platform_fees balances differ from the sum of its transfers')
    expect(report.problems.some((p) => p.startsWith('USD: posted debits'))).toBe(true)
    // the check inside the next write sees it too: the write throws and rolls back entirely
    await expect(ledger.sale(sale('s2'), T0)).rejects.toThrow(/ledger invariant/)
    expect((await ledger.history({ limit: 50 })).items).toHaveLength(4)
    expect(await ledger.refund({ opId: 'r-after', paymentId: 's2', amountMinor: 1 }, T0)).toMatchObject({ ok: false, code: 'payment_not_found' })
  })
})
