import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call, cf } from '../../test/helpers'
import { getSnapshot } from '../routing/snapshot'
import { STYLESHEET_HREF } from './static'

const CA = cf('US', 'CA')

async function html(host: string, path: string): Promise<{ res: Response; body: string }> {
  const res = await call(host, path, { cf: CA })
  return { res, body: await res.text() }
}

const count = (body: string, pattern: RegExp) => body.match(pattern)?.length ?? 0

describe('brand site', () => {
  it.each(Object.entries(BRAND_HOSTS))('%s shows its own name, tagline and theme', async (slug, host) => {
    const brand = [...(await getSnapshot(env.DB)).brands.values()].find((b) => b.slug === slug)!
    const { res, body } = await html(host, '/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(body).toContain(`<h1 id="hero-title">${brand.name}</h1>`)
    expect(body).toContain(brand.tagline.replaceAll("'", '&#39;'))
    expect(body).toContain(`--primary:${brand.theme.primary}`)
    expect(body).toContain(`--bg:${brand.theme.background}`)
    expect(body).toContain(`<title>${brand.name}</title>`)
    // no other brand's name leaks into the page
    for (const other of (await getSnapshot(env.DB)).brands.values()) if (other.id !== brand.id) expect(body).not.toContain(other.name)
  })

  it('features the brand’s own creators only', async () => {
    const { body } = await html(BRAND_HOSTS.boyfanz, '/')
    expect(body).toContain('href="/c/alex"')
    expect(body).toContain('Marco Vale')
    expect(body).not.toContain('Alice Moreau')
  })

  it('renders a creator page with a content placeholder', async () => {
    const { res, body } = await html(BRAND_HOSTS.girlfanz, '/c/alice')
    expect(res.status).toBe(200)
    expect(body).toContain('<h1>Alice Moreau</h1>')
    expect(body).toContain('Alice Moreau creates exclusive content on girlfanz.')
    expect(body).toContain('id="creator-content"')
  })

  it('answers an unknown creator, or a creator of another brand, with an HTML 404 page', async () => {
    for (const path of ['/c/alice', '/c/nobody', '/c/%3Cscript%3E']) {
      const { res, body } = await html(BRAND_HOSTS.boyfanz, path)
      expect(res.status, path).toBe(404)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expect(body).toContain('Page not found')
      expect(body).not.toContain('<script>')
    }
  })

  it('answers an unknown page with an HTML 404 in the brand’s look; the API keeps problem+json', async () => {
    const { res, body } = await html(BRAND_HOSTS.pupfanz, '/no/such/page')
    expect(res.status).toBe(404)
    expect(body).toContain('PupFanz')
    expect(body).toContain('href="/legal/2257"')
    const api = await call(BRAND_HOSTS.pupfanz, '/api/no-such-thing', { cf: CA })
    expect(api.status).toBe(404)
    expect(api.headers.get('content-type')).toBe('application/problem+json')
  })

  it('refuses other methods on pages with 405', async () => {
    const res = await call(BRAND_HOSTS.boyfanz, '/', { method: 'POST', body: 'x', cf: CA })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toContain('GET')
  })

  it.each(['/', '/c/alex', '/legal/terms', '/legal/privacy', '/legal/dmca', '/legal/2257', '/nope'])(
    '%s has one h1, lang, landmarks, a skip link and the legal footer',
    async (path) => {
      const { body } = await html(BRAND_HOSTS.boyfanz, path)
      expect(body.startsWith('<!doctype html>')).toBe(true)
      expect(body).toContain('<html lang="en">')
      expect(count(body, /<h1[\s>]/g)).toBe(1)
      for (const landmark of ['<header', '<nav', '<main id="main"', '<footer']) expect(body).toContain(landmark)
      expect(body).toContain('<a class="skip" href="#main">')
      for (const href of ['/legal/terms', '/legal/privacy', '/legal/dmca', '/legal/2257']) expect(body).toContain(`href="${href}"`)
      expect(body).toContain('18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement')
    },
  )

  it('sends a CSP whose nonce is the one on the style block, and no script at all', async () => {
    const { res, body } = await html(BRAND_HOSTS.transfanz, '/')
    const csp = res.headers.get('content-security-policy') ?? ''
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
    expect(nonce).toBeTruthy()
    expect(csp).toContain("frame-ancestors 'none'")
    expect(body).toContain(`<style nonce="${nonce}">`)
    expect(body).not.toMatch(/<script|\sstyle="|\son[a-z]+=/i)
    expect(body).toContain(`<link rel="stylesheet" href="${STYLESHEET_HREF}"/>`)
    // a second response gets a fresh nonce
    const again = await call(BRAND_HOSTS.transfanz, '/', { cf: CA })
    expect(again.headers.get('content-security-policy')).not.toContain(nonce!)
  })

  it('labels brand pages as adults-only for parental filters', async () => {
    const { body } = await html(BRAND_HOSTS.taboofanz, '/legal/terms')
    expect(body).toContain('<meta name="rating" content="RTA-5042-1996-1400-1577-RTA"/>')
  })
})
