import { describe, expect, it } from 'vitest'
import { call, cf, tokenFor } from '../../test/helpers'

describe('GET /api/edge/whoami', () => {
  it('reports what the edge chain learnt: brand from Host, country, gate and the verified caller', async () => {
    const token = await tokenFor(['fan'], { age_verified: true })
    const res = await call('boyfanz.localhost', '/api/edge/whoami', { token, headers: { 'x-fanz-geo': 'US-CA' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toEqual({ request_id: res.headers.get('x-request-id'), brand: 'boyfanz', country: 'US', gated: false, subject: expect.stringMatching(/^usr_/), roles: ['fan'] })
  })

  it('answers without a token too, with no subject, and names a gated place', async () => {
    const res = await call('api.localhost', '/api/edge/whoami', { cf: cf('US', 'TX') })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ brand: null, country: 'US', gated: true, subject: null, roles: [] })
  })

  it('is documented in the OpenAPI document', async () => {
    const doc = (await (await call('api.localhost', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(doc.paths['/api/edge/whoami']?.get).toBeDefined()
  })
})
