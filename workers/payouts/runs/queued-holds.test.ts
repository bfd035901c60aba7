/**
 * A run with more payouts than it holds inline hands the ledger holds to the PAYOUTS queue in
 * chunks (`payout.run.holds`) and returns `holding`; delivering the chunks through the Worker's own
 * queue() handler places every hold once, and the consumer that finishes the last chunk forms the
 * batches once and marks the run done, with the same counts as the inline path. Redelivered,
 * duplicated and concurrent chunks change nothing; a consumer killed mid-chunk is finished by the
 * redelivery, one killed after the batching claim by resumeStaleRuns.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import entry from '../../index'
import { auditLog } from '../../compliance/audit'
import { ledgerFor } from '../../ledger/stub'
import { recordingQueue } from '../execution/fixtures'
import { HOLD_CHUNK_SIZE, holdChunkMessages, PAYOUT_RUN_HOLDS, sendGroups, SEND_BATCH_MAX_BYTES } from './hold-chunks'
import { setRunHoldsFaultHook } from './holds-consumer'
import { resumeStaleRuns, runPayouts, runSummary, STALE_RUN_MS, type RunStep, type RunSummary } from './run'
import { call } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { INLINE_HOLDS_MAX } from './hold-chunks'
import { ACH, API, fund, kyc, method, mint, newCreator, SEPA, setRule } from './test-kit'

const worker: Pick<Required<ExportedHandler<Env>>, 'queue'> = entry
const ctx = { env, actor: 'test' }

interface Chunk {
  type: string
  id: string
  payload: { runId: string; payoutIds: string[] }
}

/** what a group of creators should end with: amount held and batched, or refused by the ledger */
interface Member {
  creatorId: string
  currency: string
  amount: number
  /** the projection showed more than the ledger holds: the hold is refused */
  stale?: boolean
}

/**
 * `ach` USD creators, `sepa` EUR creators, one creator whose projection is ahead of its ledger
 * (insufficient_funds at the hold) and one without KYC (refused by eligibility). Amounts depend on
 * the position only, so two groups of the same shape must give the same batches.
 */
async function group(ach: number, sepa: number): Promise<{ members: Member[]; ids: string[] }> {
  const members: Member[] = []
  for (let i = 0; i < ach + sepa; i++) {
    const { creatorId } = await newCreator()
    await kyc(creatorId, 'approved')
    const eur = i >= ach
    if (eur) {
      await method(creatorId, SEPA, 'EUR')
      await setRule(creatorId, { kind: 'weekly', weekday: 2, currency: 'EUR' })
    } else await method(creatorId, ACH, 'USD')
    const amount = (eur ? 20_000 : 10_000) + i * 100
    await fund(creatorId, eur ? 'EUR' : 'USD', amount)
    members.push({ creatorId, currency: eur ? 'EUR' : 'USD', amount })
  }
  const stale = await newCreator()
  await kyc(stale.creatorId, 'approved')
  await method(stale.creatorId, ACH, 'USD')
  await fund(stale.creatorId, 'USD', 5_000)
  await env.DB.prepare(`UPDATE ledger_balances SET posted_minor = 9000 WHERE creator_id = ? AND currency = 'USD' AND account = 'creator_available'`).bind(stale.creatorId).run()
  members.push({ creatorId: stale.creatorId, currency: 'USD', amount: 9_000, stale: true })
  const unverified = await newCreator()
  await method(unverified.creatorId, ACH, 'USD')
  await fund(unverified.creatorId, 'USD', 8_000)
  return { members, ids: [...members.map((m) => m.creatorId), unverified.creatorId] }
}

/** a run over `ids` whose chunks are captured, not delivered */
async function queuedRun(ids: string[], chunkSize: number): Promise<{ summary: RunSummary; sent: Chunk[]; queueEnv: Env }> {
  const { queue, sent } = recordingQueue()
  const queueEnv = { ...env, PAYOUTS: queue } as Env
  const summary = await runPayouts(queueEnv, ctx, { trigger: 'operator', runDate: '2026-12-01', nowMs: Date.now(), creatorIds: ids, inlineHoldsMax: 0, holdChunkSize: chunkSize })
  return { summary, sent: sent as Chunk[], queueEnv }
}

let deliveries = 0
async function deliver(queueEnv: Env, chunks: Chunk[], attempts = 1) {
  const batch = createMessageBatch(
    'fanz-payouts',
    chunks.map((body) => ({ id: `msg-${++deliveries}`, timestamp: new Date(), attempts, body })),
  )
  const c = createExecutionContext()
  await worker.queue(batch, queueEnv, c)
  return getQueueResult(batch, c)
}

async function runRow(runId: string) {
  return (await env.DB.prepare('SELECT state, created, refused, finished_at_ms FROM payout_runs WHERE id = ?').bind(runId).first<{ state: string; created: number; refused: number; finished_at_ms: number | null }>())!
}

/** every member: one payout; held and batched once with exactly its amount, or cancelled with nothing held */
async function expectHeldOnce(runId: string, members: Member[]) {
  for (const m of members) {
    const rows = (await env.DB.prepare('SELECT state, amount_minor, hold_id, batch_id, failure_code FROM payouts WHERE creator_id = ? AND run_id = ?').bind(m.creatorId, runId).all<Record<string, unknown>>()).results
    expect(rows, m.creatorId).toHaveLength(1)
    const ledger = ledgerFor(env, m.creatorId)
    const balance = (await ledger.balances(m.currency)).summary[0]!
    if (m.stale) {
      expect(rows[0]).toMatchObject({ state: 'cancelled', hold_id: null, batch_id: null, failure_code: 'insufficient_funds' })
      expect(balance).toMatchObject({ availableMinor: 5_000, onHoldMinor: 0 })
    } else {
      expect(rows[0]).toMatchObject({ state: 'pending', amount_minor: m.amount, hold_id: expect.any(String), batch_id: expect.any(String) })
      expect(balance).toMatchObject({ availableMinor: 0, onHoldMinor: m.amount })
    }
    expect((await ledger.verify()).ok).toBe(true)
  }
  // each batch's count and total are exactly its rows
  const batches = (
    await env.DB.prepare(`SELECT b.count, b.total_minor, (SELECT COUNT(*) FROM payouts p WHERE p.batch_id = b.id) AS rows_in, (SELECT SUM(amount_minor) FROM payouts p WHERE p.batch_id = b.id) AS sum_in FROM payout_batches b WHERE b.run_id = ?`)
      .bind(runId)
      .all<{ count: number; total_minor: number; rows_in: number; sum_in: number }>()
  ).results
  for (const b of batches) expect([b.count, b.total_minor]).toEqual([b.rows_in, b.sum_in])
}

const shape = (s: RunSummary) => ({
  state: s.state,
  created: s.created,
  refused: s.refused,
  refusals_by_code: s.refusals_by_code,
  payouts_by_state: s.payouts_by_state,
  batches: s.batches.map((b) => [b.rail, b.currency, b.state, b.count, b.total_minor, b.fee_minor, b.approvals_required]),
  batch_fees: s.batch_fees,
})

const auditsOf = async (runId: string, action: string) =>
  (await auditLog(env).list({ subject: `payout_run:${runId}`, limit: 50 })).filter((e) => e.action === action).map((e) => ({ actor: e.actor, details: JSON.parse(e.details) as Record<string, unknown> }))

afterEach(() => setRunHoldsFaultHook(null))

describe('a run whose holds go through the queue', () => {
  it('sends the chunks, and delivering them gives the same run as the inline path', async () => {
    const inline = await group(6, 2)
    const queued = await group(6, 2)

    const reference = await runPayouts(env, ctx, { trigger: 'operator', runDate: '2026-12-01', nowMs: Date.now(), creatorIds: inline.ids })
    expect(reference.state).toBe('done')

    const { summary, sent, queueEnv } = await queuedRun(queued.ids, 3)
    expect(summary).toMatchObject({ state: 'holding', created: 0, batches: [], payouts_by_state: { pending: 9 }, refusals_by_code: { kyc_not_verified: 1 } })
    // 9 payouts in chunks of 3: three messages naming the run and every payout once
    const payoutIds = (await env.DB.prepare('SELECT id FROM payouts WHERE run_id = ? ORDER BY id').bind(summary.run_id).all<{ id: string }>()).results.map((r) => r.id)
    expect(sent).toEqual([0, 3, 6].map((i) => ({ type: PAYOUT_RUN_HOLDS, id: `${summary.run_id}:${payoutIds[i]}`, payload: { runId: summary.run_id, payoutIds: payoutIds.slice(i, i + 3) } })))
    // nothing is held before a consumer runs
    for (const m of queued.members) expect((await ledgerFor(env, m.creatorId).balances(m.currency)).summary[0]!.onHoldMinor).toBe(0)
    expect(await auditsOf(summary.run_id, 'payouts.run.holding')).toEqual([{ actor: 'test', details: expect.objectContaining({ to_hold: 9, chunks: 3 }) }])

    // the first two chunks: holds, but the run is not finished yet
    const first = await deliver(queueEnv, sent.slice(0, 2))
    expect(first.explicitAcks).toHaveLength(2)
    expect((await runRow(summary.run_id)).state).toBe('holding')
    // the last chunk finishes it
    const last = await deliver(queueEnv, sent.slice(2))
    expect(last.explicitAcks).toHaveLength(1)
    expect(last.retryMessages).toEqual([])

    const view = await runSummary(env.DB, summary.run_id)
    expect(shape(view!)).toEqual(shape(reference))
    expect(view).toMatchObject({ state: 'done', created: 8, refused: 2, refusals_by_code: { kyc_not_verified: 1, insufficient_funds: 1 } })
    expect(view!.finished_at).not.toBeNull()
    await expectHeldOnce(summary.run_id, queued.members)
    expect(await auditsOf(summary.run_id, 'payouts.run.complete')).toEqual([{ actor: 'system:payout-run', details: expect.objectContaining({ created: 8, refused: 2, batches: 2, holds_by: 'queue' }) }])
    expect(await auditsOf(reference.run_id, 'payouts.run.complete')).toHaveLength(1)
  })

  it('absorbs chunks delivered twice and concurrently: one hold per payout, one set of batches', async () => {
    const g = await group(5, 2)
    const { summary, sent, queueEnv } = await queuedRun(g.ids, 2)
    expect(sent).toHaveLength(4)
    const [a, b, c, d] = sent as [Chunk, Chunk, Chunk, Chunk]
    // two consumers at once, each with overlapping chunks, one chunk twice in the same batch
    const [x, y] = await Promise.all([deliver(queueEnv, [a, b, a, d]), deliver(queueEnv, [c, b, d, c])])
    expect([...x.explicitAcks, ...y.explicitAcks]).toHaveLength(8)
    expect([...x.retryMessages, ...y.retryMessages]).toEqual([])
    // and all of them again, later (a redelivery after the run is done)
    const late = await deliver(queueEnv, sent, 2)
    expect(late.explicitAcks).toHaveLength(4)

    const row = await runRow(summary.run_id)
    expect(row).toMatchObject({ state: 'done', created: 7, refused: 2 })
    await expectHeldOnce(summary.run_id, g.members)
    const batches = (await env.DB.prepare('SELECT rail, currency, count FROM payout_batches WHERE run_id = ? ORDER BY rail').bind(summary.run_id).all<{ rail: string; currency: string; count: number }>()).results
    expect(batches).toEqual([
      { rail: 'nacha', currency: 'USD', count: 5 },
      { rail: 'sepa', currency: 'EUR', count: 2 },
    ])
    const refusals = (await env.DB.prepare('SELECT code, COUNT(*) AS n FROM payout_refusals WHERE run_id = ? GROUP BY code ORDER BY code').bind(summary.run_id).all<{ code: string; n: number }>()).results
    expect(refusals).toEqual([
      { code: 'insufficient_funds', n: 1 },
      { code: 'kyc_not_verified', n: 1 },
    ])
    expect(await auditsOf(summary.run_id, 'payouts.run.complete')).toHaveLength(1)
  })

  it('the same chunk consumed twice at the same moment: one hold, one refusal, one batch', async () => {
    const g = await group(2, 0)
    const { summary, sent, queueEnv } = await queuedRun(g.ids, 10)
    expect(sent).toHaveLength(1)
    const [x, y] = await Promise.all([deliver(queueEnv, sent), deliver(queueEnv, sent)])
    expect([...x.retryMessages, ...y.retryMessages]).toEqual([])
    expect(await runRow(summary.run_id)).toMatchObject({ state: 'done', created: 2, refused: 2 })
    await expectHeldOnce(summary.run_id, g.members)
    const refusals = (await env.DB.prepare(`SELECT code FROM payout_refusals WHERE run_id = ? ORDER BY code`).bind(summary.run_id).all<{ code: string }>()).results.map((r) => r.code)
    expect(refusals).toEqual(['insufficient_funds', 'kyc_not_verified'])
    const stale = g.members.find((m) => m.stale)!
    expect((await auditLog(env).list({ subject: `payout:${(await env.DB.prepare('SELECT id FROM payouts WHERE creator_id = ?').bind(stale.creatorId).first<{ id: string }>())!.id}`, limit: 10 })).filter((e) => e.action === 'payouts.payout.cancel')).toHaveLength(1)
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payout_batches WHERE run_id = ?').bind(summary.run_id).first<{ n: number }>())!.n).toBe(1)
  })

  it('a consumer killed between a hold and storing it: the redelivered chunk replays the hold', async () => {
    const g = await group(4, 0)
    const { summary, sent, queueEnv } = await queuedRun(g.ids, 5)
    expect(sent).toHaveLength(1)
    let kills = 0
    setRunHoldsFaultHook((step: RunStep) => {
      if (step === 'hold_placed' && ++kills === 2) throw new Error('killed after a hold')
    })
    const killed = await deliver(queueEnv, sent)
    expect(killed.retryMessages).toHaveLength(1)
    expect((await runRow(summary.run_id)).state).toBe('holding')
    const again = await deliver(queueEnv, sent, 2)
    expect(again.explicitAcks).toHaveLength(1)
    expect((await runRow(summary.run_id)).state).toBe('done')
    await expectHeldOnce(summary.run_id, g.members)
  })

  it('a consumer killed after claiming the batching step: resumeStaleRuns finishes the run', async () => {
    const g = await group(3, 1)
    const { summary, sent, queueEnv } = await queuedRun(g.ids, 2)
    expect(sent).toHaveLength(3)
    setRunHoldsFaultHook((step: RunStep) => {
      if (step === 'batching_claimed') throw new Error('killed after the claim')
    })
    const r = await deliver(queueEnv, sent)
    expect(r.retryMessages).toHaveLength(1)
    setRunHoldsFaultHook(null)
    expect((await runRow(summary.run_id)).state).toBe('batching')
    // the queue's redelivery finds the run claimed: it does nothing (no second batching)
    const redelivered = await deliver(queueEnv, sent.slice(-1), 2)
    expect(redelivered.explicitAcks).toHaveLength(1)
    expect(await runRow(summary.run_id)).toMatchObject({ state: 'batching', finished_at_ms: null })
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payout_batches WHERE run_id = ?').bind(summary.run_id).first<{ n: number }>())!.n).toBe(0)

    // not stale yet: left alone
    expect(await resumeStaleRuns(queueEnv, ctx, Date.now())).toEqual([])
    const resumed = await resumeStaleRuns(queueEnv, ctx, Date.now() + STALE_RUN_MS + 60_000)
    expect(resumed).toEqual([summary.run_id])
    expect(await runRow(summary.run_id)).toMatchObject({ state: 'done', created: 4, refused: 2 })
    await expectHeldOnce(summary.run_id, g.members)
    expect(await auditsOf(summary.run_id, 'payouts.run.resume')).toEqual([{ actor: 'test', details: { was: 'batching', now: 'done' } }])
  })

  it('chunks that never arrived: resumeStaleRuns re-sends what is left, or holds it inline when few', async () => {
    const g = await group(4, 0)
    const { summary, sent, queueEnv } = await queuedRun(g.ids, 2)
    expect(sent).toHaveLength(3)
    // only the first chunk is delivered; the other two are lost
    await deliver(queueEnv, sent.slice(0, 1))
    const later = Date.now() + STALE_RUN_MS + 60_000
    // a resume with the queue threshold: the remaining three payouts, re-sent in two chunks
    const { queue, sent: resent } = recordingQueue()
    const resendEnv = { ...env, PAYOUTS: queue } as Env
    expect(await resumeStaleRuns(resendEnv, ctx, later, { inlineHoldsMax: 0, holdChunkSize: 2 })).toEqual([summary.run_id])
    const left = (await env.DB.prepare(`SELECT id FROM payouts WHERE run_id = ? AND state = 'pending' AND hold_id IS NULL ORDER BY id`).bind(summary.run_id).all<{ id: string }>()).results.map((r) => r.id)
    expect(left).toHaveLength(3)
    expect((resent as Chunk[]).map((m) => m.payload.payoutIds)).toEqual([left.slice(0, 2), left.slice(2)])
    expect((await runRow(summary.run_id)).state).toBe('holding')
    // those are lost too; the next resume (default threshold) places the three inline and finishes
    expect(await resumeStaleRuns(queueEnv, ctx, later + STALE_RUN_MS + 60_000)).toEqual([summary.run_id])
    expect(await runRow(summary.run_id)).toMatchObject({ state: 'done', created: 4, refused: 2 })
    await expectHeldOnce(summary.run_id, g.members)
  })
})

describe('hold chunk messages', () => {
  it('cut 230 payouts into chunks of 50 and groups within the sendBatch limits', () => {
    const ids = Array.from({ length: 230 }, (_, i) => `po_01K${String(i).padStart(23, '0')}`)
    const messages = holdChunkMessages('prn_01K00000000000000000000000', ids)
    expect(HOLD_CHUNK_SIZE).toBe(50)
    expect(messages.map((m) => (m.payload as { payoutIds: string[] }).payoutIds.length)).toEqual([50, 50, 50, 50, 30])
    expect(messages.flatMap((m) => (m.payload as { payoutIds: string[] }).payoutIds)).toEqual(ids)
    // 100 messages of 100 ids each (~3.4 KB) exceed 256 KB: several groups, none over either limit
    const many = holdChunkMessages('prn_01K00000000000000000000000', Array.from({ length: 10_000 }, (_, i) => `po_01K${String(i).padStart(23, '0')}`), 100)
    const groups = sendGroups(many)
    expect(groups.length).toBeGreaterThan(1)
    expect(groups.flat()).toEqual(many)
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(100)
      expect(g.reduce((n, m) => n + JSON.stringify(m).length, 0)).toBeLessThan(SEND_BATCH_MAX_BYTES)
    }
  })
})

describe('POST /api/payouts/runs over more payouts than a request holds inline', () => {
  it('answers 202 with the run holding; the queue consumers finish it', { timeout: 90_000 }, async () => {
    // creators whose D1 projection shows money their (empty) ledgers do not have: every hold is
    // refused, which keeps this large run cheap while it still goes the whole way through the queue
    const n = INLINE_HOLDS_MAX + 5
    const ids = Array.from({ length: n }, () => newId('creator'))
    const now = Date.now()
    await env.DB.prepare(`INSERT INTO creators (id, brand_id, handle, display_name, created_at_ms) SELECT value, 'brd_01JFANZ0000000000000000001', lower(value), 'Queued Creator', ? FROM json_each(?)`).bind(now, JSON.stringify(ids)).run()
    await env.DB.prepare(`INSERT INTO ledger_balances (creator_id, currency, account, posted_minor, pending_minor, ledger_seq, updated_at_ms) SELECT value, 'USD', 'creator_available', 10000, 0, 0, ? FROM json_each(?)`).bind(now, JSON.stringify(ids)).run()
    for (let i = 0; i < ids.length; i += 25) await Promise.all(ids.slice(i, i + 25).map(async (id) => (await kyc(id, 'approved'), await method(id, ACH, 'USD'))))
    const finance = await mint({ roles: ['finance'] })
    const res = await call(API, '/api/payouts/runs', { token: finance, body: { creator_ids: ids }, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` } })
    expect(res.status).toBe(202)
    const accepted = (await res.json()) as RunSummary
    expect(accepted).toMatchObject({ state: 'holding', created: 0, payouts_by_state: { pending: n } })

    // the real PAYOUTS queue delivers the chunks to this Worker's queue() handler
    let view: RunSummary | undefined
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const r = await call(API, `/api/payouts/runs/${accepted.run_id}`, { token: finance })
      view = (await r.json()) as RunSummary
      if (view.state === 'done') break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    expect(view).toMatchObject({ state: 'done', created: 0, refused: n, refusals_by_code: { insufficient_funds: n }, payouts_by_state: { cancelled: n }, batches: [] })
  })
})
