import { createRoute, z } from '@hono/zod-openapi'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { tokenFor } from '../../test/helpers'
import { json, jsonBody, problemResponses } from '../api/schemas'
import { authenticate } from '../edge/auth'
import { withConfig } from '../edge/config'
import { ProblemError } from '../edge/problem'
import { createSurfaceApp } from '../edge/surface'
import {
  IDEMPOTENT_REPLAYED_HEADER,
  MAX_KEY_LENGTH,
  idempotent,
  idempotencyScope,
  parseIdempotencyKey,
  requestFingerprint,
  withIdempotency,
} from './idempotency'

// ---------------------------------------------------------------------------------------------
// A test-only app: the real auth middleware, the middleware under test, and handlers whose every
// run leaves a row in D1, so "ran once" is read from the database, not from a counter we keep.

/** Added to the middleware's clock: moves time for the expiry test. */
let clockOffsetMs = 0
/** charge ids whose next run throws before answering (then the id is removed) */
const throwOnce = new Set<string>()

const ChargeBody = z.object({
  amount: z.number().int().safe().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  mode: z.enum(['ok', 'slow', 'fail500', 'throw', 'refuse', 'forbid']).default('ok'),
})
const Charge = z.object({ charge: z.string(), subject: z.string(), amount: z.number(), currency: z.string(), run: z.number() })

const chargeRoute = createRoute(
  withIdempotency(
    {
      method: 'post',
      path: '/payments/{id}/charges',
      request: { params: z.object({ id: z.string() }), body: jsonBody(ChargeBody) },
      responses: { 201: json('Charged', Charge), 500: json('The gateway failed after charging', Charge), ...problemResponses(400, 401, 422) },
    },
    { now: () => Date.now() + clockOffsetMs },
  ),
)

async function recordRun(charge: string, subject: string): Promise<number> {
  await env.DB.prepare('INSERT INTO idem_test_effects (charge, subject) VALUES (?, ?)').bind(charge, subject).run()
  return runs(charge)
}

async function runs(charge: string, subject?: string): Promise<number> {
  const row = subject === undefined
    ? await env.DB.prepare('SELECT COUNT(*) AS n FROM idem_test_effects WHERE charge = ?').bind(charge).first<{ n: number }>()
    : await env.DB.prepare('SELECT COUNT(*) AS n FROM idem_test_effects WHERE charge = ? AND subject = ?').bind(charge, subject).first<{ n: number }>()
  return row!.n
}

const app = createSurfaceApp()
app.use(withConfig, authenticate)
app.openapi(chargeRoute, async (c) => {
  const { id } = c.req.valid('param')
  const body = c.req.valid('json')
  const subject = c.var.auth!.subject
  if (body.mode === 'throw' && throwOnce.delete(id)) throw new Error('ledger unavailable')
  if (body.mode === 'forbid') {
    await recordRun(id, subject)
    throw new ProblemError('FORBIDDEN', { detail: 'not today' })
  }
  const run = await recordRun(id, subject)
  if (body.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 50))
  if (body.mode === 'refuse') throw new ProblemError('CONFLICT', { detail: `charge ${id} refused on run ${run}` })
  const result = { charge: id, subject, amount: body.amount, currency: body.currency, run }
  if (body.mode === 'fail500') return c.json(result, 500)
  c.header('location', `/payments/${id}/charges/${run}`)
  c.header('etag', `"run-${run}"`)
  c.header('x-request-id', crypto.randomUUID())
  return c.json(result, 201)
})

// plain Hono: mounted with `use` on a path pattern, bodies not stored beyond 16 bytes
app.use('/plain/*', idempotent({ maxStoredBodyBytes: 16 }))
app.post('/plain/:id', async (c) => {
  const id = c.req.param('id')
  const raw = await c.req.raw.text() // the original body is still readable after fingerprinting
  const run = await recordRun(id, c.var.auth!.subject)
  return c.json({ id, run, raw, padding: 'x'.repeat(32) }, 201)
})

let alice: string
let bob: string
let n = 0
const freshId = () => `ch_${++n}_${crypto.randomUUID().slice(0, 8)}`
const freshKey = () => `"${crypto.randomUUID()}"`

function post(path: string, options: { key?: string | string[]; token?: string; body?: unknown; rawBody?: string; contentType?: string } = {}): Promise<Response> {
  const headers = new Headers({ 'content-type': options.contentType ?? 'application/json' })
  for (const key of options.key === undefined ? [] : Array.isArray(options.key) ? options.key : [options.key]) headers.append('idempotency-key', key)
  if (options.token) headers.set('authorization', `Bearer ${options.token}`)
  const body = options.rawBody ?? JSON.stringify(options.body ?? { amount: 500, currency: 'USD' })
  return Promise.resolve(app.request(`https://api.localhost${path}`, { method: 'POST', headers, body }, env))
}

type Problem = { type: string; status: number; code: string; detail?: string; errors?: Array<{ path: string; message: string }> }

beforeAll(async () => {
  await env.DB.prepare('CREATE TABLE IF NOT EXISTS idem_test_effects (seq INTEGER PRIMARY KEY AUTOINCREMENT, charge TEXT NOT NULL, subject TEXT NOT NULL)').run()
  alice = await tokenFor(['fan'], { subject: 'usr_alice1' })
  bob = await tokenFor(['fan'], { subject: 'usr_bob1' })
})

// ---------------------------------------------------------------------------------------------

describe('parseIdempotencyKey (RFC 8941 sf-string)', () => {
  it('accepts a quoted key, with escapes, surrounding spaces and ignored parameters', () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toEqual({ ok: true, key: '8e03978e-40d5-43e8-bc93-6894a57f9324' })
    expect(parseIdempotencyKey('  "a b"  ')).toEqual({ ok: true, key: 'a b' })
    expect(parseIdempotencyKey('"say \\"hi\\" \\\\o/"')).toEqual({ ok: true, key: 'say "hi" \\o/' })
    expect(parseIdempotencyKey('"k1";v=1;x;y="z";w=?0;t=tok/1;d=1.5;b=:AQ==:')).toEqual({ ok: true, key: 'k1' })
    expect(parseIdempotencyKey(`"${'a'.repeat(MAX_KEY_LENGTH)}"`)).toEqual({ ok: true, key: 'a'.repeat(255) })
  })

  it.each([
    ['bare token', '8e03978e-40d5-43e8-bc93-6894a57f9324', /quoted string/],
    ['empty field', '', /empty/],
    ['empty string', '""', /empty string/],
    ['unterminated', '"abc', /not terminated/],
    ['bad escape', '"a\\nb"', /escaped/],
    ['tab inside', '"a\tb"', /printable ASCII/],
    ['non-ASCII', '"caf\u00e9"', /printable ASCII/],
    ['too long', `"${'a'.repeat(MAX_KEY_LENGTH + 1)}"`, /at most 255/],
    ['two keys (repeated header)', '"a", "b"', /sent once/],
    ['an inner list', '("a" "b")', /quoted string/],
    ['junk after the key', '"a" b', /after the quoted key/],
    ['malformed parameter', '"a";Bad=1', /malformed parameter/],
    ['malformed parameter value', '"a";x=@', /malformed parameter value/],
  ])('refuses %s', (_name, value, reason) => {
    const result = parseIdempotencyKey(value)
    expect(result.ok).toBe(false)
    expect((result as { reason: string }).reason).toMatch(reason)
  })
})

describe('requestFingerprint', () => {
  it('ignores JSON key order and whitespace, not values, path, method or media type', () => {
    const body = (text: string) => new TextEncoder().encode(text)
    const base = requestFingerprint('POST', '/p/1', 'application/json', body('{"a":1,"b":[1,2]}'))
    expect(base).toMatch(/^[0-9a-f]{64}$/)
    expect(requestFingerprint('post', '/p/1', 'application/json; charset=utf-8', body(' { "b": [1, 2], "a": 1.0 } '))).toBe(base)
    expect(requestFingerprint('POST', '/p/1', 'application/json', body('{"a":1,"b":[2,1]}'))).not.toBe(base)
    expect(requestFingerprint('POST', '/p/2', 'application/json', body('{"a":1,"b":[1,2]}'))).not.toBe(base)
    expect(requestFingerprint('POST', '/p/1?x=1', 'application/json', body('{"a":1,"b":[1,2]}'))).not.toBe(base)
    expect(requestFingerprint('PUT', '/p/1', 'application/json', body('{"a":1,"b":[1,2]}'))).not.toBe(base)
    expect(requestFingerprint('POST', '/p/1', 'text/plain', body('{"a":1,"b":[1,2]}'))).not.toBe(base)
    // not JSON after all: the bytes count
    expect(requestFingerprint('POST', '/p/1', 'application/json', body('{oops'))).not.toBe(requestFingerprint('POST', '/p/1', 'application/json', body('{oops ')))
  })

  it('scopes are unambiguous tuples', () => {
    expect(idempotencyScope('sub:usr_a', 'post', '/x/:id', 'k')).toBe('["sub:usr_a","POST","/x/:id","k"]')
    expect(idempotencyScope('a","b', 'POST', '/x', 'k')).not.toBe(idempotencyScope('a', 'POST', 'b","/x', 'k'))
  })
})

describe('idempotent() through requests', () => {
  it('runs the first request once and replays it exactly, with Idempotent-Replayed', async () => {
    const id = freshId()
    const key = freshKey()
    const first = await post(`/payments/${id}/charges`, { key, token: alice })
    expect(first.status).toBe(201)
    expect(first.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBeNull()
    const firstBody = await first.text()
    expect(JSON.parse(firstBody)).toEqual({ charge: id, subject: 'usr_alice1', amount: 500, currency: 'USD', run: 1 })

    const again = await post(`/payments/${id}/charges`, { key, token: alice })
    expect(again.status).toBe(201)
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await again.text()).toBe(firstBody)
    for (const name of ['content-type', 'location', 'etag']) expect(again.headers.get(name)).toBe(first.headers.get(name))
    expect(again.headers.get('location')).toBe(`/payments/${id}/charges/1`)
    // per-request headers are not replayed
    expect(first.headers.get('x-request-id')).not.toBeNull()
    expect(again.headers.get('x-request-id')).toBeNull()
    expect(await runs(id)).toBe(1)
  })

  it('replays for a semantically equal JSON body (key order, whitespace)', async () => {
    const id = freshId()
    const key = freshKey()
    expect((await post(`/payments/${id}/charges`, { key, token: alice, rawBody: '{"amount":500,"currency":"USD"}' })).status).toBe(201)
    const again = await post(`/payments/${id}/charges`, { key, token: alice, rawBody: '{ "currency": "USD",\n "amount": 500 }' })
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await runs(id)).toBe(1)
  })

  it('runs the handler once for 20 concurrent identical requests; the others get 409 or the replay', async () => {
    const id = freshId()
    const key = freshKey()
    const body = { amount: 700, currency: 'EUR', mode: 'slow' }
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(`/payments/${id}/charges`, { key, token: alice, body })))
    const results = await Promise.all(responses.map(async (res) => ({ status: res.status, replayed: res.headers.get(IDEMPOTENT_REPLAYED_HEADER), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code?: string; run?: number } })))
    const originals = results.filter((r) => r.status === 201 && r.replayed === null)
    expect(originals).toHaveLength(1)
    for (const r of results) {
      if (r.status === 409) {
        expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT')
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1)
      } else {
        expect(r.status).toBe(201)
        expect(r.body.run).toBe(1)
      }
    }
    expect(results.filter((r) => r.status === 409).length).toBeGreaterThan(0)
    expect(await runs(id)).toBe(1)
  })

  it('answers 422 for the same key with another body or another path on the same route', async () => {
    const id = freshId()
    const key = freshKey()
    expect((await post(`/payments/${id}/charges`, { key, token: alice })).status).toBe(201)
    const other = await post(`/payments/${id}/charges`, { key, token: alice, body: { amount: 501, currency: 'USD' } })
    expect(other.status).toBe(422)
    expect(other.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await other.json()) as Problem
    expect(problem).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED', type: 'https://api.localhost/api/docs#idempotency' })
    const otherPath = await post(`/payments/${freshId()}/charges`, { key, token: alice })
    expect(otherPath.status).toBe(422)
    expect(await runs(id)).toBe(1)
  })

  it('answers 400 naming header.idempotency-key when the key is missing', async () => {
    const id = freshId()
    const res = await post(`/payments/${id}/charges`, { token: alice })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await res.json()) as Problem
    expect(problem).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_MISSING', type: 'https://api.localhost/api/docs#idempotency' })
    expect(problem.errors).toEqual([{ path: 'header.idempotency-key', message: 'is required on this operation' }])
    expect(await runs(id)).toBe(0)
  })

  it.each([
    ['a bare token', 'abc-123'],
    ['a key over 255 characters', `"${'k'.repeat(256)}"`],
    ['two headers', ['"k-1"', '"k-2"']],
    ['a control character', '"a\tb"'],
  ])('answers 400 for %s', async (_name, key) => {
    const id = freshId()
    const res = await post(`/payments/${id}/charges`, { key, token: alice })
    expect(res.status).toBe(400)
    const problem = (await res.json()) as Problem
    expect(problem.code).toBe('IDEMPOTENCY_KEY_INVALID')
    expect(problem.type).toBe('https://api.localhost/api/docs#idempotency')
    expect(problem.errors?.[0]?.path).toBe('header.idempotency-key')
    expect(await runs(id)).toBe(0)
  })

  it('requires an authenticated caller (no scoping by IP)', async () => {
    const id = freshId()
    const res = await post(`/payments/${id}/charges`, { key: freshKey() })
    expect(res.status).toBe(401)
    expect(((await res.json()) as Problem).code).toBe('UNAUTHENTICATED')
    expect(await runs(id)).toBe(0)
  })

  it('stores a 500 the handler produced and replays it without running again', async () => {
    const id = freshId()
    const key = freshKey()
    const body = { amount: 900, currency: 'GBP', mode: 'fail500' }
    const first = await post(`/payments/${id}/charges`, { key, token: alice, body })
    expect(first.status).toBe(500)
    const again = await post(`/payments/${id}/charges`, { key, token: alice, body })
    expect(again.status).toBe(500)
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await again.json()).toEqual(await first.json())
    expect(await runs(id)).toBe(1)
  })

  it('releases the key when the handler threw before answering, so a retry proceeds', async () => {
    const id = freshId()
    const key = freshKey()
    const body = { amount: 100, currency: 'USD', mode: 'throw' }
    throwOnce.add(id)
    const first = await post(`/payments/${id}/charges`, { key, token: alice, body })
    expect(first.status).toBe(500)
    expect(((await first.json()) as Problem).code).toBe('INTERNAL_ERROR')
    expect(await runs(id)).toBe(0)
    const retry = await post(`/payments/${id}/charges`, { key, token: alice, body })
    expect(retry.status).toBe(201)
    expect(retry.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBeNull()
    expect(await runs(id)).toBe(1)
    // and that answer is what is replayed from now on
    expect((await post(`/payments/${id}/charges`, { key, token: alice, body })).headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await runs(id)).toBe(1)
  })

  it('stores a client error the handler threw (decided on the payload), but not a 403', async () => {
    const refusedId = freshId()
    const refusedKey = freshKey()
    const refuse = { amount: 100, currency: 'USD', mode: 'refuse' }
    const first = await post(`/payments/${refusedId}/charges`, { key: refusedKey, token: alice, body: refuse })
    expect(first.status).toBe(409)
    const firstBody = (await first.json()) as Problem
    expect(firstBody).toMatchObject({ code: 'CONFLICT', detail: `charge ${refusedId} refused on run 1` })
    const again = await post(`/payments/${refusedId}/charges`, { key: refusedKey, token: alice, body: refuse })
    expect(again.status).toBe(409)
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(((await again.json()) as Problem).detail).toBe(`charge ${refusedId} refused on run 1`)
    expect(await runs(refusedId)).toBe(1)

    const forbiddenId = freshId()
    const forbiddenKey = freshKey()
    const forbid = { amount: 100, currency: 'USD', mode: 'forbid' }
    expect((await post(`/payments/${forbiddenId}/charges`, { key: forbiddenKey, token: alice, body: forbid })).status).toBe(403)
    const retried = await post(`/payments/${forbiddenId}/charges`, { key: forbiddenKey, token: alice, body: forbid })
    expect(retried.status).toBe(403)
    expect(retried.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBeNull()
    expect(await runs(forbiddenId)).toBe(2)
  })

  it('validators downstream still see the body; their 422 is replayed for the same body', async () => {
    const id = freshId()
    const key = freshKey()
    const invalid = { amount: -5, currency: 'usd' }
    const first = await post(`/payments/${id}/charges`, { key, token: alice, body: invalid })
    expect(first.status).toBe(422)
    const problem = (await first.json()) as Problem
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['body.amount', 'body.currency'])
    const again = await post(`/payments/${id}/charges`, { key, token: alice, body: invalid })
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await runs(id)).toBe(0)
  })

  it('forgets a key 24 h after the first request', async () => {
    const id = freshId()
    const key = freshKey()
    expect((await post(`/payments/${id}/charges`, { key, token: alice })).status).toBe(201)
    try {
      clockOffsetMs = 24 * 3_600_000 - 60_000 // the real clock moves between requests too
      expect((await post(`/payments/${id}/charges`, { key, token: alice })).headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
      clockOffsetMs = 24 * 3_600_000
      const later = await post(`/payments/${id}/charges`, { key, token: alice })
      expect(later.status).toBe(201)
      expect(later.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBeNull()
      expect(((await later.json()) as { run: number }).run).toBe(2)
    } finally {
      clockOffsetMs = 0
    }
    expect(await runs(id)).toBe(2)
  })

  it('keeps two callers with the same key apart', async () => {
    const id = freshId()
    const key = freshKey()
    const a = await post(`/payments/${id}/charges`, { key, token: alice })
    const b = await post(`/payments/${id}/charges`, { key, token: bob })
    expect(a.status).toBe(201)
    expect(b.status).toBe(201)
    expect(b.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBeNull()
    expect(((await a.json()) as { subject: string }).subject).toBe('usr_alice1')
    expect(((await b.json()) as { subject: string }).subject).toBe('usr_bob1')
    // each replays only their own
    const bAgain = await post(`/payments/${id}/charges`, { key, token: bob })
    expect(((await bAgain.json()) as { subject: string; run: number })).toMatchObject({ subject: 'usr_bob1', run: 2 })
    expect(await runs(id, 'usr_alice1')).toBe(1)
    expect(await runs(id, 'usr_bob1')).toBe(1)
  })

  it('works mounted with use() on plain routes: the handler reads the raw body; an over-limit body is not replayed', async () => {
    const id = freshId()
    const key = freshKey()
    const first = await post(`/plain/${id}`, { key, token: alice, rawBody: 'hello', contentType: 'text/plain' })
    expect(first.status).toBe(201)
    expect(await first.json()).toMatchObject({ id, run: 1, raw: 'hello' })
    // the same key on a different route template is a different record
    expect((await post(`/payments/${id}/charges`, { key, token: alice })).status).toBe(201)
    const again = await post(`/plain/${id}`, { key, token: alice, rawBody: 'hello', contentType: 'text/plain' })
    expect(again.status).toBe(409)
    expect(again.headers.get(IDEMPOTENT_REPLAYED_HEADER)).toBe('true')
    expect(await again.json()).toMatchObject({ code: 'CONFLICT', original_status: 201 })
    expect((await post(`/plain/${id}`, { key, token: alice, rawBody: 'hello!', contentType: 'text/plain' })).status).toBe(422)
    expect(await runs(id)).toBe(2)
  })
})

describe('withIdempotency (OpenAPI)', () => {
  it('documents the header parameter and the 400/409/422 answers', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } })
    const op = doc.paths!['/payments/{id}/charges']!.post!
    const header = (op.parameters as Array<{ name: string; in: string; required?: boolean; description?: string }>).find((p) => p.in === 'header')
    expect(header).toMatchObject({ name: 'idempotency-key', required: true })
    expect(header!.description).toContain('sf-string')
    expect(Object.keys(op.responses!).sort()).toEqual(['201', '400', '401', '409', '422', '500'])
  })

  it('refuses options it cannot honour when the route is built', () => {
    expect(() => idempotent({ ttlMs: 1000 })).toThrow(RangeError)
    expect(() => idempotent({ replayHeaders: ['Set-Cookie'] })).toThrow(/set-cookie/)
  })
})
