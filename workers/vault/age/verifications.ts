/**
 * Age verifications of fans: a session per attempt in `age_verifications` holding only
 * {method, result, provider, provider reference, jurisdiction, verified time, expiry}; never an
 * image, a date of birth or an estimated age (many US AV statutes forbid keeping them, compliance.md
 * §5), and nothing goes to the VAULT buckets. A pass sets `users.age_verified_method` and
 * `age_verified_expires_at_ms`, which FanzSSO turns into the `age_verified` claim at every token
 * issue and refresh (workers/sso/oidc/claims.ts); the brand age gate reads that claim.
 * @module
 */
import type { Context } from 'hono'
import { statutoryPolicy, type JurisdictionPolicy } from '../../compliance/jurisdictions'
import type { AppEnv, Geo } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { randomToken } from '../../lib/encoding'
import { newId } from '../../lib/ids'
import { vaultAudit } from '../access'
import { currentAgeConfig, validityMs, type AgeConfig } from './config'
import { acceptedMethods, isSupportedMethod, jurisdictionOf, type SupportedMethod } from './methods'
import { sandboxStartUrl, yotiCreateSession, yotiSettings, type ProviderId, type ProviderResult } from './providers'

export interface VerificationRow {
  id: string
  user_id: string
  method: string
  provider: string
  provider_ref: string | null
  status: 'pending' | 'passed' | 'failed' | 'expired'
  jurisdiction: string
  verified_at_ms: number | null
  expires_at_ms: number | null
  created_at_ms: number
  updated_at_ms: number
}

/** The provider that runs checks here: Yoti when configured, else the sandbox outside production. */
export function activeProvider(c: Context<AppEnv>): ProviderId {
  if (yotiSettings(c.env)) return 'yoti'
  if (!c.var.config.isProduction) return 'sandbox'
  throw new ProblemError('CONFLICT', { detail: 'no age-verification provider is configured (AGE_PROVIDERS)' })
}

/** The age a method checks against: FAE uses the configured challenge age, the others 18. */
export function thresholdFor(config: AgeConfig, method: SupportedMethod): number {
  return method === 'FAE' ? config.fae_challenge_age : config.minimum_age
}

export interface Started {
  verification_id: string
  method: SupportedMethod
  provider: ProviderId
  jurisdiction: string
  url: string
}

/**
 * Opens a verification for `userId` with `method`, which the visitor's jurisdiction must accept
 * (422 naming `fieldPath` otherwise). `returnUrl` is where the provider sends the fan afterwards.
 */
export async function startVerification(
  c: Context<AppEnv>,
  input: { userId: string; method: string; geo: Geo; policy: JurisdictionPolicy; returnUrl: (verificationId: string) => string; fieldPath?: string },
): Promise<Started> {
  const accepted = acceptedMethods(input.policy)
  const method = input.method
  if (!isSupportedMethod(method) || !accepted.includes(method)) {
    const message = `not accepted where you are (${jurisdictionOf(input.geo)}); accepted: ${accepted.join(', ') || 'none that a connected provider runs'}`
    throw new ProblemError('VALIDATION_FAILED', { detail: `method ${method} ${message}`, errors: [{ path: input.fieldPath ?? 'body.method', message }] })
  }
  const provider = activeProvider(c)
  const config = await currentAgeConfig(c.env)
  const nowMs = Date.now()
  const id = newId('ageVerification', nowMs)
  const jurisdiction = jurisdictionOf(input.geo)
  const request = { verificationId: id, method, threshold: thresholdFor(config, method), returnUrl: input.returnUrl(id) }
  let providerRef: string
  let url: string
  if (provider === 'sandbox') {
    providerRef = `sbx_avs_${randomToken(12)}`
    url = await sandboxStartUrl(c.var.config, { ...request, sessionId: providerRef })
  } else {
    ;({ providerRef, url } = await yotiCreateSession(yotiSettings(c.env)!, c.var.config, request))
  }
  await c.env.DB.prepare(
    `INSERT INTO age_verifications (id, user_id, method, provider, provider_ref, status, jurisdiction, verified_at_ms, expires_at_ms, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, NULL, NULL, ?, ?)`,
  )
    .bind(id, input.userId, method, provider, providerRef, jurisdiction, nowMs, nowMs)
    .run()
  await vaultAudit(c, 'vault.age.started', `user:${input.userId}`, null, { verification_id: id, method, provider, jurisdiction, config_version: config.version })
  return { verification_id: id, method, provider, jurisdiction, url }
}

export async function verificationById(d1: D1Database, id: string): Promise<VerificationRow | null> {
  return d1.prepare('SELECT * FROM age_verifications WHERE id = ?').bind(id).first<VerificationRow>()
}

/** The jurisdiction policy a stored verification was made under (for its validity). */
function policyOf(jurisdiction: string, nowMs: number): JurisdictionPolicy {
  if (jurisdiction === 'unknown') return statutoryPolicy(null, null, nowMs)
  const [country, region] = jurisdiction.split('-')
  return statutoryPolicy(country ?? null, region ?? null, nowMs)
}

export type Applied = { state: 'passed' | 'failed'; duplicate: false; expiresAtMs: number | null } | { state: VerificationRow['status']; duplicate: true; expiresAtMs: number | null }

/**
 * Applies an authenticated provider result once. A replay (same or another delivery of a finished
 * session) changes nothing. A FAE pass against a lower challenge age than configured now counts
 * as a failure: the provider did not check what we ask for.
 */
export async function applyResult(c: Context<AppEnv>, provider: ProviderId, result: ProviderResult): Promise<Applied> {
  const row = await verificationById(c.env.DB, result.verificationId)
  if (!row || row.provider !== provider || row.provider_ref !== result.providerRef) {
    throw new ProblemError('NOT_FOUND', { detail: 'no age-verification session matches this result' })
  }
  if (row.method !== result.method) throw new ProblemError('VALIDATION_FAILED', { detail: 'the result is for another method than the session', errors: [{ path: 'body.method', message: `expected ${row.method}` }] })
  if (row.status !== 'pending') return { state: row.status, duplicate: true, expiresAtMs: row.expires_at_ms }
  const config = await currentAgeConfig(c.env)
  const nowMs = Date.now()
  const required = thresholdFor(config, result.method)
  const passed = result.outcome === 'pass' && result.threshold >= required
  const expiresAtMs = passed ? nowMs + validityMs(config, policyOf(row.jurisdiction, nowMs).perSession) : null
  // the status guard makes a concurrent second delivery a no-op
  const updated = await c.env.DB.prepare(
    `UPDATE age_verifications SET status = ?, verified_at_ms = ?, expires_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status = 'pending'`,
  )
    .bind(passed ? 'passed' : 'failed', passed ? nowMs : null, expiresAtMs, nowMs, row.id)
    .run()
  if (!updated.meta.changes) {
    const now = (await verificationById(c.env.DB, row.id))!
    return { state: now.status, duplicate: true, expiresAtMs: now.expires_at_ms }
  }
  const details = {
    verification_id: row.id,
    method: row.method,
    provider,
    jurisdiction: row.jurisdiction,
    config_version: config.version,
    required_age: required,
    ...(result.method === 'FAE' ? { fae_challenge_age: config.fae_challenge_age } : {}),
  }
  if (passed) {
    await c.env.DB.prepare('UPDATE users SET age_verified_method = ?, age_verified_expires_at_ms = ?, updated_at_ms = ? WHERE id = ?')
      .bind(row.method, expiresAtMs, nowMs, row.user_id)
      .run()
    await vaultAudit(c, 'vault.age.verified', `user:${row.user_id}`, null, { ...details, expires_at: new Date(expiresAtMs!).toISOString() })
  } else {
    await vaultAudit(c, 'vault.age.failed', `user:${row.user_id}`, null, { ...details, outcome: result.outcome, threshold_checked: result.threshold })
  }
  return { state: passed ? 'passed' : 'failed', duplicate: false, expiresAtMs }
}

export interface AgeStatus {
  verified: boolean
  method: string | null
  expires_at: string | null
}

/** Whether the user holds an unexpired verification (what the SSO claim will carry). */
export async function ageStatus(d1: D1Database, userId: string, nowMs = Date.now()): Promise<AgeStatus> {
  const user = await d1
    .prepare('SELECT age_verified_method, age_verified_expires_at_ms FROM users WHERE id = ?')
    .bind(userId)
    .first<{ age_verified_method: string | null; age_verified_expires_at_ms: number | null }>()
  const verified = !!(user?.age_verified_method && user.age_verified_expires_at_ms && user.age_verified_expires_at_ms > nowMs)
  return { verified, method: verified ? user!.age_verified_method : null, expires_at: verified ? new Date(user!.age_verified_expires_at_ms!).toISOString() : null }
}

/**
 * True when the user's account holds an unexpired verification. The brand session middleware
 * asks this before refreshing a token that lacks the claim, so a fan verified a moment ago passes
 * the gate on a brand where they were already signed in, without waiting for the token to expire.
 */
export async function hasCurrentAgeVerification(d1: D1Database, userId: string, nowMs = Date.now()): Promise<boolean> {
  if (!/^usr_[0-9A-HJKMNP-TV-Z]{26}$/.test(userId)) return false
  return (await ageStatus(d1, userId, nowMs)).verified
}

export interface HistoryItem {
  id: string
  method: string
  result: 'pending' | 'passed' | 'failed' | 'expired'
  created_at: string
  verified_at: string | null
  expires_at: string | null
}

/** A user's attempts, newest first: method, result and times only. */
export async function verificationHistory(d1: D1Database, userId: string, limit = 100, nowMs = Date.now()): Promise<HistoryItem[]> {
  const { results } = await d1
    .prepare('SELECT id, method, status, created_at_ms, verified_at_ms, expires_at_ms FROM age_verifications WHERE user_id = ? ORDER BY created_at_ms DESC, id DESC LIMIT ?')
    .bind(userId, limit)
    .all<Pick<VerificationRow, 'id' | 'method' | 'status' | 'created_at_ms' | 'verified_at_ms' | 'expires_at_ms'>>()
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return results.map((r) => ({
    id: r.id,
    method: r.method,
    result: r.status === 'passed' && r.expires_at_ms !== null && r.expires_at_ms <= nowMs ? 'expired' : r.status,
    created_at: iso(r.created_at_ms)!,
    verified_at: iso(r.verified_at_ms),
    expires_at: iso(r.expires_at_ms),
  }))
}
