/**
 * `Idempotency-Key` for money-moving POSTs (draft-ietf-httpapi-idempotency-key-header-07;
 * payments.md §5): the Hono middleware `idempotent()`, the route helper `withIdempotency()` and the
 * OpenAPI description of the header.
 *
 * For each request the middleware
 * 1. parses the header as an RFC 8941 Item whose value is an sf-string (draft §2): a bare token, an
 *    unterminated or escaped-wrong string, control or non-ASCII characters, an empty key, more than
 *    MAX_KEY_LENGTH characters or a second header (fetch joins repeated headers with ", ", which is
 *    no longer an Item) -> 400 naming `header.idempotency-key`; missing where required -> 400;
 * 2. scopes the key to the caller (draft, Security Considerations: a key alone would let one client
 *    read another's stored result): token subject (or client id), method and route template. No
 *    authenticated caller -> 401; anonymous callers are never scoped by IP;
 * 3. fingerprints the request: SHA-256 over method, path and query, media type and the body (JSON
 *    bodies in RFC 8785 canonical form, so key order and whitespace do not count as a new payload).
 *    The body is read from a clone, so validators and the handler still read the original;
 * 4. asks the scope's `IdempotencyKeys` shard: first request -> the handler runs and its response
 *    is stored; retry with the same fingerprint -> the stored response again, with
 *    `Idempotent-Replayed: true`, status and body included even when they were an error; first
 *    request still running -> 409; same key, other fingerprint -> 422.
 *
 * What is stored: every response the handler returns, 5xx included (Stripe does the same: the
 * request started executing, its effect is unknown to the client and must not run twice). A thrown
 * error is rendered by the app's onError like any other; it is stored when it is a client error the
 * handler decided (4xx), and the key is released (`abandon`) when it is a 5xx (the handler broke
 * off; a retry may run it again) or a refusal that says nothing about the payload and may change on
 * its own (401, 403, 429), so a fixed grant or a later retry is not answered from the store.
 * @module
 */
import { z } from '@hono/zod-openapi'
import type { RouteConfig } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { StatusCode } from 'hono/utils/http-status'
import { matchedRoutes } from 'hono/route'
import { DEFAULT_TTL_MS, IN_FLIGHT_LEASE_MS, idempotencyShard, type StoredHeader, type StoredResponse } from '../../durable-objects/idempotency-keys'
import { Problem } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { log, type LogLevel } from '../edge/logger'
import { ProblemError } from '../edge/problem'
import { canonicalJson } from './canonical-json'
import { sha256Hex, utf8 } from './encoding'

/** The request header (draft §2). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key'
/** Set on a response that was replayed from the store, not produced by this request. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed'
/** Keys longer than this are refused (Stripe's limit; a UUID is 36). */
export const MAX_KEY_LENGTH = 255
/** Where the problem `type` of a key error points: the API docs' idempotency section. */
export const IDEMPOTENCY_DOCS_PATH = '/api/docs#idempotency'
/** Response bodies up to this many bytes are stored by default. */
export const DEFAULT_MAX_STORED_BODY_BYTES = 64 * 1024
/** The hard ceiling for `maxStoredBodyBytes` (the object keeps base64 up to 256 KiB). */
export const MAX_STORED_BODY_BYTES = 192 * 1024
/** Response headers kept with the stored response and replayed; never cookies or per-request ids. */
export const DEFAULT_REPLAYED_HEADERS = ['content-type', 'content-language', 'cache-control', 'location', 'content-location', 'etag', 'last-modified', 'link'] as const

const HEADER_PATH = 'header.idempotency-key'

/** The docs text for the header, shared by the OpenAPI parameter and the API description. */
export const IDEMPOTENCY_HEADER_DESCRIPTION = [
  'Makes this POST safe to retry (draft-ietf-httpapi-idempotency-key-header-07).',
  `Send a fresh random value per operation, as an RFC 8941 sf-string (quoted), at most ${MAX_KEY_LENGTH} characters,`,
  'e.g. `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`, and the same value on every retry of that operation.',
  'Keys are scoped to the authenticated caller, the method and the route.',
  `A retry with the same body receives the first response again (errors included) with \`${IDEMPOTENT_REPLAYED_HEADER}: true\`;`,
  'a retry while the first request still runs gets 409 with Retry-After; the same key with a different body gets 422;',
  'a missing or malformed key gets 400.',
  `Keys expire ${DEFAULT_TTL_MS / 3_600_000} hours after the first request; afterwards the key is new again.`,
].join(' ')

/**
 * The `Idempotency-Key` request header for `createRoute({ request: { headers } })`; header names
 * are matched in lower case by Hono's validator. The middleware checks the syntax; the schema only
 * documents it, so both report one error shape.
 */
export const IdempotencyKeyHeaderSchema = z
  .string()
  .openapi({
    param: { name: 'idempotency-key', in: 'header', required: true },
    description: IDEMPOTENCY_HEADER_DESCRIPTION,
    example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
  })

/** Headers object for `createRoute({ request: { headers: IDEMPOTENCY_HEADER } })`. */
export const IDEMPOTENCY_HEADER = z.object({ 'idempotency-key': IdempotencyKeyHeaderSchema })

// ---------------------------------------------------------------------------------------------
// Header syntax (RFC 8941 §3.3.3 String, §4.2.5 parsing; §3.1.2 parameters are parsed and ignored)

export type KeyParse = { ok: true; key: string } | { ok: false; reason: string }

const PARAM_KEY_RE = /^[a-z*][a-z0-9_.*-]*/
const TOKEN_RE = /^[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*/
const NUMBER_RE = /^-?(?:\d{1,12}\.\d{1,3}|\d{1,15})(?![\d.])/
const BYTES_RE = /^:[A-Za-z0-9+/=]*:/
const BOOLEAN_RE = /^\?[01]/

/** Parses an sf-string at the start of `input`; returns it and the rest, or why not. */
function parseSfString(input: string): { value: string; rest: string } | { error: string } {
  if (input[0] !== '"') return { error: 'must be a quoted string (RFC 8941 sf-string), e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"' }
  let value = ''
  for (let i = 1; i < input.length; i++) {
    const ch = input[i]!
    const code = ch.charCodeAt(0)
    if (ch === '\\') {
      const next = input[i + 1]
      if (next !== '"' && next !== '\\') return { error: 'only \\" and \\\\ may be escaped in an sf-string' }
      value += next
      i++
    } else if (ch === '"') {
      return { value, rest: input.slice(i + 1) }
    } else if (code < 0x20 || code > 0x7e) {
      return { error: 'may contain printable ASCII only (no control or non-ASCII characters)' }
    } else {
      value += ch
    }
  }
  return { error: 'the quoted string is not terminated' }
}

/** Skips one RFC 8941 bare item (a parameter value); returns the rest or null. */
function skipBareItem(input: string): string | null {
  if (input[0] === '"') {
    const parsed = parseSfString(input)
    return 'error' in parsed ? null : parsed.rest
  }
  for (const re of [NUMBER_RE, TOKEN_RE, BYTES_RE, BOOLEAN_RE]) {
    const match = re.exec(input)
    if (match) return input.slice(match[0].length)
  }
  return null
}

/**
 * The key in an `Idempotency-Key` field value, or why it is not acceptable. `value` is the field as
 * `Headers.get` returns it (repeated fields joined by ", ").
 */
export function parseIdempotencyKey(value: string): KeyParse {
  const input = value.replace(/^ +| +$/g, '')
  if (input.length === 0) return { ok: false, reason: 'is empty' }
  const parsed = parseSfString(input)
  if ('error' in parsed) return { ok: false, reason: parsed.error }
  let rest = parsed.rest
  while (rest.startsWith(';')) {
    rest = rest.slice(1).replace(/^ +/, '')
    const key = PARAM_KEY_RE.exec(rest)
    if (!key) return { ok: false, reason: 'has a malformed parameter' }
    rest = rest.slice(key[0].length)
    if (rest.startsWith('=')) {
      const after = skipBareItem(rest.slice(1))
      if (after === null) return { ok: false, reason: 'has a malformed parameter value' }
      rest = after
    }
  }
  if (rest.replace(/^[ \t]+/, '').startsWith(',')) return { ok: false, reason: 'must be sent once with a single key (got a list or a repeated header)' }
  if (rest.length > 0) return { ok: false, reason: 'has characters after the quoted key' }
  if (parsed.value.length === 0) return { ok: false, reason: 'must not be an empty string' }
  if (parsed.value.length > MAX_KEY_LENGTH) return { ok: false, reason: `must be at most ${MAX_KEY_LENGTH} characters` }
  return { ok: true, key: parsed.value }
}

// ---------------------------------------------------------------------------------------------
// Scope and fingerprint

/** The caller as the lookup key names it: `sub:<subject>`, or `client:<client_id>` for a token without a subject. */
export function callerIdentity(c: Context<AppEnv>): string | undefined {
  const auth = c.var.auth
  if (!auth) return undefined
  if (auth.subject) return `sub:${auth.subject}`
  const clientId = auth.claims.client_id
  return typeof clientId === 'string' && clientId ? `client:${clientId}` : undefined
}

/** The composite lookup key: unambiguous (a JSON array), so no two tuples share a scope. */
export function idempotencyScope(identity: string, method: string, routeTemplate: string, key: string): string {
  return JSON.stringify([identity, method.toUpperCase(), routeTemplate, key])
}

/**
 * SHA-256 (hex) over method, path with query, media type and body. JSON bodies count in their
 * RFC 8785 canonical form; anything else (or JSON that does not parse) by its bytes.
 */
export function requestFingerprint(method: string, pathWithQuery: string, contentType: string | undefined, body: Uint8Array): string {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  let canonical = body
  if (/^application\/(?:[\w.-]+\+)?json$/.test(mediaType) && body.byteLength > 0) {
    try {
      canonical = utf8(canonicalJson(JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body))))
    } catch {
      // not JSON after all: the bytes are the payload
    }
  }
  const head = utf8(`${method.toUpperCase()}\n${pathWithQuery}\n${mediaType}\n`)
  const all = new Uint8Array(head.byteLength + canonical.byteLength)
  all.set(head, 0)
  all.set(canonical, head.byteLength)
  return sha256Hex(all)
}

/** The template of the route that will answer (e.g. `/api/payouts/:id`), wherever the middleware is mounted. */
function routeTemplate(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c)
  const here = routes[c.req.routeIndex]
  if (here && here.method !== 'ALL') return here.path
  const handler = routes.slice(c.req.routeIndex + 1).find((route) => route.method !== 'ALL')
  return handler?.path ?? c.req.path
}

// ---------------------------------------------------------------------------------------------
// Middleware

export interface IdempotentOptions {
  /** refuse requests without the header (400); default true. When false, such requests run unprotected. */
  required?: boolean
  /** how long a key is remembered after the first request; default 24 h */
  ttlMs?: number
  /**
   * Who the caller is, for the lookup key. Default: the token subject or client id (`callerIdentity`);
   * a route that authenticates otherwise (a gateway webhook verified by signature) returns its own,
   * e.g. `gateway:ccbill`. `undefined` -> 401.
   */
  identity?: (c: Context<AppEnv>) => string | undefined
  /** response bodies above this are not stored (a replay then answers 409); default 64 KiB */
  maxStoredBodyBytes?: number
  /** response headers to replay besides DEFAULT_REPLAYED_HEADERS (lower case) */
  replayHeaders?: string[]
  /** the clock (epoch ms); tests move it */
  now?: () => number
}

function problemType(c: Context): string {
  return new URL(IDEMPOTENCY_DOCS_PATH, c.req.url).toString()
}

function keyProblem(c: Context, missing: boolean, reason: string): ProblemError {
  const detail = `${IDEMPOTENCY_KEY_HEADER} ${reason}`
  return new ProblemError(missing ? 'IDEMPOTENCY_KEY_MISSING' : 'IDEMPOTENCY_KEY_INVALID', {
    detail,
    errors: [{ path: HEADER_PATH, message: reason }],
    extensions: { type: problemType(c) },
  })
}

/** Thrown errors whose rendered response is stored: client errors about this request, not refusals that may lift. */
function keepsThrown(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 429
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

function fromBase64(value: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))
}

function logLevelOf(c: Context<AppEnv>): LogLevel {
  return c.var.config?.logLevel ?? 'debug'
}

/**
 * Honour `Idempotency-Key` on this route. Mount it after authentication and access checks and
 * before input validation (`withIdempotency` does that for OpenAPI routes).
 * @example
 * app.post('/api/payouts', requireRole('creator'), idempotent(), async (c) => c.json(await createPayout(c), 201))
 */
export function idempotent(options: IdempotentOptions = {}): MiddlewareHandler<AppEnv> {
  const required = options.required ?? true
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS
  const maxStored = options.maxStoredBodyBytes ?? DEFAULT_MAX_STORED_BODY_BYTES
  const identityOf = options.identity ?? callerIdentity
  const now = options.now ?? Date.now
  const kept = new Set<string>([...DEFAULT_REPLAYED_HEADERS, ...(options.replayHeaders ?? []).map((h) => h.toLowerCase())])
  if (!Number.isInteger(ttlMs) || ttlMs < 60_000 || ttlMs > 7 * 86_400_000) throw new RangeError('idempotent: ttlMs must be 1 minute to 7 days')
  if (!Number.isInteger(maxStored) || maxStored < 0 || maxStored > MAX_STORED_BODY_BYTES) throw new RangeError(`idempotent: maxStoredBodyBytes must be 0..${MAX_STORED_BODY_BYTES}`)
  for (const name of kept) if (name === 'set-cookie' || name === 'x-request-id') throw new RangeError(`idempotent: ${name} must not be replayed`)

  return createMiddleware<AppEnv>(async function idempotencyKey(c, next) {
    const field = c.req.raw.headers.get(IDEMPOTENCY_KEY_HEADER)
    if (field === null) {
      if (required) throw keyProblem(c, true, 'is required on this operation')
      return next()
    }
    const parsed = parseIdempotencyKey(field)
    if (!parsed.ok) throw keyProblem(c, false, parsed.reason)

    const identity = identityOf(c)
    if (!identity) {
      throw new ProblemError('UNAUTHENTICATED', {
        detail: `${IDEMPOTENCY_KEY_HEADER} needs an authenticated caller to scope the key`,
        headers: { 'www-authenticate': 'Bearer realm="fanz"' },
      })
    }
    const scope = idempotencyScope(identity, c.req.method, routeTemplate(c), parsed.key)
    const url = new URL(c.req.url)
    // a clone: the original body stays unread for validators and the handler
    const body = c.req.raw.body ? new Uint8Array(await c.req.raw.clone().arrayBuffer()) : new Uint8Array()
    const fingerprint = requestFingerprint(c.req.method, url.pathname + url.search, c.req.header('content-type'), body)

    const shard = idempotencyShard(c.env, scope)
    const begun = await shard.begin(scope, fingerprint, now(), ttlMs)
    switch (begun.kind) {
      case 'mismatch':
        throw new ProblemError('IDEMPOTENCY_KEY_REUSED', {
          detail: `this ${IDEMPOTENCY_KEY_HEADER} was already used with a different request body or path; use a new key for a new operation`,
          extensions: { type: problemType(c) },
        })
      case 'in_flight':
        throw new ProblemError('IDEMPOTENCY_KEY_IN_FLIGHT', {
          detail: `the first request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry after it finishes`,
          headers: { 'retry-after': String(begun.retryAfterS) },
          extensions: { type: problemType(c) },
        })
      case 'replay':
        return replay(c, begun.response)
      case 'proceed':
        break
    }

    const attempt = begun.attempt
    try {
      await next()
    } catch (err) {
      // an error no onError rendered: nothing was answered, so a retry may run it
      await release(c, scope, attempt)
      throw err
    }
    if (c.error !== undefined && !keepsThrown(c.res.status)) {
      await release(c, scope, attempt)
      return
    }
    const res = c.res
    const bytes = new Uint8Array(await res.arrayBuffer())
    const headers: StoredHeader[] = []
    for (const [name, value] of res.headers) if (kept.has(name)) headers.push({ name, value })
    const stored: StoredResponse = { status: res.status, headers, bodyBase64: bytes.byteLength <= maxStored ? toBase64(bytes) : null }
    c.res = new Response(bytes.byteLength ? bytes : null, { status: res.status, statusText: res.statusText, headers: res.headers })
    try {
      const done = await shard.complete(scope, attempt, stored)
      if (!done.ok) log('warn', logLevelOf(c), 'idempotency_complete_refused', { request_id: c.var.requestId, code: done.code })
    } catch (err) {
      // the effect happened: answer it; the key stays in flight until its lease runs out
      log('error', logLevelOf(c), 'idempotency_complete_failed', { request_id: c.var.requestId, lease_ms: IN_FLIGHT_LEASE_MS, error: String(err) })
    }
  })
}

async function release(c: Context<AppEnv>, scope: string, attempt: string): Promise<void> {
  try {
    await idempotencyShard(c.env, scope).abandon(scope, attempt)
  } catch (err) {
    log('error', logLevelOf(c), 'idempotency_abandon_failed', { request_id: c.var.requestId, lease_ms: IN_FLIGHT_LEASE_MS, error: String(err) })
  }
}

function replay(c: Context<AppEnv>, response: StoredResponse): Response {
  if (response.bodyBase64 === null) {
    throw new ProblemError('CONFLICT', {
      detail: `the first response to this ${IDEMPOTENCY_KEY_HEADER} (status ${response.status}) was too large to keep; read the resource it created instead of retrying`,
      headers: { [IDEMPOTENT_REPLAYED_HEADER.toLowerCase()]: 'true' },
      extensions: { type: problemType(c), original_status: response.status },
    })
  }
  const headers = new Headers(response.headers.map(({ name, value }): [string, string] => [name, value]))
  headers.set(IDEMPOTENT_REPLAYED_HEADER, 'true')
  const body = fromBase64(response.bodyBase64)
  return c.newResponse(body.byteLength ? body : null, { status: response.status as StatusCode, headers })
}

// ---------------------------------------------------------------------------------------------
// OpenAPI routes

type RouteWithMiddleware = Omit<RouteConfig, 'middleware'> & { middleware?: MiddlewareHandler<AppEnv> | MiddlewareHandler<AppEnv>[] }

const problemContent = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } })

/**
 * `route` with `idempotent(options)` after its own middleware (access checks first, so a refused
 * caller never touches the store) and before input validation, the header documented as a
 * parameter and the 400/409/422 answers documented.
 * @example
 * app.openapi(createRoute(withIdempotency(withAccess(permission('payments:payouts:create'), { method: 'post', path: '/payouts', ... }))), handler)
 */
export function withIdempotency<R extends RouteWithMiddleware>(route: R, options: IdempotentOptions = {}): R & { middleware: MiddlewareHandler<AppEnv>[] } {
  const own = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware]
  const required = options.required ?? true
  const header = required ? IdempotencyKeyHeaderSchema : IdempotencyKeyHeaderSchema.optional()
  const existing = route.request?.headers
  let headers: z.ZodObject
  if (existing === undefined) headers = z.object({ 'idempotency-key': header })
  else if (existing instanceof z.ZodObject) headers = existing.extend({ 'idempotency-key': header })
  else throw new TypeError('withIdempotency: request.headers must be a z.object to add Idempotency-Key to')
  const responses = { ...route.responses }
  for (const [status, text] of [
    ['400', 'Idempotency-Key missing or malformed (problem+json, code IDEMPOTENCY_KEY_MISSING or IDEMPOTENCY_KEY_INVALID)'],
    ['409', 'A request with this Idempotency-Key is still in flight (code IDEMPOTENCY_KEY_IN_FLIGHT; Retry-After)'],
    ['422', 'Idempotency-Key reused with a different body (code IDEMPOTENCY_KEY_REUSED)'],
  ] as const) {
    if (!(status in responses)) responses[status] = problemContent(text)
  }
  return { ...route, request: { ...route.request, headers }, responses, middleware: [...own, idempotent(options)] }
}
