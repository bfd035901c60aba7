import { describe, expect, it } from 'vitest'
import { api, auditEntries, body, type ProblemBody } from './test-support'

const PUPFANZ = 'brd_01JFANZ0000000000000000003'

interface OriginBody {
  id: string
  pool_id: string
  url: string
  region: string
  priority: number
  status: string
  last_checked_at: string | null
}

interface PoolBody {
  id: string
  name: string
  brand_id: string | null
  path_prefix: string
  health_path: string
  expected_status: number
  fail_threshold: number
  ok_threshold: number
  timeout_ms: number
  origins: OriginBody[]
}

async function createPool(extra: Record<string, unknown> = {}): Promise<PoolBody> {
  const res = await api('/pools', { body: { name: 'media', path_prefix: '/media', ...extra } })
  if (res.status !== 201) throw new Error(`pool create failed: ${res.status} ${await res.text()}`)
  return body<PoolBody>(res)
}

describe('origin pools', () => {
  it('creates a pool with defaults and origins, and audits it', async () => {
    const pool = await createPool({ brand_id: PUPFANZ, origins: [{ url: 'https://m1.example.net/base/', region: 'EU', priority: 2 }, { url: 'http://localhost:9000' }] })
    expect(pool.id).toMatch(/^pool_[0-9A-Z]{26}$/)
    expect(pool).toMatchObject({ name: 'media', brand_id: PUPFANZ, path_prefix: '/media', health_path: '/', expected_status: 200, fail_threshold: 3, ok_threshold: 2, timeout_ms: 5000 })
    // normalised (no trailing slash), defaults applied, listed by priority
    expect(pool.origins.map((o) => [o.url, o.region, o.priority, o.status])).toEqual([
      ['http://localhost:9000', '*', 0, 'up'],
      ['https://m1.example.net/base', 'EU', 2, 'up'],
    ])
    const got = await body<PoolBody>(await api(`/pools/${pool.id}`))
    expect(got.origins).toHaveLength(2)
    const entries = await auditEntries('routing.pool.create', pool.id)
    expect(entries[0]?.details).toMatchObject({ name: 'media', brand_id: PUPFANZ, path_prefix: '/media' })
  })

  it('validates pool fields and origins with 422 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', path_prefix: 'media' }, 'body.path_prefix'],
      [{ name: 'x', fail_threshold: 0 }, 'body.fail_threshold'],
      [{ name: 'x', timeout_ms: 60_000 }, 'body.timeout_ms'],
      [{ name: 'x', expected_status: 99 }, 'body.expected_status'],
      [{ name: 'x', weight: 3 }, 'body.weight'],
      [{ name: 'x', brand_id: 'brd_missing' }, 'body.brand_id'],
      [{ name: 'x', origins: [{ url: 'ftp://files.example.net' }] }, 'body.origins.0.url'],
      [{ name: 'x', origins: [{ url: 'not a url' }] }, 'body.origins.0.url'],
      [{ name: 'x', origins: [{ url: 'https://ok.example.net', region: 'EUROPE' }] }, 'body.origins.0.region'],
      [{ name: 'x', origins: [{ url: 'https://ok.example.net', priority: -1 }] }, 'body.origins.0.priority'],
      [{ name: 'x', origins: [{ url: 'https://user:pw@ok.example.net' }] }, 'body.origins.0.url'],
      [{ name: 'x', origins: [{ url: 'https://ok.example.net/?a=1' }] }, 'body.origins.0.url'],
      [{ name: 'x', origins: [{ url: 'https://ok.example.net', weight: 1 }] }, 'body.origins.0.weight'],
    ]
    for (const [pool, path] of cases) {
      const res = await api('/pools', { body: pool })
      expect(res.status, JSON.stringify(pool)).toBe(422)
      expect((await body<ProblemBody>(res)).errors?.[0]?.path, JSON.stringify(pool)).toBe(path)
    }
  })

  it('answers 409 for an origin url listed twice in one pool', async () => {
    const twice = await api('/pools', { body: { name: 'x', origins: [{ url: 'https://dup.example.net' }, { url: 'https://dup.example.net/' }] } })
    expect(twice.status).toBe(409)
    const pool = await createPool({ origins: [{ url: 'https://one.example.net' }] })
    const again = await api(`/pools/${pool.id}/origins`, { body: { url: 'https://one.example.net/' } })
    expect(again.status).toBe(409)
    expect((await body<ProblemBody>(again)).code).toBe('CONFLICT')
  })

  it('updates a pool and lists pools by brand', async () => {
    const pool = await createPool({ brand_id: PUPFANZ, name: 'to update' })
    const res = await api(`/pools/${pool.id}`, { method: 'PATCH', body: { fail_threshold: 5, health_path: '/status', brand_id: null } })
    expect(res.status).toBe(200)
    expect(await body<PoolBody>(res)).toMatchObject({ fail_threshold: 5, health_path: '/status', brand_id: null, name: 'to update' })
    expect((await auditEntries('routing.pool.update', pool.id))[0]?.details).toEqual({ changes: { fail_threshold: 5, health_path: '/status', brand_id: null } })
    const list = await body<{ items: PoolBody[] }>(await api(`/pools?brand_id=${PUPFANZ}`))
    expect(list.items.map((p) => p.id)).not.toContain(pool.id)
    expect(list.items.every((p) => p.brand_id === PUPFANZ)).toBe(true)
    const bad = await api(`/pools/${pool.id}`, { method: 'PATCH', body: { ok_threshold: 'two' } })
    expect((await body<ProblemBody>(bad)).errors?.[0]?.path).toBe('body.ok_threshold')
    expect((await api('/pools/pool_missing', { method: 'PATCH', body: { name: 'x' } })).status).toBe(404)
  })

  it('adds, changes and removes origins, auditing each step', async () => {
    const pool = await createPool()
    const added = await api(`/pools/${pool.id}/origins`, { body: { url: 'https://o.example.net', region: 'AS', priority: 3 } })
    expect(added.status).toBe(201)
    const origin = await body<OriginBody>(added)
    expect(origin).toMatchObject({ pool_id: pool.id, url: 'https://o.example.net', region: 'AS', priority: 3, status: 'up', last_checked_at: null })
    expect(origin.id).toMatch(/^org_/)

    const changed = await body<OriginBody>(await api(`/origins/${origin.id}`, { method: 'PATCH', body: { priority: 1, url: 'https://o2.example.net' } }))
    expect(changed).toMatchObject({ priority: 1, url: 'https://o2.example.net', region: 'AS' })
    const listed = await body<{ items: OriginBody[] }>(await api(`/pools/${pool.id}/origins`))
    expect(listed.items.map((o) => o.url)).toEqual(['https://o2.example.net'])

    expect((await api(`/origins/${origin.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await api(`/origins/${origin.id}`)).status).toBe(404)
    expect((await auditEntries('routing.origin.create', origin.id))[0]?.details).toMatchObject({ pool_id: pool.id, url: 'https://o.example.net' })
    expect((await auditEntries('routing.origin.update', origin.id))[0]?.details).toMatchObject({ changes: { priority: 1, url: 'https://o2.example.net' } })
    expect(await auditEntries('routing.origin.delete', origin.id)).toHaveLength(1)
    expect((await api('/pools/pool_missing/origins', { body: { url: 'https://x.example.net' } })).status).toBe(404)
  })

  it('deletes a pool with its origins', async () => {
    const pool = await createPool({ origins: [{ url: 'https://gone.example.net' }] })
    expect((await api(`/pools/${pool.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await api(`/pools/${pool.id}`)).status).toBe(404)
    expect((await api(`/origins/${pool.origins[0]?.id}`)).status).toBe(404)
    expect((await auditEntries('routing.pool.delete', pool.id))[0]?.details).toEqual({ name: 'media', origins: [pool.origins[0]?.id] })
  })
})
