/**
 * A payout run: rules -> eligibility -> payouts -> ledger holds -> draft batches.
 *
 * Run row: a cron run is one per UTC day (`payout_runs_cron_day_uq`): a second firing the same day
 * finds the day's run; `done` -> it does nothing, `running` -> it resumes it (below), `holding` or
 * `batching` -> the queue is finishing it (a stale one was resumed first) and it answers the summary. Operator runs
 * get a row each (the route's Idempotency-Key stops a retried request from starting two).
 *
 * Who is evaluated: every creator, a page at a time (eligibility/facts.ts, set-based), with the
 * rule deciding the timing; or, for an operator run naming `creatorIds`, exactly those creators
 * "on request": their rule's timing is not consulted (that is how a `manual` rule is paid) and a
 * `not_due` is never the answer. Refusals are recorded for creators whose rule is due (or who
 * were named), never `not_due`/`below_threshold` rows for every creator on every day.
 *
 * Amount: the whole available balance in the rule's currency (capped at the rail's maximum),
 * fee by `quoteFee` on the method's rail schedule. The fee is the creator's; the rail's per-batch
 * fee (`per_batch_fixed_minor`, e.g. the NACHA file fee) is the platform's and is paid once per
 * batch: one batch per rail + currency per run (chunks of 1000, the Wise batch-group size), so a
 * run pays it once instead of once per payout; the summary shows the saving.
 *
 * Crash order (never a hold without a row, never a batched row without a hold):
 *   1. INSERT the payout row: state pending, hold_id null, batch_id null (INSERT OR IGNORE: the
 *      partial unique index allows one pending/queued payout per creator and currency)
 *   2. placeHold (op id from the payout id: a repeat replays the first hold)
 *   3. UPDATE hold_id; a refused hold (the projection was stale, the ledger says
 *      insufficient_funds) cancels the row and records the refusal
 *   4. batch: one D1 transaction claims the held rows of a rail+currency (batch_id null -> id)
 *      and inserts the batch from their aggregates; approvals_required is then set from the total
 * A run that dies anywhere is finished by running it again (the next cron firing of the day, or
 * `resumeStaleRuns` at the start of any later cron run): steps 2-4 pick up exactly the rows of the
 * run that lack a hold or a batch, and step 1 skips creators that already have this run's payout.
 *
 * Where the holds are placed (steps 2-3): each hold is one RPC to the creator's own CreatorLedger
 * object (~17 ms each at 16 in flight), so 80k holds would take ~25 minutes: more than one
 * invocation may run. A run with more than `INLINE_HOLDS_MAX` payouts to hold therefore hands them
 * to the PAYOUTS queue in chunks (`payout.run.holds`, runs/hold-chunks.ts) and returns in state
 * `holding`; each chunk's consumer (runs/holds-consumer.ts) places its holds and then tries the
 * batching claim, one conditional UPDATE `holding -> batching` that succeeds only when no payout of
 * the run still waits for a hold: exactly one consumer (the one that finished the last chunk) wins
 * it and forms the batches (step 4), then `done`. Smaller runs, and instant payouts, stay inline.
 *
 *   running --(inline holds + batches)--------------------------------------------> done
 *   running --(chunks sent)--> holding --(last chunk: claim)--> batching --(batches)--> done
 *
 * A payout whose hold the ledger refuses for anything but insufficient funds is marked
 * `failure_code = 'hold_error'` (still pending, no hold, never batched) so it cannot keep the run
 * from finishing; a resume tries it again. A `holding` or `batching` run with no payout touched for
 * STALE_RUN_MS (a consumer died after the claim, chunks dead-lettered, a send lost) is finished by
 * `resumeStaleRuns` like a dead `running` one: remaining holds re-sent (or placed inline when few),
 * or the batches formed.
 * @module
 */
import { approvalsRequired, payoutConfig } from '../config'
import { audit, type AuditContext } from '../../compliance/audit'
import { log } from '../../edge/logger'
import { newId } from '../../lib/ids'
import { placeHold, transitionPayout } from '../lifecycle'
import { decide, type PayDecision, type Refusal } from '../eligibility/decide'
import { factPages, factsForCreators, type CreatorFacts } from '../eligibility/facts'
import { feeSchedules } from '../fees/schedule'
import { recordRefusals } from '../eligibility/refusals'
import type { FeeSchedule } from '../fees/fees'
import { HOLD_CHUNK_SIZE, INLINE_HOLDS_MAX, sendHoldChunks } from './hold-chunks'

/** payouts per batch: Wise's batch-group limit, also a sane NACHA/pain.001 file size */
export const BATCH_SIZE = 1000
/** a run not finished whose payouts nobody touched for this long is considered dead and is finished by the next cron run */
export const STALE_RUN_MS = 15 * 60_000
/** a pending payout whose hold the ledger refused for a reason other than insufficient funds */
export const HOLD_ERROR = 'hold_error'

/** `payout_runs.state`: free text in D1; these are the values the run writes */
export type RunState = 'running' | 'holding' | 'batching' | 'done'

export interface RunInput {
  trigger: 'cron' | 'operator'
  /** the UTC day (`yyyy-mm-dd`) the rules are evaluated for */
  runDate: string
  nowMs: number
  /** operator runs: pay exactly these creators, on request */
  creatorIds?: readonly string[]
  /** who started it (`system:cron` for the cron) */
  startedBy?: string
  /** ledger holds in flight at once */
  holdConcurrency?: number
  /** more payouts to hold than this go through the PAYOUTS queue (default INLINE_HOLDS_MAX) */
  inlineHoldsMax?: number
  /** payouts per `payout.run.holds` message (default HOLD_CHUNK_SIZE) */
  holdChunkSize?: number
  /** tests: called between steps; a throw is a crash at that point */
  fault?: RunFaultHook
}

/** where a run (or a chunk's consumer) can be killed: after the named step */
export type RunStep = 'page_inserted' | 'hold_placed' | 'holds_done' | 'batch_formed' | 'chunk_held' | 'batching_claimed'
export type RunFaultHook = (step: RunStep, id: string) => void | Promise<void>

export interface BatchSummary {
  id: string
  rail: string
  currency: string
  state: string
  count: number
  total_minor: number
  fee_minor: number
  approvals_required: number
}

export interface RunSummary {
  run_id: string
  run_date: string
  trigger: string
  state: string
  /** true: the day's cron run was already done, nothing happened */
  already_done: boolean
  evaluated: number
  created: number
  refused: number
  started_at: string
  finished_at: string | null
  payouts_by_state: Record<string, number>
  refusals_by_code: Record<string, number>
  batches: BatchSummary[]
  /** the rails' per-batch fees this run pays, against one file/batch per payout */
  batch_fees: { rail: string; currency: string; batches: number; payouts: number; per_batch_fixed_minor: number; paid_minor: number; per_payout_batches_minor: number; saved_minor: number }[]
}

export interface RunRow {
  id: string
  run_date: string
  trigger: string
  state: string
  evaluated: number
  created: number
  refused: number
  started_by: string
  started_at_ms: number
  finished_at_ms: number | null
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Opens the run row (or finds the day's cron run). */
async function openRun(db: D1Database, input: RunInput): Promise<{ run: RunRow; fresh: boolean }> {
  const id = newId('payoutRun', input.nowMs)
  const startedBy = input.startedBy ?? (input.trigger === 'cron' ? 'system:cron' : 'unknown')
  // ON CONFLICT DO NOTHING without a target: the partial unique index on the cron day counts
  await db
    .prepare(`INSERT INTO payout_runs (id, run_date, trigger, state, started_by, started_at_ms) VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT DO NOTHING`)
    .bind(id, input.runDate, input.trigger, startedBy, input.nowMs)
    .run()
  const run =
    input.trigger === 'cron'
      ? await db.prepare(`SELECT * FROM payout_runs WHERE run_date = ? AND trigger = 'cron'`).bind(input.runDate).first<RunRow>()
      : await db.prepare('SELECT * FROM payout_runs WHERE id = ?').bind(id).first<RunRow>()
  if (!run) throw new Error(`payout run for ${input.runDate} could not be opened`)
  return { run, fresh: run.id === id }
}

/** Inserts pending payouts without hold or batch (step 1); creators with an open payout are skipped by the unique index. */
async function insertPayouts(db: D1Database, runId: string, pays: readonly PayDecision[], kind: 'scheduled' | 'manual' | 'instant', nowMs: number): Promise<string[]> {
  const stmt = db.prepare(
    `INSERT OR IGNORE INTO payouts (id, creator_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, idempotency_key, created_at_ms, updated_at_ms)
     SELECT v->>'$[0]', v->>'$[1]', ?1, v->>'$[2]', v->>'$[3]', ?2, v->>'$[4]', v->>'$[5]', v->>'$[6]', v->>'$[7]', 'pending', v->>'$[0]', ?3, ?3
     FROM (SELECT value AS v FROM json_each(?4))`,
  )
  const ids: string[] = []
  const statements: D1PreparedStatement[] = []
  for (let i = 0; i < pays.length; i += 500) {
    const rows = pays.slice(i, i + 500).map((p) => {
      const id = newId('payout', nowMs)
      ids.push(id)
      // the payout id is the idempotency key every processor attempt carries (one per payout, forever)
      return [id, p.creatorId, p.method.id, p.method.rail, p.currency, p.amountMinor, p.feeMinor, p.netMinor]
    })
    statements.push(stmt.bind(runId, kind, nowMs, JSON.stringify(rows)))
  }
  for (let i = 0; i < statements.length; i += 20) await db.batch(statements.slice(i, i + 20))
  return ids
}

/** `work` over `items`, `concurrency` at a time; after a failure no new item starts (as in a crash) */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length && !failed) {
        try {
          await work(items[next++]!)
        } catch (err) {
          failed = true
          throw err
        }
      }
    }),
  )
}

/**
 * Steps 2-3 for every row of the run that has no hold yet, or (a queue chunk) for those of
 * `payoutIds` that have none and have not failed with a hold error. Safe to repeat and to run twice
 * at once: the hold's op id comes from the payout id (a repeat replays the first hold), hold_id is
 * stored only where it is still null, and a refusal is recorded and audited only by the caller whose
 * conditional UPDATE cancelled the row.
 */
export async function placeRunHolds(env: Env, ctx: AuditContext, runId: string, nowMs: number, concurrency = 16, fault?: RunFaultHook, payoutIds?: readonly string[]): Promise<{ held: number; refused: number; errors: number }> {
  const select = `SELECT id, creator_id, currency, amount_minor FROM payouts WHERE run_id = ? AND state = 'pending' AND hold_id IS NULL`
  const { results } = await (payoutIds
    ? env.DB.prepare(`${select} AND COALESCE(failure_code, '') != ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`).bind(runId, HOLD_ERROR, JSON.stringify(payoutIds))
    : env.DB.prepare(`${select} ORDER BY id`).bind(runId)
  ).all<{ id: string; creator_id: string; currency: string; amount_minor: number }>()
  // a hold placed on a resume clears the mark a refused earlier attempt left
  const setHold = env.DB.prepare(
    `UPDATE payouts SET hold_id = ?, updated_at_ms = ?, failure_code = CASE WHEN failure_code = '${HOLD_ERROR}' THEN NULL ELSE failure_code END, failure_reason = CASE WHEN failure_code = '${HOLD_ERROR}' THEN NULL ELSE failure_reason END WHERE id = ? AND hold_id IS NULL`,
  )
  const markError = env.DB.prepare(`UPDATE payouts SET failure_code = ?, failure_reason = ?, updated_at_ms = ? WHERE id = ? AND state = 'pending' AND hold_id IS NULL`)
  let pending: D1PreparedStatement[] = []
  const flush = async () => {
    const now = pending
    pending = []
    if (now.length) await env.DB.batch(now)
  }
  let held = 0
  let errors = 0
  const refusals: Refusal[] = []
  await pool(results, concurrency, async (p) => {
    const r = await placeHold(env, { id: p.id, creatorId: p.creator_id, currency: p.currency, amountMinor: p.amount_minor }, nowMs)
    if (r.ok) {
      held++
      await fault?.('hold_placed', p.id)
      pending.push(setHold.bind(r.holdId, nowMs, p.id))
      if (pending.length >= 200) await flush()
      return
    }
    if (r.code === 'insufficient_funds') {
      // the ledger is the truth: the projection showed more than the book has; nothing was held
      if (await transitionPayout(env, p.id, ['pending'], 'cancelled', { failure_code: 'insufficient_funds', failure_reason: r.detail.slice(0, 500) }, nowMs)) {
        await audit(ctx, 'payouts.payout.cancel', `payout:${p.id}`, { creator_id: p.creator_id, amount_minor: p.amount_minor, currency: p.currency, code: 'insufficient_funds', run_id: runId })
        refusals.push({ ok: false, creatorId: p.creator_id, code: 'insufficient_funds', detail: `the ledger refused a hold of ${p.amount_minor} ${p.currency}: ${r.detail}` })
      }
      return
    }
    // anything else (an op id clash) leaves the row without a hold: never batched, retried on
    // resume; the mark keeps it from holding up the batching claim of a queued run
    errors++
    log('error', 'info', 'payout_hold_refused', { payout_id: p.id, code: r.code, detail: r.detail })
    pending.push(markError.bind(HOLD_ERROR, `${r.code}: ${r.detail}`.slice(0, 500), nowMs, p.id))
  })
  await flush()
  await recordRefusals(env.DB, runId, refusals, nowMs)
  return { held, refused: refusals.length, errors }
}

/** Step 4: draft batches of the run's held, unbatched payouts by rail + currency. */
export async function formBatches(env: Env, ctx: AuditContext, runId: string, nowMs: number, options: { state?: 'draft' | 'approved'; approvals?: number; createdBy?: string; fault?: RunFaultHook } = {}): Promise<BatchSummary[]> {
  const { results } = await env.DB.prepare(`SELECT id, rail, currency FROM payouts WHERE run_id = ? AND state = 'pending' AND hold_id IS NOT NULL AND batch_id IS NULL ORDER BY rail, currency, id`)
    .bind(runId)
    .all<{ id: string; rail: string; currency: string }>()
  const groups = new Map<string, { rail: string; currency: string; ids: string[] }>()
  for (const r of results) {
    const key = `${r.rail}:${r.currency}`
    const g = groups.get(key) ?? { rail: r.rail, currency: r.currency, ids: [] }
    g.ids.push(r.id)
    groups.set(key, g)
  }
  const config = payoutConfig(env)
  const made: BatchSummary[] = []
  const state = options.state ?? 'draft'
  for (const g of groups.values()) {
    for (let i = 0; i < g.ids.length; i += BATCH_SIZE) {
      const batchId = newId('payoutBatch', nowMs)
      const ids = g.ids.slice(i, i + BATCH_SIZE)
      // claim and aggregate in one transaction: the batch's count and totals are exactly its rows,
      // even if a second process claimed some of them first; two approvals until the total is known
      await env.DB.batch([
        env.DB.prepare(`UPDATE payouts SET batch_id = ?, updated_at_ms = ? WHERE id IN (SELECT value FROM json_each(?)) AND batch_id IS NULL AND state = 'pending' AND hold_id IS NOT NULL`).bind(
          batchId,
          nowMs,
          JSON.stringify(ids),
        ),
        env.DB.prepare(
          `INSERT INTO payout_batches (id, run_id, rail, currency, state, count, total_minor, fee_minor, approvals_required, created_by, created_at_ms, updated_at_ms)
           SELECT ?, ?, ?, ?, ?, COUNT(*), SUM(amount_minor), SUM(fee_minor), 2, ?, ?, ? FROM payouts WHERE batch_id = ? HAVING COUNT(*) > 0`,
        ).bind(batchId, runId, g.rail, g.currency, state, options.createdBy ?? 'system:payout-run', nowMs, nowMs, batchId),
      ])
      const batch = await env.DB.prepare('SELECT id, rail, currency, state, count, total_minor, fee_minor FROM payout_batches WHERE id = ?').bind(batchId).first<Omit<BatchSummary, 'approvals_required'>>()
      if (!batch) continue
      const approvals = options.approvals ?? approvalsRequired(config, batch.currency, batch.total_minor)
      await env.DB.prepare('UPDATE payout_batches SET approvals_required = ? WHERE id = ?').bind(approvals, batchId).run()
      await audit(ctx, 'payouts.batch.create', `payout_batch:${batchId}`, { run_id: runId, rail: batch.rail, currency: batch.currency, state, count: batch.count, total_minor: batch.total_minor, fee_minor: batch.fee_minor, approvals_required: approvals })
      made.push({ ...batch, approvals_required: approvals })
      await options.fault?.('batch_formed', batchId)
    }
  }
  return made
}

/**
 * Evaluates one page of creators: pay decisions and the refusals worth recording. Creators that
 * already have this run's open payout (a resumed run) are left alone.
 */
export function evaluatePage(page: readonly CreatorFacts[], runId: string, o: { runDate: string; nowMs: number; schedules: ReadonlyMap<string, FeeSchedule>; asked: boolean }) {
  const pays: PayDecision[] = []
  const refusals: Refusal[] = []
  let notDue = 0
  let resumed = 0
  for (const f of page) {
    if (f.inFlight.get(f.rule.currency) === runId) {
      resumed++
      continue
    }
    const d = decide(f, o)
    if (d.ok) pays.push(d)
    else if (!o.asked && (d.code === 'not_due' || d.code === 'below_threshold')) notDue++
    else refusals.push(d)
  }
  return { pays, refusals, notDue, resumed }
}

/** Runs the rules for `runDate` (see the module comment). */
export async function runPayouts(env: Env, ctx: AuditContext, input: RunInput): Promise<RunSummary> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.runDate)) throw new Error(`runDate ${input.runDate} is not yyyy-mm-dd`)
  const hand: HandOff = { holdConcurrency: input.holdConcurrency, inlineHoldsMax: input.inlineHoldsMax, holdChunkSize: input.holdChunkSize, fault: input.fault }
  if (input.trigger === 'cron') await resumeStaleRuns(env, ctx, input.nowMs, { inlineHoldsMax: input.inlineHoldsMax, holdChunkSize: input.holdChunkSize })
  const { run } = await openRun(env.DB, input)
  if (run.state === 'done') return { ...(await runSummary(env.DB, run.id))!, already_done: true }
  // the day's run was evaluated and its holds are with the queue (a stale one was resumed above)
  if (run.state === 'holding' || run.state === 'batching') return (await runSummary(env.DB, run.id))!
  const schedules = await feeSchedules(env)
  const asked = input.creatorIds !== undefined
  let evaluated = 0
  let notDue = 0
  const evaluate = async (page: CreatorFacts[]) => {
    evaluated += page.length
    const e = evaluatePage(page, run.id, { runDate: input.runDate, nowMs: input.nowMs, schedules, asked })
    notDue += e.notDue
    await insertPayouts(env.DB, run.id, e.pays, asked ? 'manual' : 'scheduled', input.nowMs)
    await recordRefusals(env.DB, run.id, e.refusals, input.nowMs)
    await input.fault?.('page_inserted', run.id)
  }
  if (input.creatorIds) await evaluate(await factsForCreators(env.DB, input.creatorIds))
  else for await (const page of factPages(env.DB)) await evaluate(page)
  await env.DB.prepare('UPDATE payout_runs SET evaluated = ? WHERE id = ?').bind(evaluated, run.id).run()
  const progress = await continueRun(env, ctx, run.id, input.nowMs, hand)
  const summary = (await runSummary(env.DB, run.id))!
  if (progress.state === 'holding') {
    await audit(ctx, 'payouts.run.holding', `payout_run:${run.id}`, {
      run_date: run.run_date,
      trigger: run.trigger,
      evaluated,
      not_due: notDue,
      to_hold: progress.toHold,
      chunks: progress.chunks,
      refusals_by_code: summary.refusals_by_code,
    })
    return summary
  }
  // moved on by someone else meanwhile (a resume of the same run): theirs to audit
  if (progress.state === 'gone') return summary
  await audit(ctx, 'payouts.run.complete', `payout_run:${run.id}`, {
    run_date: run.run_date,
    trigger: run.trigger,
    evaluated,
    not_due: notDue,
    created: summary.created,
    refused: summary.refused,
    batches: summary.batches.length,
    refusals_by_code: summary.refusals_by_code,
  })
  return summary
}

/** How a run's remaining holds are placed (see RunInput). */
export interface HandOff {
  holdConcurrency?: number | undefined
  inlineHoldsMax?: number | undefined
  holdChunkSize?: number | undefined
  fault?: RunFaultHook | undefined
}

export type RunProgress = { state: 'done' } | { state: 'holding'; toHold: number; chunks: number } | { state: 'gone' }

/**
 * Steps 2-4 for a run whose payouts are inserted: inline when at most `inlineHoldsMax` payouts wait
 * for a hold (then the run is `done`), else the chunks go to the queue and the run is `holding`.
 */
export async function continueRun(env: Env, ctx: AuditContext, runId: string, nowMs: number, hand: HandOff = {}): Promise<RunProgress> {
  const { n } = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM payouts WHERE run_id = ? AND state = 'pending' AND hold_id IS NULL`).bind(runId).first<{ n: number }>())!
  if (n <= (hand.inlineHoldsMax ?? INLINE_HOLDS_MAX)) {
    await placeRunHolds(env, ctx, runId, nowMs, hand.holdConcurrency, hand.fault)
    await hand.fault?.('holds_done', runId)
    await completeRun(env, ctx, runId, nowMs, hand.fault)
    return { state: 'done' }
  }
  return dispatchHolds(env, runId, nowMs, hand.holdChunkSize ?? HOLD_CHUNK_SIZE)
}

/** Sends the chunks of the run's payouts still without a hold; the run is `holding` first. */
async function dispatchHolds(env: Env, runId: string, nowMs: number, chunkSize: number): Promise<RunProgress> {
  // state before messages: a consumer finishing the last chunk before the sends return must find
  // `holding` to claim the batching; a send lost after this is re-sent when the run goes stale
  const moved = await env.DB.prepare(`UPDATE payout_runs SET state = 'holding' WHERE id = ? AND state IN ('running', 'holding')`).bind(runId).run()
  if (moved.meta.changes !== 1) return { state: 'gone' }
  // rows an earlier attempt marked are tried again by the chunks that now carry them
  await env.DB.prepare(`UPDATE payouts SET failure_code = NULL, failure_reason = NULL, updated_at_ms = ? WHERE run_id = ? AND state = 'pending' AND hold_id IS NULL AND failure_code = ?`).bind(nowMs, runId, HOLD_ERROR).run()
  let after = ''
  let toHold = 0
  let chunks = 0
  // pages a whole number of chunks long, so no chunk straddles two pages
  const page = chunkSize * Math.max(1, Math.floor(10_000 / chunkSize))
  for (;;) {
    const { results } = await env.DB.prepare(`SELECT id FROM payouts WHERE run_id = ? AND state = 'pending' AND hold_id IS NULL AND id > ? ORDER BY id LIMIT ?`).bind(runId, after, page).all<{ id: string }>()
    if (!results.length) break
    const ids = results.map((r) => r.id)
    chunks += await sendHoldChunks(env.PAYOUTS, runId, ids, chunkSize)
    toHold += ids.length
    after = ids.at(-1)!
    if (results.length < page) break
  }
  log('info', 'info', 'payout_run_holds_queued', { run_id: runId, to_hold: toHold, chunks })
  return { state: 'holding', toHold, chunks }
}

/**
 * The batching claim of a queued run: `holding -> batching` in one conditional UPDATE that holds
 * only when no payout of the run still waits for its hold (refused ones are cancelled, errored ones
 * marked). Of the consumers that finish chunks, at most one wins it, whatever the interleaving:
 * the last hold stored is seen by every claim that runs after it.
 */
export async function claimBatching(db: D1Database, runId: string): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE payout_runs SET state = 'batching' WHERE id = ?1 AND state = 'holding'
         AND NOT EXISTS (SELECT 1 FROM payouts WHERE run_id = ?1 AND state = 'pending' AND hold_id IS NULL AND COALESCE(failure_code, '') != ?2)`,
    )
    .bind(runId, HOLD_ERROR)
    .run()
  return res.meta.changes === 1
}

/** Step 4 and the counts; true when this call marked the run done (so its caller audits it once). */
export async function completeRun(env: Env, ctx: AuditContext, runId: string, nowMs: number, fault?: RunFaultHook): Promise<boolean> {
  await formBatches(env, ctx, runId, nowMs, { fault })
  const res = await env.DB.prepare(
    `UPDATE payout_runs SET state = 'done', finished_at_ms = ?2,
       created = (SELECT COUNT(*) FROM payouts WHERE run_id = ?1 AND batch_id IS NOT NULL),
       refused = (SELECT COUNT(*) FROM payout_refusals WHERE run_id = ?1)
     WHERE id = ?1 AND state != 'done'`,
  )
    .bind(runId, nowMs)
    .run()
  return res.meta.changes === 1
}

/**
 * Runs left unfinished by a crash (any trigger) whose payouts nobody touched for STALE_RUN_MS:
 * `running` and `holding` ones get their remaining holds (inline or re-sent chunks) and batches,
 * `batching` ones their batches.
 */
export async function resumeStaleRuns(env: Env, ctx: AuditContext, nowMs: number, hand: Omit<HandOff, 'fault'> = {}): Promise<string[]> {
  const cutoff = nowMs - STALE_RUN_MS
  const { results } = await env.DB.prepare(
    `SELECT r.id, r.state FROM payout_runs r
     WHERE r.state IN ('running', 'holding', 'batching') AND r.started_at_ms < ?1
       AND COALESCE((SELECT MAX(p.updated_at_ms) FROM payouts p WHERE p.run_id = r.id), 0) < ?1
     ORDER BY r.started_at_ms LIMIT 20`,
  )
    .bind(cutoff)
    .all<{ id: string; state: RunState }>()
  for (const r of results) {
    let now: string
    if (r.state === 'batching') {
      await completeRun(env, ctx, r.id, nowMs)
      now = 'done'
    } else {
      now = (await continueRun(env, ctx, r.id, nowMs, hand)).state
    }
    await audit(ctx, 'payouts.run.resume', `payout_run:${r.id}`, { was: r.state, now })
  }
  return results.map((r) => r.id)
}

/** The run with its batches, payout counts and refusals by code (null when unknown). */
export async function runSummary(db: D1Database, runId: string): Promise<RunSummary | null> {
  const run = await db.prepare('SELECT * FROM payout_runs WHERE id = ?').bind(runId).first<RunRow>()
  if (!run) return null
  const [batches, states, codes, schedules] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT id, rail, currency, state, count, total_minor, fee_minor, approvals_required FROM payout_batches WHERE run_id = ? ORDER BY rail, currency, id').bind(runId),
    db.prepare('SELECT state, COUNT(*) AS n FROM payouts WHERE run_id = ? GROUP BY state').bind(runId),
    db.prepare('SELECT code, COUNT(*) AS n FROM payout_refusals WHERE run_id = ? GROUP BY code').bind(runId),
    db.prepare('SELECT rail, currency, per_batch_fixed_minor FROM payout_fee_schedules'),
  ])
  const batchRows = batches!.results as unknown as BatchSummary[]
  const perBatch = new Map((schedules!.results as { rail: string; currency: string; per_batch_fixed_minor: number }[]).map((s) => [`${s.rail}:${s.currency}`, s.per_batch_fixed_minor]))
  const fees = new Map<string, RunSummary['batch_fees'][number]>()
  for (const b of batchRows) {
    const fee = perBatch.get(`${b.rail}:${b.currency}`) ?? 0
    const f = fees.get(`${b.rail}:${b.currency}`) ?? { rail: b.rail, currency: b.currency, batches: 0, payouts: 0, per_batch_fixed_minor: fee, paid_minor: 0, per_payout_batches_minor: 0, saved_minor: 0 }
    f.batches++
    f.payouts += b.count
    f.paid_minor = f.batches * fee
    f.per_payout_batches_minor = f.payouts * fee
    f.saved_minor = f.per_payout_batches_minor - f.paid_minor
    fees.set(`${b.rail}:${b.currency}`, f)
  }
  return {
    run_id: run.id,
    run_date: run.run_date,
    trigger: run.trigger,
    state: run.state,
    already_done: false,
    evaluated: run.evaluated,
    created: run.created,
    refused: run.refused,
    started_at: new Date(run.started_at_ms).toISOString(),
    finished_at: run.finished_at_ms === null ? null : new Date(run.finished_at_ms).toISOString(),
    payouts_by_state: Object.fromEntries((states!.results as { state: string; n: number }[]).map((r) => [r.state, r.n])),
    refusals_by_code: Object.fromEntries((codes!.results as { code: string; n: number }[]).map((r) => [r.code, r.n])),
    batches: batchRows,
    batch_fees: [...fees.values()],
  }
}

export { isoDay, insertPayouts }
