/**
 * A user's effective roles as tokens carry them (`roles`, `brand_roles`), from the same grants the
 * management API lists (grants.ts): every account is a `fan` without a row.
 * @module
 */
import type { Role } from '../../edge/roles'
import { grantsOf, type RoleGrant } from './grants'

export interface UserRoles {
  /** roles held on every brand */
  roles: Role[]
  /** brand slug -> roles held only on that brand */
  brandRoles: Record<string, Role[]>
}

export function rolesFromGrants(grants: readonly RoleGrant[]): UserRoles {
  const roles = new Set<Role>(['fan'])
  const brandRoles: Record<string, Role[]> = {}
  for (const grant of grants) {
    if (grant.brand === null) roles.add(grant.role)
    else (brandRoles[grant.brand] ??= []).push(grant.role)
  }
  return { roles: [...roles], brandRoles }
}

export async function rolesFor(d1: D1Database, userId: string): Promise<UserRoles> {
  return rolesFromGrants(await grantsOf(d1, userId))
}
