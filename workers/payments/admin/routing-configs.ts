/**
 * The smart router's configuration, versioned in D1 (`routing_configs`): one version is active at a
 * time, an edit adds version n+1 and activates it in the same transaction, and any version can be
 * activated again (roll back or forward). Checkout and the outcome feed (apply.ts) read the active
 * version through `activeRoutingConfig`.
 *
 * Caching: every read asks D1 for the active row (one indexed row, so a change made by any isolate
 * is seen by the next payment); what is kept per isolate is the validated config, reused while the
 * row's version and text are the same, so the zod check runs once per version, not per payment.
 * @module
 */
import { routingConfigSchema, type RoutingConfig } from '../routing'

export interface RoutingConfigVersion {
  version: number
  config: RoutingConfig
  active: boolean
  note: string
  createdBy: string | null
  createdAtMs: number
}

type Row = { version: number; config_json: string; active: number; note: string; created_by: string | null; created_at_ms: number }

/**
 * Used only when no version is active (an empty database): the sandbox first. A configuration
 * written through the admin API always replaces it.
 */
export const FALLBACK_ROUTING: RoutingConfig = {
  rules: [],
  defaultOrder: ['sandbox'],
  successRate: { enabled: true, windowSize: 200, explorationBps: 500, minSamples: 20, segmentBy: ['method', 'currency'] },
  elimination: { failures: 5, withinMs: 60_000, cooldownMs: 300_000 },
}

let cached: { version: number; json: string; config: RoutingConfig } | null = null

/** Forgets the validated config of this isolate (after a write here; other isolates compare text). */
export function forgetRoutingConfig(): void {
  cached = null
}

function parseStored(row: Row): RoutingConfig {
  if (cached && cached.version === row.version && cached.json === row.config_json) return cached.config
  // validated on write; a row that no longer parses is a deployment problem and must be loud
  const config = routingConfigSchema.parse(JSON.parse(row.config_json))
  cached = { version: row.version, json: row.config_json, config }
  return config
}

function view(row: Row): RoutingConfigVersion {
  return { version: row.version, config: parseStored(row), active: row.active === 1, note: row.note, createdBy: row.created_by, createdAtMs: row.created_at_ms }
}

const COLUMNS = 'version, config_json, active, note, created_by, created_at_ms'

/** The active version, or version 0 with FALLBACK_ROUTING when none is active. */
export async function activeRoutingConfig(d1: D1Database): Promise<{ version: number; config: RoutingConfig }> {
  const row = await d1.prepare(`SELECT ${COLUMNS} FROM routing_configs WHERE active = 1 ORDER BY version DESC LIMIT 1`).first<Row>()
  return row ? { version: row.version, config: parseStored(row) } : { version: 0, config: FALLBACK_ROUTING }
}

export async function routingConfigVersion(d1: D1Database, version: number): Promise<RoutingConfigVersion | null> {
  const row = await d1.prepare(`SELECT ${COLUMNS} FROM routing_configs WHERE version = ?`).bind(version).first<Row>()
  return row ? view(row) : null
}

/** Versions newest first, `limit` of them below `beforeVersion`. */
export async function listRoutingConfigs(d1: D1Database, options: { beforeVersion?: number; limit: number }): Promise<RoutingConfigVersion[]> {
  const rows = await d1
    .prepare(`SELECT ${COLUMNS} FROM routing_configs WHERE version < ? ORDER BY version DESC LIMIT ?`)
    .bind(options.beforeVersion ?? Number.MAX_SAFE_INTEGER, options.limit)
    .all<Row>()
  return rows.results.map((r) => ({ version: r.version, config: routingConfigSchema.parse(JSON.parse(r.config_json)), active: r.active === 1, note: r.note, createdBy: r.created_by, createdAtMs: r.created_at_ms }))
}

/**
 * Adds version n+1 and makes it the only active one, in one D1 transaction (a batch), so no reader
 * ever sees zero or two active versions. Returns the new version and the one it replaced.
 */
export async function createRoutingConfig(d1: D1Database, input: { config: RoutingConfig; note: string; createdBy: string | null; nowMs: number }): Promise<{ version: number; previous: number | null }> {
  const previous = await d1.prepare('SELECT version FROM routing_configs WHERE active = 1').first<{ version: number }>()
  const [, inserted] = await d1.batch<{ version: number }>([
    d1.prepare('UPDATE routing_configs SET active = 0 WHERE active = 1'),
    d1
      .prepare(`INSERT INTO routing_configs (version, config_json, active, note, created_by, created_at_ms) SELECT COALESCE(MAX(version), 0) + 1, ?, 1, ?, ?, ? FROM routing_configs RETURNING version`)
      .bind(JSON.stringify(input.config), input.note, input.createdBy, input.nowMs),
  ])
  forgetRoutingConfig()
  return { version: inserted!.results[0]!.version, previous: previous?.version ?? null }
}

/** Makes `version` the only active one (one statement); null when there is no such version. */
export async function activateRoutingConfig(d1: D1Database, version: number): Promise<{ previous: number | null } | null> {
  const exists = await d1.prepare('SELECT version FROM routing_configs WHERE version = ?').bind(version).first()
  if (!exists) return null
  const previous = await d1.prepare('SELECT version FROM routing_configs WHERE active = 1').first<{ version: number }>()
  await d1.prepare('UPDATE routing_configs SET active = CASE WHEN version = ? THEN 1 ELSE 0 END WHERE active = 1 OR version = ?').bind(version, version).run()
  forgetRoutingConfig()
  return { previous: previous?.version ?? null }
}
