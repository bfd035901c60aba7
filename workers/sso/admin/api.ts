/**
 * `/api/sso/*` management routes: users, sessions, clients, roles (registered on the account API app).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerAdminApi(_app: OpenAPIHono<AppEnv>): void {}
