/**
 * What a bank's "this payment came back" does to a payout, whatever channel told us (an ACH return
 * file, a pain.002 rejection, finance by hand):
 * - `settled` (finance confirmed the file, the hold was posted): `returnPayout` books the amount back
 *   to the creator's available balance, once (payout_returns unique per payout, ledger op id per
 *   payout): a file imported twice credits nothing the second time;
 * - `submitted` (the file left, not yet confirmed): `failPayout` voids the hold, so the money is
 *   available again, and the bank's code is recorded in payout_returns beside it;
 * - `returned`, or `failed` by an earlier return: already done, nothing moves;
 * - anything else (never left, cancelled): not returnable, listed for an operator.
 * @module
 */
import type { AuditContext } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { decimalFromMinor } from '../../payments/bank/money-text'
import { failPayout, payoutRow, returnPayout } from '../lifecycle'
import { notifyCreator } from '../notify'

export type ReturnSource = 'ach_return' | 'sepa_reject' | 'manual'

export type ReturnStatus = 'returned' | 'failed' | 'already_returned' | 'not_returnable'

export interface ReturnOutcome {
  payout_id: string
  status: ReturnStatus
  /** the payout's state afterwards */
  state: string
  creator_id: string
  amount_minor: number
  currency: string
}

export async function applyReturn(
  env: Env,
  ctx: AuditContext,
  payoutId: string,
  ret: { source: ReturnSource; code: string; reason: string; recordedBy: string },
  nowMs = Date.now(),
): Promise<ReturnOutcome> {
  const p = await payoutRow(env, payoutId)
  if (!p) throw new Error(`applyReturn: no payout ${payoutId}`)
  const base = { payout_id: p.id, creator_id: p.creator_id, amount_minor: p.amount_minor, currency: p.currency }
  if (p.state === 'settled' || p.state === 'returned') {
    const { payout, recorded } = await returnPayout(env, ctx, p.id, { id: newId('payoutReturn', nowMs), ...ret }, nowMs)
    if (recorded) await tellCreator(env, base, ret)
    return { ...base, status: recorded ? 'returned' : 'already_returned', state: payout.state }
  }
  if (p.state === 'submitted') {
    const payout = await failPayout(env, ctx, p.id, { code: ret.code, reason: ret.reason }, nowMs)
    await recordRejection(env, p.id, ret, nowMs)
    await tellCreator(env, base, ret)
    return { ...base, status: 'failed', state: payout.state }
  }
  if (p.state === 'failed') {
    const earlier = await env.DB.prepare('SELECT 1 FROM payout_returns WHERE payout_id = ?').bind(p.id).first()
    if (earlier) return { ...base, status: 'already_returned', state: p.state }
  }
  return { ...base, status: 'not_returnable', state: p.state }
}

/** The bank's rejection of a payout that had not settled: kept beside the voided hold, once. */
async function recordRejection(env: Env, payoutId: string, ret: { source: ReturnSource; code: string; reason: string; recordedBy: string }, nowMs: number): Promise<void> {
  await env.DB.prepare('INSERT INTO payout_returns (id, payout_id, source, code, reason, recorded_by, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (payout_id) DO NOTHING')
    .bind(newId('payoutReturn', nowMs), payoutId, ret.source, ret.code, ret.reason.slice(0, 500), ret.recordedBy, nowMs)
    .run()
}

/** The creator hears what came back and that the money is available again; never account details. */
async function tellCreator(env: Env, p: { payout_id: string; creator_id: string; amount_minor: number; currency: string }, ret: { code: string; reason: string }): Promise<void> {
  await notifyCreator(env, p.creator_id, {
    subject: 'A payout came back to your balance',
    text: [
      `Your payout ${p.payout_id} of ${decimalFromMinor(p.amount_minor, p.currency)} ${p.currency} was returned by the receiving bank (${ret.code}: ${ret.reason}).`,
      'The full amount is back in your available balance. Please check your payout method; the next payout goes out on your usual schedule.',
    ].join('\n\n'),
  })
}
