import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call } from '../../test/helpers'

describe('host resolution', () => {
  it.each(Object.entries(BRAND_HOSTS))('serves %s on its dev host', async (slug, host) => {
    const res = await call(host, '/')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(slug === 'boyfanz' ? 'BoyFanz' : '')
  })

  it('answers an unknown host with a 404 problem', async () => {
    const res = await call('nosuch.example', '/')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const body = (await res.json()) as { code: string; request_id: string }
    expect(body.code).toBe('UNKNOWN_HOST')
    expect(body.request_id).toBe(res.headers.get('x-request-id'))
  })

  it('redirects www to the apex with a 301, keeping path and query', async () => {
    const res = await call('www.girlfanz.com', '/c/alice?x=1')
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('http://girlfanz.com/c/alice?x=1')
    const dev = await call('www.girlfanz.localhost', '/')
    expect(dev.headers.get('location')).toBe('http://girlfanz.localhost/')
  })
})
