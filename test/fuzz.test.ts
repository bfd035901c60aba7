import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, it, vi } from 'vitest'
import { apiApp, bodyLimitFor } from '../workers/api/app'
import { dashApp } from '../workers/dash/app'
import worker from '../workers/index'
import { siteApp } from '../workers/site/app'
import { platformApp } from '../workers/site/platform'
import { ssoApp } from '../workers/sso/app'
import { BRAND_HOSTS, call, cf, type CallOptions, tokenFor } from './helpers'

// Fuzzing every route the Worker serves, through the whole edge chain, for the promise of
// design.md "Errors": never a 500 for bad input, and every /api failure a problem+json whose
// `status` is the HTTP status and whose validation errors name the offending field.
//
// Routes are discovered when the file runs, not listed by hand: the OpenAPI document (fetched
// through the Worker) gives every documented API operation with its schemas, `apiApp.routes`
// adds undocumented API routes, and each surface app's `routes` gives the pages. A route added
// tomorrow is fuzzed tomorrow without touching this file.
//
// Per route: a deterministic sweep with an admin token (every declared body field and query
// parameter given a wrong type, unknown field, malformed JSON, wrong content types, oversized
// bodies) with exact expectations, then a fast-check property with a fixed seed over methods,
// credentials, odd path parameters, random query strings and hostile bodies, checking the
// invariants that hold for any input. The run budget is split across routes so the file stays
// well under a minute however many routes exist.

const SEED = 20_261_126
/** total property runs across all routes; each route gets its share within the bounds below */
const RUN_BUDGET = 4_000
const MIN_RUNS = 20
const MAX_RUNS = 200
const API_HOST = 'api.localhost'
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
type Method = (typeof METHODS)[number]
const CAN_HAVE_BODY = (m: string) => m !== 'GET' && m !== 'HEAD'

// ---------------------------------------------------------------------------------------------
// Route discovery

interface JsonSchema {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  pattern?: string
  format?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minItems?: number
  maxItems?: number
}

interface Param {
  name: string
  schema: JsonSchema
}

interface Operation {
  query: Param[]
  path: Param[]
  /** JSON request body schema, when the operation declares one */
  body: JsonSchema | undefined
}

interface Target {
  /** path template with `{name}` parameters; `{*}` for a Hono wildcard */
  template: string
  api: boolean
  hosts: string[]
  ops: Map<Method, Operation>
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: JsonSchema }>; requestBody?: { content?: Record<string, { schema: JsonSchema }> } }>>
  components?: { schemas?: Record<string, JsonSchema> }
}

const docResponse = await call(API_HOST, '/api/openapi.json')
if (docResponse.status !== 200) throw new Error(`GET /api/openapi.json answered ${docResponse.status}`)
const doc = (await docResponse.json()) as OpenApiDoc

function resolve(schema: JsonSchema | undefined): JsonSchema {
  let s = schema ?? {}
  for (let hops = 0; s.$ref && hops < 10; hops++) s = doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] ?? {}
  return s
}

/** Hono path syntax (`/c/:handle`, `/a/:id{[0-9]+}`, `/static/*`) as an OpenAPI-style template. */
function honoToTemplate(path: string): string {
  return path
    .split('/')
    .map((seg) => (seg === '*' ? '{*}' : seg.replace(/^:([A-Za-z0-9_]+)(?:\{.+\})?\??$/, '{$1}')))
    .join('/')
}

function templateParams(template: string): Param[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1]!, schema: { type: 'string' } }))
}

function discoverTargets(): Target[] {
  const byTemplate = new Map<string, Target>()
  const target = (template: string, api: boolean, hosts: string[]) => {
    let t = byTemplate.get(template)
    if (!t) byTemplate.set(template, (t = { template, api, hosts, ops: new Map() }))
    return t
  }
  const apiHosts = [API_HOST, BRAND_HOSTS.boyfanz]
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const m = method.toUpperCase() as Method
      if (!METHODS.includes(m)) continue
      const params = op.parameters ?? []
      const pick = (where: string) => params.filter((p) => p.in === where).map((p) => ({ name: p.name, schema: resolve(p.schema) }))
      const json = op.requestBody?.content?.['application/json']?.schema
      target(path, true, apiHosts).ops.set(m, { query: pick('query'), path: pick('path'), body: json ? resolve(json) : undefined })
    }
  }
  const surfaces: Array<[{ routes: Array<{ method: string; path: string }> }, boolean, string[]]> = [
    [apiApp, true, apiHosts],
    [siteApp, false, [BRAND_HOSTS.boyfanz, BRAND_HOSTS.girlfanz]],
    [ssoApp, false, ['sso.localhost']],
    [dashApp, false, ['dash.localhost']],
    [platformApp, false, ['localhost']],
  ]
  for (const [app, api, hosts] of surfaces) {
    for (const route of app.routes) {
      if (route.method === 'ALL' || !METHODS.includes(route.method as Method)) continue
      const template = honoToTemplate(route.path)
      if (api !== (template === '/api' || template.startsWith('/api/'))) continue
      const t = target(template, api, hosts)
      if (!t.ops.has(route.method as Method)) t.ops.set(route.method as Method, { query: [], path: templateParams(template), body: undefined })
    }
  }
  // pages first: API writes (a geo block, a suspended brand) would otherwise change what they show
  return [...byTemplate.values()].sort((a, b) => Number(a.api) - Number(b.api) || a.template.localeCompare(b.template))
}

const targets = discoverTargets()

// ---------------------------------------------------------------------------------------------
// Requests and the invariants every answer must keep

/**
 * `call` from helpers, but handed to the Worker's fetch handler in this isolate rather than through
 * `exports.default.fetch`: that loopback gets slower with every request the runtime has served
 * (workers-sdk#15446: ~1 ms at first, ~40 ms after 300 requests here), which makes a few thousand
 * fuzz requests quadratic and slows every later file sharing the runtime. Same handler, same edge
 * chain, same Request.
 */
async function hit(host: string, path: string, options: CallOptions): Promise<Response> {
  const headers = new Headers(options.headers)
  headers.set('host', host)
  const body = options.body as BodyInit | undefined
  const request = new Request(`http://${host}${path}`, { method: options.method ?? 'GET', headers, body, redirect: 'manual', cf: options.cf ?? cf('US', 'CA') })
  const ctx = createExecutionContext()
  const res = await worker.fetch(request, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

type Auth = 'admin' | 'fan' | 'none' | 'junk' | 'cookie'

interface Sent {
  host: string
  method: Method
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** a body field or query parameter this request made invalid, e.g. `body.roles` */
  target?: string
  /** exact status expected (deterministic sweep) */
  expect?: number
  expectCode?: string
  /** statuses accepted instead of `expect` (the request was refused before the check it aims at) */
  orElse?: number[]
  note: string
}

const tokens: Record<'admin' | 'fan', string> = { admin: '', fan: '' }

function redact(value: string): string {
  let v = value
  if (tokens.admin) v = v.replaceAll(tokens.admin, '<admin token>')
  if (tokens.fan) v = v.replaceAll(tokens.fan, '<fan token>')
  if (env.DEV_TOKEN_SECRET) v = v.replaceAll(env.DEV_TOKEN_SECRET, '<DEV_TOKEN_SECRET>')
  return v
}

const clip = (s: string, n = 240) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s)

function describeSent(req: Sent): string {
  const body = req.body === undefined ? '' : typeof req.body === 'string' ? ` body=${JSON.stringify(clip(req.body))}` : ` body=<${req.body.byteLength} bytes>`
  return `${req.method} http://${req.host}${clip(req.path, 300)} headers=${redact(JSON.stringify(req.headers))}${body} [${req.note}]`
}

interface ProblemBody {
  status?: unknown
  code?: unknown
  request_id?: unknown
  errors?: Array<{ path?: unknown; message?: unknown }>
}

async function send(req: Sent): Promise<void> {
  const res = await hit(req.host, req.path, { method: req.method, headers: req.headers, body: req.body })
  const text = req.method === 'HEAD' ? '' : await res.text()
  const fail = (why: string): never => {
    throw new Error(`${why}\n  request:  ${describeSent(req)}\n  response: ${res.status} ${res.headers.get('content-type')} ${clip(text, 600)}`)
  }
  if (res.status >= 500) fail('server error for client input')
  const pathname = new URL(`http://${req.host}${req.path}`).pathname
  const isApi = pathname === '/api' || pathname.startsWith('/api/')
  const contentType = res.headers.get('content-type') ?? ''
  if (isApi && res.status >= 400 && contentType !== 'application/problem+json') fail('4xx from /api is not application/problem+json')
  if (res.status === 405 && !res.headers.get('allow')) fail('405 without Allow')
  if (isApi && res.status === 401 && !res.headers.get('www-authenticate')) fail('401 without WWW-Authenticate')
  if (contentType === 'application/problem+json' && req.method !== 'HEAD') {
    let problem: ProblemBody = {}
    try {
      problem = JSON.parse(text) as ProblemBody
    } catch {
      fail('problem+json body is not JSON')
    }
    if (typeof problem.code !== 'string' || !/^[A-Z][A-Z_]+$/.test(problem.code)) fail('problem without a code')
    if (problem.status !== res.status) fail(`problem status ${String(problem.status)} differs from HTTP ${res.status}`)
    if (problem.request_id !== res.headers.get('x-request-id')) fail('problem request_id differs from X-Request-Id')
    if (problem.errors !== undefined) {
      if (!Array.isArray(problem.errors) || problem.errors.length === 0) fail('`errors` is not a non-empty array')
      for (const e of problem.errors) {
        if (typeof e?.path !== 'string' || typeof e.message !== 'string' || !/^(body|query|param|header|cookie)(\.|$)/.test(e.path)) fail(`error entry does not name a request field: ${JSON.stringify(e)}`)
      }
    }
    // validation reports every bad field of a request part at once, so once the part holding the
    // field this request broke is reported (and not an earlier part, e.g. a path parameter), the
    // field must be among the errors
    const part = req.target?.slice(0, req.target.indexOf('.') + 1)
    if ((res.status === 400 || res.status === 422) && part && problem.errors?.some((e) => String(e.path).startsWith(part))) {
      const named = problem.errors.some((e) => e.path === req.target || String(e.path).startsWith(`${req.target}.`))
      if (!named) fail(`validation errors do not name ${req.target}`)
    }
    if (req.expectCode && res.status === req.expect && problem.code !== req.expectCode) fail(`expected code ${req.expectCode}`)
  }
  if (req.expect !== undefined && res.status !== req.expect && !req.orElse?.includes(res.status)) fail(`expected ${req.expect}`)
  // a deterministic sweep that targets a field must see it named (a 2xx would mean the bad value was accepted)
  if (req.expect !== undefined && req.target && res.status === req.expect && contentType === 'application/problem+json') {
    const problem = JSON.parse(text) as ProblemBody
    if (!problem.errors?.some((e) => e.path === req.target || String(e.path).startsWith(`${req.target}.`))) fail(`errors do not name ${req.target}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

const types = (s: JsonSchema): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : [])

/** Values the schema accepts (close enough: a miss only makes a request invalid twice over). */
function valid(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema)
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum?.length) return fc.constantFrom(...s.enum)
  const alternatives = s.anyOf ?? s.oneOf
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => valid(a, depth + 1)))
  if (s.allOf?.length) return valid(s.allOf[0], depth + 1)
  const ts = types(s)
  if (ts.length > 1) return fc.oneof(...ts.map((t) => valid({ ...s, type: t }, depth)))
  switch (ts[0]) {
    case 'null':
      return fc.constant(null)
    case 'boolean':
      return fc.boolean()
    case 'integer':
      return fc.integer({ min: Math.ceil(s.minimum ?? s.exclusiveMinimum ?? -1_000), max: Math.floor(s.maximum ?? s.exclusiveMaximum ?? 1_000) })
    case 'number':
      return fc.double({ min: s.minimum ?? -1_000, max: s.maximum ?? 1_000, noNaN: true, noDefaultInfinity: true })
    case 'array':
      return depth > 4 ? fc.constant([]) : fc.array(valid(s.items, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 2, 2)) })
    case 'object': {
      if (depth > 4 || !s.properties) return fc.constant({})
      const model = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, valid(v, depth + 1)]))
      return fc.record(model, { requiredKeys: s.required ?? [] })
    }
    case 'string':
      return validString(s)
    default:
      return fc.jsonValue({ maxDepth: 1 })
  }
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0
  const max = s.maxLength ?? Math.max(min, 40)
  // only declared bounds filter: a pattern may itself demand more than the default 40 characters,
  // and filtering its every output away would make the generator spin forever
  const fits = (v: string) => v.length >= min && (s.maxLength === undefined || v.length <= s.maxLength)
  // fc.emailAddress() follows RFC 5322 to the letter; validators (zod's included) accept a plainer subset
  if (s.format === 'email') return fc.stringMatching(/^[a-z0-9]{1,12}(?:\.[a-z0-9]{1,8})?@[a-z0-9]{1,12}\.(?:com|net|org|example)$/).filter(fits)
  if (s.format === 'uri' || s.format === 'url') return fc.webUrl().filter(fits)
  if (s.format === 'date-time') return fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2027-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString())
  if (s.pattern) {
    try {
      return fc.stringMatching(new RegExp(s.pattern), { size: 'xsmall' }).filter(fits)
    } catch {
      // a pattern fast-check cannot generate from: plain strings, which the validator will refuse
    }
  }
  return fc.string({ minLength: min, maxLength: Math.min(max, Math.max(min, 24)) })
}

/** Text of a generated value; String() throws on the null-prototype objects fast-check makes. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))

/** One deterministic sample, so the sweep sends the same bodies on every run. */
function sampleOf<T>(arb: fc.Arbitrary<T>, salt: number): T {
  return fc.sample(arb, { seed: SEED + salt, numRuns: 1 })[0]!
}

/** A value of a JSON type the schema does not allow, or `undefined` when it allows every type. */
function wrongType(schema: JsonSchema): unknown {
  const s = resolve(schema)
  const ts = types(s)
  if (s.enum?.length) return s.enum.every((v) => typeof v === 'string') ? 12_345 : 'not-one-of-the-choices'
  if (!ts.length) return undefined
  const candidates: unknown[] = [12_345, 'a string', true, [1, 2], { unexpected: 1 }, null, 1.5]
  return candidates.find((c) => {
    if (c === null) return !ts.includes('null')
    if (Array.isArray(c)) return !ts.includes('array')
    if (typeof c === 'object') return !ts.includes('object')
    if (typeof c === 'string') return !ts.includes('string')
    if (typeof c === 'boolean') return !ts.includes('boolean')
    if (Number.isInteger(c)) return !ts.includes('integer') && !ts.includes('number')
    return !ts.includes('number')
  })
}

/** A query-string value the parameter refuses, or `undefined` when any text is acceptable. */
function wrongQueryValue(schema: JsonSchema): string | undefined {
  const s = resolve(schema)
  const ts = types(s)
  if (s.enum?.length) return 'not-one-of-the-choices'
  if (ts.includes('integer') || ts.includes('number')) return 'not-a-number'
  if (ts.includes('boolean')) return 'maybe'
  if (s.format === 'date-time') return 'yesterday at noon'
  if (s.pattern && !new RegExp(s.pattern).test('!! not this !!')) return '!! not this !!'
  if (s.maxLength !== undefined) return 'x'.repeat(s.maxLength + 1)
  return undefined
}

/** Path segments a router, a decoder or a lookup may trip over. */
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%00',
    '..',
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e',
    '%',
    '%zz',
    '%C0%AE',
    '%FF%FE',
    '.',
    '~',
    '%20',
    '+',
    ';',
    "'",
    '%22%3E%3Cscript%3E',
    '\u0000',
    'a'.repeat(4096),
    encodeURIComponent('ünïcødé 😀'),
    encodeURIComponent('\u202e\u0007\u001b[31m'),
    '0',
    '-1',
    '99999999999999999999999',
    'null',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).map((s) => s.replace(/[/?#\\]/g, '_')),
)

const oddText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '-1', '0', '1e400', 'NaN', 'Infinity', '-0', '0x1F', '1.5', '9'.repeat(400), 'null', 'true', '[]', '{}', '\u0000', '\u0000\u0001\u001f\u007f', 'x'.repeat(10_000)),
  fc.integer().map(String),
)

function queryArb(declared: Param[]): fc.Arbitrary<string> {
  const names = declared.map((p) => p.name)
  const key = names.length ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })) : fc.string({ maxLength: 12 })
  const pair = fc.oneof(
    fc.tuple(key, oddText).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
    // unencoded: stray `%`, `&&`, `=` and raw unicode reach the parser as typed
    fc.tuple(key, oddText).map(([k, v]) => `${k}=${v}`.replace(/#/g, '')),
    fc.constantFrom('&', '=', '==', '%', 'a[]=1', 'a[b]=c', '__proto__=1', 'constructor[prototype][x]=1'),
  )
  return fc.array(pair, { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''))
}

function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? 'x')
}

function pathArb(op: Operation | undefined, template: string): fc.Arbitrary<string> {
  const params = op?.path.length ? op.path : templateParams(template)
  if (!params.length) return fc.oneof({ weight: 4, arbitrary: fc.constant(template) }, { weight: 1, arbitrary: oddSegment.map((seg) => `${template.replace(/\/$/, '')}/${seg}`) })
  const value = (p: Param) => fc.oneof(valid(p.schema).map((v) => encodeURIComponent(asText(v))), oddSegment, fc.constant(p.name === '*' ? 'site.css' : 'brd_01JFANZ0000000000000000001'))
  return fc.record(Object.fromEntries(params.map((p) => [p.name, value(p)]))).map((values) => fillTemplate(template, values as Record<string, string>))
}

const bodyFields = (schema: JsonSchema | undefined) => Object.entries(resolve(schema).properties ?? {})

/** Inserts a raw JSON token (NaN, 1e400, ...) as the value of `field`. */
function withRawValue(base: Record<string, unknown>, field: string, raw: string): string {
  return JSON.stringify({ ...base, [field]: '__raw__' }).replace('"__raw__"', raw)
}

const MULTIPART = 'multipart/form-data; boundary=fuzzboundary'
const multipartBody = (fields: Array<[string, string]>) => `${fields.map(([k, v]) => `--fuzzboundary\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--fuzzboundary--\r\n`

interface BodyCase {
  body: string | Uint8Array
  contentType?: string
  target?: string
  note: string
}

const wrongContentTypes = ['text/plain', 'application/x-www-form-urlencoded', MULTIPART, 'application/xml', 'application/octet-stream', 'application/jsonx', 'text/json', undefined]

const bodyArbs = new Map<JsonSchema | undefined, fc.Arbitrary<BodyCase>>()

/** Hostile bodies: schema-aware for operations that declare one, generic otherwise. Built once per schema. */
function bodyArb(schema: JsonSchema | undefined): fc.Arbitrary<BodyCase> {
  let arb = bodyArbs.get(schema)
  if (!arb) bodyArbs.set(schema, (arb = buildBodyArb(schema)))
  return arb
}

function buildBodyArb(schema: JsonSchema | undefined): fc.Arbitrary<BodyCase> {
  const s = resolve(schema)
  const fields = bodyFields(s)
  const base = (valid(s) as fc.Arbitrary<unknown>).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}))
  const json = (value: unknown) => JSON.stringify(value)
  const strict = s.additionalProperties === false
  const cases: Array<fc.Arbitrary<BodyCase>> = [
    // malformed JSON: truncated valid documents and classic near-misses
    fc.tuple(base, fc.nat()).map(([b, cut]) => {
      const text = json(b)
      return { body: text.slice(0, cut % Math.max(1, text.length)), contentType: 'application/json', note: 'truncated JSON' }
    }),
    fc.constantFrom('{', '{"a":}', "{'a':1}", '{"a":1,}', '[1,2', 'undefined', 'NaN', '\uFEFF{}', '{"a":1}{"b":2}', '\u0000', '{"a":"\\u00"}', '{"a":01}').map((body) => ({ body, contentType: 'application/json', note: 'malformed JSON' })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((body) => ({ body, contentType: 'application/json', note: 'random text as JSON' })),
    // JSON that parses but is not an object
    fc.constantFrom('null', '[]', '"x"', '0', 'true', '[{}]', '-1e400').map((body) => ({ body, contentType: 'application/json', note: 'non-object JSON' })),
    fc.constant({ body: '', contentType: 'application/json', note: 'empty body' }),
    fc.constantFrom(1_000, 20_000).map((depth) => ({ body: `${'['.repeat(depth)}${']'.repeat(depth)}`, contentType: 'application/json', note: `nesting ${depth} deep` })),
    fc.constant({ body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}', contentType: 'application/json', note: 'prototype keys' }),
    // right document, wrong or missing content type
    fc.tuple(base, fc.constantFrom(...wrongContentTypes)).map(([b, contentType]) => ({ body: contentType === MULTIPART ? multipartBody(Object.entries(b).map(([k, v]) => [k, asText(v)])) : json(b), contentType, note: 'wrong content type' })),
    fc.uint8Array({ maxLength: 64 }).map((body) => ({ body, contentType: 'application/octet-stream', note: 'binary' })),
    fc.array(fc.tuple(fc.string({ maxLength: 10 }), oddText), { maxLength: 4 }).map((pairs) => ({ body: new URLSearchParams(pairs).toString(), contentType: 'application/x-www-form-urlencoded', note: 'form' })),
    fc.array(fc.tuple(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }), oddText), { maxLength: 4 }).map((pairs) => ({ body: multipartBody(pairs.map(([k, v]) => [k.replace(/["\r\n]/g, ''), v])), contentType: MULTIPART, note: 'multipart' })),
    fc.constantFrom('--fuzzboundary\r\nContent-Disposition: form-data\r\n\r\nx', '--other--\r\n', 'not multipart at all', '--fuzzboundary\r\n\r\n\r\n--fuzzboundary--').map((body) => ({ body, contentType: MULTIPART, note: 'broken multipart' })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({ body: json(v), contentType: 'application/json', note: 'random JSON' })),
    // unknown fields next to plausible ones
    fc.tuple(base, fc.string({ minLength: 1, maxLength: 16 }).filter((k) => !s.properties?.[k]), fc.jsonValue({ maxDepth: 2 })).map(([b, key, value]) => ({
      body: json({ ...b, [key]: value }),
      contentType: 'application/json',
      target: strict && key !== '__proto__' ? `body.${key}` : undefined,
      note: 'unknown field',
    })),
  ]
  if (fields.length) {
    const field = fc.constantFrom(...fields.map(([k]) => k))
    const stringFields = fields.filter(([, f]) => types(resolve(f)).includes('string')).map(([k]) => k)
    const numberFields = fields.filter(([, f]) => types(resolve(f)).some((t) => t === 'integer' || t === 'number')).map(([k]) => k)
    cases.push(
      fc.tuple(base, field).map(([b, f]) => ({ body: json({ ...b, [f]: wrongType(s.properties![f]!) ?? null }), contentType: 'application/json', target: wrongType(s.properties![f]!) === undefined ? undefined : `body.${f}`, note: `wrong type for ${f}` })),
      fc.tuple(base, field, fc.constantFrom(null, '', [], {}, 'x'.repeat(5_000), -1, 2 ** 53 + 2)).map(([b, f, v]) => ({ body: json({ ...b, [f]: v }), contentType: 'application/json', note: `odd value for ${f}` })),
    )
    if (stringFields.length) {
      const sf = fc.constantFrom(...stringFields)
      cases.push(
        fc.tuple(base, sf, fc.integer({ min: 20_000, max: 200_000 }), fc.constantFrom('x', 'é', '😀', '\u0000')).map(([b, f, n, unit]) => {
          const max = resolve(s.properties![f]!).maxLength
          const value = unit.repeat(Math.floor(n / unit.length))
          return { body: json({ ...b, [f]: value }), contentType: 'application/json', target: max !== undefined && value.length > max ? `body.${f}` : undefined, note: `huge string in ${f}` }
        }),
        fc.tuple(base, sf, fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('\u0000', '\u0007', '\u001b[2J', '\r\n', '\u202e', '\ud800', '\uffff')).map(([b, f, v, control]) => ({
          body: json({ ...b, [f]: `${v}${control}${v}` }),
          contentType: 'application/json',
          note: `control characters in ${f}`,
        })),
      )
    }
    if (numberFields.length) {
      const nf = fc.constantFrom(...numberFields)
      cases.push(
        fc.tuple(base, nf, fc.constantFrom(-1, -0, 1.5, -1e308, 1e308, 2 ** 53 + 2, -(2 ** 31) - 1, Number.MIN_VALUE)).map(([b, f, v]) => {
          const fs = resolve(s.properties![f]!)
          const out = (fs.minimum !== undefined && v < fs.minimum) || (fs.maximum !== undefined && v > fs.maximum) || (types(fs).includes('integer') && !Number.isSafeInteger(v))
          return { body: json({ ...b, [f]: v }), contentType: 'application/json', target: out ? `body.${f}` : undefined, note: `number ${v} in ${f}` }
        }),
        fc.tuple(base, nf, fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e400', '0x10', '01', '+1', '.5', '1_000')).map(([b, f, raw]) => ({
          body: withRawValue(b, f, raw),
          contentType: 'application/json',
          target: raw === '1e400' ? `body.${f}` : undefined,
          note: `raw ${raw} in ${f}`,
        })),
      )
    }
  }
  return fc.oneof(...cases)
}

// ---------------------------------------------------------------------------------------------
// The deterministic sweep: exact expectations with an admin token and a clean request

function cleanPath(target: Target, op: Operation, salt: number): string {
  const params = op.path.length ? op.path : templateParams(target.template)
  return fillTemplate(target.template, Object.fromEntries(params.map((p, i) => [p.name, encodeURIComponent(asText(sampleOf(valid(p.schema), salt + i)))])))
}

function sweep(target: Target, authHeaders: Record<string, string>): Sent[] {
  const out: Sent[] = []
  const host = API_HOST
  // refused before validation (a role the admin token lacks): the check cannot be reached
  const orElse = [401, 403]
  let salt = 0
  for (const [method, op] of target.ops) {
    salt += 100
    const path = cleanPath(target, op, salt)
    const headers = { ...authHeaders, ...extraHeaders(target.template) }
    if (op.body) {
      const base = sampleOf(valid(op.body), salt) as Record<string, unknown>
      const jsonHeaders = { ...headers, 'content-type': 'application/json' }
      out.push({ host, method, path, headers: jsonHeaders, body: '{"roles": [', expect: 400, expectCode: 'MALFORMED_BODY', orElse, note: 'sweep: malformed JSON' })
      out.push({ host, method, path, headers: { ...headers, 'content-type': 'text/plain' }, body: JSON.stringify(base), expect: 415, expectCode: 'UNSUPPORTED_MEDIA_TYPE', orElse, note: 'sweep: text/plain' })
      out.push({ host, method, path, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1', expect: 415, orElse, note: 'sweep: form-encoded' })
      out.push({ host, method, path, headers: { ...headers, 'content-type': MULTIPART }, body: multipartBody([['a', '1']]), expect: 415, orElse, note: 'sweep: multipart' })
      out.push({ host, method, path, headers: jsonHeaders, body: '', expect: 400, expectCode: 'MALFORMED_BODY', orElse, note: 'sweep: empty body' })
      if (resolve(op.body).additionalProperties === false) {
        out.push({ host, method, path, headers: jsonHeaders, body: JSON.stringify({ ...base, fuzz_unknown_field: 1 }), expect: 422, expectCode: 'VALIDATION_FAILED', target: 'body.fuzz_unknown_field', orElse, note: 'sweep: unknown field' })
      }
      for (const [field, schema] of bodyFields(op.body)) {
        const wrong = wrongType(schema)
        if (wrong === undefined) continue
        out.push({ host, method, path, headers: jsonHeaders, body: JSON.stringify({ ...base, [field]: wrong }), expect: 422, expectCode: 'VALIDATION_FAILED', target: `body.${field}`, orElse, note: `sweep: wrong type for ${field}` })
      }
    }
    for (const param of op.query) {
      const wrong = wrongQueryValue(param.schema)
      if (wrong === undefined) continue
      out.push({ host, method, path: `${path}?${encodeURIComponent(param.name)}=${encodeURIComponent(wrong)}`, headers, expect: 400, expectCode: 'BAD_REQUEST', target: `query.${param.name}`, orElse, note: `sweep: bad query ${param.name}` })
    }
  }
  return out
}

/** Over the limit, on every method that can carry a body: 413 when the length is declared. */
function oversized(target: Target, authHeaders: Record<string, string>, label: string): Sent[] {
  const firstOp = target.ops.values().next().value as Operation
  const path = cleanPath(target, firstOp, 7)
  const body = JSON.stringify({ pad: 'x'.repeat(bodyLimitFor(path.split('?')[0]!)) })
  // the methods the route serves (else POST once): a body on another method is answered 405 by
  // routing before it is read (methodSweep covers that), and media routes take bodies of 96 MiB
  const served = METHODS.filter(CAN_HAVE_BODY).filter((m) => target.ops.has(m))
  return (served.length ? served : (['POST'] as const)).flatMap((method): Sent[] => [
    {
      host: API_HOST,
      method,
      path,
      headers: { ...authHeaders, ...extraHeaders(target.template), 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
      expect: 413,
      expectCode: 'PAYLOAD_TOO_LARGE',
      note: `oversized, declared length, ${label}`,
    },
    // streamed without a length: refused at 413 once read; answers that come before any read are fine
    { host: API_HOST, method, path, headers: { ...authHeaders, ...extraHeaders(target.template), 'content-type': 'application/json' }, body, expect: 413, orElse: [401, 403, 404, 405], note: `oversized, streamed, ${label}` },
  ])
}

/** Every method, with and without a token, on a clean path: what a client may try first. */
function methodSweep(target: Target): Sent[] {
  const firstOp = target.ops.values().next().value as Operation
  return METHODS.flatMap((method) => {
    const path = cleanPath(target, target.ops.get(method) ?? firstOp, 11)
    const declared = target.ops.has(method) || (method === 'HEAD' && target.ops.has('GET'))
    return (['admin', 'none'] as const).map((auth): Sent => {
      const headers = { ...authHeaders(auth, ''), ...extraHeaders(target.template) }
      const body = CAN_HAVE_BODY(method) ? JSON.stringify({ fuzz_unknown_field: '\u0000' }) : undefined
      if (body) headers['content-type'] = 'application/json'
      // an admin may call anything on /api, so a method the path does not serve can only be a 405
      const refused = target.api && !declared && auth === 'admin' ? { expect: 405, expectCode: 'METHOD_NOT_ALLOWED', orElse: [401, 403] } : {}
      return { host: target.hosts[0]!, method, path, headers, body, ...refused, note: `method sweep, ${auth} token` }
    })
  })
}

function extraHeaders(template: string): Record<string, string> {
  // the dev surface refuses everything without its secret: fuzz what lies behind the check
  return template.startsWith('/api/dev/') ? { 'x-dev-token-secret': env.DEV_TOKEN_SECRET } : {}
}

function authHeaders(auth: Auth, junk: string): Record<string, string> {
  if (auth === 'admin') return { authorization: `Bearer ${tokens.admin}` }
  if (auth === 'fan') return { authorization: `Bearer ${tokens.fan}` }
  if (auth === 'cookie') return { cookie: `fanz_session=${tokens.admin}` }
  if (auth === 'junk') return { authorization: junk }
  return {}
}

/** Tokens that look right and are not: tampered, truncated, alg none, garbage. */
function junkTokens(): fc.Arbitrary<string> {
  const [header = '', payload = '', signature = ''] = tokens.admin.split('.')
  const flip = (s: string) => `${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`
  return fc.oneof(
    fc.constantFrom(
      `Bearer ${header}.${payload}.${flip(signature)}`,
      `Bearer ${header}.${payload}.${signature.slice(0, 10)}`,
      `Bearer ${header}.${payload}.`,
      `Bearer ${header}.${flip(payload)}.${signature}`,
      `Bearer ${btoa('{"alg":"none"}').replace(/=+$/, '')}.${payload}.`,
      `Bearer ${btoa('{"alg":"EdDSA","kid":"../../etc"}').replace(/=+$/, '')}.${payload}.${signature}`,
      `Bearer ${btoa('{"alg":"EdDSA","crit":["x"]}').replace(/=+$/, '')}.${payload}.${signature}`,
      'Bearer',
      'Bearer ',
      'Basic YWRtaW46YWRtaW4=',
      `bearer ${tokens.admin}`,
      `Bearer ${tokens.admin} extra`,
      `Bearer ${'a'.repeat(8_000)}`,
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}`),
  )
}

function requestArb(target: Target): fc.Arbitrary<Sent> {
  // one arbitrary per method, built once (building them per run costs more than the requests),
  // declared methods three times as likely as the others
  const perMethod = (m: Method) => methodRequestArb(target, m)
  const declared = [...target.ops.keys()]
  return fc.oneof({ weight: 3, arbitrary: fc.oneof(...declared.map(perMethod)) }, { weight: 1, arbitrary: fc.oneof(...METHODS.map(perMethod)) })
}

/** built on first use: the junk is made from the admin token minted in beforeAll */
let junkTokenArb: fc.Arbitrary<string> | undefined

function methodRequestArb(target: Target, m: Method): fc.Arbitrary<Sent> {
  const op = target.ops.get(m)
  junkTokenArb ??= junkTokens()
  return fc
    .record({
      host: fc.constantFrom(...target.hosts),
      // admin and no token are what the contract is about; the rest is there to be refused well
      auth: fc.constantFrom<Auth>('admin', 'none', 'admin', 'none', 'fan', 'junk', 'cookie'),
      junk: junkTokenArb,
      path: pathArb(op, target.template),
      query: queryArb(op?.query ?? []),
      body: CAN_HAVE_BODY(m) ? fc.option(bodyArb(op?.body), { nil: undefined, freq: 6 }) : fc.constant(undefined),
      sameOrigin: fc.boolean(),
      requestId: fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, '') || 'x'), { nil: undefined }),
      geo: fc.option(fc.constantFrom('US-TX', 'GB', 'T1', 'none', 'DE;EU;3320', 'zz-!!', ''), { nil: undefined }),
    })
    .map((r): Sent => {
      const headers: Record<string, string> = { ...authHeaders(r.auth, r.junk), ...extraHeaders(target.template) }
      if (r.body?.contentType) headers['content-type'] = r.body.contentType
      if (r.sameOrigin) headers.origin = `http://${r.host}`
      if (r.requestId !== undefined) headers['x-request-id'] = r.requestId
      if (r.geo !== undefined) headers['x-fanz-geo'] = r.geo
      return {
        host: r.host,
        method: m,
        path: `${r.path}${r.query}`,
        headers,
        body: r.body?.body,
        target: r.body?.target,
        note: `${r.auth} token${r.body ? `, ${r.body.note}` : ''}`,
      }
    })
}

// ---------------------------------------------------------------------------------------------

const runsPerTarget = Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.round(RUN_BUDGET / Math.max(1, targets.length))))

describe('fuzz: every route, hostile input, never a 500', () => {
  beforeAll(async () => {
    tokens.admin = await tokenFor(['admin'], { age_verified: true })
    tokens.fan = await tokenFor(['fan'])
    // A fuzzed body may create an origin pool: keep the Worker's outbound fetches (origin proxying,
    // health probes) off the network and answering at once.
    vi.stubGlobal('fetch', async () => new Response('fuzz origin', { status: 200, headers: { 'content-type': 'text/plain' } }))
  })
  afterAll(() => {
    vi.unstubAllGlobals()
  })

  it('found the routes to fuzz', () => {
    const api = targets.filter((t) => t.api).map((t) => t.template)
    for (const needed of ['/api/dev/tokens', '/api/compliance/audit', '/api/compliance/audit/verify', '/api/openapi.json']) {
      if (!api.includes(needed)) throw new Error(`route discovery missed ${needed}; found ${api.join(', ')}`)
    }
    if (!targets.some((t) => !t.api)) throw new Error('route discovery found no surface pages')
  })

  for (const [index, target] of targets.entries()) {
    const label = `${[...target.ops.keys()].join(',')} ${target.template}`
    it(label, async () => {
      for (const req of methodSweep(target)) await send(req)
      if (target.api) {
        for (const req of sweep(target, authHeaders('admin', ''))) await send(req)
        for (const req of oversized(target, authHeaders('admin', ''), 'admin token')) await send(req)
        for (const req of oversized(target, {}, 'no token')) await send(req)
      }
      await fc.assert(
        fc.asyncProperty(requestArb(target), async (req) => {
          await send(req)
        }),
        { seed: SEED + index, numRuns: runsPerTarget, endOnFailure: true },
      )
    })
  }
})
