/**
 * Issue 6 acceptance: "a creator without verified KYC never appears in a batch; the refusal reason
 * is recorded". A cron run (payoutRunJob) over creators that are verified, unverified, expired,
 * declined, on hold, cooling off, below the minimum, without a method, and not due: exactly the
 * verified and eligible ones are in draft batches (by rail and currency), every other due creator
 * has its refusal code, the ledger holds the payout amounts, and the run is visible over HTTP.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { ledgerFor } from '../../ledger/stub'
import { quoteFee } from '../fees/fees'
import { feeSchedules } from '../fees/schedule'
import { payoutRunJob } from './cron'
import { runPayouts, type RunSummary } from './run'
import { ACH, API, complianceHold, fund, kyc, method, mint, newCreator, SEPA, setRule, type TestCreator } from './test-kit'

// Tuesday 1 December 2026, 09:00 UTC: the platform default rule (weekly on Tuesday) is due
const RUN_AT = Date.parse('2026-12-01T09:00:00Z')
const DAY = 86_400_000

type Who = 'verified_ach' | 'verified_sepa' | 'no_kyc' | 'expired' | 'declined' | 'on_hold' | 'cooling_off' | 'below_min' | 'no_method' | 'not_due' | 'review_newer'
const c = {} as Record<Who, TestCreator>
let summary: RunSummary

beforeAll(async () => {
  for (const who of ['verified_ach', 'verified_sepa', 'no_kyc', 'expired', 'declined', 'on_hold', 'cooling_off', 'below_min', 'no_method', 'not_due', 'review_newer'] as Who[]) c[who] = await newCreator()
  // verified, ACH (nacha, USD), default rule
  await kyc(c.verified_ach.creatorId, 'approved')
  await method(c.verified_ach.creatorId, ACH, 'USD')
  await fund(c.verified_ach.creatorId, 'USD', 50_000)
  // verified, SEPA (EUR), weekly Tuesday rule in EUR
  await kyc(c.verified_sepa.creatorId, 'approved')
  await method(c.verified_sepa.creatorId, SEPA, 'EUR')
  await setRule(c.verified_sepa.creatorId, { kind: 'weekly', weekday: 2, currency: 'EUR' })
  await fund(c.verified_sepa.creatorId, 'EUR', 30_000)
  // an approved KYC with a newer verification under review: the approval still counts (kycStanding)
  await kyc(c.review_newer.creatorId, 'approved', { createdAtMs: RUN_AT - 40 * DAY })
  await kyc(c.review_newer.creatorId, 'review', { createdAtMs: RUN_AT - DAY })
  await method(c.review_newer.creatorId, ACH, 'USD')
  await fund(c.review_newer.creatorId, 'USD', 7_000)
  // every other one has an ACH method and money; something else is wrong
  for (const who of ['no_kyc', 'expired', 'declined', 'on_hold', 'cooling_off', 'below_min', 'not_due'] as Who[]) {
    await fund(c[who].creatorId, 'USD', who === 'below_min' ? 1_500 : 40_000)
    if (who !== 'cooling_off') await method(c[who].creatorId, ACH, 'USD')
  }
  await kyc(c.expired.creatorId, 'approved', { expiresOn: '2026-11-30' })
  await kyc(c.declined.creatorId, 'declined')
  await kyc(c.on_hold.creatorId, 'approved')
  await complianceHold(c.on_hold.creatorId)
  await kyc(c.cooling_off.creatorId, 'approved')
  await method(c.cooling_off.creatorId, ACH, 'USD', { usableFromMs: RUN_AT + 2 * DAY })
  await kyc(c.below_min.creatorId, 'approved')
  await kyc(c.no_method.creatorId, 'approved')
  await fund(c.no_method.creatorId, 'USD', 40_000)
  await kyc(c.not_due.creatorId, 'approved')
  await setRule(c.not_due.creatorId, { kind: 'weekly', weekday: 3, currency: 'USD' })

  summary = await payoutRunJob(env, RUN_AT)
})

async function payoutsOf(creatorId: string) {
  return (await env.DB.prepare('SELECT p.*, b.state AS batch_state, b.rail AS batch_rail FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id WHERE p.creator_id = ?').bind(creatorId).all<Record<string, unknown>>()).results
}

async function refusalsOf(creatorId: string) {
  return (await env.DB.prepare('SELECT run_id, code, detail FROM payout_refusals WHERE creator_id = ?').bind(creatorId).all<{ run_id: string; code: string; detail: string }>()).results
}

describe('payout run: KYC and eligibility decide who is in a batch', () => {
  it('puts exactly the verified, eligible creators in draft batches, by rail and currency', async () => {
    const batched = (await env.DB.prepare('SELECT p.creator_id FROM payouts p JOIN payout_batches b ON b.id = p.batch_id WHERE b.run_id = ? ORDER BY p.creator_id').bind(summary.run_id).all<{ creator_id: string }>()).results.map((r) => r.creator_id)
    expect(batched).toEqual([c.verified_ach.creatorId, c.verified_sepa.creatorId, c.review_newer.creatorId].sort())
    const schedules = await feeSchedules(env)
    const nachaFee = quoteFee(schedules.get('nacha:USD')!, 50_000)
    const [ach] = await payoutsOf(c.verified_ach.creatorId)
    expect(ach).toMatchObject({ state: 'pending', kind: 'scheduled', rail: 'nacha', currency: 'USD', amount_minor: 50_000, batch_state: 'draft', run_id: summary.run_id })
    expect('feeMinor' in nachaFee && ach!.fee_minor).toBe('feeMinor' in nachaFee && nachaFee.feeMinor)
    expect(ach!.net_minor).toBe(50_000 - (ach!.fee_minor as number))
    expect(ach!.idempotency_key).toBe(ach!.id)
    expect(ach!.hold_id).toEqual(expect.any(String))
    const [sepa] = await payoutsOf(c.verified_sepa.creatorId)
    expect(sepa).toMatchObject({ rail: 'sepa', currency: 'EUR', amount_minor: 30_000, fee_minor: 20, net_minor: 29_980, batch_state: 'draft' })

    const byRail = Object.fromEntries(summary.batches.map((b) => [`${b.rail}:${b.currency}`, b]))
    expect(byRail['nacha:USD']).toMatchObject({ count: 2, total_minor: 57_000, fee_minor: 50, state: 'draft', approvals_required: 1 })
    expect(byRail['sepa:EUR']).toMatchObject({ count: 1, total_minor: 30_000, fee_minor: 20, state: 'draft', approvals_required: 1 })
    // the NACHA file fee (1500) is paid once for the run's two ACH payouts, not twice
    expect(summary.batch_fees.find((f) => f.rail === 'nacha')).toEqual({ rail: 'nacha', currency: 'USD', batches: 1, payouts: 2, per_batch_fixed_minor: 1500, paid_minor: 1500, per_payout_batches_minor: 3000, saved_minor: 1500 })
  })

  it('records each refused creator with its reason and never batches them', async () => {
    const expected: [Who, string][] = [
      ['no_kyc', 'kyc_not_verified'],
      ['expired', 'kyc_expired'],
      ['declined', 'kyc_not_verified'],
      ['on_hold', 'compliance_hold'],
      ['cooling_off', 'method_cooling_off'],
      ['below_min', 'below_minimum'],
      ['no_method', 'no_method'],
    ]
    for (const [who, code] of expected) {
      expect(await refusalsOf(c[who].creatorId), who).toEqual([{ run_id: summary.run_id, code, detail: expect.any(String) }])
      expect(await payoutsOf(c[who].creatorId), who).toEqual([])
    }
    // not due today: neither paid nor refused (no "not_due" noise for every creator every day)
    expect(await refusalsOf(c.not_due.creatorId)).toEqual([])
    expect(await payoutsOf(c.not_due.creatorId)).toEqual([])
    expect(summary.refusals_by_code).toMatchObject({ kyc_not_verified: expect.any(Number), kyc_expired: 1, compliance_hold: 1, method_cooling_off: 1, below_minimum: 1, no_method: 1 })
    expect(summary.created).toBe(3)
  })

  it('leaves the ledgers holding exactly the payout amounts', async () => {
    const usd = (await ledgerFor(env, c.verified_ach.creatorId).balances('USD')).summary[0]!
    expect(usd).toMatchObject({ availableMinor: 0, onHoldMinor: 50_000 })
    const eur = (await ledgerFor(env, c.verified_sepa.creatorId).balances('EUR')).summary[0]!
    expect(eur).toMatchObject({ availableMinor: 0, onHoldMinor: 30_000 })
    const refused = (await ledgerFor(env, c.no_kyc.creatorId).balances('USD')).summary[0]!
    expect(refused).toMatchObject({ availableMinor: 40_000, onHoldMinor: 0 })
    for (const who of ['verified_ach', 'verified_sepa', 'no_kyc'] as Who[]) expect((await ledgerFor(env, c[who].creatorId).verify()).ok, who).toBe(true)
  })

  it('does nothing when the cron fires a second time the same day', async () => {
    const again = await payoutRunJob(env, RUN_AT + 60_000)
    expect(again).toMatchObject({ run_id: summary.run_id, already_done: true, created: 3 })
    const { n } = (await env.DB.prepare('SELECT COUNT(*) AS n FROM payouts WHERE creator_id IN (?, ?, ?)').bind(c.verified_ach.creatorId, c.verified_sepa.creatorId, c.review_newer.creatorId).first<{ n: number }>())!
    expect(n).toBe(3)
  })

  it('refuses payout_in_flight on a later run while the payout is still pending', async () => {
    const next = await runPayouts(env, { env, actor: 'test' }, { trigger: 'operator', runDate: '2026-12-08', nowMs: RUN_AT + 7 * DAY, creatorIds: [c.verified_ach.creatorId] })
    expect(next.refusals_by_code).toEqual({ payout_in_flight: 1 })
    expect(next.batches).toEqual([])
  })

  it('shows the run, its refusals and the creator’s own refusals over HTTP', async () => {
    const finance = await mint({ roles: ['finance'] })
    const run = await call(API, `/api/payouts/runs/${summary.run_id}`, { token: finance })
    expect(run.status).toBe(200)
    expect(await run.json()).toMatchObject({ run_id: summary.run_id, state: 'done', created: 3, refusals_by_code: summary.refusals_by_code })
    const expired = await call(API, `/api/payouts/refusals?run_id=${summary.run_id}&code=kyc_expired`, { token: finance })
    expect(((await expired.json()) as { items: { creator_id: string }[] }).items.map((i) => i.creator_id)).toEqual([c.expired.creatorId])
    const own = await call(API, `/api/payouts/creators/${c.no_kyc.creatorId}/refusals`, { token: c.no_kyc.token })
    expect(own.status).toBe(200)
    expect(((await own.json()) as { items: { code: string }[] }).items.map((i) => i.code)).toEqual(['kyc_not_verified'])
    // another creator's refusals are not there for them
    const foreign = await call(API, `/api/payouts/creators/${c.no_kyc.creatorId}/refusals`, { token: c.declined.token })
    expect(foreign.status).toBe(404)
    const list = await call(API, '/api/payouts/runs?trigger=cron', { token: finance })
    expect(((await list.json()) as { items: { id: string }[] }).items.map((i) => i.id)).toContain(summary.run_id)
  })
})
