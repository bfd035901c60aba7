import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../workers/index'
import type { Role } from '../workers/edge/roles'

export const BRAND_HOSTS = {
  boyfanz: 'boyfanz.localhost',
  girlfanz: 'girlfanz.localhost',
  pupfanz: 'pupfanz.localhost',
  transfanz: 'transfanz.localhost',
  taboofanz: 'taboofanz.localhost',
} as const

/** A location as Cloudflare's edge reports it in `request.cf`. */
export function cf(country: string, regionCode?: string, continent = 'NA', asn = 64500): IncomingRequestCfProperties {
  return { country, regionCode, continent, asn } as unknown as IncomingRequestCfProperties
}

export interface CallOptions {
  method?: string
  headers?: Record<string, string>
  body?: unknown
  token?: string
  cf?: IncomingRequestCfProperties
}

/**
 * The Worker's own fetch handler in this isolate, with a fresh execution context whose `waitUntil`
 * work (back-channel logouts, audit) has finished when the answer is returned. Not through
 * `exports.default.fetch`: that loopback gets slower with every request the runtime has served
 * (workers-sdk#15446), which made the suite quadratic as it grew. Same handler, same edge chain.
 */
export async function fetchWorker(request: Request): Promise<Response> {
  const ctx = createExecutionContext()
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

/** Sends a request through the whole Worker (edge middleware included) to `host`. */
export function call(host: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers)
  headers.set('host', host)
  if (options.token) headers.set('authorization', `Bearer ${options.token}`)
  let body: BodyInit | undefined
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || options.body instanceof Uint8Array) body = options.body as BodyInit
    else {
      body = JSON.stringify(options.body)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    }
  }
  return fetchWorker(
    new Request(`http://${host}${path}`, { method: options.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual', cf: options.cf ?? cf('US', 'CA') }),
  )
}

/** A real token from the dev token endpoint (the same path `npm run token` takes). */
export async function tokenFor(roles: Role[], extra: { subject?: string; age_verified?: boolean } = {}): Promise<string> {
  const res = await call('api.localhost', '/api/dev/tokens', {
    headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET },
    body: { roles, ...extra },
  })
  if (res.status !== 201) throw new Error(`token mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}
