/**
 * Host -> surface and brand. Platform hosts (sso., api., dash.) are known from config; brand hosts
 * come from the routing snapshot. www redirects to the apex with a 301; an unknown host is a 404.
 * @module
 */
import { createMiddleware } from 'hono/factory'
import { getSnapshot } from '../routing/snapshot'
import type { AppEnv } from './context'
import { ProblemError } from './problem'

/** Hostname without port, lower-cased; the Host header wins over the URL (tests and proxies set it). */
export function requestHostname(request: Request): string {
  const raw = request.headers.get('host') ?? new URL(request.url).host
  return raw.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase()
}

export const resolveHost = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.var.config
  const hostname = requestHostname(c.req.raw)
  if (hostname === config.hosts.sso) c.set('surface', 'sso')
  else if (hostname === config.hosts.api) c.set('surface', 'api')
  else if (hostname === config.hosts.dash) c.set('surface', 'dash')
  else if (hostname === config.platformDomain) c.set('surface', 'platform')
  else {
    const snapshot = await getSnapshot(c.env.DB)
    const entry = snapshot.hosts.get(hostname)
    if (!entry) throw new ProblemError('UNKNOWN_HOST', { detail: `no brand or surface is served at ${hostname}` })
    if (entry.kind === 'www') {
      const url = new URL(c.req.url)
      // www.X goes to X when X is one of the brand's hosts (keeps dev aliases local), else to the apex
      const bare = hostname.slice(hostname.indexOf('.') + 1)
      const target = snapshot.hosts.get(bare)?.brand.id === entry.brand.id ? bare : entry.brand.primaryDomain
      const location = `${url.protocol}//${target}${url.port ? `:${url.port}` : ''}${url.pathname}${url.search}`
      return c.redirect(location, 301)
    }
    if (entry.brand.status !== 'active') throw new ProblemError('NOT_FOUND', { detail: `${entry.brand.name} is not available` })
    c.set('surface', 'brand')
    c.set('brand', entry.brand)
  }
  await next()
})
