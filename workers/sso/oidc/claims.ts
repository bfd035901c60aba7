/**
 * Profile sync: one central profile (users row + roles + age-verification outcome) with per-brand
 * overrides (profile_overrides). Clients read it through ID-token, access-token and userinfo
 * claims, computed fresh at every token issue and refresh, so a change shows on a brand's next
 * refresh (at most one access-token lifetime later) or immediately through userinfo.
 * @module
 */
import type { Role } from '../../edge/roles'
import { rolesFor } from '../roles/store'
import type { OAuthClient } from './clients'

export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'roles'] as const

export interface UserClaims {
  sub: string
  name?: string
  picture?: string
  locale?: string
  updated_at?: number
  email?: string
  email_verified?: boolean
  roles?: Role[]
  brand_roles?: Record<string, Role[]>
  /** outcome of the last age check (method and expiry, never the evidence) */
  age_verified?: { method: string; exp: number }
}

type ProfileRow = {
  id: string
  email: string
  email_verified_at_ms: number | null
  display_name: string
  locale: string
  avatar_url: string | null
  status: string
  age_verified_method: string | null
  age_verified_expires_at_ms: number | null
  updated_at_ms: number
  override_name: string | null
  override_avatar: string | null
  override_updated_at_ms: number | null
}

export interface Profile {
  status: string
  claims: UserClaims
  /** what the access token carries whatever the scope: the edge authorises with it */
  roles: { roles: Role[]; brandRoles: Record<string, Role[]> }
}

/** The user's profile as `client` sees it (brand overrides applied), or null if there is no such user. */
export async function profileFor(d1: D1Database, userId: string, client: Pick<OAuthClient, 'brandId'> | null, scopes: readonly string[], nowMs = Date.now()): Promise<Profile | null> {
  const row = await d1
    .prepare(
      `SELECT u.id, u.email, u.email_verified_at_ms, u.display_name, u.locale, u.avatar_url, u.status, u.age_verified_method,
              u.age_verified_expires_at_ms, u.updated_at_ms, o.display_name AS override_name, o.avatar_url AS override_avatar,
              o.updated_at_ms AS override_updated_at_ms
       FROM users u LEFT JOIN profile_overrides o ON o.user_id = u.id AND o.brand_id = ?
       WHERE u.id = ?`,
    )
    .bind(client?.brandId ?? '', userId)
    .first<ProfileRow>()
  if (!row) return null
  const roles = await rolesFor(d1, userId)
  const claims: UserClaims = { sub: row.id }
  if (scopes.includes('profile')) {
    claims.name = row.override_name ?? row.display_name
    const picture = row.override_avatar ?? row.avatar_url
    if (picture) claims.picture = picture
    claims.locale = row.locale
    claims.updated_at = Math.floor(Math.max(row.updated_at_ms, row.override_updated_at_ms ?? 0) / 1000)
  }
  if (scopes.includes('email')) {
    claims.email = row.email
    claims.email_verified = row.email_verified_at_ms !== null
  }
  if (scopes.includes('roles')) {
    claims.roles = roles.roles
    claims.brand_roles = roles.brandRoles
  }
  if (row.age_verified_method && row.age_verified_expires_at_ms && row.age_verified_expires_at_ms > nowMs) {
    claims.age_verified = { method: row.age_verified_method, exp: Math.floor(row.age_verified_expires_at_ms / 1000) }
  }
  return { status: row.status, claims, roles }
}

/** `acr` from `amr`: two factors are AAL2; a password or a social sign-in alone is AAL1. */
export function acrFor(amr: readonly string[]): string {
  return amr.includes('mfa') ? 'urn:fanz:acr:aal2' : 'urn:fanz:acr:aal1'
}

/** The granted scopes: what was asked, limited to what the client may ask for. */
export function grantScopes(requested: string | undefined, client: Pick<OAuthClient, 'scopes'>): string[] | null {
  const asked = (requested ?? '').split(' ').filter(Boolean)
  if (asked.some((s) => !client.scopes.includes(s) || !(SUPPORTED_SCOPES as readonly string[]).includes(s))) return null
  return [...new Set(asked)]
}
