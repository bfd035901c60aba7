// SCAFFOLD: replaced by the delivery part of MediaHub
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'

export function registerDelivery(_app: OpenAPIHono<AppEnv>): void {}
