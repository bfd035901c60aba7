/**
 * What every routing write shares: problems for bad references and conflicts, mapping D1 constraint
 * failures (a race the pre-checks lost) to 409, and the after-write step (snapshot + audit).
 * @module
 */
import type { Context } from 'hono'
import type { z } from '@hono/zod-openapi'
import { audit, type AuditAction } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import type { JsonObject } from '../lib/json'
import { decodeCursor } from '../lib/pagination'
import { invalidateSnapshot } from './snapshot'
import { themeContrastIssues, type ThemeColours } from './contrast'

/**
 * After a committed write: drop the snapshot first (so the edge of this isolate sees the change even
 * if the audit append fails and the caller retries), then append the audit entry before answering.
 */
export async function committed(c: Context<AppEnv>, action: AuditAction, subject: string, details: JsonObject = {}): Promise<void> {
  invalidateSnapshot()
  await audit(c, action, subject, details)
}

/** 422 naming one field, e.g. `invalid('body.brand_id', 'no brand with this id')`. */
export function invalid(path: string, message: string): ProblemError {
  return new ProblemError('VALIDATION_FAILED', { detail: `invalid ${path}: ${message}`, errors: [{ path, message }] })
}

export function notFound(what: string, id: string): ProblemError {
  return new ProblemError('NOT_FOUND', { detail: `no ${what} ${id}` })
}

export function conflict(detail: string): ProblemError {
  return new ProblemError('CONFLICT', { detail })
}

/** True when D1 refused a statement for the given constraint (drizzle wraps the D1 error in `cause`). */
export function isConstraintError(err: unknown, kind: 'UNIQUE' | 'FOREIGN KEY'): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.message.includes(`${kind} constraint failed`)) return true
  }
  return false
}

/** Decodes `?cursor=`; a cursor from elsewhere is a 400 naming the parameter. */
export function cursorOf<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  const value = decodeCursor(cursor, schema)
  if (cursor && !value) throw new ProblemError('BAD_REQUEST', { detail: 'cursor is not valid', errors: [{ path: 'query.cursor', message: 'not a cursor from this list' }] })
  return value
}

/** Refuses a theme that fails WCAG 2.1 AA, naming each failing colour under `prefix`. */
export function assertThemeContrast(theme: ThemeColours, prefix = 'body.theme'): void {
  const issues = themeContrastIssues(theme)
  if (!issues.length) return
  const errors = issues.map((i) => ({ path: `${prefix}.${i.field}`, message: i.message }))
  throw new ProblemError('VALIDATION_FAILED', { detail: `insufficient colour contrast: ${errors.map((e) => e.path).join(', ')}`, errors })
}

/** Hostnames that belong to the platform's own surfaces can never be attached to a brand. */
export function assertNotPlatformHost(c: Context<AppEnv>, hostname: string, path: string): void {
  const config = c.var.config
  const reserved = [config.platformDomain, config.hosts.sso, config.hosts.api, config.hosts.dash]
  if (reserved.includes(hostname)) throw invalid(path, `${hostname} is reserved for the platform`)
}
