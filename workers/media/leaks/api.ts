// SCAFFOLD: replaced by the leaks part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerLeaks(_app: OpenAPIHono<AppEnv>): void {}
