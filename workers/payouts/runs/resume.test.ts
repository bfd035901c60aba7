/**
 * A payout run that dies halfway is finished by running it again: killed between a ledger hold
 * and storing its id, after the first batch, or right after the payouts were inserted; every
 * creator ends with exactly one payout, one hold of exactly its amount, in exactly one batch.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ledgerFor } from '../../ledger/stub'
import { payoutRunJob } from './cron'
import { runPayouts, type RunStep } from './run'
import { ACH, fund, kyc, method, newCreator, SEPA, setRule } from './test-kit'

const DAY = 86_400_000

async function verifiedCreators(n: number, rail: 'ach' | 'sepa' = 'ach'): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const { creatorId } = await newCreator()
    await kyc(creatorId, 'approved')
    if (rail === 'ach') await method(creatorId, ACH, 'USD')
    else {
      await method(creatorId, SEPA, 'EUR')
      await setRule(creatorId, { kind: 'weekly', weekday: 2, currency: 'EUR' })
    }
    await fund(creatorId, rail === 'ach' ? 'USD' : 'EUR', 10_000 + i * 100)
    ids.push(creatorId)
  }
  return ids
}

const crashAt = (step: RunStep, nth = 1) => {
  let seen = 0
  return (s: RunStep) => {
    if (s === step && ++seen === nth) throw new Error(`crash at ${step} #${nth}`)
  }
}

async function expectPaidOnce(creatorIds: string[], currency: string) {
  for (const [i, id] of creatorIds.entries()) {
    const rows = (await env.DB.prepare(`SELECT id, amount_minor, hold_id, batch_id, state FROM payouts WHERE creator_id = ?`).bind(id).all<{ id: string; amount_minor: number; hold_id: string | null; batch_id: string | null; state: string }>()).results
    expect(rows, id).toHaveLength(1)
    expect(rows[0]).toMatchObject({ amount_minor: 10_000 + i * 100, state: 'pending', hold_id: expect.any(String), batch_id: expect.any(String) })
    const ledger = ledgerFor(env, id)
    expect((await ledger.balances(currency)).summary[0]).toMatchObject({ availableMinor: 0, onHoldMinor: 10_000 + i * 100 })
    expect((await ledger.verify()).ok).toBe(true)
  }
  const batched = await env.DB.prepare(`SELECT b.id, b.count, b.total_minor, (SELECT COUNT(*) FROM payouts p WHERE p.batch_id = b.id) AS rows_in, (SELECT SUM(amount_minor) FROM payouts p WHERE p.batch_id = b.id) AS sum_in FROM payout_batches b WHERE b.id IN (SELECT batch_id FROM payouts WHERE creator_id IN (SELECT value FROM json_each(?)))`)
    .bind(JSON.stringify(creatorIds))
    .all<{ count: number; total_minor: number; rows_in: number; sum_in: number }>()
  for (const b of batched.results) expect(b.count === b.rows_in && b.total_minor === b.sum_in).toBe(true)
}

describe('a killed payout run is finished by the next firing', () => {
  it('killed between a ledger hold and storing its id: the second firing of the day replays the holds', async () => {
    const ids = await verifiedCreators(4)
    const at = Date.parse('2026-12-01T09:00:00Z')
    await expect(runPayouts(env, { env, actor: 'test' }, { trigger: 'cron', runDate: '2026-12-01', nowMs: at, holdConcurrency: 1, fault: crashAt('hold_placed', 2) })).rejects.toThrow('crash at hold_placed #2')
    const half = await env.DB.prepare(`SELECT state FROM payout_runs WHERE run_date = '2026-12-01' AND trigger = 'cron'`).first<{ state: string }>()
    expect(half!.state).toBe('running')
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payouts WHERE hold_id IS NOT NULL AND creator_id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids)).first<{ n: number }>())!.n).toBe(0)
    const done = await payoutRunJob(env, at + 5 * 60_000)
    expect(done).toMatchObject({ state: 'done', already_done: false })
    await expectPaidOnce(ids, 'USD')
    expect(done.batches.filter((b) => b.rail === 'nacha')).toEqual([expect.objectContaining({ count: 4, total_minor: 4 * 10_000 + 600 })])
  })

  it('killed after the first batch: the other rail’s batch is formed, the first is not duplicated', async () => {
    const ach = await verifiedCreators(2)
    const sepa = await verifiedCreators(2, 'sepa')
    const at = Date.parse('2026-12-08T09:00:00Z')
    await expect(runPayouts(env, { env, actor: 'test' }, { trigger: 'cron', runDate: '2026-12-08', nowMs: at, fault: crashAt('batch_formed') })).rejects.toThrow('crash at batch_formed')
    const done = await payoutRunJob(env, at + 60_000)
    await expectPaidOnce(ach, 'USD')
    await expectPaidOnce(sepa, 'EUR')
    const mine = done.batches.filter((b) => b.rail === 'nacha' || b.rail === 'sepa')
    expect(mine.map((b) => [b.rail, b.count]).sort()).toEqual([
      ['nacha', 2],
      ['sepa', 2],
    ])
  })

  it('killed right after the payouts were inserted: a later day’s cron finishes the stale run', async () => {
    const ids = await verifiedCreators(3)
    const at = Date.parse('2026-12-15T09:00:00Z')
    await expect(runPayouts(env, { env, actor: 'test' }, { trigger: 'cron', runDate: '2026-12-15', nowMs: at, fault: crashAt('page_inserted') })).rejects.toThrow()
    // Wednesday: no rule of these creators is due; the stale Tuesday run is finished first
    const wednesday = await payoutRunJob(env, at + 86_400_000)
    expect(wednesday.created).toBe(0)
    const tuesday = await env.DB.prepare(`SELECT state, created FROM payout_runs WHERE run_date = '2026-12-15' AND trigger = 'cron'`).first<{ state: string; created: number }>()
    expect(tuesday).toMatchObject({ state: 'done' })
    await expectPaidOnce(ids, 'USD')
  })
})
