/**
 * The one way a payout changes state, and the ledger operation that goes with each change.
 *
 *   pending  --(batch submitted)-->  queued  --(processor accepted / in a bank file)-->  submitted
 *   pending | queued | submitted  --(paid)-->  settled  --(bank return)-->  returned
 *   pending | queued | submitted  --(declined, retries exhausted and resolved)-->  failed
 *   pending  --(batch cancelled, payout removed)-->  cancelled
 *
 * Money (CreatorLedger, two-phase): the hold is placed when the payout is created in a draft batch;
 * `settled` posts it, `failed` and `cancelled` void it, `returned` books the returned amount back to
 * available. Every ledger operation has an op id derived from the payout id alone
 * (`payout:<id>:post`), so a step retried, a message delivered twice or a consumer killed between
 * steps replays the first result instead of moving money again. The ledger is written first and the
 * D1 row second: if the process dies in between, the next delivery finds the ledger done (a replay)
 * and finishes the row; the reverse order could mark a payout settled whose hold was never posted.
 *
 * A hold is never voided while the processor might still pay it: `failed` from `submitted` needs the
 * processor's definitive answer (a decline, or a status lookup) and never follows a timeout alone.
 * @module
 */
import type { PayoutState } from '../../d1/schema/payouts'
import { audit, type AuditContext } from '../compliance/audit'
import { ProblemError } from '../edge/problem'
import { log } from '../edge/logger'
import { ledgerFor } from '../ledger/stub'
import type { OpResult } from '../ledger/model'

export const payoutOpId = {
  hold: (payoutId: string) => `payout:${payoutId}:hold`,
  post: (payoutId: string) => `payout:${payoutId}:post`,
  void: (payoutId: string) => `payout:${payoutId}:void`,
  return: (payoutId: string) => `payout:${payoutId}:return`,
}

/** The columns of `payouts` this module reads. */
export interface PayoutRow {
  id: string
  creator_id: string
  batch_id: string | null
  currency: string
  amount_minor: number
  fee_minor: number
  net_minor: number
  state: PayoutState
  hold_id: string | null
  idempotency_key: string
  processor_ref: string | null
  rail: string
}

export async function payoutRow(env: Env, payoutId: string): Promise<PayoutRow | null> {
  return env.DB.prepare('SELECT * FROM payouts WHERE id = ?').bind(payoutId).first<PayoutRow>()
}

type LedgerOutcome = { ok: true; holdId: string | null; replayed: boolean } | { ok: false; code: string; detail: string }

function outcome(r: OpResult): LedgerOutcome {
  return r.ok ? { ok: true, holdId: r.holdId, replayed: r.replayed } : { ok: false, code: r.code, detail: r.detail }
}

/** Places the payout's hold in the creator's ledger (idempotent on the payout id). */
export async function placeHold(env: Env, p: { id: string; creatorId: string; currency: string; amountMinor: number }, nowMs?: number): Promise<LedgerOutcome> {
  return outcome(await ledgerFor(env, p.creatorId).holdForPayout({ opId: payoutOpId.hold(p.id), payoutId: p.id, currency: p.currency, amountMinor: p.amountMinor }, nowMs))
}

/**
 * Moves a payout from one of `from` to `to` with `patch` (column -> value), in one conditional
 * UPDATE. False when the payout was not in one of `from` (someone else moved it first).
 */
export async function transitionPayout(env: Env, payoutId: string, from: readonly PayoutState[], to: PayoutState, patch: Record<string, string | number | null> = {}, nowMs = Date.now()): Promise<boolean> {
  const cols = Object.keys(patch)
  for (const c of cols) if (!/^[a-z_]+$/.test(c)) throw new Error(`bad column ${c}`)
  const sets = ['state = ?', 'updated_at_ms = ?', ...cols.map((c) => `${c} = ?`)].join(', ')
  const res = await env.DB.prepare(`UPDATE payouts SET ${sets} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`)
    .bind(to, nowMs, ...cols.map((c) => patch[c]!), payoutId, ...from)
    .run()
  return res.meta.changes === 1
}

/** A ledger answer that says the step was already taken earlier counts as done. */
const ALREADY = { post: 'pending_transfer_already_posted', void: 'pending_transfer_already_voided' } as const

async function requireHold(p: PayoutRow): Promise<string> {
  if (!p.hold_id) throw new ProblemError('CONFLICT', { detail: `payout ${p.id} has no ledger hold` })
  return p.hold_id
}

/** The payout reached the creator (or left in a bank file): posts the hold, marks it settled. */
export async function settlePayout(env: Env, ctx: AuditContext, payoutId: string, details: { processorRef?: string | null; feeMinor?: number }, nowMs = Date.now()): Promise<PayoutRow> {
  const p = await payoutRow(env, payoutId)
  if (!p) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
  if (p.state === 'settled' || p.state === 'returned') return p
  if (!['pending', 'queued', 'submitted'].includes(p.state)) throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${p.state}` })
  const holdId = await requireHold(p)
  const r = outcome(await ledgerFor(env, p.creator_id).postHold({ opId: payoutOpId.post(p.id), holdId }, nowMs))
  if (!r.ok && r.code !== ALREADY.post) {
    // a voided hold that the processor then paid: money left without a hold; an operator must look
    log('error', 'info', 'payout_post_refused', { payout_id: p.id, code: r.code, detail: r.detail })
    throw new ProblemError('CONFLICT', { detail: `the ledger refused to post payout ${p.id}: ${r.code}` })
  }
  const moved = await transitionPayout(env, p.id, ['pending', 'queued', 'submitted'], 'settled', { settled_at_ms: nowMs, processor_ref: details.processorRef ?? p.processor_ref }, nowMs)
  if (moved) await audit(ctx, 'payouts.payout.settle', `payout:${p.id}`, { creator_id: p.creator_id, amount_minor: p.amount_minor, net_minor: p.net_minor, currency: p.currency, processor_ref: details.processorRef ?? p.processor_ref })
  if (p.batch_id) await refreshBatchState(env, p.batch_id, nowMs)
  return (await payoutRow(env, p.id))!
}

/**
 * The payout will not be paid (declined, cancelled before submission, resolved as failed by an
 * operator): voids the hold so the money is available again, records why.
 */
export async function failPayout(env: Env, ctx: AuditContext, payoutId: string, failure: { code: string; reason: string; to?: 'failed' | 'cancelled' }, nowMs = Date.now()): Promise<PayoutRow> {
  const to = failure.to ?? 'failed'
  const p = await payoutRow(env, payoutId)
  if (!p) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
  if (p.state === to) return p
  const from: PayoutState[] = to === 'cancelled' ? ['pending'] : ['pending', 'queued', 'submitted']
  if (!from.includes(p.state)) throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${p.state}; it cannot become ${to}` })
  if (p.hold_id) {
    const r = outcome(await ledgerFor(env, p.creator_id).voidHold({ opId: payoutOpId.void(p.id), holdId: p.hold_id }, nowMs))
    if (!r.ok && r.code !== ALREADY.void) throw new ProblemError('CONFLICT', { detail: `the ledger refused to void payout ${p.id}: ${r.code}` })
  }
  const moved = await transitionPayout(env, p.id, from, to, { failure_code: failure.code, failure_reason: failure.reason.slice(0, 500) }, nowMs)
  if (moved) await audit(ctx, to === 'cancelled' ? 'payouts.payout.cancel' : 'payouts.payout.fail', `payout:${p.id}`, { creator_id: p.creator_id, amount_minor: p.amount_minor, currency: p.currency, code: failure.code, reason: failure.reason })
  if (p.batch_id) await refreshBatchState(env, p.batch_id, nowMs)
  return (await payoutRow(env, p.id))!
}

/**
 * A settled payout came back (ACH return, SEPA reject after settlement, processor reversal): the
 * creator is credited again, once: `payout_returns` is unique per payout and the ledger op id too.
 */
export async function returnPayout(
  env: Env,
  ctx: AuditContext,
  payoutId: string,
  ret: { id: string; source: 'ach_return' | 'sepa_reject' | 'processor' | 'manual'; code: string; reason: string; recordedBy: string },
  nowMs = Date.now(),
): Promise<{ payout: PayoutRow; recorded: boolean }> {
  const p = await payoutRow(env, payoutId)
  if (!p) throw new ProblemError('NOT_FOUND', { detail: `no payout ${payoutId}` })
  if (p.state === 'returned') return { payout: p, recorded: false }
  if (p.state !== 'settled') throw new ProblemError('CONFLICT', { detail: `payout ${payoutId} is ${p.state}: only a settled payout can come back (a payout not yet paid is failed instead)` })
  const holdId = await requireHold(p)
  const r = outcome(await ledgerFor(env, p.creator_id).payoutReturned({ opId: payoutOpId.return(p.id), holdId, reason: `${ret.source} ${ret.code}: ${ret.reason}`.slice(0, 500) }, nowMs))
  if (!r.ok && r.code !== 'payout_already_returned') throw new ProblemError('CONFLICT', { detail: `the ledger refused the return of payout ${p.id}: ${r.code}` })
  const inserted = await env.DB.prepare('INSERT INTO payout_returns (id, payout_id, source, code, reason, recorded_by, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (payout_id) DO NOTHING')
    .bind(ret.id, p.id, ret.source, ret.code, ret.reason.slice(0, 500), ret.recordedBy, nowMs)
    .run()
  await transitionPayout(env, p.id, ['settled'], 'returned', { failure_code: ret.code, failure_reason: ret.reason.slice(0, 500) }, nowMs)
  const recorded = inserted.meta.changes === 1
  if (recorded) await audit(ctx, 'payouts.payout.return', `payout:${p.id}`, { creator_id: p.creator_id, amount_minor: p.amount_minor, currency: p.currency, source: ret.source, code: ret.code, reason: ret.reason })
  if (p.batch_id) await refreshBatchState(env, p.batch_id, nowMs)
  return { payout: (await payoutRow(env, p.id))!, recorded }
}

/**
 * A submitted batch is finished once none of its payouts is still on its way: settled when every
 * payout settled, failed when none did, partially_failed otherwise.
 */
export async function refreshBatchState(env: Env, batchId: string, nowMs = Date.now()): Promise<void> {
  const counts = await env.DB.prepare(
    `SELECT SUM(state IN ('pending', 'queued', 'submitted')) AS open, SUM(state IN ('settled', 'returned')) AS paid, SUM(state IN ('failed', 'cancelled')) AS lost FROM payouts WHERE batch_id = ?`,
  )
    .bind(batchId)
    .first<{ open: number | null; paid: number | null; lost: number | null }>()
  if (!counts || (counts.open ?? 0) > 0) return
  const paid = counts.paid ?? 0
  const lost = counts.lost ?? 0
  const state = lost === 0 ? 'settled' : paid === 0 ? 'failed' : 'partially_failed'
  await env.DB.prepare(`UPDATE payout_batches SET state = ?, finished_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state IN ('submitted', 'settled', 'partially_failed', 'failed')`)
    .bind(state, nowMs, nowMs, batchId)
    .run()
}
