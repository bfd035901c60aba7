import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../app'
import { call, cf } from '../../test/helpers'

const production = { ...env, ENVIRONMENT: 'production', PLATFORM_DOMAIN: 'fanz.network' }
const prodRequest = (url: string, headers: Record<string, string> = {}) =>
  app.request(url, { headers: { host: new URL(url).host, ...headers }, cf: cf('US', 'CA'), redirect: 'manual' } as RequestInit, production, createExecutionContext())

function expectBaseline(res: Response) {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expect(res.headers.get('x-frame-options')).toBe('DENY')
  expect(res.headers.get('referrer-policy')).toBe('same-origin')
  expect(res.headers.get('permissions-policy')).toContain('camera=()')
  const csp = res.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain("object-src 'none'")
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'/)
  expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/)
}

describe('security headers', () => {
  it('are on pages, problems and redirects alike', async () => {
    expectBaseline(await call('boyfanz.localhost', '/'))
    expectBaseline(await call('nosuch.example', '/'))
    expectBaseline(await call('www.boyfanz.localhost', '/'))
  })

  it('are the short API set on JSON answers, the page set on the API docs', async () => {
    const api = await call('api.localhost', '/api/nothing-here')
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
    expect(api.headers.get('x-content-type-options')).toBe('nosniff')
    expect(api.headers.get('x-frame-options')).toBe('DENY')
    expect(api.headers.get('x-request-id')).toMatch(/^req_/)
    expectBaseline(await call('api.localhost', '/api/docs'))
  })

  it('use a fresh nonce per response', async () => {
    const nonce = async () => /'nonce-([^']+)'/.exec((await call('boyfanz.localhost', '/')).headers.get('content-security-policy') ?? '')?.[1]
    const [a, b] = [await nonce(), await nonce()]
    expect(a).toBeTruthy()
    expect(a).not.toBe(b)
  })

  it('add HSTS only in production', async () => {
    expect((await call('boyfanz.localhost', '/')).headers.get('strict-transport-security')).toBeNull()
    const res = await prodRequest('https://boyfanz.com/legal/terms')
    expect(res.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains; preload')
    expect(res.headers.get('content-security-policy')).toContain('upgrade-insecure-requests')
    expectBaseline(res)
  })

  it('redirect plain http to https in production, and only there', async () => {
    const res = await prodRequest('http://girlfanz.com/c/alice?ref=1')
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('https://girlfanz.com/c/alice?ref=1')
    expect(res.headers.get('strict-transport-security')).toContain('max-age=')
    expect((await call('girlfanz.localhost', '/legal/terms')).status).toBe(200)
  })
})
