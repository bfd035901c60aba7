/**
 * The origin proxy for brand pages. Runs in the edge dispatcher before the site app: answers 451 for
 * a visitor an operator rule blocks, and otherwise forwards a request that an origin pool serves to
 * the best healthy origin, failing over on network errors and 5xx for idempotent methods. Decisions
 * come from the in-memory snapshot, so the hot path makes no D1 query.
 * @module
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../edge/context'
import { log } from '../edge/logger'
import { isApiPath } from '../edge/paths'
import { ProblemError } from '../edge/problem'
import { choosePool, orderOrigins } from './select'
import { getSnapshot, type OriginView, type PoolView } from './snapshot'

/** RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones proxies still see. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/** Safe to send twice: only these fail over to the next origin. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS'])

export const ORIGIN_HEADER = 'x-fanz-origin'
const RETRY_AFTER_S = '30'

export function stripHopByHop(headers: Headers): void {
  const listed = headers.get('connection')
  if (listed) for (const name of listed.split(',')) if (name.trim()) headers.delete(name.trim())
  for (const name of HOP_BY_HOP) headers.delete(name)
}

/** Origin base + the request's own path and query (the path prefix is kept, not stripped). */
export function upstreamUrl(originUrl: string, request: URL): string {
  return `${originUrl}${request.pathname}${request.search}`
}

function forwardHeaders(c: Context<AppEnv>, url: URL): Headers {
  const headers = new Headers(c.req.raw.headers)
  stripHopByHop(headers)
  const clientIp = headers.get('cf-connecting-ip')
  // the origin learns the visitor from us, never from what the client claims
  for (const name of [...headers.keys()]) if (name.startsWith('cf-') || name.startsWith('x-forwarded-')) headers.delete(name)
  headers.delete('host')
  headers.set('x-forwarded-host', c.req.header('host') ?? url.host)
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''))
  if (clientIp) headers.set('x-forwarded-for', clientIp)
  headers.set('x-request-id', c.var.requestId)
  // shared pools (brand_id null) serve several brands: tell them which one
  if (c.var.brand) headers.set('x-fanz-brand', c.var.brand.slug)
  return headers
}

/** fetch with a deadline for the response head only, so a long download is not cut off. */
async function fetchWithHeadTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
  try {
    return await fetch(url, { ...init, signal: controller.signal })
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Re-issued through the edge context: the upstream headers are immutable, and headers the edge
 * prepared earlier (request id, ...) are merged in the same way as for surface responses.
 */
function relay(c: Context<AppEnv>, res: Response, origin: OriginView): Response {
  const out = c.newResponse(res.body, res)
  stripHopByHop(out.headers)
  out.headers.set(ORIGIN_HEADER, origin.id)
  return out
}

/** OPTIONS may be retried, so its (rare, small) body is buffered; other bodies stream once. */
async function upstreamBody(request: Request): Promise<BodyInit | null> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return null
  return request.method === 'OPTIONS' ? request.arrayBuffer() : request.body
}

async function forward(c: Context<AppEnv>, pool: PoolView): Promise<Response> {
  const candidates = orderOrigins(pool, c.var.geo?.continent ?? null)
  if (!candidates.length) {
    throw new ProblemError('NO_HEALTHY_ORIGIN', { detail: `no origin of pool ${pool.name} is healthy`, headers: { 'retry-after': RETRY_AFTER_S } })
  }
  const method = c.req.method
  const attempts = IDEMPOTENT.has(method) ? candidates : candidates.slice(0, 1)
  const url = new URL(c.req.url)
  const headers = forwardHeaders(c, url)
  const body = await upstreamBody(c.req.raw)
  for (const [i, origin] of attempts.entries()) {
    const isLast = i === attempts.length - 1
    try {
      const res = await fetchWithHeadTimeout(upstreamUrl(origin.url, url), { method, headers, body, redirect: 'manual' }, pool.timeoutMs)
      if (res.status < 500 || isLast) return relay(c, res, origin)
      await res.body?.cancel()
      log('warn', c.var.config.logLevel, 'origin_failover', { request_id: c.var.requestId, pool_id: pool.id, origin_id: origin.id, status: res.status })
    } catch (err) {
      log('warn', c.var.config.logLevel, 'origin_failover', { request_id: c.var.requestId, pool_id: pool.id, origin_id: origin.id, error: err instanceof Error ? err.message : String(err) })
    }
  }
  throw new ProblemError('UPSTREAM_ERROR', { detail: `no origin of pool ${pool.name} answered` })
}

/** A browser navigation: the site can answer it with a page of its own. */
function wantsHtml(c: Context<AppEnv>): boolean {
  return (c.req.method === 'GET' || c.req.method === 'HEAD') && (c.req.header('accept') ?? '').includes('text/html')
}

/**
 * Brand requests outside `/api`, before the site app:
 * - a visitor an operator rule blocks gets 451 BLOCKED_JURISDICTION; only a browser asking for a
 *   page the site serves goes on, so the site can show its own 451 page and the legal notices;
 * - a path an origin pool serves (or a geo `route` rule's pool) is proxied, except for a visitor who
 *   still has to pass the age gate (403: content is never served ungated);
 * - anything else goes on to the site app.
 */
export const proxyToOriginPool = createMiddleware<AppEnv>(async (c, next) => {
  const brand = c.var.brand
  // /auth/* is the brand's FanzSSO client: always this Worker, never an origin
  if (c.var.surface !== 'brand' || !brand || isApiPath(c.req.path) || c.req.path.startsWith('/auth/')) return next()
  const policy = c.var.jurisdiction
  const pool = choosePool(await getSnapshot(c.env.DB), brand.id, c.req.path, policy.routePoolId)
  if (policy.blocked) {
    if (!pool && wantsHtml(c)) return next()
    // the reason names the operator rule: that stays out of the visitor's answer
    throw new ProblemError('BLOCKED_JURISDICTION', { detail: `${brand.name} is not available in your location` })
  }
  if (!pool) return next()
  if (policy.gated && c.var.auth?.ageVerified !== true) {
    throw new ProblemError('FORBIDDEN', { detail: 'age verification is required in your location before this content is served', extensions: { jurisdiction: policy.key, age_gate: '/' } })
  }
  return forward(c, pool)
})
