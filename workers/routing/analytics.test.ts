import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, cf } from '../../test/helpers'
import { analyticsSink, flushAnalytics, latencyBucket, LATENCY_BUCKETS } from './analytics'
import { FLUSH_AGE_MS, FLUSH_ROWS } from './analytics-local'
import { buildEngineSql } from './analytics-engine'
import { API, api, body, createBrand, type ProblemBody } from './test-support'

interface Report {
  group_by: string
  source: string
  total_requests: number
  items: Array<{ key: string; requests: number; avg_latency_ms: number }>
}

async function report(query: string): Promise<Report> {
  const res = await api(`/analytics?${query}`)
  expect(res.status).toBe(200)
  return body<Report>(res)
}

const counts = (r: Report) => Object.fromEntries(r.items.map((i) => [i.key, i.requests]))

describe('per-domain analytics (local sink)', () => {
  it('counts requests by status, country, brand, hostname and latency bucket once flushed', async () => {
    const brand = await createBrand()
    // start from an empty buffer so nothing else triggers a flush during the requests below
    await flushAnalytics(env)
    for (let i = 0; i < 3; i++) expect((await call(brand.host, '/', { cf: cf('US', 'CA') })).status).toBe(200)
    for (let i = 0; i < 2; i++) expect((await call(brand.host, '/c/nobody', { cf: cf('US', 'NY') })).status).toBe(404)
    expect((await call(brand.host, '/', { cf: cf('JP', '13', 'AS') })).status).toBe(200)

    // nothing reached D1 on the request path
    expect((await report(`group_by=status&hostname=${brand.host}`)).total_requests).toBe(0)

    expect(await flushAnalytics(env)).toBeGreaterThan(0)
    const byStatus = await report(`group_by=status&hostname=${brand.host}`)
    expect(byStatus).toMatchObject({ group_by: 'status', source: 'local', total_requests: 6 })
    expect(byStatus.items.map((i) => [i.key, i.requests])).toEqual([['200', 4], ['404', 2]])

    expect(counts(await report(`group_by=country&hostname=${brand.host}`))).toEqual({ US: 5, JP: 1 })
    expect(counts(await report(`group_by=hostname&brand=${brand.slug}`))).toEqual({ [brand.host]: 6 })
    expect(counts(await report(`group_by=brand&hostname=${brand.host}`))).toEqual({ [brand.slug]: 6 })
    const latency = await report(`group_by=latency_bucket&hostname=${brand.host}`)
    expect(latency.total_requests).toBe(6)
    for (const item of latency.items) expect(LATENCY_BUCKETS).toContain(item.key)
    expect(latency.items.every((i) => i.avg_latency_ms >= 0)).toBe(true)

    // a flush adds to the stored rows instead of replacing them
    await call(brand.host, '/', { cf: cf('US', 'CA') })
    await flushAnalytics(env)
    expect(counts(await report(`group_by=status&hostname=${brand.host}`))).toEqual({ '200': 5, '404': 2 })

    // outside the window: nothing
    const past = await report(`group_by=status&hostname=${brand.host}&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`)
    expect(past.total_requests).toBe(0)
  })

  it('flushes by itself through waitUntil once the buffer holds 200 rows or is 5 s old', async () => {
    await flushAnalytics(env)
    const waited: Array<Promise<unknown>> = []
    const ctx = { waitUntil: (p: Promise<unknown>) => waited.push(p), passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext
    const sink = analyticsSink(env)
    const atMs = Date.now()
    const sample = (i: number) => ({ atMs, hostname: 'size.test', brand: 'size', country: `C${i}`, status: 200, latencyMs: 3 })
    for (let i = 0; i < FLUSH_ROWS - 1; i++) sink.record(sample(i), ctx)
    expect(waited).toHaveLength(0)
    sink.record(sample(FLUSH_ROWS - 1), ctx)
    // one flush scheduled, however many rows follow before it runs
    sink.record(sample(FLUSH_ROWS), ctx)
    expect(waited).toHaveLength(1)
    await Promise.all(waited)
    expect((await report(`group_by=country&hostname=size.test&from=${new Date(atMs - 60_000).toISOString()}`)).total_requests).toBe(FLUSH_ROWS + 1)

    // the report requests above were recorded too: start the age test from an empty buffer
    await flushAnalytics(env)
    const base = Date.now()
    sink.record({ ...sample(0), hostname: 'age.test', atMs: base }, ctx)
    sink.record({ ...sample(1), hostname: 'age.test', atMs: base + FLUSH_AGE_MS - 1 }, ctx)
    expect(waited).toHaveLength(1)
    sink.record({ ...sample(2), hostname: 'age.test', atMs: base + FLUSH_AGE_MS }, ctx)
    expect(waited).toHaveLength(2)
    await Promise.all(waited)
    expect((await report(`group_by=status&hostname=age.test&from=${new Date(base - 60_000).toISOString()}&to=${new Date(base + 120_000).toISOString()}`)).items).toEqual([{ key: '200', requests: 3, avg_latency_ms: 3 }])
  })

  it('records unknown hosts under one key, so random Host headers cannot grow the table', async () => {
    await flushAnalytics(env)
    await call('random-1.example', '/')
    await call('random-2.example', '/')
    await flushAnalytics(env)
    const unknown = await report('group_by=status&hostname=random-1.example')
    expect(unknown.total_requests).toBe(0)
    const all = counts(await report('group_by=hostname'))
    expect(all['(unknown)']).toBeGreaterThanOrEqual(2)
  })

  it('validates the query', async () => {
    const bad = await api('/analytics?group_by=city')
    expect(bad.status).toBe(400)
    expect((await body<ProblemBody>(bad)).errors?.[0]?.path).toBe('query.group_by')
    const order = await api('/analytics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')
    expect(order.status).toBe(400)
    expect((await body<ProblemBody>(order)).errors?.[0]?.path).toBe('query.from')
    expect((await call(API, '/api/routing/analytics')).status).toBe(401)
  })
})

describe('analytics building blocks', () => {
  it('buckets latency', () => {
    expect([0, 9, 10, 49, 50, 99, 100, 249, 250, 999, 1000, 60_000].map(latencyBucket)).toEqual([
      '<10ms', '<10ms', '<50ms', '<50ms', '<100ms', '<100ms', '<250ms', '<250ms', '<1000ms', '<1000ms', '>=1000ms', '>=1000ms',
    ])
  })

  it('builds the Analytics Engine SQL with sampling-corrected sums and escaped filters', () => {
    const sql = buildEngineSql('fanz_requests', { fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 2), groupBy: 'country', hostname: "girlfanz.com", brand: "o'hara" })
    expect(sql).toBe(
      "SELECT blob3 AS key, SUM(_sample_interval) AS requests, SUM(_sample_interval * double1) AS latency_sum_ms FROM fanz_requests " +
        "WHERE timestamp >= toDateTime('2026-01-01 00:00:00') AND timestamp < toDateTime('2026-01-02 00:00:00') AND blob1 = 'girlfanz.com' AND blob2 = 'o\\'hara' " +
        'GROUP BY key ORDER BY requests DESC LIMIT 1000 FORMAT JSON',
    )
    expect(() => buildEngineSql('x; DROP', { fromMs: 0, toMs: 1, groupBy: 'status' })).toThrow()
  })
})
