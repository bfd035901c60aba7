/**
 * One structured JSON line per request, written after the response is ready, plus `log()` for
 * anything else. Workers Logs / Logpush index these fields; nothing here holds PII beyond the
 * coarse geo the edge already knows.
 * @module
 */
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from './context'
import { loggablePath } from './paths'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function log(level: LogLevel, minimum: LogLevel, event: string, fields: Record<string, unknown>): void {
  if (RANK[level] < RANK[minimum]) return
  const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export const requestLogger = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now()
  await next()
  const status = c.res.status
  log(status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', c.var.config.logLevel, 'request', {
    request_id: c.var.requestId,
    method: c.req.method,
    host: c.req.header('host') ?? new URL(c.req.url).host,
    path: loggablePath(c.req.path),
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    surface: c.var.surface,
    brand: c.var.brand?.slug,
    country: c.var.geo?.country,
    region: c.var.geo?.region,
    gated: c.var.jurisdiction?.gated,
    subject: c.var.auth?.subject,
  })
})
