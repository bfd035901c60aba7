/**
 * Roles, least privilege first. A token lists the roles its subject holds globally (`roles`) and
 * per brand (`brand_roles`: brand slug -> roles); routes name the roles they admit. Neither `admin`
 * nor `super_admin` is a wildcard: every route that admits one says so. What each role may do is
 * written down once, in workers/sso/roles/permissions.ts.
 */
export const ROLES = [
  'fan',
  'creator',
  'moderator',
  'support',
  'finance',
  'compliance_officer',
  'custodian',
  'operator',
  'admin',
  'super_admin',
  'service',
] as const

export type Role = (typeof ROLES)[number]

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}
