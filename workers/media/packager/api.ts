// SCAFFOLD: replaced by the packager part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerPackager(_app: OpenAPIHono<AppEnv>): void {}
