import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ledgerFor } from '../../ledger/stub'
import { submitBatch } from '../batches/submit'
import { setSandboxOutcome } from '../processors/sandbox-store'
import { executePayout } from './consumer'
import { batchOf, fundedCreator, recordingQueue } from './fixtures'
import { pollPayoutsJob } from './poll'

const row = (id: string) => env.DB.prepare('SELECT state, next_attempt_at_ms, failure_code FROM payouts WHERE id = ?').bind(id).first<{ state: string; next_attempt_at_ms: number | null; failure_code: string | null }>()

describe('pollPayoutsJob', () => {
  it('reschedules a payout still on its way, and fails one the processor bounced: the money is back', async () => {
    const t0 = Date.now()
    const creator = await fundedCreator(env, 'payoneer', 10_000, t0)
    const { batchId, payouts } = await batchOf(env, 'payoneer', [{ creator, amountMinor: 4_000, feeMinor: 40 }], { nowMs: t0 })
    const payout = payouts[0]!
    await setSandboxOutcome(env, payout.payoutId, { outcome: 'delayed', afterMs: 10 * 60_000, then: 'declined' })
    await submitBatch({ ...env, PAYOUTS: recordingQueue().queue } as Env, { env, actor: 'system:test' }, batchId, t0)
    expect(await executePayout(env, payout.payoutId, { nowMs: t0 })).toMatchObject({ action: 'submitted' })
    expect(await row(payout.payoutId)).toMatchObject({ state: 'submitted', next_attempt_at_ms: t0 + 60_000 })

    // a minute later: still pending at the processor -> asked again later, never sooner than a minute
    const r1 = await pollPayoutsJob(env, t0 + 60_000, { random: () => 0 })
    expect(r1).toEqual({ checked: 1, settled: 0, failed: 0, rescheduled: 1, errors: 0 })
    expect((await row(payout.payoutId))!.next_attempt_at_ms).toBe(t0 + 120_000)
    expect(await pollPayoutsJob(env, t0 + 119_000)).toMatchObject({ checked: 0 })

    // after the delay the processor says it bounced: failed, hold voided, batch failed
    const r2 = await pollPayoutsJob(env, t0 + 11 * 60_000)
    expect(r2).toEqual({ checked: 1, settled: 0, failed: 1, rescheduled: 0, errors: 0 })
    expect(await row(payout.payoutId)).toMatchObject({ state: 'failed', failure_code: 'SANDBOX_RETURNED' })
    expect((await ledgerFor(env, creator.creatorId).balances('USD')).summary[0]).toMatchObject({ availableMinor: 10_000, onHoldMinor: 0 })
    expect((await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!.state).toBe('failed')
    expect(await pollPayoutsJob(env, t0 + 60 * 60_000)).toMatchObject({ checked: 0 })
  })
})
