/**
 * Cron triggers -> jobs. Each job is idempotent: a cron may fire twice, or late.
 * @module
 */
import { getConfig } from '../config'
import { audit } from '../compliance/audit'
import { writeCheckpoint } from '../compliance/checkpoints'
import { log } from '../edge/logger'
import { flushAnalytics } from '../routing/analytics'
import { runHealthChecks } from '../routing/health'
import { rotateSigningKeys } from '../sso/keys'
import { sweepSubscriptions } from '../payments/subscriptions/sweep'
import { pollPayoutsJob } from '../payouts/execution/poll'
import { payoutRunJob } from '../payouts/runs/cron'
import { rewrapJob } from '../vault/keys/rewrap'
import { runKycExpiry } from '../vault/kyc/expiry'
import { expireUploadsJob } from '../media/uploads/expire'

export const CRON_EVERY_MINUTE = '* * * * *'
export const CRON_HOURLY = '17 * * * *'
export const CRON_DAILY_PAYOUTS = '0 9 * * *'

type Job = (env: Env, scheduledTimeMs: number) => Promise<unknown>

const jobs: Record<string, Job[]> = {
  [CRON_EVERY_MINUTE]: [(env, now) => runHealthChecks(env, now), (env) => flushAnalytics(env), (env, now) => pollPayoutsJob(env, now)],
  [CRON_HOURLY]: [
    async (env, now) => {
      const report = await rotateSigningKeys(env.DB, getConfig(env), now)
      if (report.activated.length || report.created.length || report.deleted.length) {
        await audit({ env, actor: 'system:cron' }, 'sso.signing_key.rotate', 'signing_keys', { ...report })
      }
      return report
    },
    (env, now) => writeCheckpoint(env, getConfig(env), now),
    (env, now) => sweepSubscriptions(env, now),
    (env) => rewrapJob(env),
    (env, now) => runKycExpiry(env, now),
    (env, now) => expireUploadsJob(env, now),
  ],
  [CRON_DAILY_PAYOUTS]: [(env, now) => payoutRunJob(env, now)],
}

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const list = jobs[controller.cron]
  if (!list) {
    log('warn', 'info', 'cron_unknown', { cron: controller.cron })
    return
  }
  const results = await Promise.allSettled(list.map((job) => job(env, controller.scheduledTime)))
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown)
  for (const reason of failures) log('error', 'info', 'cron_job_failed', { cron: controller.cron, error: String(reason) })
  // other jobs of the same cron still ran; failing the invocation makes the failure visible
  if (failures.length) throw new AggregateError(failures, `${failures.length} job(s) failed for cron ${controller.cron}`)
}
