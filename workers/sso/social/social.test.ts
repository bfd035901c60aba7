import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { challengeFor } from '../oauth/pkce'
import { userSessions } from '../sessions'
import { SANDBOX_CLIENT_ID } from './providers/sandbox'

const SSO = 'sso.localhost'
const ORIGIN = 'http://sso.localhost'
const CALLBACK = 'http://sso.localhost/social/sandbox/callback'
const PASSWORD = 'lantern orbit cactus 42'

let adminToken: string
let counter = 0
const fresh = (tag: string) => `${tag}-${++counter}-${Date.now()}`
const freshEmail = (tag: string) => `${fresh(tag)}@example.com`

beforeAll(async () => {
  adminToken = await tokenFor(['admin'])
})

/** A browser's cookies for the SSO host (paths ignored: every test path is on one host). */
class Jar {
  readonly cookies = new Map<string, string>()
  take(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return this
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  copy(): Jar {
    const jar = new Jar()
    for (const [k, v] of this.cookies) jar.cookies.set(k, v)
    return jar
  }
}

interface UpstreamIdentity {
  subject: string
  email?: string
  email_verified?: 'true' | 'false' | 'string-true' | 'string-false' | 'absent'
  name?: string
}

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString()
}

async function get(path: string, jar: Jar, headers: Record<string, string> = {}) {
  const res = await call(SSO, path, { headers: { cookie: jar.header(), ...headers } })
  jar.take(res)
  return res
}

async function post(path: string, jar: Jar, body: Record<string, string>, headers: Record<string, string> = { origin: ORIGIN }) {
  const res = await call(SSO, path, { method: 'POST', body: form(body), headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers } })
  jar.take(res)
  return res
}

function pathOf(location: string | null): string {
  expect(location).not.toBeNull()
  const url = new URL(location!, ORIGIN)
  return `${url.pathname}${url.search}`
}

/** start -> sandbox authorize page -> sandbox form post; returns the callback URL (not yet followed). */
async function upstreamRoundTrip(identity: UpstreamIdentity, jar: Jar, request?: string): Promise<URL> {
  const start = await get(`/social/sandbox/start${request ? `?request=${request}` : ''}`, jar)
  expect(start.status).toBe(302)
  const stateCookie = start.headers.getSetCookie().find((line) => line.startsWith('fanz_social_sandbox='))
  expect(stateCookie).toMatch(/; Max-Age=600; Path=\/social\/sandbox\/callback; HttpOnly; SameSite=Lax$/)
  const authorize = new URL(start.headers.get('location')!)
  expect(`${authorize.origin}${authorize.pathname}`).toBe('http://sso.localhost/sandbox-idp/authorize')
  const page = await get(pathOf(authorize.toString()), jar)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('Subject (the provider&#39;s user id)')
  const params = Object.fromEntries(authorize.searchParams)
  const answer = await post('/sandbox-idp/authorize', jar, {
    ...params,
    action: 'allow',
    subject: identity.subject,
    email: identity.email ?? '',
    email_verified: identity.email_verified ?? 'true',
    name: identity.name ?? '',
  })
  expect(answer.status).toBe(303)
  const back = new URL(answer.headers.get('location')!)
  expect(`${back.origin}${back.pathname}`).toBe(CALLBACK)
  return back
}

async function sandboxSignIn(identity: UpstreamIdentity, jar = new Jar(), request?: string) {
  const back = await upstreamRoundTrip(identity, jar, request)
  const res = await get(pathOf(back.toString()), jar)
  return { res, jar, back }
}

async function userByEmail(email: string) {
  return env.DB.prepare('SELECT id, email, email_normalized, email_verified_at_ms, password_hash, display_name FROM users WHERE email_normalized = ?')
    .bind(email.toLowerCase())
    .first<{ id: string; email: string; email_normalized: string; email_verified_at_ms: number | null; password_hash: string | null; display_name: string }>()
}

async function identities(where: { userId?: string; subject?: string }) {
  const { results } = await env.DB.prepare('SELECT provider, provider_subject, user_id, email, email_verified FROM social_identities WHERE user_id = ?1 OR provider_subject = ?2')
    .bind(where.userId ?? '', where.subject ?? '')
    .all<{ provider: string; provider_subject: string; user_id: string; email: string | null; email_verified: number }>()
  return results
}

async function auditEntries(action: string, subject: string) {
  return auditLog(env).list({ afterSeq: 0, limit: 100, action, subject })
}

/** A password account through the public account API, its email verified or not. */
async function localAccount(email: string, verified: boolean): Promise<string> {
  const res = await call(SSO, '/api/sso/accounts', { body: { email, password: PASSWORD, display_name: 'Local Owner' }, headers: { 'cf-connecting-ip': `203.0.113.${++counter % 250}` } })
  expect(res.status).toBe(201)
  const { id } = (await res.json()) as { id: string }
  if (verified) {
    const outbox = await call(SSO, `/api/sso/dev/outbox?to=${encodeURIComponent(email)}`, { token: adminToken })
    const [mail] = ((await outbox.json()) as { items: Array<{ text: string }> }).items
    const token = /verify-email\?token=([A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!
    const verify = await call(SSO, '/api/sso/email/verify', { body: { token } })
    expect(verify.status).toBe(200)
  }
  return id
}

/** A jar signed in on the SSO host as `userId` (the IdP session a password sign-in opens). */
async function signedInAs(userId: string): Promise<Jar> {
  const created = await userSessions(env, userId).createSession({ clientId: 'fanz-sso', device: 'test', amr: ['pwd'], authTimeS: Math.floor(Date.now() / 1000) })
  if (!created.ok) throw new Error('session not created')
  const jar = new Jar()
  jar.cookies.set('fanz_sso', `${userId}.${created.refreshToken}`)
  return jar
}

describe('first and repeated sign-in with the sandbox provider', () => {
  it('creates a verified, password-less account and its identity, and opens the IdP session', async () => {
    const email = freshEmail('New.Fan')
    const subject = fresh('sub')
    const request = 'arq_01JBZ6W6X1Y2Z3A4B5C6D7E8F9'
    const { res, jar } = await sandboxSignIn({ subject, email, name: 'Nova Fan' }, new Jar(), request)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/authorize/resume?request=${request}`)
    expect(jar.cookies.get('fanz_sso')).toMatch(/^usr_[0-9A-Z]{26}\.rt_/)
    // the state cookie is gone: the flow cannot be replayed from this browser
    expect(jar.cookies.has('fanz_social_sandbox')).toBe(false)

    const user = await userByEmail(email)
    expect(user).toMatchObject({ email, email_normalized: email.toLowerCase(), password_hash: null, display_name: 'Nova Fan' })
    expect(user!.email_verified_at_ms).toBeGreaterThan(0)
    expect(jar.cookies.get('fanz_sso')!.startsWith(`${user!.id}.`)).toBe(true)
    expect(await identities({ subject })).toEqual([{ provider: 'sandbox', provider_subject: subject, user_id: user!.id, email, email_verified: 1 }])
    const created = await auditEntries('sso.account.create', `user:${user!.id}`)
    expect(created.map((e) => JSON.parse(e.details))).toEqual([{ provider: 'sandbox', source: 'social' }])
    expect(await auditEntries('sso.social.sign_in', `user:${user!.id}`)).toHaveLength(1)
  })

  it('signs the same subject in to the same account the second time, without another account', async () => {
    const email = freshEmail('repeat')
    const subject = fresh('sub')
    const first = await sandboxSignIn({ subject, email })
    const user = await userByEmail(email)
    // no name from the provider: the email's local part
    expect(user!.display_name).toBe(email.split('@')[0])
    const second = await sandboxSignIn({ subject, email, name: 'Changed Name' })
    expect(second.res.status).toBe(303)
    expect(second.res.headers.get('location')).toBe('/account')
    expect(second.jar.cookies.get('fanz_sso')!.startsWith(`${user!.id}.`)).toBe(true)
    expect(second.jar.cookies.get('fanz_sso')).not.toBe(first.jar.cookies.get('fanz_sso'))
    const { results } = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE email_normalized = ?').bind(email.toLowerCase()).all<{ n: number }>()
    expect(results[0]!.n).toBe(1)
    expect(await auditEntries('sso.account.create', `user:${user!.id}`)).toHaveLength(1)
    expect(await auditEntries('sso.social.sign_in', `user:${user!.id}`)).toHaveLength(2)
  })
})

describe('an existing account with the same email (account pre-hijacking, sso.md X8)', () => {
  it('never links automatically: confirmation required, and only the signed-in owner can confirm', async () => {
    const email = freshEmail('owner')
    const ownerId = await localAccount(email, true)
    const subject = fresh('sub')
    // upstream spells the address differently: the normalized email still matches
    const { res, jar } = await sandboxSignIn({ subject, email: email.toUpperCase() })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/social/link')
    expect(jar.cookies.has('fanz_sso')).toBe(false)
    expect(await identities({ subject })).toEqual([])

    // not signed in: the page explains, offers sign-in, and no confirmation form
    const anonymous = await get('/social/link', jar)
    expect(anonymous.status).toBe(200)
    const anonymousHtml = await anonymous.text()
    expect(anonymousHtml).toContain('already exists')
    expect(anonymousHtml).toContain('href="/login?return_to=%2Fsocial%2Flink"')
    expect(anonymousHtml).not.toContain('method="post"')
    const anonymousPost = await post('/social/link', jar, {})
    expect(anonymousPost.status).toBe(401)

    // signed in as somebody else
    const other = await sandboxSignIn({ subject: fresh('other'), email: freshEmail('other') })
    const intruder = other.jar.copy()
    intruder.cookies.set('fanz_social_link', jar.cookies.get('fanz_social_link')!)
    expect((await get('/social/link', intruder)).status).toBe(403)
    expect((await post('/social/link', intruder, {})).status).toBe(403)
    expect(await identities({ subject })).toEqual([])

    // signed in as the owner: the confirmation is offered; a cross-site post is refused
    const owner = await signedInAs(ownerId)
    owner.cookies.set('fanz_social_link', jar.cookies.get('fanz_social_link')!)
    const confirm = await get('/social/link', owner)
    expect(confirm.status).toBe(200)
    expect(await confirm.text()).toContain('<form method="post" action="/social/link"')
    expect((await post('/social/link', owner, {}, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post('/social/link', owner, {}, {})).status).toBe(403)
    expect(await identities({ subject })).toEqual([])

    const linked = await post('/social/link', owner, {})
    expect(linked.status).toBe(303)
    expect(linked.headers.get('location')).toBe('/account')
    expect(owner.cookies.has('fanz_social_link')).toBe(false)
    expect(await identities({ subject })).toEqual([{ provider: 'sandbox', provider_subject: subject, user_id: ownerId, email: email.toUpperCase(), email_verified: 1 }])
    expect(await auditEntries('sso.social.link', `user:${ownerId}`)).toHaveLength(1)

    // from now on the identity signs in to the owner's account
    const again = await sandboxSignIn({ subject, email })
    expect(again.res.status).toBe(303)
    expect(again.jar.cookies.get('fanz_sso')!.startsWith(`${ownerId}.`)).toBe(true)
  })

  it('refuses to link into an account whose own email is unverified, even for its signed-in owner', async () => {
    const email = freshEmail('unverified-local')
    const ownerId = await localAccount(email, false)
    const subject = fresh('sub')
    const { res, jar } = await sandboxSignIn({ subject, email })
    expect(res.headers.get('location')).toBe('/social/link')
    const owner = await signedInAs(ownerId)
    owner.cookies.set('fanz_social_link', jar.cookies.get('fanz_social_link')!)
    const page = await get('/social/link', owner)
    expect(page.status).toBe(403)
    expect(await page.text()).toContain('has not been verified')
    expect((await post('/social/link', owner, {})).status).toBe(403)
    expect(await identities({ subject })).toEqual([])
  })

  it('refuses a missing or tampered pending link', async () => {
    const { jar: owner } = await sandboxSignIn({ subject: fresh('s'), email: freshEmail('nothing-pending') })
    expect(owner.cookies.has('fanz_sso')).toBe(true)
    expect((await get('/social/link', owner)).status).toBe(400)
    owner.cookies.set('fanz_social_link', 'AAAA' + 'x'.repeat(60))
    expect((await post('/social/link', owner, {})).status).toBe(400)
  })
})

describe('unverified or missing upstream email', () => {
  for (const mode of ['false', 'string-false', 'absent'] as const) {
    it(`email_verified ${mode}: no account is created, nothing is linked`, async () => {
      const email = freshEmail(`unverified-${mode}`)
      const subject = fresh('sub')
      const { res, jar } = await sandboxSignIn({ subject, email, email_verified: mode })
      expect(res.status).toBe(403)
      expect(await res.text()).toContain('is not verified')
      expect(jar.cookies.has('fanz_sso')).toBe(false)
      expect(await userByEmail(email)).toBeNull()
      expect(await identities({ subject })).toEqual([])
    })
  }

  it('an unverified upstream email matching an existing account does not even reach the link page', async () => {
    const email = freshEmail('victim')
    const ownerId = await localAccount(email, true)
    const subject = fresh('sub')
    const { res, jar } = await sandboxSignIn({ subject, email, email_verified: 'string-false' })
    expect(res.status).toBe(403)
    expect(jar.cookies.has('fanz_social_link')).toBe(false)
    expect(await identities({ userId: ownerId, subject })).toEqual([])
  })

  it('"true" as a string counts as verified (Apple sends strings)', async () => {
    const email = freshEmail('string-true')
    const { res } = await sandboxSignIn({ subject: fresh('sub'), email, email_verified: 'string-true' })
    expect(res.status).toBe(303)
    expect(await userByEmail(email)).not.toBeNull()
  })

  it('no email at all (like X): refused with the reason', async () => {
    const subject = fresh('sub')
    const { res } = await sandboxSignIn({ subject })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('did not share a verified email address')
    expect(await identities({ subject })).toEqual([])
  })
})

describe('state and code checks', () => {
  it('refuses a callback without the state cookie, with a tampered cookie, or with another state', async () => {
    const jar = new Jar()
    const back = await upstreamRoundTrip({ subject: fresh('sub'), email: freshEmail('state') }, jar)
    const path = pathOf(back.toString())
    const sealed = jar.cookies.get('fanz_social_sandbox')!

    const missing = await call(SSO, path)
    expect(missing.status).toBe(400)
    expect(await missing.text()).toContain('not the one this browser started')

    const flipped = sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21)
    expect((await call(SSO, path, { headers: { cookie: `fanz_social_sandbox=${flipped}` } })).status).toBe(400)

    const otherState = new URL(back)
    otherState.searchParams.set('state', 'x'.repeat(43))
    expect((await call(SSO, pathOf(otherState.toString()), { headers: { cookie: `fanz_social_sandbox=${sealed}` } })).status).toBe(400)

    // the cookie of another provider cannot stand in (the cookie name is sealed into it)
    expect((await call(SSO, path, { headers: { cookie: `fanz_social_google=${sealed}` } })).status).toBe(400)
  })

  it('a sandbox code works once: replaying the callback with the old cookie is refused', async () => {
    const jar = new Jar()
    const email = freshEmail('replay')
    const back = await upstreamRoundTrip({ subject: fresh('sub'), email }, jar)
    const stolen = jar.copy()
    const first = await get(pathOf(back.toString()), jar)
    expect(first.status).toBe(303)
    const replay = await get(pathOf(back.toString()), stolen)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('invalid_grant')
  })

  it('the sandbox token endpoint: single use, PKCE and redirect URI bound, RFC 6749 errors', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    const authorize = {
      response_type: 'code',
      client_id: SANDBOX_CLIENT_ID,
      redirect_uri: CALLBACK,
      state: 'st',
      code_challenge: challengeFor(verifier),
      code_challenge_method: 'S256',
    }
    const issue = async () => {
      const res = await post('/sandbox-idp/authorize', new Jar(), { ...authorize, action: 'allow', subject: fresh('sub'), email: '', email_verified: 'true', name: '' })
      expect(res.status).toBe(303)
      return new URL(res.headers.get('location')!).searchParams.get('code')!
    }
    const exchange = (body: Record<string, string>) => call(SSO, '/sandbox-idp/token', { method: 'POST', body: form(body), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    const base = { grant_type: 'authorization_code', client_id: SANDBOX_CLIENT_ID, redirect_uri: CALLBACK, code_verifier: verifier }

    const code = await issue()
    const ok = await exchange({ ...base, code })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('cache-control')).toBe('no-store')
    const tokens = (await ok.json()) as { access_token: string; token_type: string }
    expect(tokens.token_type).toBe('Bearer')
    const again = await exchange({ ...base, code })
    expect(again.status).toBe(400)
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant')

    const wrongVerifier = await exchange({ ...base, code: await issue(), code_verifier: 'x'.repeat(43) })
    expect(((await wrongVerifier.json()) as { error: string }).error).toBe('invalid_grant')
    const wrongRedirect = await exchange({ ...base, code: await issue(), redirect_uri: 'http://sso.localhost/elsewhere' })
    expect(((await wrongRedirect.json()) as { error: string }).error).toBe('invalid_grant')
    expect((await exchange({ ...base, code: await issue(), client_id: 'someone' })).status).toBe(401)
    expect((await call(SSO, '/sandbox-idp/token', { body: { ...base, code: 'x' } })).status).toBe(400)

    const userinfo = await call(SSO, '/sandbox-idp/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(userinfo.status).toBe(200)
    expect(((await userinfo.json()) as { sub: string }).sub).toMatch(/^sub-/)
    const forged = await call(SSO, '/sandbox-idp/userinfo', { headers: { authorization: `Bearer ${tokens.access_token.slice(0, -4)}AAAA` } })
    expect(forged.status).toBe(401)
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token')
  })

  it('the sandbox authorize endpoint never redirects to an unregistered URI and refuses cross-site posts', async () => {
    const bad = await call(SSO, `/sandbox-idp/authorize?${form({ response_type: 'code', client_id: SANDBOX_CLIENT_ID, redirect_uri: 'https://evil.example/cb', state: 's', code_challenge: challengeFor('a'.repeat(43)), code_challenge_method: 'S256' })}`)
    expect(bad.status).toBe(400)
    expect(bad.headers.get('location')).toBeNull()
    const plain = await call(SSO, `/sandbox-idp/authorize?${form({ response_type: 'code', client_id: SANDBOX_CLIENT_ID, redirect_uri: CALLBACK, state: 's', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })}`)
    expect(plain.status).toBe(400)
    const crossSite = await post('/sandbox-idp/authorize', new Jar(), { response_type: 'code' }, { origin: 'https://evil.example' })
    expect(crossSite.status).toBe(403)
    const badIdentity = await post('/sandbox-idp/authorize', new Jar(), {
      response_type: 'code',
      client_id: SANDBOX_CLIENT_ID,
      redirect_uri: CALLBACK,
      state: 's',
      code_challenge: challengeFor('a'.repeat(43)),
      code_challenge_method: 'S256',
      subject: 'has spaces',
      email: 'not-an-email',
      email_verified: 'true',
    })
    expect(badIdentity.status).toBe(422)
    const html = await badIdentity.text()
    expect(html).toContain('id="subject-error"')
    expect(html).toContain('id="email-error"')
  })

  it('a cancelled upstream sign-in is a clear 400 page', async () => {
    const jar = new Jar()
    const start = await get('/social/sandbox/start', jar)
    const params = Object.fromEntries(new URL(start.headers.get('location')!).searchParams)
    const deny = await post('/sandbox-idp/authorize', jar, { ...params, action: 'deny' })
    expect(deny.status).toBe(303)
    const back = new URL(deny.headers.get('location')!)
    expect(back.searchParams.get('error')).toBe('access_denied')
    const res = await get(pathOf(back.toString()), jar)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Sign-in cancelled')
  })
})

describe('unlink', () => {
  it('refuses removing the last way to sign in, allows it while another identity remains', async () => {
    const email = freshEmail('unlink')
    const first = fresh('first')
    const second = fresh('second')
    const signedIn = await sandboxSignIn({ subject: first, email })
    const user = await userByEmail(email)
    // a second identity with the same verified email, linked by the signed-in owner
    const pending = await sandboxSignIn({ subject: second, email }, signedIn.jar)
    expect(pending.res.headers.get('location')).toBe('/social/link')
    expect((await post('/social/link', signedIn.jar, {})).status).toBe(303)
    expect((await identities({ userId: user!.id })).map((i) => i.provider_subject).sort()).toEqual([first, second].sort())

    expect((await post('/social/sandbox/unlink', signedIn.jar, {})).status).toBe(422)
    expect((await post('/social/sandbox/unlink', signedIn.jar, { subject: first }, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post('/social/sandbox/unlink', new Jar(), { subject: first })).status).toBe(401)
    const removed = await post('/social/sandbox/unlink', signedIn.jar, { subject: first })
    expect(removed.status).toBe(200)
    expect(await auditEntries('sso.social.unlink', `user:${user!.id}`)).toHaveLength(1)
    const last = await post('/social/sandbox/unlink', signedIn.jar, { subject: second })
    expect(last.status).toBe(409)
    expect(await last.text()).toContain('only way to sign in')
    expect((await identities({ userId: user!.id })).map((i) => i.provider_subject)).toEqual([second])
    expect((await post('/social/sandbox/unlink', signedIn.jar, { subject: first })).status).toBe(404)
  })
})

describe('malformed input is a 4xx, never a 500', () => {
  it('answers unknown and unconfigured providers, bad ids and wrong methods with 4xx', async () => {
    expect((await call(SSO, '/social/myspace/start')).status).toBe(404)
    // no GOOGLE_CLIENT_ID in the test environment: Google is simply not offered
    expect((await call(SSO, '/social/google/start')).status).toBe(404)
    const badRequest = await call(SSO, '/social/sandbox/start?request=arq_nope')
    expect(badRequest.status).toBe(422)
    expect(((await badRequest.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('query.request')
    expect((await call(SSO, '/social/sandbox/callback', { method: 'POST', body: 'state=a&code=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(405)
    expect((await call(SSO, '/social/sandbox/callback?state=%00&code=' + 'x'.repeat(5000))).status).toBe(400)
    expect((await call(SSO, '/social/link', { method: 'POST', body: '--x\r\nbroken', headers: { origin: ORIGIN, 'content-type': 'multipart/form-data; boundary=x' } })).status).toBeLessThan(500)
    expect((await call(SSO, '/sandbox-idp/userinfo')).status).toBe(401)
  })

  it('builds the redirect URI from the issuer, not from forwarded host headers (sso.md X2)', async () => {
    const res = await call(SSO, '/social/sandbox/start', { headers: { 'x-forwarded-host': 'evil.example' } })
    expect(new URL(res.headers.get('location')!).searchParams.get('redirect_uri')).toBe(CALLBACK)
  })
})
