import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, cf } from '../../test/helpers'
import { api, auditEntries, body, OriginStub, type ProblemBody } from './test-support'

const GIRLFANZ = 'brd_01JFANZ0000000000000000002'
const PUPFANZ = 'brd_01JFANZ0000000000000000003'
const HOST = 'girlfanz.localhost'
const BRAZIL = cf('BR', 'SP', 'SA')
const JAPAN = cf('JP', '13', 'AS')
const stub = new OriginStub()

interface RuleBody {
  id: string
  brand_id: string | null
  country: string
  region: string | null
  action: string
  pool_id: string | null
}

async function createRule(rule: Record<string, unknown>): Promise<RuleBody> {
  const res = await api('/geo-rules', { body: rule })
  if (res.status !== 201) throw new Error(`rule create failed: ${res.status} ${await res.text()}`)
  return body<RuleBody>(res)
}

let asiaPool = ''
let asiaOrigin = ''
let japanRule: RuleBody

beforeAll(async () => {
  stub.install()
  stub.on('asia.origin.test', (req) => new Response(`asia ${new URL(req.url).pathname}`))
  const res = await api('/pools', { body: { name: 'girlfanz asia', brand_id: GIRLFANZ, origins: [{ url: 'https://asia.origin.test', region: 'AS' }] } })
  const pool = await body<{ id: string; origins: Array<{ id: string }> }>(res)
  asiaPool = pool.id
  asiaOrigin = pool.origins[0]!.id
  // named by a route rule, the pool (path prefix '/') serves only the visitors the rule routes
  japanRule = await createRule({ brand_id: GIRLFANZ, country: 'JP', action: 'route', pool_id: asiaPool })
})

afterAll(() => stub.uninstall())

describe('geo rules', () => {
  it('blocks a country: the brand answers 451 BLOCKED_JURISDICTION there, and only there', async () => {
    const rule = await createRule({ brand_id: GIRLFANZ, country: 'br', action: 'block', note: 'counsel advice' })
    expect(rule).toMatchObject({ brand_id: GIRLFANZ, country: 'BR', region: null, action: 'block', pool_id: null })

    const blocked = await call(HOST, '/c/alice', { cf: BRAZIL })
    expect(blocked.status).toBe(451)
    expect(blocked.headers.get('content-type')).toBe('application/problem+json')
    const problem = await body<ProblemBody>(blocked)
    expect(problem.code).toBe('BLOCKED_JURISDICTION')
    // the operator rule id stays out of the visitor's answer
    expect(problem.detail).not.toContain(rule.id)

    // a browser navigation gets the site's own 451 page instead
    const page = await call(HOST, '/', { cf: BRAZIL, headers: { accept: 'text/html' } })
    expect(page.status).toBe(451)
    expect(page.headers.get('content-type')).toContain('text/html')

    expect((await call(HOST, '/', { cf: cf('US', 'CA') })).status).toBe(200)
    expect((await call('boyfanz.localhost', '/', { cf: BRAZIL })).status).toBe(200)
    // the API is not a brand page: admins in Brazil still reach it
    expect((await call(HOST, '/api/routing/brands', { cf: BRAZIL, token: undefined })).status).toBe(401)

    const entries = await auditEntries('routing.geo_rule.create', rule.id)
    expect(entries[0]?.details).toMatchObject({ country: 'BR', action: 'block', brand_id: GIRLFANZ })

    expect((await api(`/geo-rules/${rule.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(HOST, '/', { cf: BRAZIL })).status).toBe(200)
    expect(await auditEntries('routing.geo_rule.delete', rule.id)).toHaveLength(1)
  })

  it('blocks by region when the rule names one', async () => {
    const rule = await createRule({ brand_id: null, country: 'BR', region: 'RJ', action: 'block' })
    expect((await call(HOST, '/', { cf: cf('BR', 'RJ', 'SA') })).status).toBe(451)
    expect((await call('pupfanz.localhost', '/', { cf: cf('BR', 'RJ', 'SA') })).status).toBe(451)
    expect((await call(HOST, '/', { cf: BRAZIL })).status).toBe(200)
    await api(`/geo-rules/${rule.id}`, { method: 'DELETE' })
  })

  it("routes a country's visitors to the rule's pool; everyone else keeps the site", async () => {
    const rule = japanRule
    stub.reset()
    const routed = await call(HOST, '/c/alice', { cf: JAPAN })
    expect(routed.status).toBe(200)
    expect(routed.headers.get('x-fanz-origin')).toBe(asiaOrigin)
    expect(await routed.text()).toBe('asia /c/alice')

    // the pool is reserved for the visitors the rule routes: not matched by path for others
    const other = await call(HOST, '/c/alice', { cf: cf('US', 'CA') })
    expect(other.headers.get('x-fanz-origin')).toBeNull()
    expect(await other.text()).toContain('Alice')
    expect(stub.calls).toHaveLength(1)

    // a pool in use by a rule cannot be deleted
    const del = await api(`/pools/${asiaPool}`, { method: 'DELETE' })
    expect(del.status).toBe(409)
    expect((await body<ProblemBody>(del)).detail).toContain(rule.id)

    // switching the rule to age_gate drops its pool
    const changed = await body<RuleBody>(await api(`/geo-rules/${rule.id}`, { method: 'PATCH', body: { action: 'age_gate' } }))
    expect(changed).toMatchObject({ action: 'age_gate', pool_id: null })
    // no rule names the pool any more: it now serves girlfanz paths by prefix ('/') for everyone...
    const everyone = await call(HOST, '/c/alice', { cf: cf('US', 'CA') })
    expect(everyone.headers.get('x-fanz-origin')).toBe(asiaOrigin)
    // ...except visitors who still have to pass the age gate: content is never proxied ungated
    const gated = await call(HOST, '/c/alice', { cf: JAPAN })
    expect(gated.status).toBe(403)
    expect(gated.headers.get('x-fanz-origin')).toBeNull()
    expect((await body<ProblemBody>(gated)).code).toBe('FORBIDDEN')
    expect(await auditEntries('routing.geo_rule.update', rule.id)).toHaveLength(1)
  })

  it('validates rules with 422 naming the field, and refuses duplicates with 409', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ country: 'JP', action: 'route' }, 'body.pool_id'],
      [{ country: 'JP', action: 'block', pool_id: asiaPool }, 'body.pool_id'],
      [{ country: 'Japan', action: 'block' }, 'body.country'],
      [{ country: 'JP', region: 'Tokyo', action: 'block' }, 'body.region'],
      [{ country: 'JP', action: 'redirect' }, 'body.action'],
      [{ country: 'JP', action: 'block', priority: 1 }, 'body.priority'],
      [{ country: 'JP', action: 'block', brand_id: 'brd_missing' }, 'body.brand_id'],
      [{ country: 'JP', action: 'route', pool_id: 'pool_missing' }, 'body.pool_id'],
      // the pool serves girlfanz only: a rule for pupfanz (or for every brand) cannot use it
      [{ country: 'JP', action: 'route', pool_id: asiaPool, brand_id: PUPFANZ }, 'body.pool_id'],
      [{ country: 'KR', action: 'route', pool_id: asiaPool }, 'body.pool_id'],
    ]
    for (const [rule, path] of cases) {
      const res = await api('/geo-rules', { body: rule })
      expect(res.status, JSON.stringify(rule)).toBe(422)
      expect((await body<ProblemBody>(res)).errors?.[0]?.path, JSON.stringify(rule)).toBe(path)
    }
    const first = await createRule({ brand_id: GIRLFANZ, country: 'AR', action: 'age_gate' })
    const duplicate = await api('/geo-rules', { body: { brand_id: GIRLFANZ, country: 'AR', action: 'age_gate' } })
    expect(duplicate.status).toBe(409)
    expect((await body<ProblemBody>(duplicate)).detail).toContain(first.id)
  })

  it('lists rules by country and 404s an unknown one', async () => {
    const list = await body<{ items: RuleBody[] }>(await api('/geo-rules?country=ar'))
    expect(list.items.map((r) => [r.country, r.action])).toEqual([['AR', 'age_gate']])
    expect((await api('/geo-rules/geo_missing')).status).toBe(404)
    expect((await api('/geo-rules/geo_missing', { method: 'PATCH', body: { note: 'x' } })).status).toBe(404)
  })
})
