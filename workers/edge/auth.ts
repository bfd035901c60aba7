/**
 * Access-token verification at the edge. Tokens come as `Authorization: Bearer` or in the brand's
 * session cookie; the JWKS comes from the key store (isolate cache), so verifying never calls the
 * SSO host. `authenticate` only records who is calling; `requireRole` enforces.
 * @module
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from 'jose'
import { publishedKeys } from '../sso/keys'
import type { AppEnv, AuthContext } from './context'
import { ProblemError } from './problem'
import { isRole, type Role } from './roles'

type LocalJwks = ReturnType<typeof createLocalJWKSet>

let verifierCache: { atMs: number; jwks: LocalJwks } | undefined
let lastForcedRefreshMs = 0
const VERIFIER_TTL_MS = 60_000

/**
 * Verified tokens by their exact string. A client sends the same token on every request, and the
 * signature check is the most expensive step of the edge path (about 0.3 ms at p50 locally); a hit
 * is only served until the token's own expiry and never past the JWKS cache lifetime, so a removed
 * key stops being honoured exactly as fast as without the cache. Bounded; oldest evicted first.
 */
const verified = new Map<string, { claims: JWTPayload; untilMs: number }>()
const VERIFIED_MAX = 2_000
/** an unknown kid forces a reload at most this often, so junk tokens cannot hammer D1 */
const FORCED_REFRESH_MIN_MS = 10_000

async function localJwks(d1: D1Database, nowMs: number, force = false): Promise<LocalJwks> {
  if (!force && verifierCache && nowMs - verifierCache.atMs < VERIFIER_TTL_MS) return verifierCache.jwks
  const jwks = createLocalJWKSet({ keys: await publishedKeys(d1, nowMs, force) })
  verifierCache = { atMs: nowMs, jwks }
  verified.clear()
  return jwks
}

export function forgetVerifierCache(): void {
  verifierCache = undefined
  verified.clear()
}

function remember(token: string, claims: JWTPayload, nowMs: number): void {
  const expMs = typeof claims.exp === 'number' ? claims.exp * 1000 : nowMs
  const untilMs = Math.min(expMs, (verifierCache?.atMs ?? nowMs) + VERIFIER_TTL_MS)
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!)
  verified.set(token, { claims, untilMs })
}

export interface VerifyOptions {
  issuer: string
  audience: string
}

/** Verifies a compact JWS access token; returns the claims or a reason. */
export async function verifyAccessToken(d1: D1Database, token: string, options: VerifyOptions): Promise<{ ok: true; claims: JWTPayload } | { ok: false; reason: string }> {
  const nowMs = Date.now()
  const hit = verified.get(token)
  if (hit && hit.untilMs > nowMs && verifierCache && nowMs - verifierCache.atMs < VERIFIER_TTL_MS) {
    // same issuer and audience as when it was verified: every caller passes the platform's own
    if (hit.claims.iss === options.issuer && hit.claims.aud === options.audience) return { ok: true, claims: hit.claims }
  }
  const verify = async (jwks: LocalJwks) => {
    const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.audience, algorithms: ['EdDSA'], clockTolerance: 30 })
    remember(token, payload, nowMs)
    return payload
  }
  try {
    return { ok: true, claims: await verify(await localJwks(d1, nowMs)) }
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey && nowMs - lastForcedRefreshMs > FORCED_REFRESH_MIN_MS) {
      lastForcedRefreshMs = nowMs
      try {
        return { ok: true, claims: await verify(await localJwks(d1, nowMs, true)) }
      } catch (retryErr) {
        return { ok: false, reason: reasonOf(retryErr) }
      }
    }
    return { ok: false, reason: reasonOf(err) }
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired'
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} invalid`
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown signing key'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature'
  if (err instanceof errors.JOSEError) return 'malformed token'
  throw err
}

const BRAND_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/

/** `brand_roles` claim -> slug -> known roles; anything malformed is dropped, never trusted. */
function brandRolesOf(value: unknown): Record<string, Role[]> {
  const out: Record<string, Role[]> = {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out
  for (const [slug, roles] of Object.entries(value)) {
    if (!BRAND_SLUG.test(slug) || !Array.isArray(roles)) continue
    const known = roles.filter(isRole)
    if (known.length) out[slug] = known
  }
  return out
}

/** The roles `auth` holds on `brand` (slug): its global roles plus those granted on that brand. */
export function rolesOn(auth: AuthContext, brand: string | null | undefined): Role[] {
  const scoped = brand && Object.hasOwn(auth.brandRoles, brand) ? auth.brandRoles[brand]! : []
  return scoped.length ? [...new Set([...auth.roles, ...scoped])] : auth.roles
}

export function toAuthContext(claims: JWTPayload, source: AuthContext['source'], nowS: number): AuthContext {
  const roles = Array.isArray(claims.roles) ? claims.roles.filter(isRole) : []
  const av = claims.age_verified as { exp?: unknown } | undefined
  return {
    subject: String(claims.sub ?? ''),
    roles,
    brandRoles: brandRolesOf(claims.brand_roles),
    ageVerified: typeof av?.exp === 'number' && av.exp > nowS,
    amr: Array.isArray(claims.amr) ? claims.amr.map(String) : [],
    authTimeS: typeof claims.auth_time === 'number' ? claims.auth_time : undefined,
    acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    claims: claims as Record<string, unknown>,
    source,
  }
}

/** Reads and verifies a token if one is presented; never rejects by itself. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.var.config
  const header = c.req.header('authorization')
  let token: string | undefined
  let source: AuthContext['source'] = 'bearer'
  if (header) {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(header.trim())
    if (match) token = match[1]
    else c.set('authError', 'Authorization header is not a Bearer token')
  } else {
    token = getCookie(c, config.sessionCookie)
    source = 'cookie'
  }
  c.set('auth', null)
  if (token) {
    const result = await verifyAccessToken(c.env.DB, token, { issuer: config.issuer, audience: config.accessTokenAudience })
    if (result.ok) c.set('auth', toAuthContext(result.claims, source, Math.floor(Date.now() / 1000)))
    else c.set('authError', result.reason)
  }
  await next()
})

/** The caller, or 401 with `WWW-Authenticate` (naming an invalid token as such). */
export function authenticated(c: Context<AppEnv>): AuthContext {
  const auth = c.var.auth
  if (auth) return auth
  throw new ProblemError('UNAUTHENTICATED', {
    detail: c.var.authError ?? 'a bearer token is required',
    headers: { 'www-authenticate': `Bearer realm="fanz"${c.var.authError ? ', error="invalid_token"' : ''}` },
  })
}

/**
 * 401 without a valid token, 403 when the token holds none of `roles`, either globally or on the
 * brand serving the request (`brand_roles[c.var.brand.slug]`; on platform hosts only global roles count).
 */
export function requireRole(...roles: Role[]) {
  return requireRoleFor(() => undefined, ...roles)
}

/**
 * `requireRole` for routes that name a brand (a path or query parameter): a role held on the
 * brand `brandOf(c)` returns counts too, as does one held on the brand serving the request.
 */
export function requireRoleFor(brandOf: (c: Context<AppEnv>) => string | undefined, ...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = authenticated(c)
    const held = (brand: string | undefined) => rolesOn(auth, brand).some((role) => roles.includes(role))
    if (!held(c.var.brand?.slug) && !held(brandOf(c))) {
      throw new ProblemError('FORBIDDEN', { detail: `requires one of the roles: ${roles.join(', ')}` })
    }
    await next()
  })
}
