import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call, cf } from '../../test/helpers'
import { getSnapshot } from '../routing/snapshot'

const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll("'", '&#39;')

async function brand(slug: string) {
  return [...(await getSnapshot(env.DB)).brands.values()].find((b) => b.slug === slug)!
}

describe('legal pages', () => {
  it.each(Object.entries(BRAND_HOSTS))('%s: the 2257 statement names the brand’s custodian of records and street address', async (slug, host) => {
    const { custodian, name } = await brand(slug)
    const res = await call(host, '/legal/2257', { cf: cf('US', 'TX') })
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(body).toContain('<h1>18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement</h1>')
    expect(body).toContain(esc(custodian.name))
    expect(body).toContain(esc(custodian.title))
    expect(body).toContain(esc(custodian.address))
    expect(body).toContain(`mailto:${custodian.email}`)
    expect(body).toContain(name)
  })

  it('the DMCA page names the designated agent and lists the six 512(c)(3) notice elements', async () => {
    const { dmcaAgent } = await brand('girlfanz')
    const body = await (await call(BRAND_HOSTS.girlfanz, '/legal/dmca')).text()
    for (const value of [dmcaAgent.name, dmcaAgent.address, dmcaAgent.email, dmcaAgent.phone, dmcaAgent.registration]) expect(body).toContain(esc(value))
    expect(body).toContain('512(c)(3)(A)')
    const notice = /<ol>([\s\S]*?)<\/ol>/.exec(body)?.[1] ?? ''
    expect(notice.match(/<li>/g)).toHaveLength(6)
    for (const element of ['signature', 'copyrighted work', 'locate it', 'contact information', 'good-faith belief', 'penalty of perjury']) expect(notice).toContain(element)
    expect(body).toContain('512(g)(3)')
  })

  it('terms and privacy render for every brand, cacheable because they do not depend on the visitor', async () => {
    for (const path of ['/legal/terms', '/legal/privacy']) {
      const res = await call(BRAND_HOSTS.transfanz, path)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('private, max-age=300')
      expect(await res.text()).toContain('TransFanz')
    }
  })
})
