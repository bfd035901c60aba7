// SCAFFOLD: replaced by the subsystem's routes
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerBatches(_app: OpenAPIHono<AppEnv>): void {}
