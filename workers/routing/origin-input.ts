/**
 * The origin fields shared by pool creation (inline origins) and the origin routes, and the rule
 * that depends on the environment: https only in production, http allowed elsewhere (local origins).
 * @module
 */
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { origins } from '../../d1/schema'
import type { AppEnv } from '../edge/context'
import { Continent, isoOrNull, iso, type OriginSchema } from './schemas'
import { invalid } from './write'

export type OriginRow = typeof origins.$inferSelect

export const OriginInput = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(2048).openapi({ example: 'https://origin-eu.example.net' }),
    region: Continent.default('*').openapi({ description: "continent served first (NA, EU, AS, SA, AF, OC, AN) or '*'" }),
    priority: z.number().int().min(0).max(1000).default(0).openapi({ description: 'lower is tried first' }),
  })
  .strict()
  .openapi('OriginCreate')

export const OriginUpdate = z
  .object({ url: OriginInput.shape.url, region: Continent, priority: z.number().int().min(0).max(1000) })
  .partial()
  .strict()
  .openapi('OriginUpdate')

/** Normalised origin base URL (no trailing slash), or a 422 naming `path`. */
export function checkOriginUrl(c: Context<AppEnv>, raw: string, path: string): string {
  const url = new URL(raw)
  if (url.protocol !== 'https:' && (url.protocol !== 'http:' || c.var.config.isProduction)) {
    throw invalid(path, c.var.config.isProduction ? 'must use https in production' : 'must use http or https')
  }
  if (url.username || url.password) throw invalid(path, 'must not carry credentials')
  if (url.search || url.hash) throw invalid(path, 'must not carry a query or fragment (the request path and query are appended)')
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

export function originJson(row: OriginRow): z.infer<typeof OriginSchema> {
  return {
    id: row.id,
    pool_id: row.poolId,
    url: row.url,
    region: row.region,
    priority: row.priority,
    status: row.status,
    consecutive_failures: row.consecutiveFailures,
    consecutive_successes: row.consecutiveSuccesses,
    last_checked_at: isoOrNull(row.lastCheckedAtMs),
    last_latency_ms: row.lastLatencyMs,
    last_error: row.lastError,
    created_at: iso(row.createdAtMs),
  }
}
