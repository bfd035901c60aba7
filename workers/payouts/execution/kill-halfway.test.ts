/**
 * THE acceptance test of issue 6: a payout run killed half-way (the consumer throws between steps,
 * messages are redelivered, duplicates run concurrently) pays every creator exactly once and leaves
 * every ledger balanced.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import entry from '../../index'
import { auditLog } from '../../compliance/audit'
import { ledgerFor } from '../../ledger/stub'
import type { PayoutRail } from '../../../d1/schema/payouts'
import { submitBatch } from '../batches/submit'
import { sandboxTransfers, setSandboxOutcome } from '../processors/sandbox-store'
import type { SandboxDirective } from '../processors/sandbox'
import { setExecutionFaultHook, type ExecutionStep } from './consumer'
import { batchOf, fundedCreator, recordingQueue, type TestPayout } from './fixtures'
import { pollPayoutsJob } from './poll'

const worker: Pick<Required<ExportedHandler<Env>>, 'queue'> = entry

interface Delivery {
  id: string
  body: unknown
  attempts: number
}

async function deliver(messages: Delivery[]) {
  const batch = createMessageBatch('fanz-payouts', messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: m.body })))
  const ctx = createExecutionContext()
  await worker.queue(batch, env, ctx)
  return getQueueResult(batch, ctx)
}

const FUNDED = 50_000
const RAILS: PayoutRail[] = ['paxum', 'epayservice', 'wise', 'payoneer', 'crypto_custodian']

afterEach(() => setExecutionFaultHook(null))

describe('a payout run killed half-way', () => {
  it('pays every creator exactly once, and every ledger balances', async () => {
    const t0 = Date.now()
    // 12 creators over 5 API rails (all on the sandbox: no PAYOUT_PROCESSORS in tests)
    const creators = await Promise.all(Array.from({ length: 12 }, (_, i) => fundedCreator(env, RAILS[i % RAILS.length]!, FUNDED, t0)))
    const byRail = new Map<PayoutRail, typeof creators>()
    for (const c of creators) byRail.set(c.rail, [...(byRail.get(c.rail) ?? []), c])
    const batches = new Map<string, TestPayout[]>()
    for (const [rail, list] of byRail) {
      const { batchId, payouts } = await batchOf(env, rail, list.map((creator, i) => ({ creator, amountMinor: 10_000 + 137 * i + creators.indexOf(creator), feeMinor: 150 })), { nowMs: t0 })
      batches.set(batchId, payouts)
    }
    const all = [...batches.values()].flat()
    expect(all).toHaveLength(12)

    // outcomes: 3 delayed settlements, one 503-then-success (Retry-After 7 s), one decline
    const [d1, d2, d3, flaky, declined, ...rest] = all as [TestPayout, TestPayout, TestPayout, TestPayout, TestPayout, ...TestPayout[]]
    const directives: Array<[TestPayout, SandboxDirective]> = [
      [d1, { outcome: 'delayed', afterMs: 60_000 }],
      [d2, { outcome: 'delayed', afterMs: 60_000 }],
      [d3, { outcome: 'delayed', afterMs: 60_000 }],
      [flaky, { outcome: 'unavailable', attempts: 1, retryAfterS: 7 }],
      [declined, { outcome: 'decline', code: 'ACCOUNT_CLOSED', reason: 'the receiving account is closed' }],
    ]
    for (const [p, d] of directives) await setSandboxOutcome(env, p.payoutId, d)

    // submit: the messages are captured, so this test decides when and how often they arrive
    const { queue, sent } = recordingQueue()
    const submitEnv = { ...env, PAYOUTS: queue } as Env
    for (const batchId of batches.keys()) {
      const r = await submitBatch(submitEnv, { env, actor: 'system:test' }, batchId, t0)
      expect(r.state).toBe('submitted')
      // submitting again (a caller that lost the answer) moves nothing and re-sends the messages of
      // payouts never attempted: duplicates the consumer must absorb, like a queue redelivery
      const again = await submitBatch(submitEnv, { env, actor: 'system:test' }, batchId, t0)
      expect(again).toMatchObject({ state: 'submitted', queued: batches.get(batchId)!.length })
    }
    expect(sent).toHaveLength(24)
    expect(sent).toEqual(expect.arrayContaining(all.map((p) => ({ type: 'payout.execute', id: p.payoutId, payload: { payoutId: p.payoutId } }))))
    expect(new Set(sent.map((m) => (m as { id: string }).id)).size).toBe(12)

    // kill points, each firing once: after the processor accepted (before D1 knows), after the
    // ledger post (before the row moves), after claiming the attempt, and after everything (not acked)
    const [killAfterProcessor, killAfterLedger, killAfterClaim, killAtEnd] = rest as [TestPayout, TestPayout, TestPayout, TestPayout]
    const kills = new Set<string>([
      `${killAfterProcessor.payoutId}:processor_answered`,
      `${killAfterLedger.payoutId}:ledger_posted`,
      `${killAfterClaim.payoutId}:claimed`,
      `${killAtEnd.payoutId}:row_updated`,
      `${d1.payoutId}:processor_answered`,
    ])
    setExecutionFaultHook((step: ExecutionStep, payoutId: string) => {
      if (kills.delete(`${payoutId}:${step}`)) throw new Error(`killed after ${step}`)
    })

    const messages = (attempts: number) => all.map((p) => ({ id: `msg-${p.payoutId}-${attempts}`, body: { type: 'payout.execute', id: p.payoutId, payload: { payoutId: p.payoutId } }, attempts }))
    const first = await deliver(messages(1))
    expect(kills.size).toBe(0)
    const retriedPayouts = first.retryMessages.map((m: { msgId: string }) => m.msgId.slice('msg-'.length, -2)).sort()
    expect(retriedPayouts).toEqual([killAfterProcessor, killAfterLedger, killAfterClaim, killAtEnd, d1, flaky].map((p) => p.payoutId).sort())
    // the 503's Retry-After is honoured (never sooner), the backoff is capped at an hour: the delay
    // the message was retried with is recorded on the payout with the transient error
    const flakyRow = (await env.DB.prepare('SELECT state, next_attempt_at_ms, updated_at_ms, failure_code FROM payouts WHERE id = ?').bind(flaky.payoutId).first<{ state: string; next_attempt_at_ms: number; updated_at_ms: number; failure_code: string }>())!
    expect(flakyRow).toMatchObject({ state: 'queued', failure_code: 'SANDBOX_UNAVAILABLE' })
    const flakyDelay = (flakyRow.next_attempt_at_ms - flakyRow.updated_at_ms) / 1000
    expect(flakyDelay).toBeGreaterThanOrEqual(7)
    expect(flakyDelay).toBeLessThanOrEqual(3600)
    expect(first.explicitAcks).toHaveLength(6)

    // the processor accepted the killed ones: the sandbox has them, D1 does not know yet
    const midway = new Map((await sandboxTransfers(env)).map((t) => [t.payoutId, t]))
    expect(midway.get(killAfterProcessor.payoutId)?.state).toBe('settled')
    expect((await env.DB.prepare('SELECT state FROM payouts WHERE id = ?').bind(killAfterProcessor.payoutId).first<{ state: string }>())!.state).toBe('queued')
    expect((await env.DB.prepare('SELECT state FROM payouts WHERE id = ?').bind(killAfterLedger.payoutId).first<{ state: string }>())!.state).toBe('queued')
    expect((await ledgerFor(env, killAfterLedger.creatorId).balances('USD')).summary[0]!.onHoldMinor).toBe(0)

    // redeliver EVERY message, twice, concurrently
    const [again, duplicate] = await Promise.all([deliver(messages(2)), deliver(messages(2).map((m) => ({ ...m, id: `${m.id}-dup` })))])
    expect(again.retryMessages).toEqual([])
    expect(duplicate.retryMessages).toEqual([])
    expect(again.explicitAcks).toHaveLength(12)

    // the delayed ones are on their way; the poll a minute later finds them settled
    const submitted = await env.DB.prepare("SELECT id FROM payouts WHERE state = 'submitted' ORDER BY id").all<{ id: string }>()
    expect(submitted.results.map((r) => r.id)).toEqual([d1, d2, d3].map((p) => p.payoutId).sort())
    expect(await pollPayoutsJob(env, Date.now() + 30_000)).toMatchObject({ checked: 0 })
    expect(await pollPayoutsJob(env, Date.now() + 61_000)).toEqual({ checked: 3, settled: 3, failed: 0, rescheduled: 0, errors: 0 })
    expect(await pollPayoutsJob(env, Date.now() + 122_000)).toMatchObject({ checked: 0 })

    // exactly one transfer per payout and per idempotency key at the processor
    const transfers = await sandboxTransfers(env)
    const ours = transfers.filter((t) => all.some((p) => p.payoutId === t.payoutId))
    expect(ours).toHaveLength(12)
    expect(new Set(ours.map((t) => t.payoutId)).size).toBe(12)
    expect(new Set(ours.map((t) => t.idempotencyKey))).toEqual(new Set(all.map((p) => p.idempotencyKey)))
    for (const t of ours) expect(t.amount).toEqual({ minor: all.find((p) => p.payoutId === t.payoutId)!.netMinor, currency: 'USD' })
    expect(ours.filter((t) => t.state === 'settled')).toHaveLength(11)
    expect(ours.find((t) => t.payoutId === declined.payoutId)!.state).toBe('declined')

    // payouts: 11 settled, the declined one failed; each settled (audited) exactly once
    const states = await env.DB.prepare(`SELECT id, state, failure_code, attempts FROM payouts WHERE id IN (${all.map(() => '?').join(',')})`).bind(...all.map((p) => p.payoutId)).all<{ id: string; state: string; failure_code: string | null; attempts: number }>()
    const stateOf = new Map(states.results.map((r) => [r.id, r]))
    for (const p of all) expect(stateOf.get(p.payoutId)!.state).toBe(p === declined ? 'failed' : 'settled')
    expect(stateOf.get(declined.payoutId)!.failure_code).toBe('ACCOUNT_CLOSED')
    for (const p of all) {
      const settles = (await auditLog(env).list({ subject: `payout:${p.payoutId}`, limit: 50 })).filter((e) => e.action === 'payouts.payout.settle')
      expect(settles).toHaveLength(p === declined ? 0 : 1)
    }

    // every attempt is on record, numbered without gaps from 1
    const attempts = await env.DB.prepare(`SELECT payout_id, attempt, outcome FROM payout_attempts WHERE payout_id IN (${all.map(() => '?').join(',')}) ORDER BY payout_id, attempt`).bind(...all.map((p) => p.payoutId)).all<{ payout_id: string; attempt: number; outcome: string }>()
    expect(attempts.results.filter((a) => a.payout_id === flaky.payoutId)[0]).toMatchObject({ attempt: 1, outcome: 'retryable' })
    expect(attempts.results.filter((a) => a.payout_id === declined.payoutId)).toEqual([{ payout_id: declined.payoutId, attempt: 1, outcome: 'declined' }])

    // ledgers: nothing on hold; paid ones lost exactly their amount to payouts_in_transit; the declined one has it all back
    for (const p of all) {
      const ledger = ledgerFor(env, p.creatorId)
      const b = await ledger.balances('USD')
      const summary = b.summary[0]!
      const inTransit = b.accounts.find((a) => a.account === 'payouts_in_transit')?.postedMinor ?? 0
      expect(summary.onHoldMinor).toBe(0)
      if (p === declined) {
        expect(summary.availableMinor).toBe(FUNDED)
        expect(inTransit).toBe(0)
      } else {
        expect(summary.availableMinor).toBe(FUNDED - p.amountMinor)
        expect(inTransit).toBe(p.amountMinor)
      }
      const verified = await ledger.verify()
      expect(verified.problems).toEqual([])
      expect(verified.ok).toBe(true)
    }

    // batches: the one with the decline is partially_failed, the others settled
    for (const [batchId, payouts] of batches) {
      const batch = await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>()
      expect(batch!.state).toBe(payouts.includes(declined) ? 'partially_failed' : 'settled')
    }

    // late duplicates change nothing
    const late = await deliver(messages(3))
    expect(late.explicitAcks).toHaveLength(12)
    expect((await sandboxTransfers(env)).filter((t) => all.some((p) => p.payoutId === t.payoutId))).toHaveLength(12)
    for (const p of all.filter((x) => x !== declined)) expect((await ledgerFor(env, p.creatorId).balances('USD')).summary[0]!.availableMinor).toBe(FUNDED - p.amountMinor)
  })
})
