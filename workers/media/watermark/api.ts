// SCAFFOLD: replaced by the watermark part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerWatermarkSettings(_app: OpenAPIHono<AppEnv>): void {}
