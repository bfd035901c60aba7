/**
 * Instant payouts: a creator asks for `amount_minor` now, through a method whose rail offers
 * instant payment (its schedule has instant fees; the higher fee is the creator's). The same
 * eligibility as a run (eligibility/decide.ts, `asked`: the rule's timing does not matter); a
 * refusal is recorded (run id null) and answered as a problem naming the reason.
 *
 * Approval: an instant payout skips finance approval (its own batch, approvals_required 0, state
 * approved, submitted at once) up to the second-approval limit of its currency
 * (`PAYOUT_SECOND_APPROVAL_ABOVE`); above it the request is REFUSED (`above_instant_limit`), not
 * parked for approval: "instant" that waits for two people is not instant, and the creator can ask
 * for less or let the scheduled run pay (whose batches do go through approval).
 *
 * Order, as in a run: payout row (pending, no hold) -> ledger hold -> hold_id -> batch claims the
 * row -> submitBatch. A crash before the batch leaves a `running` instant run; the next cron run
 * finishes it as a DRAFT batch that finance approves (never paid without a person once it lost
 * its moment).
 * @module
 */
import { approvalsRequired, payoutConfig } from '../config'
import { audit, type AuditContext } from '../../compliance/audit'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import { submitBatch } from '../batches/submit'
import { decide, type RefusalCode } from '../eligibility/decide'
import { factsForCreators } from '../eligibility/facts'
import { recordRefusals } from '../eligibility/refusals'
import { feeSchedules } from '../fees/schedule'
import { formBatches, insertPayouts, isoDay, placeRunHolds } from './run'

export interface InstantRequest {
  creatorId: string
  amountMinor: number
  currency: string
  methodId: string | null
  actor: string
  nowMs?: number
}

export interface InstantResult {
  payout_id: string
  batch_id: string
  run_id: string
  amount_minor: number
  fee_minor: number
  net_minor: number
  currency: string
  method_id: string
  rail: string
  batch_state: string
  submitted: { state: string; queued: number; fileId: string | null }
}

/** refusals about the amount or the method's rail are the body's fault (422); the rest a state (409) */
const FIELD_OF: Partial<Record<RefusalCode, string>> = {
  insufficient_funds: 'body.amount_minor',
  below_minimum: 'body.amount_minor',
  above_maximum: 'body.amount_minor',
  fee_exceeds_amount: 'body.amount_minor',
  above_instant_limit: 'body.amount_minor',
  instant_not_offered: 'body.method_id',
  rail_currency_unsupported: 'body.currency',
}

async function refuse(env: Env, creatorId: string, code: RefusalCode, detail: string, nowMs: number): Promise<never> {
  await recordRefusals(env.DB, null, [{ creatorId, code, detail }], nowMs)
  const field = FIELD_OF[code]
  throw new ProblemError(field ? 'VALIDATION_FAILED' : 'CONFLICT', { detail, extensions: { reason: code }, ...(field ? { errors: [{ path: field, message: `${code}: ${detail}` }] } : {}) })
}

export async function instantPayout(env: Env, ctx: AuditContext, req: InstantRequest): Promise<InstantResult> {
  const nowMs = req.nowMs ?? Date.now()
  const [facts] = await factsForCreators(env.DB, [req.creatorId])
  if (!facts) throw new ProblemError('NOT_FOUND', { detail: `no creator ${req.creatorId}` })
  const schedules = await feeSchedules(env)
  const d = decide(facts, { runDate: isoDay(nowMs), nowMs, schedules, asked: true, instant: { amountMinor: req.amountMinor, currency: req.currency, methodId: req.methodId } })
  if (!d.ok) return refuse(env, req.creatorId, d.code, d.detail, nowMs)
  if (approvalsRequired(payoutConfig(env), d.currency, d.amountMinor) > 1) {
    return refuse(env, req.creatorId, 'above_instant_limit', `instant payouts above the second-approval limit of ${d.currency} are not paid instantly; ask for less or wait for the scheduled run`, nowMs)
  }
  const runId = newId('payoutRun', nowMs)
  await env.DB.prepare(`INSERT INTO payout_runs (id, run_date, trigger, state, evaluated, started_by, started_at_ms) VALUES (?, ?, 'instant', 'running', 1, ?, ?)`).bind(runId, isoDay(nowMs), req.actor, nowMs).run()
  const [payoutId] = await insertPayouts(env.DB, runId, [d], 'instant', nowMs)
  const row = await env.DB.prepare('SELECT id FROM payouts WHERE id = ?').bind(payoutId!).first<{ id: string }>()
  if (!row) {
    // the partial unique index: another payout in this currency opened since the facts were read
    await env.DB.prepare(`UPDATE payout_runs SET state = 'done', finished_at_ms = ? WHERE id = ?`).bind(nowMs, runId).run()
    return refuse(env, req.creatorId, 'payout_in_flight', `a ${d.currency} payout is already pending or queued`, nowMs)
  }
  const holds = await placeRunHolds(env, ctx, runId, nowMs)
  if (holds.held !== 1) {
    await env.DB.prepare(`UPDATE payout_runs SET state = 'done', refused = 1, finished_at_ms = ? WHERE id = ?`).bind(nowMs, runId).run()
    throw new ProblemError(holds.refused ? 'VALIDATION_FAILED' : 'CONFLICT', {
      detail: holds.refused ? 'the ledger does not hold enough available money for this amount' : 'the ledger hold could not be placed; try again',
      extensions: { reason: 'insufficient_funds' },
      ...(holds.refused ? { errors: [{ path: 'body.amount_minor', message: 'insufficient_funds' }] } : {}),
    })
  }
  const [batch] = await formBatches(env, ctx, runId, nowMs, { state: 'approved', approvals: 0, createdBy: req.actor })
  if (!batch) throw new Error(`instant payout ${payoutId} was not batched`)
  await env.DB.prepare(`UPDATE payout_runs SET state = 'done', created = 1, finished_at_ms = ? WHERE id = ?`).bind(nowMs, runId).run()
  await audit(ctx, 'payouts.instant.create', `payout:${payoutId}`, { creator_id: req.creatorId, batch_id: batch.id, run_id: runId, amount_minor: d.amountMinor, fee_minor: d.feeMinor, currency: d.currency, method_id: d.method.id, rail: d.method.rail })
  const submitted = await submitBatch(env, ctx, batch.id, nowMs)
  return {
    payout_id: payoutId!,
    batch_id: batch.id,
    run_id: runId,
    amount_minor: d.amountMinor,
    fee_minor: d.feeMinor,
    net_minor: d.netMinor,
    currency: d.currency,
    method_id: d.method.id,
    rail: d.method.rail,
    batch_state: batch.state,
    submitted: { state: submitted.state, queued: submitted.queued, fileId: submitted.fileId },
  }
}
