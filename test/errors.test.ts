import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_JSON_BODY_BYTES } from '../workers/api/app'
import { call, tokenFor } from './helpers'

// The error contract of /api, one case per status the platform promises (design.md "Errors"):
// every failure is RFC 9457 problem+json with a stable `code`, `status` equal to the HTTP status
// and the request id; validation failures name each offending field.

const API = 'api.localhost'
const devSecret = () => ({ 'x-dev-token-secret': env.DEV_TOKEN_SECRET })

interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  code: string
  request_id?: string
  errors?: Array<{ path: string; message: string }>
}

async function expectProblem(res: Response, status: number, code: string): Promise<ProblemBody> {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  const body = JSON.parse(text) as ProblemBody
  expect(body).toMatchObject({ type: 'about:blank', status, code })
  expect(body.title).toEqual(expect.any(String))
  expect(body.request_id).toBe(res.headers.get('x-request-id'))
  return body
}

describe('problem+json errors on /api', () => {
  let admin: string
  let fan: string

  beforeAll(async () => {
    admin = await tokenFor(['admin'])
    fan = await tokenFor(['fan'])
  })

  it('answers malformed JSON with 400 MALFORMED_BODY', async () => {
    const res = await call(API, '/api/dev/tokens', { method: 'POST', headers: { ...devSecret(), 'content-type': 'application/json' }, body: '{"roles": ["admin"' })
    const body = await expectProblem(res, 400, 'MALFORMED_BODY')
    expect(body.instance).toBe('/api/dev/tokens')
  })

  it('answers an empty JSON body with 400 MALFORMED_BODY', async () => {
    const res = await call(API, '/api/dev/tokens', { method: 'POST', headers: { ...devSecret(), 'content-type': 'application/json' }, body: '' })
    await expectProblem(res, 400, 'MALFORMED_BODY')
  })

  it.each([
    ['text/plain', '{"roles":["fan"]}'],
    ['application/x-www-form-urlencoded', 'roles=fan'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="roles"\r\n\r\nfan\r\n--x--\r\n'],
    ['application/xml', '<roles>fan</roles>'],
  ])('answers %s on a JSON route with 415', async (contentType, payload) => {
    const res = await call(API, '/api/dev/tokens', { method: 'POST', headers: { ...devSecret(), 'content-type': contentType }, body: payload })
    await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers a body without a content type with 415', async () => {
    const res = await call(API, '/api/dev/tokens', { method: 'POST', headers: devSecret(), body: new TextEncoder().encode('{"roles":["fan"]}') })
    await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers a body over the limit with 413, with and without a content-length', async () => {
    const big = JSON.stringify({ roles: ['fan'], pad: 'x'.repeat(MAX_JSON_BODY_BYTES) })
    const streamed = await call(API, '/api/dev/tokens', { method: 'POST', headers: { ...devSecret(), 'content-type': 'application/json' }, body: big })
    await expectProblem(streamed, 413, 'PAYLOAD_TOO_LARGE')
    const declared = await call(API, '/api/dev/tokens', {
      method: 'POST',
      headers: { ...devSecret(), 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    })
    await expectProblem(declared, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('names an unknown field as body.<field> with 422', async () => {
    const res = await call(API, '/api/dev/tokens', { headers: devSecret(), body: { roles: ['fan'], favourite_colour: 'teal' } })
    const body = await expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(body.errors).toContainEqual({ path: 'body.favourite_colour', message: 'unknown field' })
  })

  it('names every field of the wrong type with 422', async () => {
    const res = await call(API, '/api/dev/tokens', { headers: devSecret(), body: { roles: 'fan', age_verified: 'yes', ttl_seconds: 1.5, subject: 7 } })
    const body = await expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['body.age_verified', 'body.roles', 'body.subject', 'body.ttl_seconds'])
  })

  it('names a bad query parameter as query.<name> with 400', async () => {
    const res = await call(API, '/api/compliance/audit?limit=NaN', { token: admin })
    const body = await expectProblem(res, 400, 'BAD_REQUEST')
    expect(body.errors?.map((e) => e.path)).toEqual(['query.limit'])
  })

  it('answers a wrong method on an existing path with 405 and Allow', async () => {
    const get = await call(API, '/api/dev/tokens', { headers: devSecret() })
    await expectProblem(get, 405, 'METHOD_NOT_ALLOWED')
    expect(get.headers.get('allow')).toBe('POST')
    const del = await call(API, '/api/compliance/audit', { method: 'DELETE', token: admin })
    await expectProblem(del, 405, 'METHOD_NOT_ALLOWED')
    expect(del.headers.get('allow')).toBe('GET, HEAD')
  })

  it('answers an unknown path with a 404 problem', async () => {
    const res = await call(API, '/api/no/such/thing', { token: admin })
    const body = await expectProblem(res, 404, 'NOT_FOUND')
    expect(body.instance).toBe('/api/no/such/thing')
  })

  it('answers a missing token with 401 and WWW-Authenticate', async () => {
    const res = await call(API, '/api/compliance/audit')
    await expectProblem(res, 401, 'UNAUTHENTICATED')
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fanz"')
  })

  it('answers an invalid token with 401 and error="invalid_token"', async () => {
    const res = await call(API, '/api/compliance/audit', { token: 'eyJhbGciOiJFZERTQSJ9.e30.AAAA' })
    await expectProblem(res, 401, 'UNAUTHENTICATED')
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fanz", error="invalid_token"')
  })

  it('answers a fan token on an admin route with 403', async () => {
    const res = await call(API, '/api/compliance/audit', { token: fan })
    await expectProblem(res, 403, 'FORBIDDEN')
  })

  it('answers a body no parser can read with 400 MALFORMED_BODY on any surface, not 500', async () => {
    // found by test/fuzz.test.ts: a multipart part without headers made `c.req.parseBody()` throw a
    // TypeError in the dashboard's sign-in form, which rendered as 500 INTERNAL_ERROR
    const res = await call('dash.localhost', '/session', {
      method: 'POST',
      headers: { origin: 'http://dash.localhost', 'content-type': 'multipart/form-data; boundary=fuzzboundary' },
      body: '--fuzzboundary\r\n\r\n\r\n--fuzzboundary--',
    })
    const body = await expectProblem(res, 400, 'MALFORMED_BODY')
    expect(body.detail).toBe('the request body could not be parsed')
  })

  it('refuses the dev token endpoint without the dev secret with 403', async () => {
    const res = await call(API, '/api/dev/tokens', { body: { roles: ['admin'] } })
    await expectProblem(res, 403, 'FORBIDDEN')
  })
})
