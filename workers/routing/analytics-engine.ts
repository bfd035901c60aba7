/**
 * The Analytics Engine sink (staging, production). Writes are `writeDataPoint` calls that the runtime
 * batches and sends after the response (nothing to flush); reads go to the Analytics Engine SQL API
 * with an account id and a read token from secrets (CF_ACCOUNT_ID, CF_ANALYTICS_TOKEN).
 *
 * Data point layout (keep in step with buildEngineSql): index1 = hostname (sampling key);
 * blob1 hostname, blob2 brand, blob3 country, blob4 status, blob5 latency bucket;
 * double1 latency ms, double2 status.
 * @module
 */
import { ProblemError } from '../edge/problem'
import { latencyBucket, type AnalyticsQuery, type AnalyticsRow, type AnalyticsSink, type GroupBy, type RequestSample } from './analytics-model'

/** Secrets and optional vars this sink reads; not in the generated Env because they are secrets. */
interface EngineSettings {
  CF_ACCOUNT_ID?: string
  CF_ANALYTICS_TOKEN?: string
  /** overrides the dataset name derived from ENVIRONMENT */
  CF_ANALYTICS_DATASET?: string
}

/** Dataset names as bound in wrangler.toml, by environment. */
const DATASETS: Record<string, string> = { production: 'fanz_requests', staging: 'fanz_requests_staging' }

const BLOB: Record<GroupBy, string> = { hostname: 'blob1', brand: 'blob2', country: 'blob3', status: 'blob4', latency_bucket: 'blob5' }

const SQL_API = (accountId: string): string => `https://api.cloudflare.com/client/v4/accounts/${encodeURIComponent(accountId)}/analytics_engine/sql`
const QUERY_TIMEOUT_MS = 10_000
/** the sampling index is limited to 96 bytes */
const MAX_INDEX_CHARS = 96

/** `YYYY-MM-DD HH:MM:SS` in UTC, the form toDateTime() parses. */
function aeTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}

/** A single-quoted SQL string literal (values are validated upstream; this is the second fence). */
function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}

/** The SQL for one grouped query; `_sample_interval` undoes Analytics Engine's sampling. */
export function buildEngineSql(dataset: string, q: AnalyticsQuery): string {
  if (!/^[A-Za-z0-9_]+$/.test(dataset)) throw new Error(`invalid Analytics Engine dataset name ${dataset}`)
  const where = [`timestamp >= toDateTime('${aeTime(q.fromMs)}')`, `timestamp < toDateTime('${aeTime(q.toMs)}')`]
  if (q.hostname) where.push(`blob1 = ${literal(q.hostname)}`)
  if (q.brand) where.push(`blob2 = ${literal(q.brand)}`)
  return [
    `SELECT ${BLOB[q.groupBy]} AS key, SUM(_sample_interval) AS requests, SUM(_sample_interval * double1) AS latency_sum_ms`,
    `FROM ${dataset}`,
    `WHERE ${where.join(' AND ')}`,
    'GROUP BY key ORDER BY requests DESC LIMIT 1000',
    'FORMAT JSON',
  ].join(' ')
}

class EngineSink implements AnalyticsSink {
  readonly kind = 'analytics_engine' as const
  readonly #dataset: AnalyticsEngineDataset
  readonly #settings: EngineSettings & { datasetName: string }

  constructor(dataset: AnalyticsEngineDataset, settings: EngineSettings & { datasetName: string }) {
    this.#dataset = dataset
    this.#settings = settings
  }

  record(s: RequestSample): void {
    this.#dataset.writeDataPoint({
      indexes: [s.hostname.slice(0, MAX_INDEX_CHARS)],
      blobs: [s.hostname, s.brand, s.country, String(s.status), latencyBucket(s.latencyMs)],
      doubles: [s.latencyMs, s.status],
    })
  }

  async flush(): Promise<number> {
    return 0
  }

  async query(q: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const { CF_ACCOUNT_ID: accountId, CF_ANALYTICS_TOKEN: token, datasetName } = this.#settings
    if (!accountId || !token) {
      throw new ProblemError('UPSTREAM_ERROR', { detail: 'the Analytics Engine SQL API is not configured: set the CF_ACCOUNT_ID and CF_ANALYTICS_TOKEN secrets' })
    }
    let res: Response
    try {
      res = await fetch(SQL_API(accountId), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: buildEngineSql(datasetName, q),
        signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
      })
    } catch (err) {
      throw new ProblemError('UPSTREAM_ERROR', { detail: 'the Analytics Engine SQL API did not answer', cause: err })
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 300)
      throw new ProblemError('UPSTREAM_ERROR', { detail: `the Analytics Engine SQL API answered ${res.status}: ${text}` })
    }
    // FORMAT JSON: { meta, data: [...], rows }; 64-bit sums may arrive as strings
    const body = (await res.json()) as { data?: Array<{ key?: unknown; requests?: unknown; latency_sum_ms?: unknown }> }
    return (body.data ?? []).map((r) => ({ key: String(r.key ?? ''), requests: Number(r.requests ?? 0), latencySumMs: Number(r.latency_sum_ms ?? 0) }))
  }
}

const sinks = new WeakMap<AnalyticsEngineDataset, EngineSink>()

export function engineSink(env: Env, dataset: AnalyticsEngineDataset): AnalyticsSink {
  let sink = sinks.get(dataset)
  if (!sink) {
    const settings = env as Env & EngineSettings
    const datasetName = settings.CF_ANALYTICS_DATASET || DATASETS[env.ENVIRONMENT] || 'fanz_requests'
    sink = new EngineSink(dataset, { CF_ACCOUNT_ID: settings.CF_ACCOUNT_ID, CF_ANALYTICS_TOKEN: settings.CF_ANALYTICS_TOKEN, datasetName })
    sinks.set(dataset, sink)
  }
  return sink
}
