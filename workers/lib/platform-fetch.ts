/**
 * `fetch` for server-to-server calls between the platform's own hosts (a brand exchanging a code at
 * the SSO host's token endpoint, the SSO host posting a back-channel logout to a brand). Requests to
 * a host this Worker serves are dispatched in-process through the edge app: a Worker's subrequest
 * to a route it is itself bound to would not reach it again on Cloudflare (it would loop or go to
 * the origin), and locally there is no DNS for `*.localhost` inside workerd. Every other URL goes to
 * the network. The in-process request still passes the whole edge chain (headers, routing, errors).
 * @module
 */
import type { AppEnv } from '../edge/context'
import type { Hono } from 'hono'
import { getSnapshot } from '../routing/snapshot'
import { getConfig } from '../config'

let edgeApp: Hono<AppEnv> | undefined

/** Called once by workers/app.ts (a direct import would be circular). */
export function registerEdgeApp(app: Hono<AppEnv>): void {
  edgeApp = app
}

/** True when `hostname` is served by this Worker (a brand domain or a platform host). */
export async function isPlatformHost(env: Env, hostname: string): Promise<boolean> {
  const config = getConfig(env)
  if ([config.platformDomain, config.hosts.sso, config.hosts.api, config.hosts.dash].includes(hostname)) return true
  return (await getSnapshot(env.DB)).hosts.has(hostname)
}

export function platformFetch(env: Env, ctx: ExecutionContext): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    if (edgeApp && (await isPlatformHost(env, url.hostname))) {
      const headers = new Headers(request.headers)
      headers.set('host', url.host)
      // an internal hop is not a visitor: no geo of its own, marked so logs can tell it apart
      headers.set('x-fanz-internal', '1')
      return edgeApp.fetch(new Request(request, { headers, redirect: 'manual' }), env, ctx)
    }
    return fetch(request)
  }
}
