/**
 * Active health checks, run by the every-minute cron: probe every origin at url + health_path with
 * its pool's timeout, record each probe, and flip an origin down after `fail_threshold` consecutive
 * failures or up after `ok_threshold` consecutive successes. Flips are audited and drop the snapshot,
 * so the proxy stops (or resumes) sending traffic without any D1 read on the request path.
 * @module
 */
import { eq } from 'drizzle-orm'
import { originHealthChecks, originPools, origins } from '../../d1/schema'
import { audit } from '../compliance/audit'
import { log } from '../edge/logger'
import { db } from '../lib/db'
import { newId } from '../lib/ids'
import { mapBounded } from './bounded'
import { invalidateSnapshot } from './snapshot'

/** Workers allow six simultaneous outgoing connections per invocation; more would only queue. */
export const PROBE_CONCURRENCY = 6
export const HEALTH_ACTOR = 'system:health'

type OriginRow = typeof origins.$inferSelect
type PoolRow = typeof originPools.$inferSelect

export interface ProbeResult {
  ok: boolean
  statusCode: number | null
  latencyMs: number
  error: string | null
}

export interface HealthState {
  status: 'up' | 'down'
  consecutiveFailures: number
  consecutiveSuccesses: number
  transition: 'up' | 'down' | null
}

export interface HealthReport {
  checked: number
  failedWrites: number
  transitions: Array<{ originId: string; to: 'up' | 'down' }>
}

/** One GET to `url`; ok when the answer has the expected status before the timeout. */
export async function probe(url: string, expectedStatus: number, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now()
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', headers: { 'user-agent': 'fanz-health-check/1' }, signal: AbortSignal.timeout(timeoutMs) })
    // release the connection: the body of a probe is never read
    await res.body?.cancel()
    const ok = res.status === expectedStatus
    return { ok, statusCode: res.status, latencyMs: Date.now() - started, error: ok ? null : `status ${res.status}, expected ${expectedStatus}` }
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    const error = timedOut ? `timeout after ${timeoutMs} ms` : err instanceof Error ? err.message : String(err)
    return { ok: false, statusCode: null, latencyMs: Date.now() - started, error: error.slice(0, 300) }
  }
}

/** The hysteresis: counters move every probe, the status only when a threshold is reached. */
export function nextHealth(current: Pick<OriginRow, 'status' | 'consecutiveFailures' | 'consecutiveSuccesses'>, pool: Pick<PoolRow, 'failThreshold' | 'okThreshold'>, ok: boolean): HealthState {
  const consecutiveFailures = ok ? 0 : current.consecutiveFailures + 1
  const consecutiveSuccesses = ok ? current.consecutiveSuccesses + 1 : 0
  let transition: HealthState['transition'] = null
  if (current.status === 'up' && consecutiveFailures >= pool.failThreshold) transition = 'down'
  if (current.status === 'down' && consecutiveSuccesses >= pool.okThreshold) transition = 'up'
  return { status: transition ?? current.status, consecutiveFailures, consecutiveSuccesses, transition }
}

export function healthUrl(originUrl: string, healthPath: string): string {
  return `${originUrl.replace(/\/+$/, '')}${healthPath.startsWith('/') ? healthPath : `/${healthPath}`}`
}

export async function runHealthChecks(env: Env, nowMs: number): Promise<HealthReport> {
  const handle = db(env.DB)
  const [poolRows, originRows] = await handle.batch([handle.select().from(originPools), handle.select().from(origins)])
  const pools = new Map(poolRows.map((p) => [p.id, p]))
  const report: HealthReport = { checked: 0, failedWrites: 0, transitions: [] }
  const auditFailures: unknown[] = []

  await mapBounded(originRows, PROBE_CONCURRENCY, async (origin) => {
    const pool = pools.get(origin.poolId)
    if (!pool) return
    const result = await probe(healthUrl(origin.url, pool.healthPath), pool.expectedStatus, pool.timeoutMs)
    const state = nextHealth(origin, pool, result.ok)
    try {
      // per origin, so an origin deleted meanwhile (foreign key) fails alone
      await handle.batch([
        handle
          .update(origins)
          .set({ status: state.status, consecutiveFailures: state.consecutiveFailures, consecutiveSuccesses: state.consecutiveSuccesses, lastCheckedAtMs: nowMs, lastLatencyMs: result.latencyMs, lastError: result.error })
          .where(eq(origins.id, origin.id)),
        handle.insert(originHealthChecks).values({ id: newId('healthCheck', nowMs), originId: origin.id, checkedAtMs: nowMs, ok: result.ok, statusCode: result.statusCode, latencyMs: result.latencyMs, error: result.error, transition: state.transition }),
      ])
    } catch (err) {
      report.failedWrites += 1
      log('error', 'info', 'health_write_failed', { origin_id: origin.id, error: String(err) })
      return
    }
    report.checked += 1
    if (!state.transition) return
    report.transitions.push({ originId: origin.id, to: state.transition })
    try {
      await audit({ env, actor: HEALTH_ACTOR }, `routing.origin.${state.transition}`, origin.id, {
        pool_id: pool.id,
        url: origin.url,
        consecutive_failures: state.consecutiveFailures,
        consecutive_successes: state.consecutiveSuccesses,
        status_code: result.statusCode,
        error: result.error,
      })
    } catch (err) {
      // the other origins still get probed; the run fails at the end so the cron shows it
      auditFailures.push(err)
    }
  })

  if (report.transitions.length) {
    invalidateSnapshot()
    log('warn', 'info', 'origin_health_changed', { transitions: report.transitions })
  }
  if (auditFailures.length) throw new AggregateError(auditFailures, `${auditFailures.length} origin transition(s) not audited`)
  return report
}
