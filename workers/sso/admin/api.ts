/**
 * `/api/sso/*` management routes: users, sessions, clients, roles (registered on the account API
 * app). One file per concern: users.ts, sessions.ts, clients.ts, roles.ts (shapes in schemas.ts).
 * Each route declares the permission it needs (roles/access.ts), which both enforces it and puts
 * `x-fanz-access` on the operation in `/api/openapi.json`. Who holds what: roles/permissions.ts
 * (support: view users, list and revoke sessions; operator: read-only; admin: everything but
 * granting admin / super_admin; super_admin: all).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'
import { registerClientRoutes } from './clients'
import { registerRoleRoutes } from './roles'
import { registerSessionRoutes } from './sessions'
import { registerUserRoutes } from './users'

export function registerAdminApi(app: OpenAPIHono<AppEnv>): void {
  registerRoleRoutes(app)
  registerUserRoutes(app)
  registerSessionRoutes(app)
  registerClientRoutes(app)
}
