/**
 * Per-domain request analytics. One interface, two sinks: Analytics Engine where the binding exists
 * (staging, production) and an isolate-memory aggregator flushed in batches to D1 elsewhere (dev,
 * tests). The request path only touches memory (or fire-and-forget writeDataPoint): never D1.
 * @module
 */
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../edge/context'
import { requestHostname } from '../edge/host'
import { log } from '../edge/logger'
import { engineSink } from './analytics-engine'
import { localSink } from './analytics-local'
import type { AnalyticsSink } from './analytics-model'
import { getSnapshot } from './snapshot'

export { GROUP_BY, LATENCY_BUCKETS, latencyBucket, type AnalyticsQuery, type AnalyticsRow, type AnalyticsSink, type GroupBy, type RequestSample } from './analytics-model'

export function analyticsSink(env: Env): AnalyticsSink {
  return env.ANALYTICS ? engineSink(env, env.ANALYTICS) : localSink(env)
}

/** Every-minute cron (and tests): push what the local sink buffered; a no-op for Analytics Engine. */
export async function flushAnalytics(env: Env): Promise<number> {
  return analyticsSink(env).flush()
}

export const UNKNOWN_HOST = '(unknown)'
export const NO_BRAND = '(none)'

/** Edge middleware: times the request and records it once the response exists. */
export const recordAnalytics = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now()
  await next()
  try {
    let hostname = requestHostname(c.req.raw)
    let brand = c.var.brand?.slug ?? NO_BRAND
    if (c.var.surface === undefined) {
      // the host was refused or redirected (www) before a surface was set: keep known hosts only,
      // so random Host headers cannot grow the metrics without bound
      const entry = (await getSnapshot(c.env.DB)).hosts.get(hostname)
      if (entry) brand = entry.brand.slug
      else hostname = UNKNOWN_HOST
    }
    let ctx: ExecutionContext | undefined
    try {
      ctx = c.executionCtx as ExecutionContext
    } catch {
      ctx = undefined
    }
    analyticsSink(c.env).record({ atMs: started, hostname, brand, country: c.var.geo?.country ?? 'XX', status: c.res.status, latencyMs: Date.now() - started }, ctx)
  } catch (err) {
    // analytics never fails a request
    log('warn', 'info', 'analytics_record_failed', { error: String(err) })
  }
})
