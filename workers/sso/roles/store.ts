/**
 * Where a user's roles come from: `user_roles` rows, global (`*`) or scoped to one brand. Every
 * account is a `fan` without a row; tokens carry the result (`roles`, `brand_roles`).
 * @module
 */
import { isRole, type Role } from '../../edge/roles'

export interface UserRoles {
  /** roles held on every brand */
  roles: Role[]
  /** brand slug -> roles held only on that brand */
  brandRoles: Record<string, Role[]>
}

export async function rolesFor(d1: D1Database, userId: string): Promise<UserRoles> {
  const { results } = await d1
    .prepare(
      `SELECT r.role AS role, r.scope AS scope, b.slug AS slug FROM user_roles r LEFT JOIN brands b ON b.id = r.scope
       WHERE r.user_id = ? ORDER BY r.role`,
    )
    .bind(userId)
    .all<{ role: string; scope: string; slug: string | null }>()
  const roles = new Set<Role>(['fan'])
  const brandRoles: Record<string, Role[]> = {}
  for (const row of results) {
    if (!isRole(row.role)) continue
    if (row.scope === '*') roles.add(row.role)
    else if (row.slug) (brandRoles[row.slug] ??= []).push(row.role)
  }
  return { roles: [...roles], brandRoles }
}
