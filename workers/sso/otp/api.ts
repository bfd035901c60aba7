/**
 * `/api/sso/*` routes of one-time codes (registered on the account API app).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerOtpApi(_app: OpenAPIHono<AppEnv>): void {}
