/**
 * The analytics vocabulary shared by both sinks and the query route: a request sample, latency
 * buckets, the dimensions a query can group by, and the sink interface.
 * @module
 */

export const GROUP_BY = ['brand', 'hostname', 'country', 'status', 'latency_bucket'] as const
export type GroupBy = (typeof GROUP_BY)[number]

/** Upper bounds (exclusive) of the latency buckets; the last bucket is open-ended. */
const LATENCY_BOUNDS = [10, 50, 100, 250, 1000] as const
export const LATENCY_BUCKETS = [...LATENCY_BOUNDS.map((b) => `<${b}ms`), '>=1000ms'] as const

export function latencyBucket(ms: number): string {
  const bound = LATENCY_BOUNDS.find((b) => ms < b)
  return bound === undefined ? '>=1000ms' : `<${bound}ms`
}

export interface RequestSample {
  atMs: number
  hostname: string
  /** brand slug; `(none)` for the platform's own hosts */
  brand: string
  country: string
  status: number
  latencyMs: number
}

export interface AnalyticsQuery {
  fromMs: number
  toMs: number
  groupBy: GroupBy
  hostname?: string
  brand?: string
}

export interface AnalyticsRow {
  key: string
  requests: number
  latencySumMs: number
}

export interface AnalyticsSink {
  readonly kind: 'analytics_engine' | 'local'
  /** Called once per request after the response; must not await I/O. */
  record(sample: RequestSample, ctx: ExecutionContext | undefined): void
  /** Writes what is buffered; resolves with the number of rows written. */
  flush(): Promise<number>
  query(q: AnalyticsQuery): Promise<AnalyticsRow[]>
}

