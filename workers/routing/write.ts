/**
 * What every routing write shares: problems for bad references and conflicts, mapping D1 constraint
 * failures (a race the pre-checks lost) to 409, and the after-write step (snapshot + audit).
 * @module
 */
import type { Context } from 'hono'
import { audit, type AuditAction } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import type { JsonObject } from '../lib/json'
import { invalidateSnapshot } from './snapshot'
import { contrastProblems } from '../site/theme'
import type { Theme } from './brand-view'

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

/** Refuses a theme that fails WCAG 2.1 AA, naming each failing colour under `prefix`. */
export function assertThemeContrast(theme: Theme, prefix = 'body.theme'): void {
  const issues = contrastProblems(theme)
  if (!issues.length) return
  // checked against every pair the brand pages draw (site/theme.ts), not just text on background
  const errors = issues.map((i) => ({ path: `${prefix}.${i.field}`, message: `below WCAG 2.1 AA 4.5:1: ${i.pairs.join(', ')}` }))
  throw new ProblemError('VALIDATION_FAILED', { detail: `insufficient colour contrast: ${errors.map((e) => e.path).join(', ')}`, errors })
}

/** Hostnames that belong to the platform's own surfaces can never be attached to a brand. */
export function assertNotPlatformHost(c: Context<AppEnv>, hostname: string, path: string): void {
  const config = c.var.config
  const reserved = [config.platformDomain, config.hosts.sso, config.hosts.api, config.hosts.dash]
  if (reserved.includes(hostname)) throw invalid(path, `${hostname} is reserved for the platform`)
}
