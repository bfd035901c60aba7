// SCAFFOLD: replaced by the A/B (HLS) part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerHls(_app: OpenAPIHono<AppEnv>): void {}
