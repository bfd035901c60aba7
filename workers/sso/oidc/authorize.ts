/**
 * The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): code flow only, PKCE S256
 * required, exact redirect-URI match, `state`, `nonce`, `prompt=none|login`, `max_age`.
 * Until the client and redirect URI are known to be good, errors are shown here and never
 * redirected (§4.1.2.1: no open redirector); after that they go back to the client with `state`
 * and `iss` (RFC 9207). A visitor who must sign in is sent to `/login?request=<id>` with the
 * validated request parked in D1; `/authorize/resume` picks it up after any sign-in method.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { newId } from '../../lib/ids'
import { isPkceChallenge } from '../oauth/pkce'
import { readIdpSession, type IdpSession } from '../login/idp-session'
import { userSessions } from '../sessions'
import { grantScopes } from './claims'
import { findClient, redirectUriAllowed, type OAuthClient } from './clients'
import { singleValued } from './errors'
import { routed } from './issue'
import { authorizeErrorPage } from './pages'
import { StoredRequest } from './authorize-request'
import { consentCovers } from './consent'

const AUTH_REQUEST_TTL_MS = 10 * 60_000


type Redirectable = { redirectUri: string; state?: string }

function redirectWith(c: Context<AppEnv>, to: Redirectable, params: Record<string, string>): Response {
  const url = new URL(to.redirectUri)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  if (to.state !== undefined) url.searchParams.set('state', to.state)
  url.searchParams.set('iss', c.var.config.issuer)
  c.header('cache-control', 'no-store')
  return c.redirect(url.toString(), 303)
}

function errorRedirect(c: Context<AppEnv>, to: Redirectable, error: string, description: string): Response {
  return redirectWith(c, to, { error, error_description: description })
}

export async function authorizeEndpoint(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  let params: Record<string, string>
  try {
    const raw = c.req.method === 'POST' ? new URLSearchParams(await c.req.text()) : new URL(c.req.url).searchParams
    params = singleValued(raw)
  } catch {
    return authorizeErrorPage(c, 'A parameter was sent twice or the request could not be read.')
  }
  // 1. client and redirect URI: errors stay here
  if (!params.client_id) return authorizeErrorPage(c, 'The request names no client (client_id is missing).')
  const client = await findClient(c.env.DB, params.client_id)
  if (!client || client.status !== 'active') return authorizeErrorPage(c, 'The application that sent you here is not registered or is disabled.')
  if (!params.redirect_uri) return authorizeErrorPage(c, 'The request has no redirect_uri.')
  if (!redirectUriAllowed(c.var.config, client.redirectUris, params.redirect_uri)) {
    return authorizeErrorPage(c, 'The redirect_uri does not exactly match one registered for this application.')
  }
  const back: Redirectable = { redirectUri: params.redirect_uri, state: params.state }
  if (params.state !== undefined && params.state.length > 1024) return errorRedirect(c, { redirectUri: params.redirect_uri }, 'invalid_request', 'state is longer than 1024 characters')

  // 2. everything else goes back to the client as an OAuth error
  if (params.request) return errorRedirect(c, back, 'request_not_supported', 'request objects are not supported')
  if (params.request_uri) return errorRedirect(c, back, 'request_uri_not_supported', 'request_uri is not supported')
  if (params.response_type !== 'code') return errorRedirect(c, back, 'unsupported_response_type', 'only response_type=code is supported')
  if (params.response_mode && params.response_mode !== 'query') return errorRedirect(c, back, 'invalid_request', 'only response_mode=query is supported')
  if (!client.grantTypes.includes('authorization_code')) return errorRedirect(c, back, 'unauthorized_client', 'this client may not use the authorization code flow')
  if (!params.code_challenge) return errorRedirect(c, back, 'invalid_request', 'code_challenge is required (PKCE)')
  if ((params.code_challenge_method ?? 'plain') !== 'S256') return errorRedirect(c, back, 'invalid_request', 'code_challenge_method must be S256')
  if (!isPkceChallenge(params.code_challenge)) return errorRedirect(c, back, 'invalid_request', 'code_challenge is not a base64url SHA-256 value')
  const scopes = grantScopes(params.scope, client)
  if (!scopes || scopes.length === 0) return errorRedirect(c, back, 'invalid_scope', 'scope is missing or asks for a scope this client may not have')
  if (params.nonce !== undefined && params.nonce.length > 512) return errorRedirect(c, back, 'invalid_request', 'nonce is longer than 512 characters')
  const prompts = (params.prompt ?? '').split(' ').filter(Boolean)
  if (prompts.some((p) => p !== 'none' && p !== 'login') || (prompts.includes('none') && prompts.length > 1)) {
    return errorRedirect(c, back, 'invalid_request', 'prompt must be none or login')
  }
  let maxAge: number | undefined
  if (params.max_age !== undefined) {
    if (!/^\d{1,9}$/.test(params.max_age)) return errorRedirect(c, back, 'invalid_request', 'max_age must be a non-negative integer')
    maxAge = Number(params.max_age)
  }
  const nowS = Math.floor(Date.now() / 1000)
  const minAuthTimeS = prompts.includes('login') ? nowS : maxAge !== undefined ? nowS - maxAge : undefined
  const request: StoredRequest = { clientId: client.id, redirectUri: params.redirect_uri, scopes, state: params.state, nonce: params.nonce, codeChallenge: params.code_challenge, minAuthTimeS }

  // 3. an existing sign-in answers at once; otherwise sign in first
  const session = await readIdpSession(c)
  if (session && !prompts.includes('login') && satisfies(session, request)) {
    if (await consentCovers(c.env.DB, session.userId, client, request.scopes)) return issueCode(c, client, request, session)
    if (prompts.includes('none')) return errorRedirect(c, back, 'consent_required', 'the user has not allowed this application yet')
    return c.redirect(`/consent?request=${await park(c, client, request)}`, 303)
  }
  if (prompts.includes('none')) return errorRedirect(c, back, 'login_required', 'the user is not signed in (or not recently enough)')
  return c.redirect(`/login?request=${await park(c, client, request)}`, 303)
}

async function park(c: Context<AppEnv>, client: OAuthClient, request: StoredRequest): Promise<string> {
  const id = newId('authRequest')
  const now = Date.now()
  await c.env.DB.prepare('INSERT INTO auth_requests (id, client_id, params_json, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)')
    .bind(id, client.id, JSON.stringify(request), now, now + AUTH_REQUEST_TTL_MS)
    .run()
  return id
}

function satisfies(session: IdpSession, request: StoredRequest): boolean {
  return request.minAuthTimeS === undefined || session.authTimeS >= request.minAuthTimeS
}

async function issueCode(c: Context<AppEnv>, client: OAuthClient, request: StoredRequest, session: IdpSession): Promise<Response> {
  const user = await c.env.DB.prepare('SELECT status FROM users WHERE id = ?').bind(session.userId).first<{ status: string }>()
  if (user?.status !== 'active') return errorRedirect(c, request, 'access_denied', 'the account is disabled')
  const issued = await userSessions(c.env, session.userId).issueCode({
    clientId: client.id,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scopes.join(' '),
    nonce: request.nonce ?? null,
    idpSessionId: session.sessionId,
  })
  if (!issued.ok) return errorRedirect(c, request, 'login_required', 'the sign-in session has ended')
  return redirectWith(c, request, { code: routed(session.userId, issued.code) })
}

/** `/authorize/resume?request=arq_...`: continue a parked request once the visitor is signed in. */
export async function resumeAuthorization(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  const id = c.req.query('request') ?? ''
  const row = await c.env.DB.prepare('SELECT params_json, expires_at_ms, completed_at_ms FROM auth_requests WHERE id = ?')
    .bind(id)
    .first<{ params_json: string; expires_at_ms: number; completed_at_ms: number | null }>()
  if (!row || row.expires_at_ms <= Date.now()) return authorizeErrorPage(c, 'This sign-in request has expired. Go back to the site you came from and try again.')
  const request = StoredRequest.parse(JSON.parse(row.params_json))
  const session = await readIdpSession(c)
  if (!session || !satisfies(session, request)) return c.redirect(`/login?request=${id}`, 303)
  const client = await findClient(c.env.DB, request.clientId)
  if (!client || client.status !== 'active') return authorizeErrorPage(c, 'The application that sent you here is no longer available.')
  const denied = c.req.query('denied') === '1'
  if (!denied && !(await consentCovers(c.env.DB, session.userId, client, request.scopes))) return c.redirect(`/consent?request=${id}`, 303)
  // one completion per parked request (a double submit must not mint two codes)
  const done = await c.env.DB.prepare('UPDATE auth_requests SET completed_at_ms = ? WHERE id = ? AND completed_at_ms IS NULL').bind(Date.now(), id).run()
  if (done.meta.changes !== 1) return authorizeErrorPage(c, 'This sign-in request was already completed. Go back to the site you came from.')
  if (denied) return errorRedirect(c, request, 'access_denied', 'the user denied the request')
  return issueCode(c, client, request, session)
}
