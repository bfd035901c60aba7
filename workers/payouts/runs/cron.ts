/**
 * The daily payout run (workers/jobs: `0 9 * * *`): the rules of the UTC day of the firing. A
 * second firing the same day finds the day's run (unique per day) and does nothing, or finishes it
 * when the first died halfway. A day with more payouts than INLINE_HOLDS_MAX returns with the run
 * `holding`: its ledger holds and batches are finished by the PAYOUTS queue's consumers
 * (runs/holds-consumer.ts), so the cron invocation stays short whatever the number of creators.
 * @module
 */
import { isoDay, runPayouts, type RunSummary } from './run'

export async function payoutRunJob(env: Env, scheduledTimeMs: number): Promise<RunSummary> {
  return runPayouts(env, { env, actor: 'system:payout-run' }, { trigger: 'cron', runDate: isoDay(scheduledTimeMs), nowMs: scheduledTimeMs, startedBy: 'system:cron' })
}
