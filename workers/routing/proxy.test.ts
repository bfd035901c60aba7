import { createScheduledController } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { call, cf } from '../../test/helpers'
import { CRON_EVERY_MINUTE, runScheduled } from '../jobs'
import { runHealthChecks } from './health'
import { api, auditEntries, body, OriginStub, type ProblemBody } from './test-support'

const BOYFANZ = 'brd_01JFANZ0000000000000000001'
const HOST = 'boyfanz.localhost'
const A = 'a.origin.test'
const B = 'b.origin.test'
const E = 'e.origin.test'
const NA = cf('US', 'CA', 'NA')
/** a European place with no age-verification law in the table, so nothing gates the visitor */
const EUROPE = cf('CH', 'ZH', 'EU')

type Mode = 'ok' | '5xx' | 'network'
const healthy = new Map<string, boolean>()
const traffic = new Map<string, Mode>()
const stub = new OriginStub()
const ids: Record<string, string> = {}
let minute = 0
const nextCheckTime = () => Date.now() + ++minute * 60_000

function origin(host: string) {
  return (request: Request): Response => {
    const url = new URL(request.url)
    if (url.pathname === '/healthz') return new Response(healthy.get(host) === false ? 'sick' : 'ok', { status: healthy.get(host) === false ? 503 : 200 })
    const mode = traffic.get(host) ?? 'ok'
    if (mode === 'network') throw new TypeError('Network connection lost.')
    if (mode === '5xx') return new Response('upstream broke', { status: 502 })
    return new Response(`from ${host} ${request.method} ${url.pathname}${url.search}`, {
      status: 200,
      headers: { 'content-type': 'text/plain', connection: 'keep-alive, x-internal', 'keep-alive': 'timeout=5', 'x-internal': 'secret', 'x-origin-header': 'kept' },
    })
  }
}

beforeAll(async () => {
  stub.install()
  for (const host of [A, B, E]) stub.on(host, origin(host))
  const res = await api('/pools', {
    body: {
      name: 'boyfanz app',
      brand_id: BOYFANZ,
      path_prefix: '/app',
      health_path: '/healthz',
      fail_threshold: 2,
      ok_threshold: 2,
      timeout_ms: 1000,
      origins: [
        { url: `https://${A}`, region: 'NA', priority: 0 },
        { url: `https://${B}/`, region: 'NA', priority: 1 },
        { url: `https://${E}`, region: 'EU', priority: 0 },
      ],
    },
  })
  expect(res.status).toBe(201)
  const pool = await body<{ origins: Array<{ id: string; url: string }> }>(res)
  for (const o of pool.origins) ids[new URL(o.url).host] = o.id
})

afterAll(() => stub.uninstall())

beforeEach(() => {
  stub.reset()
  traffic.clear()
})

describe('origin proxy', () => {
  it('serves a pool path from the nearest healthy origin, re-wrapped with edge headers', async () => {
    const res = await call(HOST, '/app/page?q=1', { cf: NA, headers: { 'x-forwarded-host': 'evil.example', connection: 'close' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(`from ${A} GET /app/page?q=1`)
    expect(res.headers.get('x-fanz-origin')).toBe(ids[A])
    expect(res.headers.get('x-origin-header')).toBe('kept')
    // hop-by-hop fields, including those the origin listed in Connection, stop at the edge
    expect(res.headers.get('keep-alive')).toBeNull()
    expect(res.headers.get('x-internal')).toBeNull()
    // the edge could add its own headers to the upstream answer
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')

    const sent = stub.traffic(A)
    expect(sent).toHaveLength(1)
    expect(sent[0]?.headers.get('x-forwarded-host')).toBe(HOST)
    expect(sent[0]?.headers.get('x-forwarded-proto')).toBe('http')
    expect(sent[0]?.headers.get('x-fanz-brand')).toBe('boyfanz')
    expect(sent[0]?.headers.get('x-request-id')).toBe(res.headers.get('x-request-id'))
  })

  it("prefers the visitor's continent, then the other healthy origins", async () => {
    const eu = await call(HOST, '/app/x', { cf: EUROPE })
    expect(eu.headers.get('x-fanz-origin')).toBe(ids[E])
    expect(await eu.text()).toBe(`from ${E} GET /app/x`)
    const elsewhere = await call(HOST, '/app/x', { cf: cf('JP', '13', 'AS') })
    // no Asian origin: lowest priority first across the rest (A and E tie at 0; A is older)
    expect(elsewhere.headers.get('x-fanz-origin')).toBe(ids[A])
  })

  it('leaves other paths to the site (segment-aware prefix)', async () => {
    const home = await call(HOST, '/', { cf: NA })
    expect(home.status).toBe(200)
    expect(home.headers.get('x-fanz-origin')).toBeNull()
    expect(await home.text()).toContain('BoyFanz')
    const apple = await call(HOST, '/application', { cf: NA })
    expect(apple.headers.get('x-fanz-origin')).toBeNull()
    expect(stub.calls).toHaveLength(0)
  })

  it('fails over to the next origin when the preferred one answers 5xx or is unreachable (GET)', async () => {
    traffic.set(A, '5xx')
    const res = await call(HOST, '/app/a', { cf: NA })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-fanz-origin')).toBe(ids[B])
    expect(await res.text()).toBe(`from ${B} GET /app/a`)
    expect(stub.traffic(A)).toHaveLength(1)
    expect(stub.traffic(B)).toHaveLength(1)

    traffic.set(A, 'network')
    traffic.set(B, '5xx')
    const third = await call(HOST, '/app/b', { cf: NA })
    expect(third.headers.get('x-fanz-origin')).toBe(ids[E])
  })

  it('tries a non-idempotent request once and passes the 5xx through', async () => {
    traffic.set(A, '5xx')
    const res = await call(HOST, '/app/form', { cf: NA, method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(res.status).toBe(502)
    expect(res.headers.get('x-fanz-origin')).toBe(ids[A])
    expect(stub.calls.map((c) => c.host)).toEqual([A])
  })

  it('answers 502 UPSTREAM_ERROR when no origin can be reached', async () => {
    for (const host of [A, B, E]) traffic.set(host, 'network')
    const res = await call(HOST, '/app/x', { cf: NA })
    expect(res.status).toBe(502)
    expect((await body<ProblemBody>(res)).code).toBe('UPSTREAM_ERROR')
    expect(stub.calls).toHaveLength(3)
  })
})

describe('health checks drive the proxy', () => {
  it('keeps a failing origin until fail_threshold failed probes, then stops sending it traffic', async () => {
    healthy.set(A, false)
    const first = await runHealthChecks(env, nextCheckTime())
    expect(first).toMatchObject({ checked: 3, transitions: [] })
    // one failed probe: still up, still tried first (it fails, so the request fails over)
    traffic.set(A, '5xx')
    const during = await call(HOST, '/app/x', { cf: NA })
    expect(during.headers.get('x-fanz-origin')).toBe(ids[B])
    expect(stub.traffic(A)).toHaveLength(1)

    const second = await runHealthChecks(env, nextCheckTime())
    expect(second.transitions).toEqual([{ originId: ids[A], to: 'down' }])
    stub.reset()
    const after = await call(HOST, '/app/x', { cf: NA })
    expect(after.headers.get('x-fanz-origin')).toBe(ids[B])
    expect(stub.traffic(A)).toHaveLength(0)

    const down = await auditEntries('routing.origin.down', ids[A])
    expect(down).toHaveLength(1)
    expect(down[0]).toMatchObject({ actor: 'system:health', details: { consecutive_failures: 2, status_code: 503, url: `https://${A}` } })
  })

  it('takes the origin back after ok_threshold good probes (driven by the cron handler)', async () => {
    healthy.set(A, true)
    await runScheduled(createScheduledController({ cron: CRON_EVERY_MINUTE, scheduledTime: nextCheckTime() }), env)
    const still = await call(HOST, '/app/x', { cf: NA })
    expect(still.headers.get('x-fanz-origin')).toBe(ids[B])
    expect(stub.traffic(A)).toHaveLength(0)

    await runScheduled(createScheduledController({ cron: CRON_EVERY_MINUTE, scheduledTime: nextCheckTime() }), env)
    const back = await call(HOST, '/app/x', { cf: NA })
    expect(back.headers.get('x-fanz-origin')).toBe(ids[A])
    expect(stub.traffic(A)).toHaveLength(1)
    const up = await auditEntries('routing.origin.up', ids[A])
    expect(up).toHaveLength(1)
    expect(up[0]).toMatchObject({ actor: 'system:health', details: { consecutive_successes: 2 } })

    const origin = await body<{ status: string; consecutive_successes: number; consecutive_failures: number; last_error: string | null }>(await api(`/origins/${ids[A]}`))
    expect(origin).toMatchObject({ status: 'up', consecutive_successes: 2, consecutive_failures: 0, last_error: null })
  })

  it('records every probe, newest first, with the flipping probes marked', async () => {
    const first = await body<{ items: Array<Record<string, unknown>>; next_cursor: string | null }>(await api(`/origins/${ids[A]}/health?limit=3`))
    expect(first.items.map((i) => [i.ok, i.transition, i.status_code])).toEqual([
      [true, 'up', 200],
      [true, null, 200],
      [false, 'down', 503],
    ])
    expect(first.items[2]?.error).toBe('status 503, expected 200')
    expect(first.next_cursor).toEqual(expect.any(String))
    const rest = await body<{ items: Array<Record<string, unknown>>; next_cursor: string | null }>(await api(`/origins/${ids[A]}/health?limit=3&cursor=${first.next_cursor}`))
    expect(rest.items.map((i) => [i.ok, i.transition])).toEqual([[false, null]])
    expect(rest.next_cursor).toBeNull()
    expect((await api('/origins/org_missing/health')).status).toBe(404)
  })

  it('answers 503 NO_HEALTHY_ORIGIN when every origin of the pool is down; other paths still work', async () => {
    for (const host of [A, B, E]) healthy.set(host, false)
    await runHealthChecks(env, nextCheckTime())
    await runHealthChecks(env, nextCheckTime())
    const res = await call(HOST, '/app/x', { cf: NA })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect((await body<ProblemBody>(res)).code).toBe('NO_HEALTHY_ORIGIN')
    expect(stub.traffic(A).length + stub.traffic(B).length + stub.traffic(E).length).toBe(0)
    expect((await call(HOST, '/', { cf: NA })).status).toBe(200)

    for (const host of [A, B, E]) healthy.set(host, true)
    await runHealthChecks(env, nextCheckTime())
    const report = await runHealthChecks(env, nextCheckTime())
    expect(report.transitions.map((t) => t.to)).toEqual(['up', 'up', 'up'])
  })
})
