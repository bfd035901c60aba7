/**
 * Changing `user_roles`: grant and revoke, global (`scope` = `*`) or on one brand (`scope` = brand
 * id). Who may do it is decided by the caller (admin/roles.ts, with permissions.ts); this module
 * only keeps the rows right. Each change is one statement, so concurrent grants of the same role
 * end with one row (primary key user_id + role + scope) and report `created: false` to the loser.
 * @module
 */
import { isRole, type Role } from '../../edge/roles'

export const GLOBAL_SCOPE = '*'

export interface RoleGrant {
  role: Role
  /** brand slug, or null for a global grant */
  brand: string | null
  grantedBy: string
  grantedAtMs: number
}

/** Every grant of `userId` (the implicit `fan` is not a row), global first, then by brand. */
export async function grantsOf(d1: D1Database, userId: string): Promise<RoleGrant[]> {
  const { results } = await d1
    .prepare(
      `SELECT r.role AS role, r.scope AS scope, b.slug AS slug, r.granted_by AS granted_by, r.granted_at_ms AS granted_at_ms
       FROM user_roles r LEFT JOIN brands b ON b.id = r.scope
       WHERE r.user_id = ? ORDER BY r.scope <> '*', b.slug, r.role`,
    )
    .bind(userId)
    .all<{ role: string; scope: string; slug: string | null; granted_by: string; granted_at_ms: number }>()
  const grants: RoleGrant[] = []
  for (const row of results) {
    if (!isRole(row.role)) continue
    if (row.scope !== GLOBAL_SCOPE && !row.slug) continue
    grants.push({ role: row.role, brand: row.scope === GLOBAL_SCOPE ? null : row.slug, grantedBy: row.granted_by, grantedAtMs: row.granted_at_ms })
  }
  return grants
}

/** The brand id of `slug`, or null when no brand has it. */
export async function brandIdOf(d1: D1Database, slug: string): Promise<string | null> {
  const row = await d1.prepare('SELECT id FROM brands WHERE slug = ?').bind(slug).first<{ id: string }>()
  return row?.id ?? null
}

export interface GrantInput {
  userId: string
  role: Role
  /** brand id, or GLOBAL_SCOPE */
  scope: string
  grantedBy: string
  nowMs?: number
}

/** Adds the grant; `created: false` when it already existed (the original grant is kept). */
export async function grantRole(d1: D1Database, input: GrantInput): Promise<{ created: boolean }> {
  const result = await d1
    .prepare('INSERT INTO user_roles (user_id, role, scope, granted_by, granted_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
    .bind(input.userId, input.role, input.scope, input.grantedBy, input.nowMs ?? Date.now())
    .run()
  return { created: result.meta.changes > 0 }
}

/** Removes the grant; `removed: false` when there was none. */
export async function revokeRole(d1: D1Database, userId: string, role: Role, scope: string): Promise<{ removed: boolean }> {
  const result = await d1.prepare('DELETE FROM user_roles WHERE user_id = ? AND role = ? AND scope = ?').bind(userId, role, scope).run()
  return { removed: result.meta.changes > 0 }
}
