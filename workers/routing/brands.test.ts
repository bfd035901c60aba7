import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import { API, api, auditEntries, body, brandBody, createBrand, uniqueSlug, type ProblemBody } from './test-support'

interface BrandBody {
  id: string
  slug: string
  name: string
  primary_domain: string
  status: string
  theme: Record<string, string>
  created_at: string
  updated_at: string
}

describe('routing API access', () => {
  it('answers 401 without a token, 403 for a fan and 200 for admin and operator', async () => {
    const anonymous = await call(API, '/api/routing/brands')
    expect(anonymous.status).toBe(401)
    expect((await body<ProblemBody>(anonymous)).code).toBe('UNAUTHENTICATED')

    const fan = await call(API, '/api/routing/brands', { token: await tokenFor(['fan']) })
    expect(fan.status).toBe(403)
    expect((await body<ProblemBody>(fan)).code).toBe('FORBIDDEN')

    const fanWrite = await call(API, '/api/routing/brands', { token: await tokenFor(['fan']), body: brandBody(uniqueSlug()) })
    expect(fanWrite.status).toBe(403)

    expect((await api('/brands')).status).toBe(200)
    const operator = await call(API, '/api/routing/brands', { token: await tokenFor(['operator']) })
    expect(operator.status).toBe(200)
  })

  it('lists every routing route in the OpenAPI document', async () => {
    const doc = await body<{ paths: Record<string, Record<string, unknown>> }>(await call(API, '/api/openapi.json'))
    expect(Object.keys(doc.paths['/api/routing/brands'] ?? {}).sort()).toEqual(['get', 'post'])
    expect(Object.keys(doc.paths['/api/routing/brands/{id}'] ?? {}).sort()).toEqual(['get', 'patch'])
    for (const path of ['/api/routing/domains', '/api/routing/geo-rules/{id}', '/api/routing/pools/{id}', '/api/routing/pools/{id}/origins', '/api/routing/origins/{id}/health', '/api/routing/analytics']) {
      expect(doc.paths[path], path).toBeDefined()
    }
    const post = doc.paths['/api/routing/brands']?.post as { requestBody?: { required?: boolean } }
    expect(post.requestBody?.required).toBe(true)
  })
})

describe('brands', () => {
  it('creates a brand, attaches its primary domain, serves it at once and audits the change', async () => {
    const slug = uniqueSlug('new')
    const res = await api('/brands', { body: brandBody(slug) })
    expect(res.status).toBe(201)
    const created = await body<BrandBody>(res)
    expect(created.id).toMatch(/^brd_[0-9A-Z]{26}$/)
    expect(created).toMatchObject({ slug, name: `Brand ${slug}`, primary_domain: `${slug}.localhost`, status: 'active' })
    expect(created.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)

    const domain = await body<{ brand_id: string; kind: string }>(await api(`/domains/${slug}.localhost`))
    expect(domain).toMatchObject({ brand_id: created.id, kind: 'apex' })

    // the snapshot was dropped by the write: the new host resolves on the very next request
    const page = await call(`${slug}.localhost`, '/', { headers: { accept: 'text/html' } })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(`Brand ${slug}`)

    const entries = await auditEntries('routing.brand.create', created.id)
    expect(entries).toHaveLength(1)
    expect(entries[0]?.details).toMatchObject({ slug, primary_domain: `${slug}.localhost` })
    expect(entries[0]?.actor).not.toBe('anonymous')
  })

  it('refuses an unknown field with 422 naming it', async () => {
    const res = await api('/brands', { body: brandBody(uniqueSlug(), { colour: 'red' }) })
    expect(res.status).toBe(422)
    const problem = await body<ProblemBody>(res)
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors).toContainEqual({ path: 'body.colour', message: 'unknown field' })
  })

  it('refuses an unknown field nested in the theme', async () => {
    const res = await api('/brands', { body: brandBody(uniqueSlug(), { theme: { primary: '#1d4ed8', accent: '#b45309', background: '#ffffff', text: '#0f172a', link: '#000000' } }) })
    expect(res.status).toBe(422)
    expect((await body<ProblemBody>(res)).errors).toContainEqual({ path: 'body.theme.link', message: 'unknown field' })
  })

  it('refuses text that does not contrast with the background (WCAG AA)', async () => {
    const res = await api('/brands', { body: brandBody(uniqueSlug(), { theme: { primary: '#1d4ed8', accent: '#b45309', background: '#ffffff', text: '#999999' } }) })
    expect(res.status).toBe(422)
    const problem = await body<ProblemBody>(res)
    expect(problem.errors?.map((e) => e.path)).toEqual(['body.theme.text'])
    expect(problem.errors?.[0]?.message).toContain('2.85:1')
  })

  it('refuses a primary colour on which neither white nor the background is readable', async () => {
    const res = await api('/brands', { body: brandBody(uniqueSlug(), { theme: { primary: '#9ca3af', accent: '#b45309', background: '#ffffff', text: '#0f172a' } }) })
    expect(res.status).toBe(422)
    expect((await body<ProblemBody>(res)).errors?.map((e) => e.path)).toEqual(['body.theme.primary'])
  })

  it('refuses a bad hostname, a malformed colour and a reserved platform host', async () => {
    const bad = await api('/brands', { body: brandBody(uniqueSlug(), { primary_domain: 'https://x.com/' }) })
    expect(bad.status).toBe(422)
    expect((await body<ProblemBody>(bad)).errors?.[0]?.path).toBe('body.primary_domain')

    const colour = await api('/brands', { body: brandBody(uniqueSlug(), { theme: { primary: 'blue', accent: '#b45309', background: '#ffffff', text: '#0f172a' } }) })
    expect((await body<ProblemBody>(colour)).errors?.[0]).toEqual({ path: 'body.theme.primary', message: 'must be a #rrggbb colour' })

    const reserved = await api('/brands', { body: brandBody(uniqueSlug(), { primary_domain: 'sso.localhost' }) })
    expect(reserved.status).toBe(422)
    expect((await body<ProblemBody>(reserved)).errors?.[0]?.path).toBe('body.primary_domain')
  })

  it('answers malformed JSON with a 400 problem and a missing body with 422, never 500', async () => {
    const malformed = await api('/brands', { body: '{"slug":', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
    expect((await body<ProblemBody>(malformed)).code).toBe('MALFORMED_BODY')
    const wrongType = await api('/brands', { body: 'slug=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(wrongType.status).toBe(415)
    const empty = await api('/brands', { body: {} })
    expect(empty.status).toBe(422)
  })

  it('answers 409 for a taken slug or a primary domain attached elsewhere', async () => {
    const taken = await api('/brands', { body: brandBody('boyfanz', { primary_domain: `${uniqueSlug()}.localhost` }) })
    expect(taken.status).toBe(409)
    expect((await body<ProblemBody>(taken)).code).toBe('CONFLICT')
    const host = await api('/brands', { body: brandBody(uniqueSlug(), { primary_domain: 'girlfanz.com' }) })
    expect(host.status).toBe(409)
    expect((await body<ProblemBody>(host)).detail).toContain('brd_01JFANZ0000000000000000002')
  })

  it('gets a brand, 404 for an unknown one', async () => {
    const got = await body<BrandBody>(await api('/brands/brd_01JFANZ0000000000000000002'))
    expect(got).toMatchObject({ slug: 'girlfanz', primary_domain: 'girlfanz.com', theme: { primary: '#be185d' } })
    const missing = await api('/brands/brd_nope')
    expect(missing.status).toBe(404)
    expect((await body<ProblemBody>(missing)).code).toBe('NOT_FOUND')
  })

  it('pages the list with a cursor', async () => {
    const first = await body<{ items: BrandBody[]; next_cursor: string | null }>(await api('/brands?limit=2'))
    expect(first.items.map((b) => b.slug)).toEqual(['boyfanz', 'girlfanz'])
    expect(first.next_cursor).toEqual(expect.any(String))
    const second = await body<{ items: BrandBody[] }>(await api(`/brands?limit=2&cursor=${first.next_cursor}`))
    expect(second.items.map((b) => b.slug)).toEqual(['pupfanz', 'transfanz'])
    const bad = await api('/brands?cursor=garbage')
    expect(bad.status).toBe(400)
    expect((await body<ProblemBody>(bad)).errors?.[0]?.path).toBe('query.cursor')
  })

  it('updates a brand: merges a partial theme, checks it, audits the change', async () => {
    const brand = await createBrand()
    const bad = await api(`/brands/${brand.id}`, { method: 'PATCH', body: { theme: { background: '#0f172a' } } })
    expect(bad.status).toBe(422)
    expect((await body<ProblemBody>(bad)).errors?.[0]?.path).toBe('body.theme.text')

    const res = await api(`/brands/${brand.id}`, { method: 'PATCH', body: { name: 'Renamed', theme: { text: '#000000' }, status: 'suspended' } })
    expect(res.status).toBe(200)
    const updated = await body<BrandBody>(res)
    expect(updated).toMatchObject({ name: 'Renamed', status: 'suspended', theme: { primary: '#1d4ed8', text: '#000000', background: '#ffffff' } })

    // suspended: the host stops serving the brand
    expect((await call(brand.host, '/')).status).toBe(404)
    const entries = await auditEntries('routing.brand.update', brand.id)
    expect(entries[0]?.details).toMatchObject({ changes: { name: 'Renamed', status: 'suspended' } })
  })

  it('moves the primary domain only to a host already attached to the brand', async () => {
    const brand = await createBrand()
    const notAttached = await api(`/brands/${brand.id}`, { method: 'PATCH', body: { primary_domain: `${brand.slug}.example.com` } })
    expect(notAttached.status).toBe(422)
    expect((await body<ProblemBody>(notAttached)).errors?.[0]?.path).toBe('body.primary_domain')
    expect((await api('/domains', { body: { hostname: `${brand.slug}.example.com`, brand_id: brand.id, kind: 'alias' } })).status).toBe(201)
    const moved = await api(`/brands/${brand.id}`, { method: 'PATCH', body: { primary_domain: `${brand.slug}.example.com` } })
    expect((await body<BrandBody>(moved)).primary_domain).toBe(`${brand.slug}.example.com`)
    const unknown = await api(`/brands/${brand.id}`, { method: 'PATCH', body: { slug: 'other' } })
    expect((await body<ProblemBody>(unknown)).errors).toContainEqual({ path: 'body.slug', message: 'unknown field' })
  })
})
