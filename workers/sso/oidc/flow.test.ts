import { env } from 'cloudflare:workers'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { CookieJar } from '../../../test/cookie-jar'
import { call } from '../../../test/helpers'
import { browse, createUser, signInAtSso } from '../../../test/sso'

const whoami = async (jar: CookieJar, host: string) => {
  const res = await call(host, '/api/edge/whoami', { headers: { cookie: jar.header(host) } })
  jar.store(host, res)
  const body = (await res.json()) as { subject: string | null }
  const token = jar.get(host, 'fanz_session')
  return { authenticated: body.subject !== null, subject: body.subject, claims: body.subject && token ? decodeJwt(token) : undefined }
}

async function waitFor<T>(probe: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const value = await probe()
    if (value) return value
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('brand sign-in through FanzSSO (authorization code + PKCE, BFF sessions)', () => {
  it('signs a visitor in on one brand, then on another without credentials, and out of both', async () => {
    const jar = new CookieJar()
    const { userId } = await createUser({ displayName: 'Robin' })
    await signInAtSso(jar, userId)

    // 1. explicit sign-in on BoyFanz: brand -> /authorize -> brand callback -> back where we were
    const hops = await browse(jar, 'http://boyfanz.localhost/auth/login?return_to=/legal/terms')
    expect(hops.map((h) => `${h.status} ${h.host}${h.path.split('?')[0]}`)).toEqual([
      '302 boyfanz.localhost/auth/login',
      '303 sso.localhost/authorize',
      '302 boyfanz.localhost/auth/callback',
      '200 boyfanz.localhost/legal/terms',
    ])
    const authorize = new URL(hops[0]!.location!)
    expect(authorize.origin).toBe('http://sso.localhost')
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ client_id: 'boyfanz', response_type: 'code', code_challenge_method: 'S256', redirect_uri: 'http://boyfanz.localhost/auth/callback' })
    const callback = new URL(hops[1]!.location!)
    expect(callback.searchParams.get('iss')).toBe('http://sso.localhost')
    expect(callback.searchParams.get('state')).toBe(authorize.searchParams.get('state'))
    expect(jar.get('boyfanz.localhost', 'fanz_session')).toMatch(/^ey/)
    expect(jar.get('boyfanz.localhost', 'fanz_refresh')).toBeTruthy()
    const onBoy = await whoami(jar, 'boyfanz.localhost')
    expect(onBoy).toMatchObject({ authenticated: true, subject: userId })
    expect(onBoy.claims).toMatchObject({ client_id: 'boyfanz', name: 'Robin', acr: 'urn:fanz:acr:aal1', amr: ['pwd'] })

    // 2. first visit to GirlFanz: one silent round trip, no form
    const girl = await browse(jar, 'http://girlfanz.localhost/legal/privacy')
    expect(girl.map((h) => `${h.status} ${h.host}${h.path.split('?')[0]}`)).toEqual([
      '302 girlfanz.localhost/legal/privacy',
      '302 girlfanz.localhost/auth/login',
      '303 sso.localhost/authorize',
      '302 girlfanz.localhost/auth/callback',
      '200 girlfanz.localhost/legal/privacy',
    ])
    expect(new URL(girl[1]!.location!).searchParams.get('prompt')).toBe('none')
    expect(await whoami(jar, 'girlfanz.localhost')).toMatchObject({ authenticated: true, subject: userId, claims: { client_id: 'girlfanz' } })

    // 3. sign out on GirlFanz ends the FanzSSO session and, by back-channel, the BoyFanz session too
    const out = await browse(jar, 'http://girlfanz.localhost/auth/logout', { method: 'POST', headers: { origin: 'http://girlfanz.localhost' } })
    expect(out.map((h) => `${h.status} ${h.host}${h.path.split('?')[0]}`)).toEqual([
      '303 girlfanz.localhost/auth/logout',
      '303 sso.localhost/end-session',
      '302 girlfanz.localhost/auth/logged-out',
      '200 girlfanz.localhost/',
    ])
    expect(jar.get('sso.localhost', 'fanz_sso')).toBeUndefined()
    expect(await whoami(jar, 'girlfanz.localhost')).toMatchObject({ authenticated: false })
    const sid = onBoy.claims!.sid as string
    await waitFor(() => env.DB.prepare("SELECT sid FROM logged_out_sessions WHERE client_id = 'boyfanz' AND sid = ?").bind(sid).first(), 'the back-channel logout at BoyFanz')
    // BoyFanz still holds an unexpired access token cookie, but the edge refuses it now
    const page = await call('boyfanz.localhost', '/', { headers: { cookie: jar.header('boyfanz.localhost') } })
    await page.body?.cancel()
    expect(page.headers.getSetCookie().some((c) => /^fanz_session=;/.test(c))).toBe(true)
  })

  it('remembers a silent miss instead of bouncing on every page', async () => {
    const jar = new CookieJar()
    const first = await browse(jar, 'http://pupfanz.localhost/legal/terms')
    expect(first.map((h) => `${h.status} ${h.host}${h.path.split('?')[0]}`)).toEqual([
      '302 pupfanz.localhost/legal/terms',
      '302 pupfanz.localhost/auth/login',
      '303 sso.localhost/authorize',
      '302 pupfanz.localhost/auth/callback',
      '200 pupfanz.localhost/legal/terms',
    ])
    expect(new URL(first[2]!.location!).searchParams.get('error')).toBe('login_required')
    const again = await browse(jar, 'http://pupfanz.localhost/legal/dmca')
    expect(again.map((h) => h.status)).toEqual([200])
  })

  it('sends a visitor who is not signed in to the sign-in page with the request parked', async () => {
    const jar = new CookieJar()
    const hops = await browse(jar, 'http://transfanz.localhost/auth/login?return_to=/')
    const last = hops.at(-1)!
    expect(`${hops[1]!.status} ${hops[1]!.host}`).toBe('303 sso.localhost')
    expect(hops[1]!.location).toMatch(/^\/login\?request=arq_[0-9A-Z]{26}$/)
    expect(last.host).toBe('sso.localhost')
    const id = hops[1]!.location!.split('=')[1]!
    const parked = await env.DB.prepare('SELECT client_id, params_json FROM auth_requests WHERE id = ?').bind(id).first<{ client_id: string; params_json: string }>()
    expect(parked?.client_id).toBe('transfanz')
    expect(JSON.parse(parked!.params_json)).toMatchObject({ redirectUri: 'http://transfanz.localhost/auth/callback', scopes: ['openid', 'profile', 'email', 'offline_access', 'roles'] })

    // after signing in by any method, /authorize/resume finishes it once
    const { userId } = await createUser()
    await signInAtSso(jar, userId)
    const resumed = await browse(jar, `http://sso.localhost/authorize/resume?request=${id}`)
    expect(resumed.at(-1)!.host).toBe('transfanz.localhost')
    expect(await whoami(jar, 'transfanz.localhost')).toMatchObject({ authenticated: true, subject: userId })
    const twice = await call('sso.localhost', `/authorize/resume?request=${id}`, { headers: { cookie: jar.header('sso.localhost') } })
    expect(twice.status).toBe(400)
  })
})

describe('FanzDash through FanzSSO', () => {
  it('signs the seeded demo admin in with the password form, then into FanzDash without asking again', async () => {
    const jar = new CookieJar()
    const form = new URLSearchParams({ email: 'admin@fanz.localhost', password: 'fanz local demo only' }).toString()
    const signIn = await browse(jar, 'http://sso.localhost/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://sso.localhost' },
      body: form,
    })
    expect(signIn.map((h) => `${h.status} ${h.path}`)).toEqual(['303 /login', '200 /account'])
    const dash = await browse(jar, 'http://dash.localhost/')
    expect(dash.map((h) => `${h.status} ${h.host}${h.path.split('?')[0]}`)).toEqual([
      '302 dash.localhost/',
      '302 dash.localhost/auth/login',
      '303 sso.localhost/authorize',
      '302 dash.localhost/auth/callback',
      '200 dash.localhost/',
    ])
    const claims = decodeJwt(jar.get('dash.localhost', 'fanz_session')!)
    expect(claims).toMatchObject({ sub: 'usr_01JFANZDEM0000000000000001', client_id: 'fanzdash', roles: ['fan', 'super_admin'], name: 'Demo Admin' })
    const overview = await dash.at(-1)!.res.text()
    expect(overview).toContain('action="/auth/logout"')
  })
})
