import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call, cf } from '../../test/helpers'

describe('platform index (localhost)', () => {
  it('lists every brand host and the platform surfaces', async () => {
    const res = await call('localhost', '/')
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(body).toContain('<h1 id="title">FANZ platform</h1>')
    for (const host of Object.values(BRAND_HOSTS)) expect(body).toContain(`href="http://${host}/"`)
    for (const name of ['BoyFanz', 'GirlFanz', 'PupFanz', 'TransFanz', 'TabooFanz', 'FanzSSO', 'FanzDash']) expect(body).toContain(name)
    expect(body).toContain('href="http://sso.localhost/"')
    expect(body).toContain('href="http://dash.localhost/"')
    expect(body).toContain('href="http://api.localhost/api/docs"')
  })
})

describe('FanzSSO pages', () => {
  it('the landing page says what the host does and links the JWKS, which still answers JSON', async () => {
    const body = await (await call('sso.localhost', '/')).text()
    expect(body).toContain('<h1 id="title">FanzSSO</h1>')
    expect(body).toContain('href="/.well-known/jwks.json"')
    const jwks = await call('sso.localhost', '/.well-known/jwks.json')
    expect(jwks.status).toBe(200)
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0)
  })

  it('age verification explains the visitor’s methods honestly and returns only to our own brand hosts', async () => {
    const returnTo = encodeURIComponent('http://girlfanz.localhost/c/alice')
    const res = await call('sso.localhost', `/age-verification?return_to=${returnTo}`, { cf: cf('US', 'TX') })
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(body).toContain('HB 1181')
    expect(body).toContain('Photo ID with a selfie')
    expect(body).toContain('Sign in to verify')
    expect(body).not.toContain('<form')
    expect(body).toContain('href="http://girlfanz.localhost/c/alice">Back to GirlFanz</a>')
    for (const evil of ['https://evil.example/', 'javascript:alert(1)', '//evil.example', 'http://user:pw@boyfanz.localhost/']) {
      const other = await (await call('sso.localhost', `/age-verification?return_to=${encodeURIComponent(evil)}`, { cf: cf('US', 'TX') })).text()
      expect(other, evil).not.toContain('Back to')
    }
  })

  it('says so when no law applies to the visitor', async () => {
    const body = await (await call('sso.localhost', '/age-verification', { cf: cf('US', 'CA') })).text()
    expect(body).toContain('No age-verification law applies in California, United States')
  })
})
