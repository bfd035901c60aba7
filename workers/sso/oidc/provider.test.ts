/**
 * The provider's refusals, each as the RFC wants it: what the authorization endpoint will not
 * redirect, what it sends back as an OAuth error, the token endpoint's error format, and rotation
 * with reuse detection as a client sees it.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { CookieJar } from '../../../test/cookie-jar'
import { call, tokenFor } from '../../../test/helpers'
import { createUser, signInAtSso } from '../../../test/sso'
import { challengeFor } from '../oauth/pkce'
import { derivedClientSecret } from './clients'
import { getConfig } from '../../config'

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const REDIRECT = 'http://boyfanz.localhost/auth/callback'

function authorizePath(overrides: Record<string, string | undefined> = {}): string {
  const params = { client_id: 'boyfanz', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid offline_access', state: 's-1', nonce: 'n-1', code_challenge: challengeFor(VERIFIER), code_challenge_method: 'S256', ...overrides }
  return `/authorize?${new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))}`
}

async function basic(): Promise<string> {
  return `Basic ${btoa(`boyfanz:${await derivedClientSecret(getConfig(env), 'boyfanz')}`)}`
}

async function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return call('sso.localhost', '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: await basic(), ...headers }, body: new URLSearchParams(form).toString() })
}

async function signedIn(): Promise<{ jar: CookieJar; userId: string }> {
  const jar = new CookieJar()
  const { userId } = await createUser()
  await signInAtSso(jar, userId)
  return { jar, userId }
}

async function codeFor(jar: CookieJar, overrides: Record<string, string | undefined> = {}): Promise<string> {
  const res = await call('sso.localhost', authorizePath(overrides), { headers: { cookie: jar.header('sso.localhost') } })
  expect(res.status).toBe(303)
  return new URL(res.headers.get('location')!).searchParams.get('code')!
}

describe('authorization endpoint', () => {
  it('refuses to redirect to a URI that differs from the registered one by one character', async () => {
    const { jar } = await signedIn()
    for (const redirect of [`${REDIRECT}x`, REDIRECT.replace('callback', 'callbacK'), 'http://boyfanz.localhost/auth/callback/', 'https://evil.example/auth/callback']) {
      const res = await call('sso.localhost', authorizePath({ redirect_uri: redirect }), { headers: { cookie: jar.header('sso.localhost') } })
      expect(res.status, redirect).toBe(400)
      expect(res.headers.get('location')).toBeNull()
      expect(await res.text()).toContain('does not exactly match')
    }
  })

  it('shows unknown clients and missing parameters instead of redirecting', async () => {
    expect((await call('sso.localhost', authorizePath({ client_id: 'nosuch' }))).status).toBe(400)
    expect((await call('sso.localhost', authorizePath({ client_id: undefined }))).status).toBe(400)
    expect((await call('sso.localhost', `${authorizePath()}&state=again`)).status).toBe(400)
  })

  it.each([
    [{ code_challenge: undefined }, 'invalid_request', /code_challenge is required/],
    [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
    [{ code_challenge_method: undefined }, 'invalid_request', /S256/],
    [{ response_type: 'token' }, 'unsupported_response_type', /code/],
    [{ scope: 'openid admin' }, 'invalid_scope', /scope/],
    [{ prompt: 'consent' }, 'invalid_request', /prompt/],
    [{ max_age: '-1' }, 'invalid_request', /max_age/],
    [{ request: 'eyJ' }, 'request_not_supported', /request/],
  ])('sends %o back as %s', async (overrides, error, description) => {
    const res = await call('sso.localhost', authorizePath(overrides))
    expect(res.status).toBe(303)
    const back = new URL(res.headers.get('location')!)
    expect(back.origin + back.pathname).toBe(REDIRECT)
    expect(back.searchParams.get('error')).toBe(error)
    expect(back.searchParams.get('error_description')).toMatch(description)
    expect(back.searchParams.get('state')).toBe('s-1')
    expect(back.searchParams.get('iss')).toBe('http://sso.localhost')
  })

  it('prompt=none without a session answers login_required; prompt=login and max_age ask again', async () => {
    const none = await call('sso.localhost', authorizePath({ prompt: 'none' }))
    expect(new URL(none.headers.get('location')!).searchParams.get('error')).toBe('login_required')
    const jar = new CookieJar()
    const { userId } = await createUser()
    await signInAtSso(jar, userId, ['pwd'], Math.floor(Date.now() / 1000) - 600)
    const cookie = { cookie: jar.header('sso.localhost') }
    expect((await call('sso.localhost', authorizePath(), { headers: cookie })).headers.get('location')).toMatch(/code=/)
    expect((await call('sso.localhost', authorizePath({ max_age: '60' }), { headers: cookie })).headers.get('location')).toMatch(/^\/login\?request=/)
    expect((await call('sso.localhost', authorizePath({ max_age: '3600' }), { headers: cookie })).headers.get('location')).toMatch(/code=/)
    expect((await call('sso.localhost', authorizePath({ prompt: 'login' }), { headers: cookie })).headers.get('location')).toMatch(/^\/login\?request=/)
    const stale = await call('sso.localhost', authorizePath({ prompt: 'none', max_age: '60' }), { headers: cookie })
    expect(new URL(stale.headers.get('location')!).searchParams.get('error')).toBe('login_required')
  })
})

describe('token endpoint', () => {
  it('answers with no-store and rotates refresh tokens; a replayed old one revokes the family', async () => {
    const { jar, userId } = await signedIn()
    const first = await token({ grant_type: 'authorization_code', code: await codeFor(jar), redirect_uri: REDIRECT, code_verifier: VERIFIER })
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('no-store')
    const t1 = (await first.json()) as { refresh_token: string; access_token: string; id_token: string }
    const r2 = (await (await token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })).json()) as { refresh_token: string }
    const r3 = (await (await token({ grant_type: 'refresh_token', refresh_token: r2.refresh_token })).json()) as { refresh_token: string }
    expect(new Set([t1.refresh_token, r2.refresh_token, r3.refresh_token]).size).toBe(3)
    // t1 is two generations old: reuse
    const replay = await token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    expect(replay.status).toBe(400)
    expect(await replay.json()).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was already used: its session is revoked' })
    const afterwards = await token({ grant_type: 'refresh_token', refresh_token: r3.refresh_token })
    expect(await afterwards.json()).toMatchObject({ error: 'invalid_grant' })
    const audit = await call('api.localhost', `/api/compliance/audit?subject=user:${userId}`, { token: await tokenFor(['admin']) })
    const actions = ((await audit.json()) as { items: { action: string }[] }).items.map((e) => e.action)
    expect(actions).toContain('sso.refresh_token.reuse')
  })

  it('refuses a code for another redirect URI, a wrong verifier, and a code replay', async () => {
    const { jar } = await signedIn()
    const wrongRedirect = await token({ grant_type: 'authorization_code', code: await codeFor(jar), redirect_uri: 'http://boyfanz.localhost/auth/callbacks', code_verifier: VERIFIER })
    expect(await wrongRedirect.json()).toMatchObject({ error: 'invalid_grant', error_description: 'redirect_uri differs from the authorization request' })
    const wrongVerifier = await token({ grant_type: 'authorization_code', code: await codeFor(jar), redirect_uri: REDIRECT, code_verifier: `${VERIFIER.slice(0, -1)}A` })
    expect(await wrongVerifier.json()).toMatchObject({ error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' })
    const code = await codeFor(jar)
    expect((await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER })).status).toBe(200)
    expect(await (await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER })).json()).toMatchObject({ error: 'invalid_grant', error_description: 'code already used' })
  })

  it.each([
    ['no client authentication', { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: '' }, 401, 'invalid_client'],
    ['a wrong secret', { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: `Basic ${btoa('boyfanz:nope')}` }, 401, 'invalid_client'],
    ['a malformed Basic header', { grant_type: 'refresh_token' }, { authorization: 'Basic %%%' }, 401, 'invalid_client'],
    ['an unknown grant', { grant_type: 'password', username: 'a', password: 'b' }, {}, 400, 'unsupported_grant_type'],
    ['a grant the client may not use', { grant_type: 'client_credentials' }, {}, 400, 'unauthorized_client'],
    ['no grant', {}, {}, 400, 'invalid_request'],
    ['a missing verifier', { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT }, {}, 400, 'invalid_request'],
    ['a foreign code', { grant_type: 'authorization_code', code: 'abc', redirect_uri: REDIRECT, code_verifier: VERIFIER }, {}, 400, 'invalid_grant'],
    ['a JSON body', null, { 'content-type': 'application/json' }, 400, 'invalid_request'],
  ])('answers %s with the RFC 6749 error format', async (_what, form, headers, status, error) => {
    const res = await token(form ?? { grant_type: 'refresh_token' }, headers)
    expect(res.status).toBe(status)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.json()).toMatchObject({ error })
    if (status === 401 && (headers as Record<string, string>).authorization) expect(res.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('userinfo needs a live bearer token', async () => {
    const res = await call('sso.localhost', '/userinfo')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    const junk = await call('sso.localhost', '/userinfo', { headers: { authorization: 'Bearer a.b.c' } })
    expect(await junk.json()).toMatchObject({ error: 'invalid_token' })
  })

  it('publishes discovery metadata built from the pinned issuer, not the Host header', async () => {
    const res = await call('sso.localhost', '/.well-known/openid-configuration', { headers: { 'x-forwarded-host': 'evil.example' } })
    const meta = (await res.json()) as Record<string, unknown>
    expect(meta).toMatchObject({
      issuer: 'http://sso.localhost',
      authorization_endpoint: 'http://sso.localhost/authorize',
      token_endpoint: 'http://sso.localhost/token',
      jwks_uri: 'http://sso.localhost/.well-known/jwks.json',
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      backchannel_logout_supported: true,
    })
  })
})

describe('consent for third-party clients', () => {
  const PARTNER = { id: 'partner-app', redirect: 'https://partner.example/cb' }
  const partnerAuthorize = (extra: Record<string, string> = {}) =>
    `/authorize?${new URLSearchParams({ client_id: PARTNER.id, redirect_uri: PARTNER.redirect, response_type: 'code', scope: 'openid email', state: 'p', code_challenge: challengeFor(VERIFIER), code_challenge_method: 'S256', ...extra })}`

  async function registerPartner() {
    const now = Date.now()
    await env.DB.prepare(
      `INSERT OR REPLACE INTO oauth_clients (id, name, kind, secret_kind, secret_hash, redirect_uris_json, grant_types_json, scope, first_party, status, created_at_ms, updated_at_ms)
       VALUES (?, 'Partner App', 'partner', 'none', NULL, ?, '["authorization_code"]', 'openid email', 0, 'active', ?, ?)`,
    )
      .bind(PARTNER.id, JSON.stringify([PARTNER.redirect]), now, now)
      .run()
  }

  async function consent(jar: CookieJar, decision: 'allow' | 'deny', headers: Record<string, string> = { origin: 'http://sso.localhost' }): Promise<Response> {
    const start = await call('sso.localhost', partnerAuthorize(), { headers: { cookie: jar.header('sso.localhost') } })
    expect(start.headers.get('location')).toMatch(/^\/consent\?request=arq_/)
    const page = await call('sso.localhost', start.headers.get('location')!, { headers: { cookie: jar.header('sso.localhost') } })
    const html = await page.text()
    expect(html).toContain('Allow Partner App to use your FANZ account?')
    expect(html).toContain('See your email address')
    const request = new URL(start.headers.get('location')!, 'http://sso.localhost').searchParams.get('request')!
    return call('sso.localhost', '/consent', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header('sso.localhost'), ...headers },
      body: new URLSearchParams({ request, decision }).toString(),
    })
  }

  it('asks once, remembers the grant, and answers consent_required to prompt=none before it', async () => {
    await registerPartner()
    const { jar } = await signedIn()
    const silent = await call('sso.localhost', partnerAuthorize({ prompt: 'none' }), { headers: { cookie: jar.header('sso.localhost') } })
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('consent_required')

    const allowed = await consent(jar, 'allow')
    expect(allowed.status).toBe(200)
    const next = allowed.headers.get('refresh')!.replace('0;url=', '')
    expect(next).toMatch(/^\/authorize\/resume\?request=arq_/)
    const resumed = await call('sso.localhost', next, { headers: { cookie: jar.header('sso.localhost') } })
    expect(new URL(resumed.headers.get('location')!).searchParams.get('code')).toMatch(/^usr_/)

    const again = await call('sso.localhost', partnerAuthorize(), { headers: { cookie: jar.header('sso.localhost') } })
    expect(new URL(again.headers.get('location')!).searchParams.get('code')).toMatch(/^usr_/)
  })

  it('sends access_denied back when the user denies, and refuses a cross-site decision', async () => {
    await registerPartner()
    const { jar } = await signedIn()
    expect((await consent(jar, 'allow', { origin: 'https://evil.example' })).status).toBe(403)
    const denied = await consent(jar, 'deny')
    const next = denied.headers.get('refresh')!.replace('0;url=', '')
    const back = await call('sso.localhost', next, { headers: { cookie: jar.header('sso.localhost') } })
    const url = new URL(back.headers.get('location')!)
    expect(url.origin + url.pathname).toBe(PARTNER.redirect)
    expect(url.searchParams.get('error')).toBe('access_denied')
    expect(url.searchParams.get('state')).toBe('p')
  })
})
