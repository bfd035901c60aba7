import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call } from '../../test/helpers'
import { STATIC_VERSION, STYLESHEET_HREF } from './static'

async function sha256Prefix(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, STATIC_VERSION.length)
}

describe('static assets', () => {
  it('STATIC_VERSION is the hash of public/static/site.css (bump it when the file changes)', async () => {
    const asset = await env.ASSETS.fetch('http://assets.local/static/site.css')
    expect(asset.status).toBe(200)
    expect(await sha256Prefix(await asset.arrayBuffer())).toBe(STATIC_VERSION)
  })

  it('serves the versioned stylesheet from the Worker as immutable, with the security headers', async () => {
    const res = await call(BRAND_HOSTS.boyfanz, STYLESHEET_HREF)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/css/)
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.text()).toContain('.skip')
  })

  it('caches an unversioned request briefly, and 404s a missing file', async () => {
    expect((await call(BRAND_HOSTS.boyfanz, '/static/site.css')).headers.get('cache-control')).toBe('public, max-age=3600')
    expect((await call(BRAND_HOSTS.boyfanz, '/static/nope.css')).status).toBe(404)
  })

  it.each(['sso.localhost', 'dash.localhost', 'localhost'])('serves the stylesheet on %s too', async (host) => {
    expect((await call(host, STYLESHEET_HREF)).status).toBe(200)
  })
})
