/**
 * The `payout.run.holds` queue handler (messages from runs/run.ts `continueRun` via
 * runs/hold-chunks.ts): places the ledger holds of one chunk of a `holding` run, then tries the
 * run's batching claim; the consumer that wins it (the one that stored the run's last hold) forms
 * the draft batches and marks the run `done`.
 *
 * At least once, safe to repeat and to run concurrently:
 * - a chunk of a run that is no longer `holding` is acked untouched: the claim proved that none of
 *   the run's payouts still waited for a hold, so a late duplicate has nothing to do;
 * - holds replay by op id (payout id), hold_id is stored only where still null, a refusal is
 *   recorded by the one caller whose UPDATE cancelled the payout (runs/run.ts `placeRunHolds`);
 * - the claim is one conditional UPDATE (`claimBatching`), the `done` UPDATE is conditional too, so
 *   batches are formed and the run audited complete once;
 * - a ledger call that throws fails the message: the queue retries the chunk (backoff, then the
 *   dead-letter case); a consumer killed after the claim leaves a `batching` run that the next
 *   cron's `resumeStaleRuns` finishes.
 *
 * Fault injection for tests: `setRunHoldsFaultHook` runs a callback after each step (a throw there
 * is a consumer killed at that point). Nothing sets it outside tests.
 * @module
 */
import { audit, type AuditContext } from '../../compliance/audit'
import { log } from '../../edge/logger'
import { registerMessageHandler } from '../../queues'
import { PAYOUT_RUN_HOLDS, RunHoldsPayload } from './hold-chunks'
import { claimBatching, completeRun, placeRunHolds, runSummary, type RunFaultHook } from './run'

const ACTOR = 'system:payout-run'

let faultHook: RunFaultHook | null = null

/** TEST ONLY: runs after each step of every chunk's consumer; null removes it. */
export function setRunHoldsFaultHook(hook: RunFaultHook | null): void {
  faultHook = hook
}

export type ChunkResult = { action: 'skipped'; reason: string } | { action: 'held'; held: number; refused: number; errors: number; finishedRun: boolean }

/** One delivery of a chunk (see the module notes). */
export async function placeHoldChunk(env: Env, chunk: RunHoldsPayload, nowMs = Date.now()): Promise<ChunkResult> {
  const ctx: AuditContext = { env, actor: ACTOR }
  const fault = faultHook ?? undefined
  const run = await env.DB.prepare('SELECT state FROM payout_runs WHERE id = ?').bind(chunk.runId).first<{ state: string }>()
  if (!run) return { action: 'skipped', reason: 'no such run' }
  if (run.state !== 'holding') return { action: 'skipped', reason: `run is ${run.state}` }
  const r = await placeRunHolds(env, ctx, chunk.runId, nowMs, 16, fault, chunk.payoutIds)
  await fault?.('chunk_held', chunk.runId)
  if (r.errors) log('warn', 'info', 'payout_run_chunk_hold_errors', { run_id: chunk.runId, errors: r.errors })
  return { action: 'held', ...r, finishedRun: await finishIfLast(ctx, chunk.runId, nowMs, fault) }
}

/** The batching claim; its winner forms the batches, marks the run done and audits it. */
async function finishIfLast(ctx: AuditContext, runId: string, nowMs: number, fault: RunFaultHook | undefined): Promise<boolean> {
  const { env } = ctx
  if (!(await claimBatching(env.DB, runId))) return false
  await fault?.('batching_claimed', runId)
  if (!(await completeRun(env, ctx, runId, nowMs, fault))) return false
  const summary = (await runSummary(env.DB, runId))!
  await audit(ctx, 'payouts.run.complete', `payout_run:${runId}`, {
    run_date: summary.run_date,
    trigger: summary.trigger,
    evaluated: summary.evaluated,
    created: summary.created,
    refused: summary.refused,
    batches: summary.batches.length,
    refusals_by_code: summary.refusals_by_code,
    holds_by: 'queue',
  })
  return true
}

/** The queue handler: a malformed payload is logged and acked (no redelivery will fix it). */
export async function handleRunHolds(payload: unknown, env: Env): Promise<void> {
  const parsed = RunHoldsPayload.safeParse(payload)
  if (!parsed.success) {
    log('warn', 'info', 'payout_run_holds_malformed', { issues: parsed.error.issues.map((i) => i.message).join('; ') })
    return
  }
  await placeHoldChunk(env, parsed.data)
}

registerMessageHandler(PAYOUT_RUN_HOLDS, handleRunHolds)
