/**
 * CSRF for cookie-authenticated state changes: the browser must say the request comes from this
 * very origin (`Origin` equal to the request's own scheme + host, and `Sec-Fetch-Site`, when sent,
 * `same-origin`). A request without `Origin` is refused. One check for every host's forms and
 * same-origin fetches (dash, SSO pages, passkeys, codes, brand checkout, sandbox gateway).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from './context'

export function isSameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (!origin) return false
  const site = c.req.header('sec-fetch-site')
  if (site && site !== 'same-origin') return false
  const url = new URL(c.req.url)
  return origin === `${url.protocol}//${c.req.header('host') ?? url.host}`
}
