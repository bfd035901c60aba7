// SCAFFOLD: replaced by the uploads part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerUploads(_app: OpenAPIHono<AppEnv>): void {}
