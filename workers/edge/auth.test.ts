import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { edgeEcho, type EdgeEcho } from '../../test/edge-app'
import { call, cf, tokenFor } from '../../test/helpers'
import { requireRole } from './auth'
import type { AppEnv } from './context'
import { onError } from './surface'

const echo = edgeEcho()
const whoami = async (headers: Record<string, string>) =>
  (await (await echo.request('http://api.localhost/', { headers: { host: 'api.localhost', ...headers }, cf: cf('US', 'CA') } as RequestInit, env)).json()) as EdgeEcho

describe('access-token verification at the edge', () => {
  it('accepts a bearer token and reads subject, roles and the age-verified claim', async () => {
    const token = await tokenFor(['creator', 'fan'], { subject: 'usr_alice', age_verified: true })
    const seen = await whoami({ authorization: `Bearer ${token}` })
    expect(seen.auth).toMatchObject({ subject: 'usr_alice', roles: ['creator', 'fan'], ageVerified: true })
  })

  it('accepts the session cookie', async () => {
    const token = await tokenFor(['fan'], { subject: 'usr_bob' })
    const seen = await whoami({ cookie: `fanz_session=${token}` })
    expect(seen.auth).toMatchObject({ subject: 'usr_bob', ageVerified: false })
  })

  it('treats a bad token as anonymous and says why', async () => {
    const token = await tokenFor(['admin'])
    const [head, payload, sig] = token.split('.')
    const forgedPayload = btoa(JSON.stringify({ ...JSON.parse(atob(payload!.replaceAll('-', '+').replaceAll('_', '/'))), roles: ['admin', 'finance'] })).replaceAll('=', '').replaceAll('+', '-').replaceAll('/', '_')
    expect(await whoami({ authorization: `Bearer ${head}.${forgedPayload}.${sig}` })).toMatchObject({ auth: null, authError: 'bad signature' })
    expect(await whoami({ authorization: 'Bearer not-a-jwt' })).toMatchObject({ auth: null, authError: 'malformed token' })
    expect(await whoami({ authorization: 'Basic dXNlcjpwYXNz' })).toMatchObject({ auth: null, authError: 'Authorization header is not a Bearer token' })
  })
})

describe('role enforcement', () => {
  const guarded = new Hono<AppEnv>()
  guarded.use('*', async (c, next) => {
    const res = await echo.request(c.req.raw, undefined, c.env)
    const seen = (await res.json()) as EdgeEcho
    c.set('auth', seen.auth as never)
    c.set('authError', seen.authError ?? undefined)
    await next()
  })
  guarded.get('/finance', requireRole('finance', 'admin'), (c) => c.text('ok'))
  guarded.onError(onError)

  const hit = (token?: string) => guarded.request('http://api.localhost/finance', { headers: { host: 'api.localhost', ...(token ? { authorization: `Bearer ${token}` } : {}) }, cf: cf('US', 'CA') } as RequestInit, env)

  it('401 with WWW-Authenticate without a token', async () => {
    const res = await hit()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fanz"')
    expect(((await res.json()) as { code: string }).code).toBe('UNAUTHENTICATED')
  })

  it('401 naming the reason for an invalid token', async () => {
    const res = await hit('abc.def.ghi')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('403 for a token without the role, 200 with it', async () => {
    const fan = await hit(await tokenFor(['fan']))
    expect(fan.status).toBe(403)
    expect(((await fan.json()) as { detail: string }).detail).toBe('requires one of the roles: finance, admin')
    expect((await hit(await tokenFor(['finance']))).status).toBe(200)
  })
})

describe('dev token endpoint', () => {
  it('needs the dev secret', async () => {
    const res = await call('api.localhost', '/api/dev/tokens', { body: { roles: ['admin'] }, headers: { 'x-dev-token-secret': 'wrong' } })
    expect(res.status).toBe(403)
  })

  it('does not exist in production', async () => {
    const { app } = await import('../app')
    const res = await app.request('https://api.fanz.network/api/dev/tokens', { method: 'POST', headers: { host: 'api.fanz.network', 'content-type': 'application/json', 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body: JSON.stringify({ roles: ['admin'] }), cf: cf('US', 'CA') } as RequestInit, { ...env, ENVIRONMENT: 'production', PLATFORM_DOMAIN: 'fanz.network' }, createExecutionContext())
    expect(res.status).toBe(404)
  })

  it('audits every token it mints', async () => {
    await tokenFor(['operator'], { subject: 'usr_auditme' })
    const list = await call('api.localhost', '/api/compliance/audit?action=sso.dev_token.mint&subject=user:usr_auditme', { token: await tokenFor(['admin']) })
    const { items } = (await list.json()) as { items: Array<{ details: { roles: string[] } }> }
    expect(items).toHaveLength(1)
    expect(items[0]!.details.roles).toEqual(['operator'])
  })
})
