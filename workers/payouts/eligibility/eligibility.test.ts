/**
 * Eligibility facts read set-based agree with the vault's per-creator `kycStanding`, over KYC
 * histories that exercise its rule (newest approval wins over a newer retry, an expired document,
 * declined, none, a same-millisecond tie, the 20-row window); and the decision order on facts.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../lib/ids'
import { kycStanding } from '../../vault/kyc/verifications'
import { feeSchedules } from '../fees/schedule'
import { complianceHold, fund, kyc, method, newCreator, ACH, PAXUM } from '../runs/test-kit'
import { decide } from './decide'
import { factsForCreators, kycFacts, kycVerified, type CreatorFacts } from './facts'

const NOW = Date.parse('2026-12-01T09:00:00Z')
const DAY = 86_400_000

const histories: Record<string, [status: string, options: { expiresOn?: string | null; createdAtMs: number; id?: string }][]> = {
  none: [],
  approved: [['approved', { createdAtMs: NOW - 10 * DAY }]],
  approved_no_expiry: [['approved', { createdAtMs: NOW - 10 * DAY, expiresOn: null }]],
  expired_doc: [['approved', { createdAtMs: NOW - 10 * DAY, expiresOn: '2026-12-01' }]],
  expires_tomorrow: [['approved', { createdAtMs: NOW - 10 * DAY, expiresOn: '2026-12-02' }]],
  declined: [['declined', { createdAtMs: NOW - DAY }]],
  approved_then_review: [
    ['approved', { createdAtMs: NOW - 30 * DAY }],
    ['review', { createdAtMs: NOW - DAY }],
  ],
  approved_then_declined: [
    ['approved', { createdAtMs: NOW - 30 * DAY }],
    ['declined', { createdAtMs: NOW - DAY }],
  ],
  old_expired_new_approved: [
    ['approved', { createdAtMs: NOW - 300 * DAY, expiresOn: '2026-01-01' }],
    ['approved', { createdAtMs: NOW - DAY }],
  ],
  status_expired: [['expired', { createdAtMs: NOW - DAY }]],
  resubmission: [['resubmission_requested', { createdAtMs: NOW - DAY }]],
  // same millisecond: the larger id is the newer (kycStanding orders by created_at_ms, id)
  tie: [
    ['approved', { createdAtMs: NOW - DAY, expiresOn: '2026-06-01', id: 'kyc_01AAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['approved', { createdAtMs: NOW - DAY, expiresOn: '2030-06-01', id: 'kyc_01BBBBBBBBBBBBBBBBBBBBBBBB' }],
  ],
  // an approval older than the 20 newest rows is not seen by kycStanding: nor by the set query
  buried: [['approved', { createdAtMs: NOW - 100 * DAY }], ...Array.from({ length: 20 }, (_, i) => ['declined', { createdAtMs: NOW - (50 - i) * DAY }] as [string, { createdAtMs: number }])],
}

const ids: Record<string, string> = {}

beforeAll(async () => {
  for (const [name, rows] of Object.entries(histories)) {
    ids[name] = (await newCreator()).creatorId
    for (const [status, options] of rows) await kyc(ids[name]!, status, options)
  }
})

describe('set-based KYC facts', () => {
  it('agree with kycStanding for every history, read by id list and by id range', async () => {
    const all = Object.values(ids)
    const byIds = await kycFacts(env.DB, { kind: 'ids', ids: all })
    const sorted = [...all].sort()
    const byRange = await kycFacts(env.DB, { kind: 'range', from: sorted[0]!, to: sorted.at(-1)! })
    const seen: Record<string, boolean> = {}
    for (const [name, id] of Object.entries(ids)) {
      const standing = await kycStanding(env, 'creator', id, NOW)
      const set = kycVerified(byIds.get(id) ?? null, NOW)
      expect({ name, verified: set.verified, status: set.status }).toEqual({ name, verified: standing.verified, status: standing.status })
      expect(kycVerified(byRange.get(id) ?? null, NOW).verified, name).toBe(standing.verified)
      seen[name] = standing.verified
    }
    // the histories do exercise both answers
    expect(seen).toEqual({
      none: false,
      approved: true,
      approved_no_expiry: true,
      expired_doc: false,
      expires_tomorrow: true,
      declined: false,
      approved_then_review: true,
      approved_then_declined: true,
      old_expired_new_approved: true,
      status_expired: false,
      resubmission: false,
      tie: true,
      buried: false,
    })
  })

  it('names expired documents kyc_expired and everything else unverified kyc_not_verified', async () => {
    const facts = await kycFacts(env.DB, { kind: 'ids', ids: Object.values(ids) })
    const code = (name: string) => kycVerified(facts.get(ids[name]!) ?? null, NOW).code
    expect([code('expired_doc'), code('status_expired'), code('none'), code('declined'), code('resubmission'), code('approved')]).toEqual(['kyc_expired', 'kyc_expired', 'kyc_not_verified', 'kyc_not_verified', 'kyc_not_verified', null])
  })
})

describe('decide', () => {
  it('checks in order and pays the whole available balance with the rail fee', async () => {
    const a = (await newCreator()).creatorId
    await kyc(a, 'approved')
    const ach = await method(a, ACH, 'USD')
    await fund(a, 'USD', 12_345)
    const schedules = await feeSchedules(env)
    let [facts] = await factsForCreators(env.DB, [a])
    const base = { runDate: '2026-12-01', nowMs: NOW, schedules }
    expect(decide(facts!, base)).toMatchObject({ ok: true, amountMinor: 12_345, feeMinor: 25, netMinor: 12_320, method: { id: ach, rail: 'nacha' } })
    // not a Tuesday: not due (the default rule), unless asked
    expect(decide(facts!, { ...base, runDate: '2026-12-02' })).toMatchObject({ ok: false, code: 'not_due' })
    expect(decide(facts!, { ...base, runDate: '2026-12-02', asked: true })).toMatchObject({ ok: true })
    // instant on a rail without instant payment
    expect(decide(facts!, { ...base, asked: true, instant: { amountMinor: 5_000, currency: 'USD', methodId: null } })).toMatchObject({ ok: false, code: 'instant_not_offered' })
    const paxum = await method(a, PAXUM, 'USD')
    ;[facts] = await factsForCreators(env.DB, [a])
    expect(decide(facts!, { ...base, asked: true, instant: { amountMinor: 5_000, currency: 'USD', methodId: paxum } })).toMatchObject({ ok: true, feeMinor: 300, netMinor: 4_700 })
    expect(decide(facts!, { ...base, asked: true, instant: { amountMinor: 20_000, currency: 'USD', methodId: paxum } })).toMatchObject({ ok: false, code: 'insufficient_funds' })
    expect(decide(facts!, { ...base, asked: true, instant: { amountMinor: 5_000, currency: 'USD', methodId: newId('payoutMethod') } })).toMatchObject({ ok: false, code: 'no_method' })
    // a hold comes before the method and the money
    await complianceHold(a)
    ;[facts] = await factsForCreators(env.DB, [a])
    expect(decide(facts!, base)).toMatchObject({ ok: false, code: 'compliance_hold' })
  })

  it('evaluates threshold rules by amount and caps nothing below the rail maximum', () => {
    const facts: CreatorFacts = {
      creatorId: 'crt_X',
      rule: { kind: 'threshold', weekday: null, thresholdMinor: 10_000, dates: [], daysOfMonth: [], currency: 'USD', methodId: null, isDefault: false },
      ruleUpdatedAtMs: null,
      kyc: { status: 'approved', documentExpiresOn: null },
      onHold: false,
      methods: [{ id: 'pm_1', type: 'ach', rail: 'nacha', currency: 'USD', usableFromMs: 0, isDefault: true, createdAtMs: 0 }],
      available: new Map([['USD', 9_999]]),
      inFlight: new Map(),
    }
    const schedules = new Map([['nacha:USD', { rail: 'nacha' as const, currency: 'USD', fixedMinor: 25, percentBps: 0, fxSpreadBps: 0, instantFixedMinor: null, instantPercentBps: null, minPayoutMinor: 2000, maxPayoutMinor: 50_000, perBatchFixedMinor: 1500, updatedBy: 't', updatedAtMs: 0 }]])
    expect(decide(facts, { runDate: '2026-12-01', nowMs: NOW, schedules })).toMatchObject({ ok: false, code: 'below_threshold' })
    facts.available.set('USD', 10_000)
    expect(decide(facts, { runDate: '2026-12-01', nowMs: NOW, schedules })).toMatchObject({ ok: true, amountMinor: 10_000 })
    facts.available.set('USD', 80_000)
    expect(decide(facts, { runDate: '2026-12-01', nowMs: NOW, schedules })).toMatchObject({ ok: true, amountMinor: 50_000, feeMinor: 25 })
    facts.inFlight.set('USD', 'prn_other')
    expect(decide(facts, { runDate: '2026-12-01', nowMs: NOW, schedules })).toMatchObject({ ok: false, code: 'payout_in_flight' })
  })
})
