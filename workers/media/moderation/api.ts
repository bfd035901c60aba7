// SCAFFOLD: replaced by the moderation part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerModeration(_app: OpenAPIHono<AppEnv>): void {}
