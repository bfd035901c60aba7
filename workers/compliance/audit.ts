/**
 * `audit(ctx, action, subject, details)`: the one call every subsystem uses to record a state change
 * that matters. The entry is appended (and hash-chained) before the caller's response goes out, so a
 * change is never reported done without its audit record.
 * @module
 */
import type { Context } from 'hono'
import type { AuditEntry, AuditInput } from '../../durable-objects/audit-log'
import type { AppEnv } from '../edge/context'
import { canonicalJson } from '../lib/canonical-json'
import type { JsonObject } from '../lib/json'

/** Where an audited action came from: a request (Hono context) or a background job. */
export type AuditContext =
  | Context<AppEnv>
  | { env: Env; actor: string; actorRoles?: string[]; requestId?: string | null; brand?: string | null }

/** Action names are `subsystem.object.verb`, e.g. `routing.domain.attach`. */
export type AuditAction = `${string}.${string}`

export function auditLog(env: Env) {
  return env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName('global'))
}

function describe(ctx: AuditContext): Pick<AuditInput, 'actor' | 'actorRoles' | 'requestId' | 'brand'> & { env: Env } {
  if ('req' in ctx) {
    const auth = ctx.var.auth
    return {
      env: ctx.env,
      actor: auth?.subject ?? 'anonymous',
      actorRoles: auth?.roles ?? [],
      requestId: ctx.var.requestId ?? null,
      brand: ctx.var.brand?.slug ?? null,
    }
  }
  return { env: ctx.env, actor: ctx.actor, actorRoles: ctx.actorRoles ?? [], requestId: ctx.requestId ?? null, brand: ctx.brand ?? null }
}

export async function audit(ctx: AuditContext, action: AuditAction, subject: string, details: JsonObject = {}): Promise<AuditEntry> {
  const { env, ...who } = describe(ctx)
  const [entry] = await auditLog(env).append([{ ...who, action, subject, details: canonicalJson(details) }])
  return entry!
}
