/**
 * Enforcement of the permission table (permissions.ts) and of step-up authentication (RFC 9470).
 * Everything here reads only the verified token already on `c.var.auth`: no I/O.
 *
 * Brand scope, chosen per route (PermissionOptions.brand):
 * - `global` (default): only roles held platform-wide (`roles`) count. Routes over platform-wide
 *   data (routing, the audit log, accounts, clients) use it: a moderator or admin of one brand must
 *   not reach every account just by calling `/api` on that brand's host.
 * - `host`: roles held on the brand serving the request (`brand_roles[c.var.brand.slug]`) count too,
 *   for routes acting on that brand's own things (its media, its reports).
 * - `named`: the route names a brand in its input; the middleware admits a caller holding the
 *   permission globally or on some brand, and the handler narrows it with
 *   `assertPermission(c, permission, slug)` once the input is validated.
 * @module
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { authenticated, rolesOn } from '../../edge/auth'
import type { AppEnv, AuthContext } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { ROLE_PERMISSIONS, type Permission } from './permissions'

/** True when `auth` holds `permission` globally or on `brand` (slug). */
export function holds(auth: AuthContext, permission: Permission, brand?: string | null): boolean {
  return rolesOn(auth, brand).some((role) => ROLE_PERMISSIONS[role].includes(permission))
}

/** True when `auth` holds `permission` globally or on at least one brand. */
export function holdsOnSomeBrand(auth: AuthContext, permission: Permission): boolean {
  if (holds(auth, permission)) return true
  return Object.values(auth.brandRoles).some((roles) => roles.some((role) => ROLE_PERMISSIONS[role].includes(permission)))
}

export function forbidden(permission: Permission, brand?: string | null): ProblemError {
  return new ProblemError('FORBIDDEN', {
    detail: `requires the permission ${permission}${brand ? ` (globally or on brand ${brand})` : ''}`,
    extensions: { permission },
  })
}

/** The caller when they hold `permission` (globally or on `brand`); 401 / 403 otherwise. */
export function assertPermission(c: Context<AppEnv>, permission: Permission, brand?: string | null): AuthContext {
  const auth = authenticated(c)
  if (!holds(auth, permission, brand)) throw forbidden(permission, brand)
  return auth
}

export type BrandScope = 'global' | 'host' | 'named'

export interface PermissionOptions {
  /** which brand roles count besides global ones (module doc); default `global` */
  brand?: BrandScope
}

/** 401 without a valid token, 403 problem naming `permission` when the caller does not hold it. */
export function requirePermission(permission: Permission, options: PermissionOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = authenticated(c)
    const scope = options.brand ?? 'global'
    const brand = scope === 'host' ? c.var.brand?.slug : undefined
    const ok = holds(auth, permission, brand) || (scope === 'named' && holdsOnSomeBrand(auth, permission))
    if (!ok) throw forbidden(permission, brand)
    await next()
  })
}

export interface RecentAuthPolicy {
  /** the sign-in (`auth_time`) must be at most this old */
  maxAgeS: number
  /** also require two factors: `amr` contains `mfa`, or `acr` is AAL2 or higher */
  strong: boolean
}

/** The level of an `acr` value: `urn:fanz:acr:aal2` (as issued) or `urn:fanz:aal2` both read as 2. */
export function aalOf(acr: string | undefined): number {
  const match = acr ? /^urn:fanz:(?:acr:)?aal([1-3])$/.exec(acr) : null
  return match ? Number(match[1]) : 0
}

export const STRONG_ACR = 'urn:fanz:acr:aal2'
/** small allowance for clocks: tokens minted "now" by another isolate must not look future-dated */
const CLOCK_SKEW_S = 60

/** Why `auth` does not meet `policy`, or null when it does. */
export function recentAuthShortfall(auth: AuthContext, policy: RecentAuthPolicy, nowS: number): string | null {
  if (auth.authTimeS === undefined) return 'the token carries no auth_time'
  if (auth.authTimeS > nowS + CLOCK_SKEW_S) return 'the token auth_time is in the future'
  if (nowS - auth.authTimeS > policy.maxAgeS) return `the last sign-in is older than ${policy.maxAgeS} s`
  if (policy.strong && !auth.amr.includes('mfa') && aalOf(auth.acr) < 2) return 'a second factor is required'
  return null
}

/**
 * RFC 9470 step-up: 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"`,
 * naming `max_age` and (when strong) `acr_values`, so a client knows to send the user back through
 * sign-in with those parameters. 401 without a token, like every protected route.
 */
export function requireRecentAuth(policy: RecentAuthPolicy) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = authenticated(c)
    const shortfall = recentAuthShortfall(auth, policy, Math.floor(Date.now() / 1000))
    if (shortfall) {
      const params = [
        'realm="fanz"',
        'error="insufficient_user_authentication"',
        `error_description="${shortfall}"`,
        ...(policy.strong ? [`acr_values="${STRONG_ACR}"`] : []),
        `max_age=${policy.maxAgeS}`,
      ]
      throw new ProblemError('UNAUTHENTICATED', {
        detail: `step-up authentication required: ${shortfall}`,
        headers: { 'www-authenticate': `Bearer ${params.join(', ')}` },
        extensions: { max_age: policy.maxAgeS, ...(policy.strong ? { acr_values: STRONG_ACR } : {}) },
      })
    }
    await next()
  })
}
