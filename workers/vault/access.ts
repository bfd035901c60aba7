/**
 * Who may read the vault, and the trace every read leaves. Routes declare the permission (and a
 * step-up: a recent strong sign-in, `VAULT_STEP_UP`) with `withAccess`; on top of that every read
 * states its purpose in a `Vault-Purpose` header, and every read, write, export and key operation
 * is audited with that purpose through `vaultAudit`.
 *
 *   Vault-Purpose: kyc_review; note="checking the ID for creator crt_..."
 *
 * Purposes are a closed list (GDPR Art. 5(1)(b): purpose limitation; the inspector asks why
 * someone opened a record). `break_glass` is only for the break-glass route, and is loud.
 * @module
 */
import { z } from 'zod'
import type { Context } from 'hono'
import { audit, type AuditAction, type AuditContext } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import type { JsonObject } from '../lib/json'
import type { RecentAuthPolicy } from '../sso/roles/middleware'

/** Reads of the most sensitive bytes need a sign-in at most 15 minutes old with two factors. */
export const VAULT_STEP_UP: RecentAuthPolicy = { maxAgeS: 900, strong: true }

export const VAULT_PURPOSES = ['kyc_review', 'age_verification_support', 'records_maintenance', 'inspection', 'legal_request', 'subject_access_request', 'break_glass'] as const
export type VaultPurposeCode = (typeof VAULT_PURPOSES)[number]

export interface VaultPurpose {
  code: VaultPurposeCode
  note: string
}

export const PURPOSE_HEADER = 'vault-purpose'

const Note = z.string().trim().min(10, 'say why, in at least 10 characters').max(500)

/** Parses `Vault-Purpose: <code>; note="<why>"`; a missing or vague purpose is a 400 naming the header. */
export function parsePurpose(value: string | undefined): VaultPurpose {
  const bad = (message: string) => new ProblemError('BAD_REQUEST', { detail: `a vault read states its purpose: ${message}`, errors: [{ path: `header.${PURPOSE_HEADER}`, message }] })
  if (!value) throw bad(`send ${PURPOSE_HEADER}: <${VAULT_PURPOSES.join('|')}>; note="<why>"`)
  const match = /^\s*([a-z_]+)\s*;\s*note\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(value)
  if (!match) throw bad('format is <purpose>; note="<why>"')
  const code = match[1] as VaultPurposeCode
  if (!VAULT_PURPOSES.includes(code)) throw bad(`purpose must be one of ${VAULT_PURPOSES.join(', ')}`)
  const note = Note.safeParse(match[2]!.replace(/\\(.)/g, '$1'))
  if (!note.success) throw bad(note.error.issues[0]!.message)
  return { code, note: note.data }
}

/** The request's stated purpose; `break_glass` is refused here: it has its own route and rules. */
export function requirePurpose(c: Context<AppEnv>): VaultPurpose {
  const purpose = parsePurpose(c.req.header(PURPOSE_HEADER))
  if (purpose.code === 'break_glass') {
    throw new ProblemError('FORBIDDEN', { detail: 'break_glass is only accepted by the break-glass route', errors: [{ path: `header.${PURPOSE_HEADER}`, message: 'not allowed here' }] })
  }
  return purpose
}

/** Audit entry for a vault operation, carrying the purpose (actions are `vault.<object>.<verb>`). */
export function vaultAudit(c: Context<AppEnv>, action: `vault.${string}` | `records.${string}`, subject: string, purpose: VaultPurpose | null, details: JsonObject = {}) {
  return audit(c, action as AuditAction, subject, { ...details, ...(purpose ? { purpose: purpose.code, purpose_note: purpose.note } : {}) })
}

/** The stated purpose when the header is sent (checked like `requirePurpose`), else `fallback` (writes default to records maintenance). */
export function purposeOr(c: Context<AppEnv>, fallback: VaultPurpose): VaultPurpose {
  return c.req.header(PURPOSE_HEADER) === undefined ? fallback : requirePurpose(c)
}

/**
 * `vaultAudit` for work done on someone's behalf outside their request: a download link redeemed
 * without a bearer token is recorded against the account the link was issued to; cron jobs as `system:<job>`.
 */
export function vaultAuditAs(ctx: AuditContext, action: `vault.${string}` | `records.${string}`, subject: string, purpose: VaultPurpose | null, details: JsonObject = {}) {
  return audit(ctx, action as AuditAction, subject, { ...details, ...(purpose ? { purpose: purpose.code, purpose_note: purpose.note } : {}) })
}
