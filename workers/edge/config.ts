import { createMiddleware } from 'hono/factory'
import { getConfig } from '../config'
import type { AppEnv } from './context'

/** `c.var.config`: the parsed configuration (cached per isolate, see workers/config.ts). */
export const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  c.set('config', getConfig(c.env))
  await next()
})
