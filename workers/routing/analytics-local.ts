/**
 * The local analytics sink (dev, tests): aggregates requests per minute in isolate memory and
 * upserts the rows into `request_metrics` in batches: from the every-minute cron, or via waitUntil
 * once the buffer is older than FLUSH_AGE_MS or holds FLUSH_ROWS rows.
 * @module
 */
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import { requestMetrics } from '../../d1/schema'
import { log } from '../edge/logger'
import { db } from '../lib/db'
import { latencyBucket, type AnalyticsQuery, type AnalyticsRow, type AnalyticsSink, type GroupBy, type RequestSample } from './analytics-model'
import { chunks } from './bounded'

export const FLUSH_AGE_MS = 5_000
export const FLUSH_ROWS = 200
const BUCKET_MS = 60_000
/** if D1 stays unreachable, stop holding rows past this (and say so in the log) */
const MAX_BUFFERED_ROWS = 20_000
/** 8 columns per row, D1 binds at most 100 parameters per statement */
const ROWS_PER_STATEMENT = 12

type MetricRow = typeof requestMetrics.$inferSelect

const COLUMNS: Record<GroupBy, SQLiteColumn> = {
  brand: requestMetrics.brand,
  hostname: requestMetrics.hostname,
  country: requestMetrics.country,
  status: requestMetrics.status,
  latency_bucket: requestMetrics.latencyBucket,
}

class LocalSink implements AnalyticsSink {
  readonly kind = 'local' as const
  env: Env
  #rows = new Map<string, MetricRow>()
  #oldestMs = 0
  #scheduled = false
  /** flushes run one after another, so awaiting flush() means every earlier write has landed */
  #chain: Promise<unknown> = Promise.resolve()

  constructor(env: Env) {
    this.env = env
  }

  record(sample: RequestSample, ctx: ExecutionContext | undefined): void {
    const bucketMs = Math.floor(sample.atMs / BUCKET_MS) * BUCKET_MS
    const bucket = latencyBucket(sample.latencyMs)
    const key = `${bucketMs}|${sample.hostname}|${sample.country}|${sample.status}|${bucket}`
    const row = this.#rows.get(key)
    if (row) {
      row.count += 1
      row.latencySumMs += sample.latencyMs
    } else {
      this.#rows.set(key, { bucketMs, hostname: sample.hostname, brand: sample.brand, country: sample.country, status: sample.status, latencyBucket: bucket, count: 1, latencySumMs: sample.latencyMs })
    }
    if (!this.#oldestMs) this.#oldestMs = sample.atMs
    const due = this.#rows.size >= FLUSH_ROWS || sample.atMs - this.#oldestMs >= FLUSH_AGE_MS
    if (due && ctx && !this.#scheduled) {
      this.#scheduled = true
      ctx.waitUntil(this.flush().catch((err: unknown) => log('error', 'info', 'analytics_flush_failed', { error: String(err) })))
    }
  }

  flush(): Promise<number> {
    const run = this.#chain.then(() => this.#write())
    this.#chain = run.catch(() => undefined)
    return run
  }

  async #write(): Promise<number> {
    this.#scheduled = false
    if (!this.#rows.size) return 0
    const rows = [...this.#rows.values()]
    this.#rows = new Map()
    this.#oldestMs = 0
    const handle = db(this.env.DB)
    const t = requestMetrics
    const statements = chunks(rows, ROWS_PER_STATEMENT).map((part) =>
      handle
        .insert(t)
        .values(part)
        .onConflictDoUpdate({
          target: [t.bucketMs, t.hostname, t.country, t.status, t.latencyBucket],
          set: { count: sql`${t.count} + excluded.count`, latencySumMs: sql`${t.latencySumMs} + excluded.latency_sum_ms` },
        }),
    )
    try {
      await handle.batch(statements as [(typeof statements)[number], ...typeof statements])
    } catch (err) {
      this.#restore(rows)
      throw err
    }
    return rows.length
  }

  /** puts rows of a failed flush back (adding to anything recorded since), so nothing is lost */
  #restore(rows: MetricRow[]): void {
    if (this.#rows.size + rows.length > MAX_BUFFERED_ROWS) {
      log('error', 'info', 'analytics_rows_dropped', { rows: rows.length })
      return
    }
    for (const row of rows) {
      const key = `${row.bucketMs}|${row.hostname}|${row.country}|${row.status}|${row.latencyBucket}`
      const current = this.#rows.get(key)
      if (current) {
        current.count += row.count
        current.latencySumMs += row.latencySumMs
      } else this.#rows.set(key, row)
    }
    this.#oldestMs ||= rows[0]?.bucketMs ?? 0
  }

  async query(q: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const t = requestMetrics
    const column = COLUMNS[q.groupBy]
    const requests = sql<number>`sum(${t.count})`
    const rows = await db(this.env.DB)
      .select({ key: column, requests, latencySumMs: sql<number>`sum(${t.latencySumMs})` })
      .from(t)
      .where(
        and(
          // buckets are whole minutes: a bucket counts when it starts inside [from, to)
          gte(t.bucketMs, Math.floor(q.fromMs / BUCKET_MS) * BUCKET_MS),
          lt(t.bucketMs, q.toMs),
          q.hostname ? eq(t.hostname, q.hostname) : undefined,
          q.brand ? eq(t.brand, q.brand) : undefined,
        ),
      )
      .groupBy(column)
      .orderBy(desc(requests), column)
    return rows.map((r) => ({ key: String(r.key), requests: Number(r.requests), latencySumMs: Number(r.latencySumMs) }))
  }
}

/** One buffer per isolate: every request of the isolate adds to it, whichever env object it carries. */
let shared: LocalSink | undefined

export function localSink(env: Env): AnalyticsSink {
  shared ??= new LocalSink(env)
  // the newest env wins: in tests each file brings a fresh database behind the same binding name
  shared.env = env
  return shared
}
