/**
 * Links between platform hosts. Locally every host shares one `wrangler dev` port
 * (`boyfanz.localhost:8787`, `sso.localhost:8787`), so a cross-host link keeps the port of the
 * request it is rendered for; deployed hosts never carry one.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'

function devPort(c: Context<AppEnv>): string {
  const port = new URL(c.req.url).port
  return c.var.config.isDev && port ? `:${port}` : ''
}

/** `http(s)://<hostname>[:port]<path>` with this request's scheme. */
export function hostUrl(c: Context<AppEnv>, hostname: string, path = '/'): string {
  return `${new URL(c.req.url).protocol}//${hostname}${devPort(c)}${path}`
}

/**
 * A page on the SSO host. `config.issuer` is the token issuer (no port, by design); in dev the
 * browser still needs the port to reach it.
 */
export function ssoUrl(c: Context<AppEnv>, path: string): string {
  return `${c.var.config.issuer}${devPort(c)}${path}`
}

/** This page's own absolute URL (path and query), as a `return_to` target. */
export function selfUrl(c: Context<AppEnv>): string {
  const url = new URL(c.req.url)
  return `${url.origin}${url.pathname}${url.search}`
}

/** An absolute URL on one of our hosts as the browser must reach it: locally with this request's port. */
export function browserReachable(c: Context<AppEnv>, url: string): URL {
  const target = new URL(url)
  const port = devPort(c)
  if (port && (target.hostname === 'localhost' || target.hostname.endsWith('.localhost'))) target.port = port.slice(1)
  return target
}
