/**
 * `/api/sso/roles` (the permission table) and `/api/sso/users/{id}/roles` (view, grant, revoke).
 *
 * Rules of a change, in order: recent strong sign-in (STEP_UP); never one's own roles; `fan` is
 * never granted (every account is one); `super_admin` and `service` are global only; the caller
 * must hold the role's grant permission (`sso:roles:grant`, or `sso:roles:grant_privileged` for
 * admin / super_admin, which only super_admin holds) globally or on the brand the change names, so
 * an admin of one brand can hand out moderator on that brand and nowhere else. Users keep the
 * change from their next token: access tokens are short-lived and carry roles.
 * @module
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { ROLES, type Role } from '../../edge/roles'
import { permission, withAccess } from '../roles/access'
import { brandIdOf, GLOBAL_SCOPE, grantRole, grantsOf, revokeRole } from '../roles/grants'
import { assertPermission } from '../roles/middleware'
import { GLOBAL_ONLY_ROLES, grantPermissionFor, PERMISSIONS, ROLE_PERMISSIONS, UNGRANTABLE_ROLES } from '../roles/permissions'
import { rolesFor, rolesFromGrants } from '../roles/store'
import { GrantRequest, GrantResult, iso, RevokeQuery, RoleParams, RoleTable, UserIdParam, UserRolesView } from './schemas'
import { STEP_UP } from './step-up'
import { userOr404 } from './users'

const tags = ['sso-admin']

const roleTableRoute = createRoute(
  withAccess(permission('sso:roles:read'), {
    method: 'get',
    path: '/roles',
    tags,
    summary: 'Every role with its permissions and the permission needed to grant it',
    responses: { 200: json('The permission table', RoleTable), ...problemResponses(401, 403) },
  }),
)

const userRolesRoute = createRoute(
  withAccess(permission('sso:roles:read'), {
    method: 'get',
    path: '/users/{id}/roles',
    tags,
    summary: "A user's roles: effective global and per-brand roles, and each grant with who made it",
    request: { params: UserIdParam },
    responses: { 200: json('The roles', UserRolesView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const grantRoute = createRoute(
  withAccess(permission('sso:roles:grant', { brand: 'named', stepUp: STEP_UP }), {
    method: 'post',
    path: '/users/{id}/roles',
    tags,
    summary: 'Grant a role globally or on one brand (admin / super_admin: super_admin only); needs a recent strong sign-in',
    request: { params: UserIdParam, body: jsonBody(GrantRequest) },
    responses: {
      201: json('Granted', GrantResult),
      200: json('The user already held it; nothing changed', GrantResult),
      ...problemResponses(400, 401, 403, 404, 415, 422),
    },
  }),
)

const revokeRoute = createRoute(
  withAccess(permission('sso:roles:grant', { brand: 'named', stepUp: STEP_UP }), {
    method: 'delete',
    path: '/users/{id}/roles/{role}',
    tags,
    summary: 'Revoke a global grant, or the grant on `?brand=`; needs a recent strong sign-in',
    request: { params: RoleParams, query: RevokeQuery },
    responses: { 200: json('Revoked', GrantResult), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

async function rolesView(d1: D1Database, userId: string) {
  const grants = await grantsOf(d1, userId)
  const effective = rolesFromGrants(grants)
  return {
    user_id: userId,
    roles: effective.roles,
    brand_roles: effective.brandRoles,
    grants: grants.map((g) => ({ role: g.role, brand: g.brand, granted_by: g.grantedBy, granted_at: iso(g.grantedAtMs) })),
  }
}

/** The checks every change shares; returns the scope (`*` or brand id). */
async function authorizeChange(c: Context<AppEnv>, userId: string, role: Role, brand: string | undefined, field: 'body' | 'query'): Promise<string> {
  const auth = assertPermission(c, grantPermissionFor(role), brand)
  if (auth.subject === userId) throw new ProblemError('FORBIDDEN', { detail: 'you cannot change your own roles' })
  if (UNGRANTABLE_ROLES.includes(role)) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `every account is a ${role}; it is not granted`, errors: [{ path: field === 'body' ? 'body.role' : 'role', message: 'is implicit' }] })
  }
  if (!brand) return GLOBAL_SCOPE
  if (GLOBAL_ONLY_ROLES.includes(role)) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `${role} is held platform-wide only`, errors: [{ path: `${field}.brand`, message: `${role} cannot be scoped to a brand` }] })
  }
  const brandId = await brandIdOf(c.env.DB, brand)
  if (!brandId) throw new ProblemError('VALIDATION_FAILED', { detail: `no brand ${brand}`, errors: [{ path: `${field}.brand`, message: 'is not a brand' }] })
  return brandId
}

export function registerRoleRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(roleTableRoute, (c) =>
    c.json(
      {
        permissions: [...PERMISSIONS],
        roles: ROLES.map((role) => ({
          role,
          permissions: [...ROLE_PERMISSIONS[role]],
          granted_with: UNGRANTABLE_ROLES.includes(role) ? null : grantPermissionFor(role),
          brand_scopable: !GLOBAL_ONLY_ROLES.includes(role) && !UNGRANTABLE_ROLES.includes(role),
        })),
      },
      200,
    ),
  )

  app.openapi(userRolesRoute, async (c) => {
    const { id } = c.req.valid('param')
    await userOr404(c.env.DB, id)
    return c.json(await rolesView(c.env.DB, id), 200)
  })

  app.openapi(grantRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { role, brand } = c.req.valid('json')
    const scope = await authorizeChange(c, id, role, brand, 'body')
    await userOr404(c.env.DB, id)
    const before = await rolesView(c.env.DB, id)
    const { created } = await grantRole(c.env.DB, { userId: id, role, scope, grantedBy: c.var.auth!.subject })
    const after = created ? await rolesView(c.env.DB, id) : before
    if (created) {
      await audit(c, 'sso.user.role_grant', `user:${id}`, {
        role,
        brand: brand ?? null,
        before: { roles: before.roles, brand_roles: before.brand_roles },
        after: { roles: after.roles, brand_roles: after.brand_roles },
      })
    }
    return c.json({ user_id: id, role, brand: brand ?? null, changed: created, roles: after }, created ? 201 : 200)
  })

  app.openapi(revokeRoute, async (c) => {
    const { id, role } = c.req.valid('param')
    const { brand } = c.req.valid('query')
    const scope = await authorizeChange(c, id, role, brand, 'query')
    await userOr404(c.env.DB, id)
    const before = await rolesView(c.env.DB, id)
    const { removed } = await revokeRole(c.env.DB, id, role, scope)
    if (!removed) throw new ProblemError('NOT_FOUND', { detail: `user ${id} holds no ${role} grant${brand ? ` on ${brand}` : ' globally'}` })
    const after = await rolesView(c.env.DB, id)
    await audit(c, 'sso.user.role_revoke', `user:${id}`, {
      role,
      brand: brand ?? null,
      before: { roles: before.roles, brand_roles: before.brand_roles },
      after: { roles: after.roles, brand_roles: after.brand_roles },
    })
    return c.json({ user_id: id, role, brand: brand ?? null, changed: true, roles: after }, 200)
  })
}
