/**
 * The subscription sweep (hourly cron): ends what the gateways' postbacks left running.
 * - `cancelled` whose paid period is over -> `expired` (the fan had access until then);
 * - `active` / `past_due` more than `SUBSCRIPTION_GRACE_MS` past the period end with no rebill ->
 *   `expired`, with the reason kept (a missed rebill postback must not give access for ever).
 * Every change is one conditional UPDATE on the current state, so running it twice, late or
 * concurrently changes each row once; each expiry is audited.
 * @module
 */
import { audit } from '../../compliance/audit'
import { DAY_MS } from './lifecycle'

/** How long after its period end an unpaid subscription keeps access (gateways retry declined rebills). */
export const SUBSCRIPTION_GRACE_MS = 3 * DAY_MS

export const LAPSED_REASON = 'no rebill within 3 days of the period end'

export interface SweepReport {
  /** cancelled subscriptions whose paid period ended */
  expired: string[]
  /** active or past-due subscriptions with no rebill within the grace period */
  lapsed: string[]
}

const ACTOR = { actor: 'system:subscriptions-sweep' }

export async function sweepSubscriptions(env: Env, nowMs: number): Promise<SweepReport> {
  const [ended, lapsed] = await env.DB.batch<{ id: string; current_period_end_ms: number; status: string }>([
    env.DB.prepare(
      `UPDATE subscriptions SET status = 'expired', expired_at_ms = current_period_end_ms, updated_at_ms = ?1
       WHERE status = 'cancelled' AND current_period_end_ms IS NOT NULL AND current_period_end_ms <= ?1 RETURNING id, current_period_end_ms, 'cancelled' AS status`,
    ).bind(nowMs),
    env.DB.prepare(
      `UPDATE subscriptions SET status = 'expired', expired_at_ms = ?1, cancel_reason = COALESCE(cancel_reason, ?2), updated_at_ms = ?1
       WHERE status IN ('active', 'past_due') AND current_period_end_ms IS NOT NULL AND current_period_end_ms + ?3 <= ?1 RETURNING id, current_period_end_ms, status`,
    ).bind(nowMs, LAPSED_REASON, SUBSCRIPTION_GRACE_MS),
  ])
  for (const row of ended?.results ?? []) {
    await audit({ env, ...ACTOR }, 'payments.subscription.expire', `subscription:${row.id}`, { previous_status: 'cancelled', reason: 'cancelled; paid period ended', period_end: new Date(row.current_period_end_ms).toISOString() })
  }
  for (const row of lapsed?.results ?? []) {
    await audit({ env, ...ACTOR }, 'payments.subscription.expire', `subscription:${row.id}`, { reason: LAPSED_REASON, period_end: new Date(row.current_period_end_ms).toISOString() })
  }
  return { expired: (ended?.results ?? []).map((r) => r.id), lapsed: (lapsed?.results ?? []).map((r) => r.id) }
}
