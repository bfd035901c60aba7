/**
 * `/api/sso/clients`: OAuth clients. Registered clients are `service` (client_credentials only, no
 * redirect URIs) or `partner` (authorization code + PKCE at exact redirect URIs). Their secret is
 * 256 random bits, answered once; only `hashClientSecret(secret)` is stored (oidc/clients.ts).
 *
 * First-party clients (the brands, FanzDash) keep secrets derived from SIGNING_MASTER_KEY: they can
 * never get a stored secret (rotate-secret refuses them; rotating the master key rotates them all)
 * and cannot be disabled here, which would take a brand's sign-in down; there is no delete.
 *
 * URIs: absolute `https:`, no fragment (RFC 6749 §3.1.2), no credentials; `http:` only for
 * `localhost` / `*.localhost` and only in dev. Registering secrets needs a recent strong sign-in.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Config } from '../../config'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError, type FieldError } from '../../edge/problem'
import { randomToken } from '../../lib/encoding'
import { newId } from '../../lib/ids'
import { cursorOf, encodeCursor } from '../../lib/pagination'
import type { JsonObject } from '../../lib/json'
import { hashClientSecret } from '../oidc/clients'
import { SUPPORTED_SCOPES } from '../oidc/claims'
import { permission, withAccess } from '../roles/access'
import { ClientCreate, ClientIdParam, ClientListQuery, ClientPage, ClientUpdate, ClientView, ClientWithSecret, iso } from './schemas'
import { STEP_UP } from './step-up'

const tags = ['sso-admin']

interface ClientRow {
  id: string
  name: string
  kind: 'brand' | 'dash' | 'service' | 'partner'
  brand_id: string | null
  secret_kind: 'derived' | 'hashed' | 'none'
  redirect_uris_json: string
  post_logout_redirect_uris_json: string
  grant_types_json: string
  scope: string
  backchannel_logout_uri: string | null
  id_token_signed_response_alg: 'EdDSA' | 'RS256'
  first_party: number
  status: 'active' | 'disabled'
  created_at_ms: number
  updated_at_ms: number
}

// never secret_hash
const CLIENT_COLUMNS = `id, name, kind, brand_id, secret_kind, redirect_uris_json, post_logout_redirect_uris_json, grant_types_json, scope,
  backchannel_logout_uri, id_token_signed_response_alg, first_party, status, created_at_ms, updated_at_ms`

function clientJson(row: ClientRow): z.infer<typeof ClientView> {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    brand_id: row.brand_id,
    first_party: row.first_party === 1,
    secret_kind: row.secret_kind,
    redirect_uris: JSON.parse(row.redirect_uris_json) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris_json) as string[],
    grant_types: JSON.parse(row.grant_types_json) as string[],
    scope: row.scope,
    backchannel_logout_uri: row.backchannel_logout_uri,
    id_token_signed_response_alg: row.id_token_signed_response_alg,
    status: row.status,
    created_at: iso(row.created_at_ms),
    updated_at: iso(row.updated_at_ms),
  }
}

/** What an audit entry keeps of a client: everything shown, never a secret. */
function auditView(row: ClientRow): JsonObject {
  const { created_at: _c, updated_at: _u, ...rest } = clientJson(row)
  return rest as unknown as JsonObject
}

async function clientOr404(d1: D1Database, id: string): Promise<ClientRow> {
  const row = await d1.prepare(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE id = ?`).bind(id).first<ClientRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no client ${id}` })
  return row
}

const isFirstParty = (row: ClientRow) => row.kind === 'brand' || row.kind === 'dash' || row.first_party === 1

/** Why `value` is not an acceptable redirect / logout URI here, or null. */
export function uriProblem(config: Config, value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URI'
  }
  if (url.hash || value.includes('#')) return 'must not contain a fragment'
  if (url.username || url.password) return 'must not contain credentials'
  if (url.protocol === 'https:') return null
  const local = url.hostname === 'localhost' || url.hostname.endsWith('.localhost')
  if (url.protocol === 'http:' && local) return config.isDev ? null : 'http is allowed only for *.localhost in development'
  return 'must use https'
}

function checkUris(config: Config, field: string, values: readonly string[] | undefined, errors: FieldError[]): void {
  values?.forEach((value, i) => {
    const problem = uriProblem(config, value)
    if (problem) errors.push({ path: `body.${field}.${i}`, message: problem })
  })
  if (values && new Set(values).size !== values.length) errors.push({ path: `body.${field}`, message: 'must not repeat a URI' })
}

function invalid(errors: FieldError[]): ProblemError {
  return new ProblemError('VALIDATION_FAILED', { detail: errors.map((e) => `${e.path} ${e.message}`).join('; '), errors })
}

const listClientsRoute = createRoute(
  withAccess(permission('sso:clients:read'), {
    method: 'get',
    path: '/clients',
    tags,
    summary: 'OAuth clients by id (first-party brands and FanzDash included); never secrets',
    request: { query: ClientListQuery },
    responses: { 200: json('A page of clients', ClientPage), ...problemResponses(400, 401, 403) },
  }),
)

const createClientRoute = createRoute(
  withAccess(permission('sso:clients:manage', { stepUp: STEP_UP }), {
    method: 'post',
    path: '/clients',
    tags,
    summary: 'Register a service or partner client; the secret is in this answer only',
    request: { body: jsonBody(ClientCreate) },
    responses: { 201: json('Registered; keep client_secret now, it is not shown again', ClientWithSecret), ...problemResponses(400, 401, 403, 415, 422) },
  }),
)

const updateClientRoute = createRoute(
  withAccess(permission('sso:clients:manage'), {
    method: 'patch',
    path: '/clients/{id}',
    tags,
    summary: 'Change a client name, redirect URIs, back-channel logout URI or status',
    request: { params: ClientIdParam, body: jsonBody(ClientUpdate) },
    responses: { 200: json('The client', ClientView), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  }),
)

const rotateSecretRoute = createRoute(
  withAccess(permission('sso:clients:manage', { stepUp: STEP_UP }), {
    method: 'post',
    path: '/clients/{id}/rotate-secret',
    tags,
    summary: 'Replace a registered client secret (the old one stops working at once); first-party clients refuse',
    request: { params: ClientIdParam },
    responses: { 200: json('The new secret, shown once', ClientWithSecret), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

/** 256 random bits, base64url. */
export function newClientSecret(): string {
  return randomToken(32)
}

export function registerClientRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listClientsRoute, async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ id: z.string() }))
    const where: string[] = []
    const binds: unknown[] = []
    if (q.kind) {
      where.push('kind = ?')
      binds.push(q.kind)
    }
    if (after) {
      where.push('id > ?')
      binds.push(after.id)
    }
    const { results } = await c.env.DB.prepare(`SELECT ${CLIENT_COLUMNS} FROM oauth_clients ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`)
      .bind(...binds, q.limit + 1)
      .all<ClientRow>()
    const items = results.slice(0, q.limit)
    const last = items.at(-1)
    return c.json({ items: items.map(clientJson), next_cursor: results.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
  })

  app.openapi(createClientRoute, async (c) => {
    const body = c.req.valid('json')
    const config = c.var.config
    const errors: FieldError[] = []
    checkUris(config, 'redirect_uris', body.redirect_uris, errors)
    checkUris(config, 'post_logout_redirect_uris', body.post_logout_redirect_uris, errors)
    if (body.backchannel_logout_uri !== null) checkUris(config, 'backchannel_logout_uri', [body.backchannel_logout_uri], errors)
    if (body.kind === 'service' && body.redirect_uris.length) errors.push({ path: 'body.redirect_uris', message: 'a service client (client_credentials) has no redirect URIs' })
    if (body.kind === 'partner' && !body.redirect_uris.length) errors.push({ path: 'body.redirect_uris', message: 'a partner client needs at least one redirect URI' })
    const scopes = (body.scope ?? (body.kind === 'partner' ? 'openid profile' : '')).split(' ').filter(Boolean)
    const unknown = scopes.filter((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s))
    if (unknown.length) errors.push({ path: 'body.scope', message: `unknown scope ${unknown.join(', ')}; supported: ${SUPPORTED_SCOPES.join(' ')}` })
    if (errors.length) throw invalid(errors.map((e) => (e.path === 'body.backchannel_logout_uri.0' ? { ...e, path: 'body.backchannel_logout_uri' } : e)))

    const nowMs = Date.now()
    const secret = newClientSecret()
    const row: ClientRow = {
      id: newId('serviceClient', nowMs),
      name: body.name,
      kind: body.kind,
      brand_id: null,
      secret_kind: 'hashed',
      redirect_uris_json: JSON.stringify(body.redirect_uris),
      post_logout_redirect_uris_json: JSON.stringify(body.post_logout_redirect_uris),
      grant_types_json: JSON.stringify(body.kind === 'service' ? ['client_credentials'] : ['authorization_code', 'refresh_token']),
      scope: [...new Set(scopes)].join(' '),
      backchannel_logout_uri: body.backchannel_logout_uri,
      id_token_signed_response_alg: body.id_token_signed_response_alg,
      first_party: 0,
      status: 'active',
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    }
    await c.env.DB.prepare(
      `INSERT INTO oauth_clients (id, name, kind, brand_id, secret_kind, secret_hash, redirect_uris_json, post_logout_redirect_uris_json, grant_types_json, scope,
         backchannel_logout_uri, id_token_signed_response_alg, first_party, status, created_at_ms, updated_at_ms) VALUES (?, ?, ?, NULL, 'hashed', ?, ?, ?, ?, ?, ?, ?, 0, 'active', ?, ?)`,
    )
      .bind(row.id, row.name, row.kind, hashClientSecret(secret), row.redirect_uris_json, row.post_logout_redirect_uris_json, row.grant_types_json, row.scope, row.backchannel_logout_uri, row.id_token_signed_response_alg, nowMs, nowMs)
      .run()
    await audit(c, 'sso.client.create', `client:${row.id}`, { before: null, after: auditView(row) })
    c.header('cache-control', 'no-store')
    return c.json({ ...clientJson(row), client_secret: secret }, 201)
  })

  app.openapi(updateClientRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const before = await clientOr404(c.env.DB, id)
    const config = c.var.config
    const errors: FieldError[] = []
    checkUris(config, 'redirect_uris', body.redirect_uris, errors)
    checkUris(config, 'post_logout_redirect_uris', body.post_logout_redirect_uris, errors)
    if (body.backchannel_logout_uri) checkUris(config, 'backchannel_logout_uri', [body.backchannel_logout_uri], errors)
    const grantTypes = JSON.parse(before.grant_types_json) as string[]
    if (body.redirect_uris?.length && !grantTypes.includes('authorization_code')) errors.push({ path: 'body.redirect_uris', message: 'a service client (client_credentials) has no redirect URIs' })
    if (body.redirect_uris && !body.redirect_uris.length && grantTypes.includes('authorization_code')) errors.push({ path: 'body.redirect_uris', message: 'a client using the authorization code grant needs at least one redirect URI' })
    if (errors.length) throw invalid(errors.map((e) => (e.path === 'body.backchannel_logout_uri.0' ? { ...e, path: 'body.backchannel_logout_uri' } : e)))
    if (body.status === 'disabled' && isFirstParty(before)) {
      throw new ProblemError('CONFLICT', { detail: `${id} is a first-party client (${before.kind}); it cannot be disabled or removed here`, errors: [{ path: 'body.status', message: 'first-party clients stay active' }] })
    }
    const after: ClientRow = {
      ...before,
      name: body.name ?? before.name,
      redirect_uris_json: body.redirect_uris ? JSON.stringify(body.redirect_uris) : before.redirect_uris_json,
      post_logout_redirect_uris_json: body.post_logout_redirect_uris ? JSON.stringify(body.post_logout_redirect_uris) : before.post_logout_redirect_uris_json,
      backchannel_logout_uri: body.backchannel_logout_uri === undefined ? before.backchannel_logout_uri : body.backchannel_logout_uri,
      status: body.status ?? before.status,
      updated_at_ms: Date.now(),
    }
    await c.env.DB.prepare(
      'UPDATE oauth_clients SET name = ?, redirect_uris_json = ?, post_logout_redirect_uris_json = ?, backchannel_logout_uri = ?, status = ?, updated_at_ms = ? WHERE id = ?',
    )
      .bind(after.name, after.redirect_uris_json, after.post_logout_redirect_uris_json, after.backchannel_logout_uri, after.status, after.updated_at_ms, id)
      .run()
    await audit(c, 'sso.client.update', `client:${id}`, { before: auditView(before), after: auditView(after) })
    return c.json(clientJson(after), 200)
  })

  app.openapi(rotateSecretRoute, async (c) => {
    const { id } = c.req.valid('param')
    const before = await clientOr404(c.env.DB, id)
    if (isFirstParty(before) || before.secret_kind !== 'hashed') {
      throw new ProblemError('CONFLICT', {
        detail: isFirstParty(before)
          ? `${id} is a first-party client: its secret is derived from SIGNING_MASTER_KEY and never stored`
          : `${id} is a public client (PKCE only) and has no secret`,
      })
    }
    const secret = newClientSecret()
    const nowMs = Date.now()
    await c.env.DB.prepare("UPDATE oauth_clients SET secret_hash = ?, updated_at_ms = ? WHERE id = ? AND secret_kind = 'hashed'").bind(hashClientSecret(secret), nowMs, id).run()
    await audit(c, 'sso.client.rotate_secret', `client:${id}`, { before: { secret_kind: 'hashed' }, after: { secret_kind: 'hashed', rotated_at_ms: nowMs } })
    c.header('cache-control', 'no-store')
    return c.json({ ...clientJson({ ...before, updated_at_ms: nowMs }), client_secret: secret }, 200)
  })
}
