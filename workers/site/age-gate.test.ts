import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call, cf, tokenFor } from '../../test/helpers'
import { invalidateSnapshot } from '../routing/snapshot'

const host = BRAND_HOSTS.boyfanz
const TX = cf('US', 'TX')
const GATE = 'Age verification required'

async function page(path: string, options: Parameters<typeof call>[2]) {
  const res = await call(host, path, options)
  return { res, body: await res.text() }
}

function expectGateable(res: Response) {
  expect(res.headers.get('cache-control')).toBe('private, no-store')
  expect(res.headers.get('vary')).toContain('Cookie')
}

describe('age gate', () => {
  let verified: string
  let unverified: string
  beforeAll(async () => {
    verified = await tokenFor(['fan'], { age_verified: true })
    unverified = await tokenFor(['fan'])
  })

  it('gates a Texas visitor: the law, the methods in plain words, verify and leave links, no content', async () => {
    const { res, body } = await page('/', { cf: TX })
    expect(res.status).toBe(200)
    expectGateable(res)
    expect(body).toContain(`<h1>${GATE}</h1>`)
    expect(body).toContain('HB 1181')
    expect(body).toContain('Texas, United States')
    for (const method of ['Digital ID', 'Photo ID with a selfie', 'Records check']) expect(body).toContain(method)
    expect(body).toContain('href="http://sso.localhost/age-verification?return_to=http%3A%2F%2Fboyfanz.localhost%2F"')
    expect(body).toMatch(/<a class="button secondary" href="https:\/\/[^"]+">Leave<\/a>/)
    // nothing of the brand's content (creators, their pages) and no imagery before verification
    expect(body).not.toContain('Alex Rivers')
    expect(body).not.toContain('/c/alex')
    expect(body).not.toMatch(/<img|<video|<picture/)
  })

  it('gates creator pages too, returning the visitor to the page they asked for', async () => {
    const { body } = await page('/c/alex?ref=x', { cf: TX })
    expect(body).toContain(GATE)
    expect(body).not.toContain('Alex Rivers')
    expect(body).toContain('return_to=http%3A%2F%2Fboyfanz.localhost%2Fc%2Falex%3Fref%3Dx')
  })

  it('does not gate a California visitor, but still keeps the page out of shared caches', async () => {
    const { res, body } = await page('/', { cf: cf('US', 'CA') })
    expect(res.status).toBe(200)
    expectGateable(res)
    expect(body).not.toContain(GATE)
    expect(body).toContain('Alex Rivers')
  })

  it('lets a Texas visitor with an age-verified token through (Bearer or session cookie)', async () => {
    const bearer = await page('/', { cf: TX, token: verified })
    expect(bearer.body).not.toContain(GATE)
    expect(bearer.body).toContain('Alex Rivers')
    expectGateable(bearer.res)
    const cookie = await page('/c/alex', { cf: TX, headers: { cookie: `fanz_session=${verified}` } })
    expect(cookie.body).toContain('<h1>Alex Rivers</h1>')
  })

  it('keeps gating a signed-in visitor whose token carries no age verification', async () => {
    const { body } = await page('/', { cf: TX, token: unverified })
    expect(body).toContain(GATE)
  })

  it('fails closed: no location at all is gated', async () => {
    const { body } = await page('/', { cf: {} as IncomingRequestCfProperties })
    expect(body).toContain(GATE)
    expect(body).toContain('your location could not be determined')
  })

  it('fails closed: Tor is gated', async () => {
    const { body } = await page('/', { cf: cf('T1') })
    expect(body).toContain(GATE)
    expect(body).toContain('you are connecting through Tor')
  })

  it('shows the methods of the visitor’s own jurisdiction (United Kingdom)', async () => {
    const { body } = await page('/', { cf: cf('GB', 'ENG', 'EU') })
    expect(body).toContain('Online Safety Act 2023')
    expect(body).toContain('Bank check')
    expect(body).toContain('Mobile network check')
  })

  it.each(['/legal/terms', '/legal/privacy', '/legal/dmca', '/legal/2257'])('keeps %s reachable while gated', async (path) => {
    for (const location of [TX, cf('T1'), {} as IncomingRequestCfProperties]) {
      const { res, body } = await page(path, { cf: location })
      expect(res.status).toBe(200)
      expect(body).not.toContain(GATE)
    }
  })

  it('keeps /static reachable while gated', async () => {
    const res = await call(host, '/static/site.css', { cf: TX })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/css/)
  })

  describe('operator block rule', () => {
    beforeAll(async () => {
      await env.DB.prepare(
        "INSERT INTO geo_rules (id, brand_id, country, region, action, pool_id, note, created_at_ms) VALUES ('geo_test_block', 'brd_01JFANZ0000000000000000001', 'BR', NULL, 'block', NULL, 'test', 0)",
      ).run()
      invalidateSnapshot()
    })
    afterAll(async () => {
      await env.DB.prepare("DELETE FROM geo_rules WHERE id = 'geo_test_block'").run()
      invalidateSnapshot()
    })

    // the edge (routing/proxy.ts) lets only browser page requests through to the site's own 451 page
    const BR = { cf: cf('BR', undefined, 'SA'), headers: { accept: 'text/html,application/xhtml+xml' } }

    it('answers content pages with a 451 page; legal pages stay up; other brands are unaffected', async () => {
      const blocked = await page('/', BR)
      expect(blocked.res.status).toBe(451)
      expect(blocked.body).toContain('BoyFanz is not available in your region')
      expect(blocked.body).toContain('Brazil')
      expect(blocked.body).not.toContain('Alex Rivers')
      expect(blocked.body).toContain('href="/legal/2257"')
      expectGateable(blocked.res)
      expect((await page('/legal/dmca', BR)).res.status).toBe(200)
      expect((await page('/c/alex', BR)).res.status).toBe(451)
      expect((await call(BRAND_HOSTS.girlfanz, '/', BR)).status).toBe(200)
    })
  })
})
