/**
 * Roles, least privilege first. A token lists the roles its subject holds; routes name the roles
 * they admit. `admin` is not a wildcard: every route that admits it says so.
 */
export const ROLES = [
  'fan',
  'creator',
  'moderator',
  'compliance_officer',
  'custodian',
  'finance',
  'operator',
  'admin',
  'service',
] as const

export type Role = (typeof ROLES)[number]

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}
