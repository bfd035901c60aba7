/**
 * The role matrix: every operation of the OpenAPI document, called with a well-formed request by
 * every role and by nobody, must answer exactly as its `x-fanz-access` declaration says:
 * public -> never 401/403; a role holding the permission -> never 401/403; every other role -> 403;
 * no token -> 401. Step-up operations are called with a fresh two-factor token (and refuse a plain
 * one with the RFC 9470 challenge). Then brand-scoped roles: a moderator of boyfanz is one there only.
 */
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { apiApp } from '../workers/api/app'
import { authenticate, requireRole, requireRoleFor } from '../workers/edge/auth'
import { withConfig } from '../workers/edge/config'
import type { AppEnv } from '../workers/edge/context'
import { geo } from '../workers/edge/geo'
import { resolveHost } from '../workers/edge/host'
import { jurisdiction } from '../workers/edge/jurisdiction'
import { ROLES, type Role } from '../workers/edge/roles'
import { onError } from '../workers/edge/surface'
import { newId } from '../workers/lib/ids'
import { requirePermission } from '../workers/sso/roles/middleware'
import { hashClientSecret } from '../workers/sso/oidc/clients'
import { call, cf, tokenFor } from './helpers'

const API = 'api.localhost'

interface AccessDoc {
  public: boolean
  permission?: string
  roles: Role[]
  brand_scope?: 'global' | 'host' | 'named'
  step_up?: { max_age_s: number; strong: boolean }
  credential?: 'x-dev-token-secret'
}

interface Operation {
  method: string
  path: string
  access: AccessDoc | undefined
  parameters: Array<{ name: string; in: string; required?: boolean }>
  hasBody: boolean
}

type Doc = { paths: Record<string, Record<string, { 'x-fanz-access'?: AccessDoc; parameters?: Operation['parameters']; requestBody?: unknown }>> }

function operationsOf(doc: Doc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, access: op['x-fanz-access'], parameters: op.parameters ?? [], hasBody: op.requestBody !== undefined })),
  )
}

// the same generator the Worker serves /api/openapi.json from; the first test proves they agree
const OPERATIONS = operationsOf(apiApp.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'matrix', version: '0' } }) as unknown as Doc)

/** Mints a dev token with the extended claims (brand_roles, amr, acr, auth age). */
async function mint(body: { roles: Role[]; subject?: string; brand_roles?: Record<string, Role[]>; amr?: string[]; acr?: string; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

const target = { userId: newId('user'), clientId: '' }

/** Path parameters that name real things where it matters (a user, a registered client). */
function pathFor(op: Operation): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'id' && op.path.startsWith('/api/sso/users/')) return target.userId
    if (name === 'id' && op.path.startsWith('/api/sso/clients/')) return target.clientId
    if (name === 'sessionId') return newId('session')
    if (name === 'role') return 'moderator'
    return 'x_matrix_unknown'
  })
}

const QUERY: Record<string, string> = { to: 'matrix@example.com' }

const BODIES: Record<string, unknown> = {
  'POST /api/dev/tokens': { roles: ['fan'] },
  'POST /api/sso/users/{id}/roles': { role: 'moderator' },
  'POST /api/sso/users/{id}/disable': { reason: 'role matrix test' },
  'POST /api/sso/clients': { name: 'Matrix partner', kind: 'partner', redirect_uris: ['https://partner.example/callback'] },
  'PATCH /api/sso/clients/{id}': { name: 'Matrix partner (renamed)' },
}

function requestFor(op: Operation, token: string | undefined) {
  const query = op.parameters.filter((p) => p.in === 'query' && p.required).map((p) => `${p.name}=${encodeURIComponent(QUERY[p.name] ?? 'x')}`)
  const headers: Record<string, string> = op.access?.credential === 'x-dev-token-secret' ? { 'x-dev-token-secret': env.DEV_TOKEN_SECRET } : {}
  const key = `${op.method} ${op.path}`
  return {
    path: `${pathFor(op)}${query.length ? `?${query.join('&')}` : ''}`,
    options: { method: op.method, token, headers, ...(op.hasBody ? { body: BODIES[key] ?? {} } : {}) },
  }
}

async function statusOf(op: Operation, token: string | undefined): Promise<{ status: string; challenge: string | null }> {
  const { path, options } = requestFor(op, token)
  const res = await call(API, path, options)
  await res.body?.cancel()
  return { status: String(res.status), challenge: res.headers.get('www-authenticate') }
}

const plain = new Map<Role, string>()
const strong = new Map<Role, string>()

beforeAll(async () => {
  const nowMs = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(target.userId, 'matrix-target@example.com', 'matrix-target@example.com', 'Matrix Target', nowMs, nowMs)
    .run()
  target.clientId = newId('serviceClient')
  await env.DB.prepare(
    `INSERT INTO oauth_clients (id, name, kind, secret_kind, secret_hash, redirect_uris_json, grant_types_json, scope, first_party, status, created_at_ms, updated_at_ms)
     VALUES (?, 'Matrix client', 'partner', 'hashed', ?, '["https://partner.example/cb"]', '["authorization_code","refresh_token"]', 'openid', 0, 'active', ?, ?)`,
  )
    .bind(target.clientId, hashClientSecret('matrix-secret'), nowMs, nowMs)
    .run()
  for (const role of ROLES) {
    plain.set(role, await tokenFor([role]))
    strong.set(role, await mint({ roles: [role], amr: ['pwd', 'otp', 'mfa'] }))
  }
})

describe('every /api operation declares what it needs', () => {
  it('the served /api/openapi.json lists the same operations with the same declarations', async () => {
    const served = operationsOf((await (await call(API, '/api/openapi.json')).json()) as Doc)
    const summary = (ops: Operation[]) => ops.map((o) => `${o.method} ${o.path} ${JSON.stringify(o.access)}`).sort()
    expect(summary(served)).toEqual(summary(OPERATIONS))
  })

  it('has a declaration on every operation', () => {
    expect(OPERATIONS.length).toBeGreaterThan(30)
    expect(OPERATIONS.filter((o) => !o.access).map((o) => `${o.method} ${o.path}`)).toEqual([])
  })
})

describe.each(OPERATIONS.filter((o) => o.access))('$method $path', (op) => {
  const access = op.access!

  it(access.public ? 'is public: no role and no token is refused' : `admits ${access.roles.join(', ')} only; 401 without a token`, async () => {
    const expected: Record<string, string> = {}
    const seen: Record<string, string> = {}
    const anonymous = await statusOf(op, undefined)
    seen.none = anonymous.status
    expected.none = access.public ? anonymous.status : '401'
    if (access.public) expect(['401', '403']).not.toContain(anonymous.status)
    const statuses = await Promise.all(ROLES.map((role) => statusOf(op, access.step_up ? strong.get(role)! : plain.get(role)!)))
    ROLES.forEach((role, i) => {
      const { status } = statuses[i]!
      seen[role] = status
      const allowed = access.public || access.roles.includes(role)
      // allowed: anything but 401/403 (a 404, 409 or 422 shows the check was passed)
      expected[role] = allowed ? (['401', '403'].includes(status) ? 'not 401/403' : status) : '403'
    })
    expect(seen).toEqual(expected)
  })

  if (access.step_up) {
    it(`needs a sign-in within ${access.step_up.max_age_s} s${access.step_up.strong ? ' with two factors' : ''} (RFC 9470 challenge otherwise)`, async () => {
      const holder = access.roles[0]!
      const weak = await statusOf(op, plain.get(holder)!)
      expect(weak.status).toBe('401')
      expect(weak.challenge).toContain('error="insufficient_user_authentication"')
      expect(weak.challenge).toContain(`max_age=${access.step_up!.max_age_s}`)
      const stale = await statusOf(op, await mint({ roles: [holder], amr: ['pwd', 'mfa'], auth_age_seconds: access.step_up!.max_age_s + 120 }))
      expect(stale.status).toBe('401')
      expect(stale.challenge).toContain('insufficient_user_authentication')
    })
  }
})

describe('brand-scoped roles', () => {
  // the real edge chain (host -> brand, token verification) in front of a moderator-only route
  const app = new Hono<AppEnv>()
  app.use(withConfig, resolveHost, geo, jurisdiction, authenticate)
  app.get('/moderate/by-role', requireRole('moderator'), (c) => c.text('ok'))
  app.get('/moderate/by-permission', requirePermission('media:moderate', { brand: 'host' }), (c) => c.text('ok'))
  app.get('/brands/:brand/moderate', requireRoleFor((c) => c.req.param('brand'), 'moderator'), (c) => c.text('ok'))
  app.onError(onError)
  const hit = async (host: string, path: string, token: string) =>
    (await app.request(`http://${host}${path}`, { headers: { host, authorization: `Bearer ${token}` }, cf: cf('US', 'CA') } as RequestInit, env)).status

  it('a moderator of boyfanz passes a moderator route on boyfanz and gets 403 on girlfanz and on platform hosts', async () => {
    const token = await mint({ roles: ['fan'], brand_roles: { boyfanz: ['moderator'] } })
    for (const path of ['/moderate/by-role', '/moderate/by-permission']) {
      expect(await hit('boyfanz.localhost', path, token), path).toBe(200)
      expect(await hit('girlfanz.localhost', path, token), path).toBe(403)
      expect(await hit('api.localhost', path, token), path).toBe(403)
    }
    // a brand named by the route, on a platform host
    expect(await hit('api.localhost', '/brands/boyfanz/moderate', token)).toBe(200)
    expect(await hit('api.localhost', '/brands/girlfanz/moderate', token)).toBe(403)
    const global = await tokenFor(['moderator'])
    expect(await hit('girlfanz.localhost', '/moderate/by-permission', global)).toBe(200)
  })

  it('the 403 names the missing permission', async () => {
    const token = await mint({ roles: ['fan'], brand_roles: { boyfanz: ['moderator'] } })
    const res = await app.request('http://girlfanz.localhost/moderate/by-permission', { headers: { host: 'girlfanz.localhost', authorization: `Bearer ${token}` }, cf: cf('US', 'CA') } as RequestInit, env)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ code: 'FORBIDDEN', permission: 'media:moderate', detail: 'requires the permission media:moderate (globally or on brand girlfanz)' })
  })

  it('brand roles never reach platform-wide routes, even on their own brand host', async () => {
    const brandAdmin = await mint({ roles: ['fan'], brand_roles: { boyfanz: ['admin', 'operator', 'support'] }, amr: ['pwd', 'mfa'] })
    // what the token's global `fan` role holds itself (paying a creator) is not the point here
    const globalScoped = OPERATIONS.filter((o) => o.access?.brand_scope === 'global' && !o.access.roles.includes('fan'))
    expect(globalScoped.length).toBeGreaterThan(20)
    const statuses = await Promise.all(
      globalScoped.map(async (op) => {
        const { path, options } = requestFor(op, brandAdmin)
        const res = await call('boyfanz.localhost', path, options)
        await res.body?.cancel()
        return `${op.method} ${op.path} ${res.status}`
      }),
    )
    expect(statuses).toEqual(globalScoped.map((op) => `${op.method} ${op.path} 403`))
  })

  it('an admin of boyfanz grants moderator on boyfanz only, through the real API', async () => {
    const brandAdmin = await mint({ roles: ['fan'], brand_roles: { boyfanz: ['admin'] }, amr: ['pwd', 'mfa'] })
    const grant = (body: unknown) => call(API, `/api/sso/users/${target.userId}/roles`, { token: brandAdmin, body })
    const onBoyfanz = await grant({ role: 'support', brand: 'boyfanz' })
    expect(onBoyfanz.status).toBe(201)
    expect(((await onBoyfanz.json()) as { roles: { brand_roles: Record<string, string[]> } }).roles.brand_roles.boyfanz).toContain('support')
    const onGirlfanz = await grant({ role: 'support', brand: 'girlfanz' })
    expect(onGirlfanz.status).toBe(403)
    expect(((await onGirlfanz.json()) as { permission: string }).permission).toBe('sso:roles:grant')
    expect((await grant({ role: 'support' })).status).toBe(403)
    // a brand admin is still no super_admin: admin on its own brand needs sso:roles:grant_privileged
    const privileged = await grant({ role: 'admin', brand: 'boyfanz' })
    expect(privileged.status).toBe(403)
    expect(((await privileged.json()) as { permission: string }).permission).toBe('sso:roles:grant_privileged')
  })
})
