/**
 * Every surface (brand site, SSO host, dashboard, API) is its own Hono app, made here so that all of
 * them render errors, 404 and 405 the same way. The edge app runs the cross-cutting middleware once
 * and hands each request to one surface app together with what it learnt (see `dispatch`).
 * @module
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, ErrorHandler, Hono, NotFoundHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv, EdgeVariables } from './context'
import { log } from './logger'
import { loggablePath } from './paths'
import { ProblemError, renderProblem, toProblem, validationProblem } from './problem'

const edgeState = new WeakMap<Request, EdgeVariables>()

/** Renders any error as problem+json (HTML surfaces may wrap it in a page, see site/). */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const problem = toProblem(err)
  if (problem.status >= 500) {
    log('error', 'debug', 'unhandled_error', {
      request_id: c.var.requestId,
      path: loggablePath(c.req.path),
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    })
  }
  const rendered = renderProblem(problem, c.var.requestId, loggablePath(new URL(c.req.url).pathname))
  // through the context, so headers set earlier by middleware (request id, ...) are kept
  return c.body(rendered.body, rendered.status, rendered.headers)
}

/** 404, or 405 with `Allow` when the path exists under other methods. */
export function notFoundFor(app: Hono<AppEnv>): NotFoundHandler<AppEnv> {
  let table: Array<{ pattern: RegExp; methods: Set<string> }> | undefined
  return (c) => {
    table ??= routeTable(app)
    const path = new URL(c.req.url).pathname
    const allowed = new Set<string>()
    for (const row of table) if (row.pattern.test(path)) for (const m of row.methods) allowed.add(m)
    if (allowed.size && !allowed.has(c.req.method)) {
      if (allowed.has('GET')) allowed.add('HEAD')
      const allow = [...allowed].sort().join(', ')
      return onError(new ProblemError('METHOD_NOT_ALLOWED', { detail: `${c.req.method} is not allowed here; use ${allow}`, headers: { allow } }), c)
    }
    return onError(new ProblemError('NOT_FOUND', { detail: `nothing at ${path}` }), c)
  }
}

function routeTable(app: Hono<AppEnv>): Array<{ pattern: RegExp; methods: Set<string> }> {
  const byPath = new Map<string, Set<string>>()
  for (const route of app.routes) {
    if (route.method === 'ALL') continue
    let methods = byPath.get(route.path)
    if (!methods) byPath.set(route.path, (methods = new Set()))
    methods.add(route.method)
  }
  return [...byPath].map(([path, methods]) => ({ pattern: pathPattern(path), methods }))
}

/** Hono path syntax (`/a/:id`, `/a/:id{[0-9]+}`, `/a/*`) as a RegExp. */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*'
      const param = /^:[A-Za-z0-9_]+(?:\{(.+)\})?\??$/.exec(segment)
      if (param) return param[1] ? `(?:${param[1]})` : '[^/]+'
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/** The OpenAPIHono default hook: zod failures become problems naming each field. */
export const zodHook = (result: { success: boolean; error?: unknown; target?: string }, _c: Context) => {
  if (!result.success && result.error) {
    throw validationProblem(result.error as Parameters<typeof validationProblem>[0], result.target === 'json' || result.target === 'form' ? 'body' : (result.target ?? 'request'))
  }
}

/** A surface app: inherits the edge's variables, renders errors and 404/405 the shared way. */
export function createSurfaceApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: zodHook as never })
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      const state = edgeState.get(c.req.raw)
      if (state) for (const [key, value] of Object.entries(state)) c.set(key as keyof EdgeVariables, value as never)
      await next()
    }),
  )
  app.onError(onError)
  app.notFound(notFoundFor(app))
  return app
}

/** Hands the request to a surface app with the edge's variables attached. */
export async function dispatch(c: Context<AppEnv>, app: { fetch: (req: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response> }): Promise<Response> {
  edgeState.set(c.req.raw, {
    requestId: c.var.requestId,
    config: c.var.config,
    surface: c.var.surface,
    brand: c.var.brand,
    geo: c.var.geo,
    jurisdiction: c.var.jurisdiction,
    auth: c.var.auth,
    authError: c.var.authError,
    secureHeadersNonce: c.var.secureHeadersNonce,
  })
  const res = await app.fetch(c.req.raw, c.env, c.executionCtx as ExecutionContext)
  // Re-issued through the edge context: headers the edge prepared (request id, ...) are merged in,
  // and the headers become mutable even when the surface returned a fetched (immutable) response.
  return c.newResponse(res.body, res)
}
