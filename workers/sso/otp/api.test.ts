import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, cf, tokenFor } from '../../../test/helpers'
import { app } from '../../app'
import { SandboxSmsSender } from './sms-outbox'

const PATH = '/api/sso/dev/sms-outbox'
let adminToken: string

beforeAll(async () => {
  adminToken = await tokenFor(['admin'])
  const sandbox = new SandboxSmsSender(env.DB)
  await sandbox.send({ to: '+14155550101', body: 'one' }, 1_000)
  await sandbox.send({ to: '+14155550101', body: 'two' }, 2_000)
  await sandbox.send({ to: '+14155550102', body: 'other' }, 3_000)
})

describe('GET /api/sso/dev/sms-outbox', () => {
  it('lists the texts to one number, newest first, for an admin or operator', async () => {
    const res = await call('api.localhost', `${PATH}?to=%2B14155550101`, { token: adminToken })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      items: [
        { id: expect.any(Number), to: '+14155550101', body: 'two', created_at: new Date(2_000).toISOString() },
        { id: expect.any(Number), to: '+14155550101', body: 'one', created_at: new Date(1_000).toISOString() },
      ],
    })
    const operator = await call('sso.localhost', `${PATH}?to=%2B14155550101&limit=1`, { token: await tokenFor(['operator']) })
    expect(((await operator.json()) as { items: unknown[] }).items).toHaveLength(1)
    // a `+` typed into the query string arrives as a space
    const raw = await call('api.localhost', `${PATH}?to=+14155550102`, { token: adminToken })
    expect(((await raw.json()) as { items: Array<{ body: string }> }).items.map((m) => m.body)).toEqual(['other'])
  })

  it('401 without a token, 403 for a fan', async () => {
    expect((await call('api.localhost', `${PATH}?to=%2B14155550101`)).status).toBe(401)
    const fan = await call('api.localhost', `${PATH}?to=%2B14155550101`, { token: await tokenFor(['fan']) })
    expect(fan.status).toBe(403)
    expect(fan.headers.get('content-type')).toBe('application/problem+json')
    expect(((await fan.json()) as { code: string }).code).toBe('FORBIDDEN')
  })

  it('400 naming the query field for a bad number or limit', async () => {
    const bad = await call('api.localhost', `${PATH}?to=12345`, { token: adminToken })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['query.to'])
    const limit = await call('api.localhost', `${PATH}?to=%2B14155550101&limit=1000`, { token: adminToken })
    expect(((await limit.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['query.limit'])
  })

  it('does not exist outside dev (404 before any credential check)', async () => {
    for (const environment of ['staging', 'production'] as const) {
      const outside = { ...env, ENVIRONMENT: environment, PLATFORM_DOMAIN: 'fanz.network' }
      const req = new Request(`https://api.fanz.network${PATH}?to=%2B14155550101`, {
        headers: { host: 'api.fanz.network', authorization: `Bearer ${adminToken}` },
        cf: cf('US', 'CA'),
      } as RequestInit)
      const res = await app.fetch(req, outside, createExecutionContext())
      expect(res.status, environment).toBe(404)
      expect(await res.text()).not.toContain('+14155550101')
    }
  })

  it('is in the OpenAPI document', async () => {
    const doc = (await (await call('api.localhost', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, { tags?: string[]; parameters?: Array<{ name: string }> }>> }
    const route = doc.paths['/api/sso/dev/sms-outbox']?.get
    expect(route?.tags).toEqual(['dev'])
    expect(route?.parameters?.map((p) => p.name).sort()).toEqual(['limit', 'to'])
  })
})
