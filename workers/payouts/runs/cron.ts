/**
 * The daily payout run (workers/jobs: `0 9 * * *`): the rules of the UTC day of the firing. A
 * second firing the same day finds the day's run (unique per day) and does nothing, or finishes it
 * when the first died halfway.
 * @module
 */
import { isoDay, runPayouts, type RunSummary } from './run'

export async function payoutRunJob(env: Env, scheduledTimeMs: number): Promise<RunSummary> {
  return runPayouts(env, { env, actor: 'system:payout-run' }, { trigger: 'cron', runDate: isoDay(scheduledTimeMs), nowMs: scheduledTimeMs, startedBy: 'system:cron' })
}
