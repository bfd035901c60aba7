/**
 * Every minute (workers/jobs): asks the processors where submitted payouts stand (delayed
 * settlement: Wise transfers in flight, Fireblocks confirmations, a sandbox `delayed` outcome).
 * Only payouts whose `next_attempt_at_ms` has come are asked, at most POLL_LIMIT per run, oldest due
 * first; a definitive answer settles or fails the payout (lifecycle.ts), anything else reschedules
 * it with a backoff that grows with its age. Bank-file payouts are not polled: the bank's returns
 * and statements say what happened to them.
 * @module
 */
import { log } from '../../edge/logger'
import { FILE_RAILS } from '../rails'
import { processorFor } from '../processors/registry'
import { pollDelayMs } from './backoff'
import { applyOutcome, executableRow, payoutRequest } from './consumer'

export const POLL_LIMIT = 100

export interface PollReport {
  checked: number
  settled: number
  failed: number
  rescheduled: number
  errors: number
}

export async function pollPayoutsJob(env: Env, nowMs: number, options: { random?: () => number } = {}): Promise<PollReport> {
  const report: PollReport = { checked: 0, settled: 0, failed: 0, rescheduled: 0, errors: 0 }
  const { results } = await env.DB.prepare(
    `SELECT id FROM payouts WHERE state = 'submitted' AND next_attempt_at_ms IS NOT NULL AND next_attempt_at_ms <= ? AND rail NOT IN (${FILE_RAILS.map(() => '?').join(', ')}) ORDER BY next_attempt_at_ms LIMIT ?`,
  )
    .bind(nowMs, ...FILE_RAILS, POLL_LIMIT)
    .all<{ id: string }>()
  const ctx = { env, actor: 'system:payouts-poll' }
  for (const { id } of results) {
    report.checked++
    try {
      const row = await executableRow(env, id)
      if (!row || row.state !== 'submitted') continue
      const resolution = await processorFor(env, row.rail, { payoutId: id, now: () => nowMs })
      if (!resolution.ok) {
        // configuration went away under a submitted payout: never fail it blindly, look again later
        log('error', 'info', 'payout_poll_no_processor', { payout_id: id, code: resolution.code, reason: resolution.reason })
        await reschedule(env, id, nowMs, options.random)
        report.rescheduled++
        continue
      }
      const { processor, settings, transport } = resolution.resolved
      const outcome = await processor.status(settings, await payoutRequest(env, row), row.processor_ref, transport)
      const applied = await applyOutcome(env, ctx, row, outcome, nowMs, options.random ? { random: options.random } : {})
      if (applied === 'settled') report.settled++
      else if (applied === 'failed') report.failed++
      else {
        await reschedule(env, id, nowMs, options.random)
        report.rescheduled++
      }
    } catch (error) {
      report.errors++
      log('error', 'info', 'payout_poll_failed', { payout_id: id, error: error instanceof Error ? error.message : String(error) })
    }
  }
  return report
}

async function reschedule(env: Env, payoutId: string, nowMs: number, random?: () => number): Promise<void> {
  const row = await env.DB.prepare('SELECT created_at_ms FROM payouts WHERE id = ?').bind(payoutId).first<{ created_at_ms: number }>()
  const age = row ? nowMs - row.created_at_ms : 0
  await env.DB.prepare("UPDATE payouts SET next_attempt_at_ms = ? WHERE id = ? AND state = 'submitted'").bind(nowMs + pollDelayMs(age, random), payoutId).run()
}
