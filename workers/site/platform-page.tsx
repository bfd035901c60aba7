/**
 * The shell of the non-brand surfaces (platform index, FanzSSO, FanzDash): the shared layout with
 * the platform's neutral theme.
 * @module
 */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { AppEnv } from '../edge/context'
import { page, type NavLink } from './layout'
import { PLATFORM_THEME } from './theme'

export function platformPage(c: Context<AppEnv>, siteName: string, title: string, body: Child, nav?: NavLink[]) {
  return page({
    title,
    siteName,
    nonce: c.var.secureHeadersNonce,
    theme: PLATFORM_THEME,
    path: c.req.path,
    nav,
    footer: <p class="fineprint">FANZ platform · {c.var.config.environment} environment</p>,
    children: body,
  })
}
