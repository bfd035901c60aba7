/**
 * Age-verification settings as versioned, append-only configuration. The facial-age-estimation
 * challenge age is the figure regulators ask about (Ofcom fined a provider's customer for
 * misreporting theirs, compliance.md §5), so every version is kept, each change is audited with
 * old and new values and a reason, and every verification's audit entry names the version it ran
 * under. Version 0 is the built-in default; later versions live in R2 `EXPORTS` at
 * `config/age-verification/v{version:06}.json`, written only if the key is new (never overwritten).
 * @module
 */
import { z } from 'zod'

export const AgeConfig = z
  .object({
    version: z.number().int().min(0),
    /** FAE passes only when the estimated age is at least this (a buffer above 18 for estimation error) */
    fae_challenge_age: z.number().int().min(18).max(40),
    /** the age every method checks for */
    minimum_age: z.literal(18),
    /** how long a passed verification lets the fan through the gate */
    validity_days: z.number().int().min(1).max(730),
    /** for jurisdictions whose law wants a check per session (FR, IT, DE): a short validity instead */
    per_session_validity_hours: z.number().int().min(1).max(72),
    changed_at: z.iso.datetime(),
    changed_by: z.string(),
    reason: z.string(),
  })
  .strict()
export type AgeConfig = z.infer<typeof AgeConfig>

export const DEFAULT_AGE_CONFIG: AgeConfig = {
  version: 0,
  fae_challenge_age: 25,
  minimum_age: 18,
  validity_days: 365,
  per_session_validity_hours: 24,
  changed_at: '2026-01-01T00:00:00.000Z',
  changed_by: 'built-in default',
  reason: 'FAE challenge age 25 for an 18+ check (7-year buffer); 12 months validity',
}

const PREFIX = 'config/age-verification/'
const keyOf = (version: number) => `${PREFIX}v${String(version).padStart(6, '0')}.json`

/** Every stored version, oldest first (the default first). */
export async function ageConfigHistory(env: Env): Promise<AgeConfig[]> {
  const listed = await env.EXPORTS.list({ prefix: PREFIX, limit: 1000 })
  const versions = await Promise.all(
    listed.objects.map(async (o) => {
      const body = await env.EXPORTS.get(o.key)
      return body ? AgeConfig.parse(await body.json()) : null
    }),
  )
  return [DEFAULT_AGE_CONFIG, ...versions.filter((v): v is AgeConfig => v !== null).sort((a, b) => a.version - b.version)]
}

export async function currentAgeConfig(env: Env): Promise<AgeConfig> {
  const history = await ageConfigHistory(env)
  return history[history.length - 1]!
}

export const AgeConfigChange = z
  .object({
    fae_challenge_age: z.number().int().min(18).max(40),
    validity_days: z.number().int().min(1).max(730),
    per_session_validity_hours: z.number().int().min(1).max(72),
    reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500),
  })
  .strict()
export type AgeConfigChange = z.infer<typeof AgeConfigChange>

/** Appends a version; null when another change took that version number first (retry). */
export async function appendAgeConfig(env: Env, previous: AgeConfig, change: AgeConfigChange, changedBy: string, nowMs: number): Promise<AgeConfig | null> {
  const next: AgeConfig = { version: previous.version + 1, minimum_age: 18, ...change, changed_at: new Date(nowMs).toISOString(), changed_by: changedBy }
  const written = await env.EXPORTS.put(keyOf(next.version), JSON.stringify(next), { onlyIf: { etagDoesNotMatch: '*' }, httpMetadata: { contentType: 'application/json' } })
  return written ? next : null
}

/** Validity of a passed verification made for a jurisdiction (per-session laws get the short one). */
export function validityMs(config: AgeConfig, perSession: boolean): number {
  return perSession ? config.per_session_validity_hours * 3_600_000 : config.validity_days * 86_400_000
}
