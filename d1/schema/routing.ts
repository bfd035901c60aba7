import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { brands } from './brands'

/** A set of upstream origins serving a path prefix of a brand (or of every brand when brand_id is null). */
export const originPools = sqliteTable('origin_pools', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  brandId: text('brand_id').references(() => brands.id),
  /** requests whose path starts with this prefix are proxied to the pool */
  pathPrefix: text('path_prefix').notNull(),
  healthPath: text('health_path').notNull().default('/'),
  expectedStatus: integer('expected_status').notNull().default(200),
  /** consecutive failed probes before an origin is marked down */
  failThreshold: integer('fail_threshold').notNull().default(3),
  /** consecutive good probes before a down origin is marked up again */
  okThreshold: integer('ok_threshold').notNull().default(2),
  timeoutMs: integer('timeout_ms').notNull().default(5000),
  createdAtMs: integer('created_at_ms').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

export const origins = sqliteTable(
  'origins',
  {
    id: text('id').primaryKey(),
    poolId: text('pool_id')
      .notNull()
      .references(() => originPools.id),
    url: text('url').notNull(),
    /** continent code served first by this origin (NA, EU, AS, ...) or '*' */
    region: text('region').notNull().default('*'),
    /** lower is preferred among healthy origins of the same region */
    priority: integer('priority').notNull().default(0),
    status: text('status', { enum: ['up', 'down'] }).notNull().default('up'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    consecutiveSuccesses: integer('consecutive_successes').notNull().default(0),
    lastCheckedAtMs: integer('last_checked_at_ms'),
    lastLatencyMs: integer('last_latency_ms'),
    lastError: text('last_error'),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('origins_pool_idx').on(t.poolId)],
)

/** One row per probe; `transition` marks the probe that flipped the origin's status. */
export const originHealthChecks = sqliteTable(
  'origin_health_checks',
  {
    id: text('id').primaryKey(),
    originId: text('origin_id')
      .notNull()
      .references(() => origins.id),
    checkedAtMs: integer('checked_at_ms').notNull(),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    transition: text('transition', { enum: ['up', 'down'] }),
  },
  (t) => [index('origin_health_checks_origin_idx').on(t.originId, t.checkedAtMs)],
)

/** Operator rules by visitor location: block, force the age gate, or route to a pool. */
export const geoRules = sqliteTable(
  'geo_rules',
  {
    id: text('id').primaryKey(),
    /** null = every brand */
    brandId: text('brand_id').references(() => brands.id),
    country: text('country').notNull(),
    /** ISO 3166-2 subdivision suffix (e.g. TX) or null for the whole country */
    region: text('region'),
    action: text('action', { enum: ['block', 'age_gate', 'route'] }).notNull(),
    poolId: text('pool_id').references(() => originPools.id),
    note: text('note').notNull().default(''),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('geo_rules_country_idx').on(t.country, t.region)],
)

/**
 * Local stand-in for Analytics Engine: per-minute request counters. Production writes data points to
 * Analytics Engine instead; both sit behind one interface (workers/routing/analytics.ts).
 */
export const requestMetrics = sqliteTable(
  'request_metrics',
  {
    bucketMs: integer('bucket_ms').notNull(),
    hostname: text('hostname').notNull(),
    brand: text('brand').notNull(),
    country: text('country').notNull(),
    status: integer('status').notNull(),
    latencyBucket: text('latency_bucket').notNull(),
    count: integer('count').notNull(),
    latencySumMs: integer('latency_sum_ms').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.bucketMs, t.hostname, t.country, t.status, t.latencyBucket] }),
    index('request_metrics_brand_idx').on(t.brand, t.bucketMs),
  ],
)
