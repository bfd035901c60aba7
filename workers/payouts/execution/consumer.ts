/**
 * The `payout.execute` queue handler: one message per payout (envelope `{type: 'payout.execute',
 * id: <payout id>, payload: {payoutId}}`, sent by `submitBatch`), executed at least once.
 *
 * Steps, each safe to repeat, so a delivery killed between any two of them and redelivered (or two
 * deliveries running at once) pays the creator exactly once:
 * 1. load the payout; anything but `queued` (already submitted, settled, failed, cancelled) is acked
 *    and left alone, as is a payout waiting for an operator after its retries ran out;
 * 2. claim attempt n = attempts + 1 (one conditional UPDATE; concurrent deliveries get distinct n);
 * 3. ask the processor (registry) with the payout's ONE idempotency key: a second submit of the
 *    same key answers the first transfer, never a new one;
 * 4. record the attempt (`payout_attempts`, append-only) and act on the outcome:
 *    - settled   -> post the hold in the ledger (op id from the payout id), then `settlePayout`
 *      (which replays the post and moves the row): ledger first, D1 second;
 *    - submitted -> `queued -> submitted` with the processor's ref and when to poll (poll.ts);
 *    - declined  -> `failPayout` (a business error: no retry, the hold is voided, the money is
 *      available again) and the creator is told;
 *    - retryable -> the message is retried (`RetryLater`) after full-jitter backoff honouring
 *      Retry-After; after max_retries (wrangler.toml: 5) the queue moves it to the dead-letter
 *      queue, whose hook (below) marks the payout `retries_exhausted`: it stays `queued` with its
 *      hold, because the processor may have accepted it, until an operator resolves it
 *      (`POST /api/payouts/payouts/{id}/resolve`).
 *
 * Fault injection for the acceptance test: `setExecutionFaultHook` runs a callback after each step;
 * a throw there is a consumer killed at that point. Nothing sets it outside tests.
 * @module
 */
import { z } from 'zod'
import type { PayoutRail, PayoutState } from '../../../d1/schema/payouts'
import type { AuditContext } from '../../compliance/audit'
import { audit } from '../../compliance/audit'
import { log } from '../../edge/logger'
import { ledgerFor } from '../../ledger/stub'
import { registerMessageHandler, RetryLater, type QueueMessage } from '../../queues'
import { registerDeadLetterHook } from '../../queues/dead-letters'
import { failPayout, payoutOpId, settlePayout, transitionPayout } from '../lifecycle'
import { openMethod } from '../methods/sealed'
import { notifyCreator } from '../notify'
import { processorFor } from '../processors/registry'
import type { PayoutOutcome, PayoutRequest, Transport } from '../processors/types'
import { payoutRetryDelaySeconds, pollDelayMs } from './backoff'
// the PAYOUTS queue also carries a run's `payout.run.holds` chunks; this registers their handler
import '../runs/holds-consumer'

export const PAYOUT_EXECUTE = 'payout.execute'
export const RETRIES_EXHAUSTED = 'retries_exhausted'

export const PayoutExecutePayload = z.object({ payoutId: z.string().regex(/^po_[0-9A-Z]{26}$/, 'a payout id') })

/** The queue message for one payout. */
export function payoutMessage(payoutId: string): QueueMessage {
  return { type: PAYOUT_EXECUTE, id: payoutId, payload: { payoutId } }
}

/** Where a delivery can be killed (after the named step). */
export type ExecutionStep = 'claimed' | 'processor_answered' | 'ledger_posted' | 'row_updated'
export type ExecutionFaultHook = (step: ExecutionStep, payoutId: string) => void | Promise<void>

let faultHook: ExecutionFaultHook | null = null

/** TEST ONLY: runs after each step of every execution; null removes it. */
export function setExecutionFaultHook(hook: ExecutionFaultHook | null): void {
  faultHook = hook
}

const after = async (step: ExecutionStep, payoutId: string) => {
  if (faultHook) await faultHook(step, payoutId)
}

export interface ExecutableRow {
  id: string
  creator_id: string
  batch_id: string | null
  method_id: string
  rail: PayoutRail
  currency: string
  amount_minor: number
  net_minor: number
  state: PayoutState
  hold_id: string | null
  idempotency_key: string
  processor_ref: string | null
  attempts: number
  failure_code: string | null
  details_sealed: string
}

export async function executableRow(env: Env, payoutId: string): Promise<ExecutableRow | null> {
  return env.DB.prepare(
    'SELECT p.id, p.creator_id, p.batch_id, p.method_id, p.rail, p.currency, p.amount_minor, p.net_minor, p.state, p.hold_id, p.idempotency_key, p.processor_ref, p.attempts, p.failure_code, m.details_sealed FROM payouts p JOIN payout_methods m ON m.id = p.method_id WHERE p.id = ?',
  )
    .bind(payoutId)
    .first<ExecutableRow>()
}

/** What the processor is asked: the creator receives the net amount; the key never changes. */
export async function payoutRequest(env: Env, row: ExecutableRow): Promise<PayoutRequest> {
  return {
    payoutId: row.id,
    idempotencyKey: row.idempotency_key,
    amount: { minor: row.net_minor, currency: row.currency },
    method: await openMethod(env, row.method_id, row.details_sealed),
    description: `FANZ payout ${row.id}`,
  }
}

export type ExecuteResult =
  | { payoutId: string; action: 'skipped'; reason: string }
  | { payoutId: string; action: 'settled' | 'submitted' | 'failed'; attempt: number; outcome: PayoutOutcome }
  | { payoutId: string; action: 'retry'; attempt: number; delaySeconds: number; outcome: PayoutOutcome }

export interface ExecuteOptions {
  nowMs?: number
  /** a fake processor's transport (tests of real adapters) */
  transport?: Transport
  /** jitter source (tests) */
  random?: () => number
}

const QUEUE_ACTOR = 'system:payouts-queue'

async function recordAttempt(env: Env, payoutId: string, attempt: number, outcome: PayoutOutcome, nowMs: number): Promise<void> {
  const code = 'code' in outcome ? outcome.code : null
  const detail = 'reason' in outcome ? outcome.reason.slice(0, 500) : outcome.processorRef
  await env.DB.prepare('INSERT INTO payout_attempts (payout_id, attempt, outcome, code, detail, at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').bind(payoutId, attempt, outcome.status, code, detail, nowMs).run()
}

/**
 * Applies a processor's answer about a payout that is `queued` or `submitted` (the consumer after a
 * submit, the poller and an operator's status check after a lookup). Returns what happened.
 */
export async function applyOutcome(env: Env, ctx: AuditContext, row: ExecutableRow, outcome: PayoutOutcome, nowMs: number, options: { random?: () => number; attempt?: number } = {}): Promise<'settled' | 'submitted' | 'failed' | 'pending'> {
  switch (outcome.status) {
    case 'settled': {
      if (!row.hold_id) throw new Error(`payout ${row.id} has no ledger hold`)
      // ledger first (the op id makes a repeat a replay); settlePayout then replays it and moves the row
      const r = await ledgerFor(env, row.creator_id).postHold({ opId: payoutOpId.post(row.id), holdId: row.hold_id }, nowMs)
      if (!r.ok && r.code !== 'pending_transfer_already_posted') throw new Error(`the ledger refused to post payout ${row.id}: ${r.code}`)
      await after('ledger_posted', row.id)
      await settlePayout(env, ctx, row.id, { processorRef: outcome.processorRef, ...(outcome.feeMinor !== undefined ? { feeMinor: outcome.feeMinor } : {}) }, nowMs)
      return 'settled'
    }
    case 'submitted': {
      const next = nowMs + pollDelayMs(0, options.random)
      if (row.state === 'queued') {
        const moved = await transitionPayout(env, row.id, ['queued'], 'submitted', { processor_ref: outcome.processorRef, next_attempt_at_ms: next, failure_code: null, failure_reason: null }, nowMs)
        if (moved) await audit(ctx, 'payouts.payout.submit', `payout:${row.id}`, { creator_id: row.creator_id, rail: row.rail, processor_ref: outcome.processorRef, attempt: options.attempt ?? null })
        return 'submitted'
      }
      // already submitted (a poll or a status check): still on its way; the caller reschedules
      if (outcome.processorRef !== row.processor_ref) await env.DB.prepare("UPDATE payouts SET processor_ref = ?, updated_at_ms = ? WHERE id = ? AND state = 'submitted'").bind(outcome.processorRef, nowMs, row.id).run()
      return 'pending'
    }
    case 'declined': {
      await failPayout(env, ctx, row.id, { code: outcome.code, reason: outcome.reason }, nowMs)
      const sent = await notifyCreator(env, row.creator_id, {
        subject: 'Your payout could not be sent',
        text: `Your payout ${row.id} was refused by the payment provider (${outcome.code}). The money is back in your available balance.\n\nCheck your payout method, or choose another one, and it will go out with the next payout.`,
      })
      if (!sent.sent && sent.reason === 'send_failed') log('warn', 'info', 'payout_decline_notice_failed', { payout_id: row.id })
      return 'failed'
    }
    case 'retryable':
      return 'pending'
  }
}

/** One delivery of `payout.execute` (see the module notes). */
export async function executePayout(env: Env, payoutId: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const nowMs = options.nowMs ?? Date.now()
  const ctx: AuditContext = { env, actor: QUEUE_ACTOR }
  const row = await executableRow(env, payoutId)
  if (!row) return { payoutId, action: 'skipped', reason: 'no such payout' }
  if (row.state !== 'queued') return { payoutId, action: 'skipped', reason: `payout is ${row.state}` }
  if (row.failure_code === RETRIES_EXHAUSTED) return { payoutId, action: 'skipped', reason: 'retries exhausted: waiting for an operator' }

  const claimed = await env.DB.prepare("UPDATE payouts SET attempts = attempts + 1, updated_at_ms = ? WHERE id = ? AND state = 'queued' RETURNING attempts").bind(nowMs, payoutId).first<{ attempts: number }>()
  if (!claimed) return { payoutId, action: 'skipped', reason: 'payout left queued meanwhile' }
  const attempt = claimed.attempts
  await after('claimed', payoutId)

  const resolution = await processorFor(env, row.rail, { payoutId, ...(options.transport ? { transport: options.transport } : {}), now: () => nowMs })
  let outcome: PayoutOutcome
  if (!resolution.ok) {
    outcome = { status: 'declined', code: resolution.code, reason: resolution.reason }
  } else {
    const { processor, settings, transport } = resolution.resolved
    let request: PayoutRequest | null = null
    try {
      request = await payoutRequest(env, row)
    } catch (error) {
      // the sealed method no longer opens or validates: nothing was sent, so the money goes back
      log('error', 'info', 'payout_method_unusable', { payout_id: payoutId, error: error instanceof Error ? error.message : String(error) })
    }
    outcome = request ? await processor.submit(settings, request, transport) : { status: 'declined', code: 'method_unusable', reason: 'the payout method could not be read; choose or re-enter a method' }
  }
  await after('processor_answered', payoutId)
  await recordAttempt(env, payoutId, attempt, outcome, nowMs)

  if (outcome.status === 'retryable') {
    const delaySeconds = payoutRetryDelaySeconds(attempt, { ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}), ...(options.random ? { random: options.random } : {}) })
    await env.DB.prepare("UPDATE payouts SET next_attempt_at_ms = ?, failure_code = ?, failure_reason = ?, updated_at_ms = ? WHERE id = ? AND state = 'queued' AND (failure_code IS NULL OR failure_code != ?)")
      .bind(nowMs + delaySeconds * 1000, outcome.code, outcome.reason.slice(0, 500), nowMs, payoutId, RETRIES_EXHAUSTED)
      .run()
    return { payoutId, action: 'retry', attempt, delaySeconds, outcome }
  }
  const done = await applyOutcome(env, ctx, row, outcome, nowMs, { attempt, ...(options.random ? { random: options.random } : {}) })
  await after('row_updated', payoutId)
  return { payoutId, action: done === 'pending' ? 'submitted' : done, attempt, outcome }
}

/** The queue handler: a retryable outcome becomes a retry with the payout's own delay. */
export async function handlePayoutExecute(payload: unknown, env: Env): Promise<void> {
  const parsed = PayoutExecutePayload.safeParse(payload)
  if (!parsed.success) {
    log('warn', 'info', 'payout_message_malformed', { issues: parsed.error.issues.map((i) => i.message).join('; ') })
    return
  }
  const result = await executePayout(env, parsed.data.payoutId)
  if (result.action === 'retry') throw new RetryLater(result.delaySeconds, `payout ${result.payoutId} attempt ${result.attempt}: ${result.outcome.status === 'retryable' ? result.outcome.code : ''}`)
}

/**
 * A payout message that exhausted its retries: the payout keeps its hold and stays `queued` (the
 * processor may have accepted one of the attempts), marked `retries_exhausted` so lists and the
 * operator's case agree; the dead-letter case itself is recorded by the queue layer.
 */
export async function markRetriesExhausted(payload: unknown, env: Env, context: { messageId: string; attempts: number }): Promise<void> {
  const parsed = PayoutExecutePayload.safeParse(payload)
  if (!parsed.success) return
  const nowMs = Date.now()
  const res = await env.DB.prepare("UPDATE payouts SET failure_code = ?, failure_reason = ?, updated_at_ms = ? WHERE id = ? AND state = 'queued' AND (failure_code IS NULL OR failure_code != ?)")
    .bind(RETRIES_EXHAUSTED, `the queue gave up after ${context.attempts} deliveries (message ${context.messageId}); an operator must check the processor and resolve it`, nowMs, parsed.data.payoutId, RETRIES_EXHAUSTED)
    .run()
  if (res.meta.changes === 1) await audit({ env, actor: 'system:queues' }, 'payouts.payout.retries_exhausted', `payout:${parsed.data.payoutId}`, { message_id: context.messageId, attempts: context.attempts })
}

registerMessageHandler(PAYOUT_EXECUTE, handlePayoutExecute)
registerDeadLetterHook(PAYOUT_EXECUTE, markRetriesExhausted)
