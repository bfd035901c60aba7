import { describe, expect, it } from 'vitest'
import { call } from '../../test/helpers'
import { api, auditEntries, body, createBrand, type ProblemBody } from './test-support'

interface DomainBody {
  hostname: string
  brand_id: string
  kind: string
  created_at: string
}

describe('domains', () => {
  it('attaches an alias that serves the brand at once, and audits it', async () => {
    const brand = await createBrand()
    const hostname = `Fans-${brand.slug}.Example.com`
    const res = await api('/domains', { body: { hostname, brand_id: brand.id, kind: 'alias' } })
    expect(res.status).toBe(201)
    const domain = await body<DomainBody>(res)
    // stored lower-cased, as the edge compares hosts
    expect(domain).toMatchObject({ hostname: hostname.toLowerCase(), brand_id: brand.id, kind: 'alias' })
    const page = await call(hostname.toLowerCase(), '/')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(`Brand ${brand.slug}`)
    const entries = await auditEntries('routing.domain.attach', hostname.toLowerCase())
    expect(entries.map((e) => e.details)).toEqual([{ brand_id: brand.id, kind: 'alias' }])
  })

  it('attaches a www host that redirects to the brand', async () => {
    const brand = await createBrand()
    expect((await api('/domains', { body: { hostname: `www.${brand.host}`, brand_id: brand.id, kind: 'www' } })).status).toBe(201)
    const res = await call(`www.${brand.host}`, '/c/x?y=1')
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe(`http://${brand.host}/c/x?y=1`)
  })

  it('answers 409 when the hostname is attached to another brand (or already to this one)', async () => {
    const a = await createBrand()
    const b = await createBrand()
    const elsewhere = await api('/domains', { body: { hostname: a.host, brand_id: b.id, kind: 'alias' } })
    expect(elsewhere.status).toBe(409)
    const problem = await body<ProblemBody>(elsewhere)
    expect(problem.code).toBe('CONFLICT')
    expect(problem.detail).toBe(`${a.host} is attached to brand ${a.id}`)
    const again = await api('/domains', { body: { hostname: a.host, brand_id: a.id, kind: 'alias' } })
    expect(again.status).toBe(409)
  })

  it('validates hostname, kind and brand with 422 naming the field', async () => {
    const brand = await createBrand()
    for (const hostname of ['not a host', 'http://x.com', 'x.com:8080', '-bad.example.com', '10.0.0.1', 'example..com', `${'a'.repeat(64)}.com`]) {
      const res = await api('/domains', { body: { hostname, brand_id: brand.id, kind: 'alias' } })
      expect(res.status, hostname).toBe(422)
      expect((await body<ProblemBody>(res)).errors?.[0]?.path, hostname).toBe('body.hostname')
    }
    const kind = await api('/domains', { body: { hostname: 'ok.example.com', brand_id: brand.id, kind: 'vanity' } })
    expect((await body<ProblemBody>(kind)).errors?.[0]?.path).toBe('body.kind')
    const noBrand = await api('/domains', { body: { hostname: 'ok.example.com', brand_id: 'brd_missing', kind: 'alias' } })
    expect(noBrand.status).toBe(422)
    expect((await body<ProblemBody>(noBrand)).errors).toEqual([{ path: 'body.brand_id', message: 'no brand brd_missing' }])
    const platform = await api('/domains', { body: { hostname: 'api.localhost', brand_id: brand.id, kind: 'alias' } })
    expect((await body<ProblemBody>(platform)).errors?.[0]?.path).toBe('body.hostname')
  })

  it('lists the domains of a brand', async () => {
    const res = await body<{ items: DomainBody[]; next_cursor: string | null }>(await api('/domains?brand_id=brd_01JFANZ0000000000000000001'))
    expect(res.items.map((d) => `${d.hostname}:${d.kind}`)).toEqual(['boyfanz.com:apex', 'boyfanz.localhost:alias', 'www.boyfanz.com:www', 'www.boyfanz.localhost:www'])
    expect(res.next_cursor).toBeNull()
  })

  it('detaches a host (it stops resolving), but never the primary domain', async () => {
    const brand = await createBrand()
    const alias = `alt-${brand.slug}.example.net`
    await api('/domains', { body: { hostname: alias, brand_id: brand.id, kind: 'alias' } })
    expect((await call(alias, '/')).status).toBe(200)
    const res = await api(`/domains/${alias}`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    const gone = await call(alias, '/')
    expect(gone.status).toBe(404)
    expect((await body<ProblemBody>(gone)).code).toBe('UNKNOWN_HOST')
    expect((await auditEntries('routing.domain.detach', alias)).length).toBe(1)

    const primary = await api(`/domains/${brand.host}`, { method: 'DELETE' })
    expect(primary.status).toBe(409)
    expect((await api(`/domains/${alias}`, { method: 'DELETE' })).status).toBe(404)
  })
})
