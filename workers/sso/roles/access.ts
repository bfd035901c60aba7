/**
 * One declaration per `/api` route of who may call it, from which both the enforcing middleware and
 * the OpenAPI extension `x-fanz-access` are derived, so the document at `/api/openapi.json` cannot
 * drift from what the Worker enforces (test/roles-matrix.test.ts calls every documented operation
 * with every role to prove it).
 *
 * Two ways to declare:
 * - per route: `createRoute(withAccess(permission('sso:users:read'), { method, path, ... }))`
 * - per app, for apps whose route files declare nothing themselves:
 *   `declareAppAccess(app, (route) => ...)` before the routes are registered; a route that carries
 *   its own declaration keeps it.
 *
 * The extension, as it appears on each operation:
 * `{ "public": false, "permission": "sso:roles:grant", "roles": ["admin", "super_admin"],
 *    "brand_scope": "named", "step_up": { "max_age_s": 300, "strong": true } }`, or
 * `{ "public": true, "roles": [] }` (optionally `"credential": "x-dev-token-secret"`, `"dev_only": true`).
 * @module
 */
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { ROLES, type Role } from '../../edge/roles'
import { authenticated } from '../../edge/auth'
import { timingSafeEqualText } from '../../lib/encoding'
import { holds, requirePermission, requireRecentAuth, type BrandScope, type RecentAuthPolicy } from './middleware'
import { rolesWith, type Permission } from './permissions'

export const ACCESS_EXTENSION = 'x-fanz-access'

export type Access =
  /** anyone; a token, when sent, is still verified and available to the handler */
  | { kind: 'public' }
  /** dev-only tooling authenticated by the DEV_TOKEN_SECRET header instead of a token */
  | { kind: 'dev_secret' }
  | { kind: 'permission'; permission: Permission; brand: BrandScope; stepUp?: RecentAuthPolicy; devOnly?: boolean }
  /** either of two permissions (global): an owner's route that readers of everything may also use */
  | { kind: 'any_permission'; permissions: readonly [Permission, Permission] }

export interface AccessDoc {
  public: boolean
  permission?: Permission
  /** the roles that hold `permission` (globally, or on the brand in scope) */
  roles: Role[]
  /** which brand-scoped roles count: none (`global`), the serving brand's (`host`), the named brand's (`named`) */
  brand_scope?: BrandScope
  step_up?: { max_age_s: number; strong: boolean }
  credential?: 'x-dev-token-secret'
  dev_only?: boolean
  /** `any_permission`: each permission that opens the route (`permission` is the first) */
  any_of?: Permission[]
}

export const PUBLIC: Access = { kind: 'public' }
export const DEV_SECRET: Access = { kind: 'dev_secret' }

export function permission(name: Permission, options: { brand?: BrandScope; stepUp?: RecentAuthPolicy; devOnly?: boolean } = {}): Access {
  return { kind: 'permission', permission: name, brand: options.brand ?? 'global', ...(options.stepUp ? { stepUp: options.stepUp } : {}), ...(options.devOnly ? { devOnly: true } : {}) }
}

/** A route open to holders of `a` or `b` (e.g. a creator's own items, or `media:read` for any). */
export function anyPermission(a: Permission, b: Permission): Access {
  return { kind: 'any_permission', permissions: [a, b] }
}

export function describeAccess(access: Access): AccessDoc {
  switch (access.kind) {
    case 'public':
      return { public: true, roles: [] }
    case 'dev_secret':
      return { public: true, roles: [], credential: 'x-dev-token-secret', dev_only: true }
    case 'permission':
      return {
        public: false,
        permission: access.permission,
        roles: rolesWith(access.permission),
        brand_scope: access.brand,
        ...(access.stepUp ? { step_up: { max_age_s: access.stepUp.maxAgeS, strong: access.stepUp.strong } } : {}),
        ...(access.devOnly ? { dev_only: true } : {}),
      }
    case 'any_permission': {
      const [a, b] = access.permissions
      return { public: false, permission: a, roles: ROLES.filter((role) => rolesWith(a).includes(role) || rolesWith(b).includes(role)), brand_scope: 'global', any_of: [a, b] }
    }
  }
}

const devSecretCheck = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.var.config
  if (!config.isDev) throw new ProblemError('NOT_FOUND', { detail: `nothing at ${c.req.path}` })
  const presented = c.req.header('x-dev-token-secret') ?? ''
  if (!config.devTokenSecret || !timingSafeEqualText(presented, config.devTokenSecret)) {
    throw new ProblemError('FORBIDDEN', { detail: 'x-dev-token-secret does not match DEV_TOKEN_SECRET in .dev.vars' })
  }
  await next()
})

const devOnlyCheck = createMiddleware<AppEnv>(async (c, next) => {
  // before any credential check: outside dev the route does not exist
  if (!c.var.config.isDev) throw new ProblemError('NOT_FOUND', { detail: `nothing at ${c.req.path}` })
  await next()
})

const pass = createMiddleware<AppEnv>(async (_c, next) => next())

/** The checks `access` stands for, as one middleware (401 before 403 before step-up). */
export function accessMiddleware(access: Access): MiddlewareHandler<AppEnv> {
  switch (access.kind) {
    case 'public':
      return pass
    case 'dev_secret':
      return devSecretCheck
    case 'permission': {
      const chain = [
        ...(access.devOnly ? [devOnlyCheck] : []),
        requirePermission(access.permission, { brand: access.brand }),
        ...(access.stepUp ? [requireRecentAuth(access.stepUp)] : []),
      ]
      return createMiddleware<AppEnv>(async (c, next) => {
        const run = async (i: number): Promise<void> => {
          if (i === chain.length) return next()
          await chain[i]!(c, () => run(i + 1))
        }
        await run(0)
      })
    }
    case 'any_permission': {
      const [a, b] = access.permissions
      return createMiddleware<AppEnv>(async (c, next) => {
        const auth = authenticated(c)
        if (!holds(auth, a) && !holds(auth, b)) throw new ProblemError('FORBIDDEN', { detail: `requires the permission ${a} or ${b}`, extensions: { permission: a, any_of: [a, b] } })
        await next()
      })
    }
  }
}

type Declared<R> = R & { middleware: MiddlewareHandler<AppEnv>; [ACCESS_EXTENSION]: AccessDoc }

/**
 * `route` with `access` enforced (before any input validation, so an unauthorised caller learns
 * nothing about the input) and documented; `security` defaults to the bearer scheme when a token
 * is needed and to none when the route is public.
 */
export function withAccess<R extends Omit<RouteConfig, 'middleware'>>(access: Access, route: R): Declared<R> {
  const security = route.security ?? (access.kind === 'permission' || access.kind === 'any_permission' ? [{ bearer: [] }] : [])
  return { ...route, security, middleware: accessMiddleware(access), [ACCESS_EXTENSION]: describeAccess(access) }
}

/** True when `route` already carries a declaration. */
export function isDeclared(route: object): boolean {
  return ACCESS_EXTENSION in route
}

/**
 * Every route `app` registers from now on gets `rule(route)` (middleware and extension), unless it
 * declares its own. Call before registering the routes.
 */
export function declareAppAccess(app: OpenAPIHono<AppEnv>, rule: (route: RouteConfig) => Access): void {
  const register = app.openapi
  app.openapi = ((route: RouteConfig, ...rest: unknown[]) => {
    if (isDeclared(route)) return (register as (...args: unknown[]) => unknown)(route, ...rest)
    const { middleware, ...plain } = route
    const access = rule(route)
    const declared = withAccess(access, plain)
    const own = middleware ? (Array.isArray(middleware) ? middleware : [middleware]) : []
    return (register as (...args: unknown[]) => unknown)({ ...declared, middleware: [declared.middleware, ...own] }, ...rest)
  }) as typeof app.openapi
}
