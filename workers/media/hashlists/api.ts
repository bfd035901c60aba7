// SCAFFOLD: replaced by the hashlists part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerHashLists(_app: OpenAPIHono<AppEnv>): void {}
