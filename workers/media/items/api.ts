// SCAFFOLD: replaced by the items part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerItems(_app: OpenAPIHono<AppEnv>): void {}
