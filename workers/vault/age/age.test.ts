import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { BRAND_HOSTS, call, cf, tokenFor } from '../../../test/helpers'
import { browse, createUser, signInAtSso } from '../../../test/sso'
import { CookieJar } from '../../../test/cookie-jar'
import { getConfig } from '../../config'
import { DEFAULT_AGE_CONFIG } from './config'
import { sandboxAgeSecret, signAgeCallback, SIGNATURE_HEADER, verifyAgeCallback } from './providers'
import { ageOn } from './sandbox-provider'

const API = 'api.localhost'
const TX = cf('US', 'TX')
const GB = cf('GB', undefined, 'EU')
const DAY_MS = 86_400_000
let keyCounter = 0
const idem = () => ({ 'idempotency-key': `"age-test-${Date.now()}-${keyCounter++}"` })

async function fan() {
  const { userId } = await createUser()
  return { userId, token: await tokenFor(['fan'], { subject: userId }) }
}

async function strongToken(roles: string[]): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': 'test-dev-token-secret' }, body: { roles, amr: ['pwd', 'otp', 'mfa'] } })
  if (res.status !== 201) throw new Error(`mint failed ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

async function start(token: string, method: string, where = TX, extra: Record<string, unknown> = {}) {
  return call(API, '/api/vault/age/start', { token, cf: where, headers: idem(), body: { method, ...extra } })
}

/** The hosted sandbox page for a start URL, then its form posted with `fields`. */
async function completeAtSandbox(startUrl: string, fields: Record<string, string>): Promise<Response> {
  const url = new URL(startUrl)
  expect(url.host).toBe('localhost')
  const form = await call('localhost', url.pathname + url.search)
  expect(form.status).toBe(200)
  const q = /name="q" value="([^"]+)"/.exec(await form.text())![1]!.replaceAll('&amp;', '&')
  return call('localhost', '/sandbox-age/complete', {
    method: 'POST',
    headers: { origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, ...fields }).toString(),
  })
}

async function row(id: string): Promise<Record<string, unknown>> {
  return (await env.DB.prepare('SELECT * FROM age_verifications WHERE id = ?').bind(id).first())!
}

async function userAv(userId: string) {
  return (await env.DB.prepare('SELECT age_verified_method, age_verified_expires_at_ms FROM users WHERE id = ?').bind(userId).first<{ age_verified_method: string | null; age_verified_expires_at_ms: number | null }>())!
}

async function auditFor(action: string, subject: string) {
  const admin = await tokenFor(['admin'])
  const res = await call(API, `/api/compliance/audit?${new URLSearchParams({ action, subject, limit: '50' })}`, { token: admin })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Array<{ action: string; subject: string; details: Record<string, unknown> }> }).items
}

async function objectCount(bucket: R2Bucket): Promise<number> {
  let count = 0
  let cursor: string | undefined
  do {
    const page = await bucket.list({ cursor, limit: 1000 })
    count += page.objects.length
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return count
}

function yearsAgo(years: number, extraDays = 0): string {
  const d = new Date(Date.now() - extraDays * DAY_MS)
  d.setUTCFullYear(d.getUTCFullYear() - years)
  return d.toISOString().slice(0, 10)
}

describe('sandbox result signature', () => {
  const secret = 'whsec_fanz_test_secret'
  const body = '{"event_id":"sbx_avev_AAAAAAAAAAAAAAAA"}'

  it('matches a known answer (HMAC-SHA256 over "<t>.<raw body>")', () => {
    expect(signAgeCallback(secret, body, 1_767_225_600)).toBe('t=1767225600,v1=41c49f2e3f080d660f1ba04fdf1d914c1163edff713757d9c89001c13234bb68')
    expect(verifyAgeCallback(secret, body, 't=1767225600,v1=41c49f2e3f080d660f1ba04fdf1d914c1163edff713757d9c89001c13234bb68', 1_767_225_700)).toEqual({ ok: true })
  })

  it('refuses a tampered body, another secret, a stale timestamp and a malformed header', () => {
    const header = signAgeCallback(secret, body, 1_767_225_600)
    expect(verifyAgeCallback(secret, body.replace('AAAA', 'AAAB'), header, 1_767_225_600)).toEqual({ ok: false, reason: 'signature mismatch' })
    expect(verifyAgeCallback('another secret', body, header, 1_767_225_600)).toEqual({ ok: false, reason: 'signature mismatch' })
    expect(verifyAgeCallback(secret, body, header, 1_767_225_600 + 301)).toEqual({ ok: false, reason: 'signature timestamp outside the tolerance' })
    expect(verifyAgeCallback(secret, body, 'v1=abc', 1_767_225_600)).toEqual({ ok: false, reason: 'malformed signature header' })
    expect(verifyAgeCallback(secret, body, undefined, 1_767_225_600)).toEqual({ ok: false, reason: `missing ${SIGNATURE_HEADER}` })
  })

  it('computes whole years from a date of birth, refusing impossible or future dates', () => {
    const now = Date.parse('2026-06-15T12:00:00Z')
    expect(ageOn('2008-06-15', now)).toBe(18)
    expect(ageOn('2008-06-16', now)).toBe(17)
    expect(ageOn('2008-02-30', now)).toBeNull()
    expect(ageOn('2030-01-01', now)).toBeNull()
  })
})

describe('starting a verification', () => {
  it('offers only what the jurisdiction accepts: FAE is refused in Texas, accepted in Great Britain', async () => {
    const { token } = await fan()
    const tx = await call(API, '/api/vault/age/status', { token, cf: TX })
    expect(await tx.json()).toMatchObject({ verified: false, here: { jurisdiction: 'US-TX', gated: true, accepted_methods: ['ID_DOC', 'DIGITAL_ID'] } })
    const gb = await call(API, '/api/vault/age/status', { token, cf: GB })
    expect(await gb.json()).toMatchObject({ here: { jurisdiction: 'GB', gated: true, accepted_methods: ['ID_DOC', 'FAE', 'CC', 'DIGITAL_ID'] } })

    const refused = await start(token, 'FAE', TX)
    expect(refused.status).toBe(422)
    expect((await refused.json()) as object).toMatchObject({ errors: [{ path: 'body.method' }] })
    const ok = await start(token, 'FAE', GB)
    expect(ok.status).toBe(201)
    const started = (await ok.json()) as { verification_id: string; provider: string; jurisdiction: string; url: string }
    expect(started).toMatchObject({ provider: 'sandbox', jurisdiction: 'GB' })
    expect(new URL(started.url).searchParams.get('threshold')).toBe(String(DEFAULT_AGE_CONFIG.fae_challenge_age))
    expect(await row(started.verification_id)).toMatchObject({ status: 'pending', method: 'FAE', jurisdiction: 'GB', provider: 'sandbox' })
  })

  it('follows the table row: Missouri adds FAE to the US set, an ungated place never offers FAE alone', async () => {
    const { token } = await fan()
    const mo = await call(API, '/api/vault/age/status', { token, cf: cf('US', 'MO') })
    expect(await mo.json()).toMatchObject({ here: { jurisdiction: 'US-MO', gated: true, accepted_methods: ['ID_DOC', 'FAE', 'DIGITAL_ID'] } })
    const ca = await call(API, '/api/vault/age/status', { token, cf: cf('US', 'CA') })
    expect(await ca.json()).toMatchObject({ here: { jurisdiction: 'US-CA', gated: false, accepted_methods: ['ID_DOC', 'CC', 'DIGITAL_ID'] } })
  })

  it('needs a token, an Idempotency-Key, and a known method', async () => {
    const { token } = await fan()
    expect((await call(API, '/api/vault/age/start', { cf: TX, headers: idem(), body: { method: 'ID_DOC' } })).status).toBe(401)
    expect((await call(API, '/api/vault/age/start', { token, cf: TX, body: { method: 'ID_DOC' } })).status).toBe(400)
    const bad = await start(token, 'SELFIE_CLICK')
    expect(bad.status).toBe(422)
  })
})

describe('the sandbox provider end to end', () => {
  it('does not exist in production (pages and webhook answer 404)', async () => {
    const { app } = await import('../../app')
    const production = { ...env, ENVIRONMENT: 'production', PLATFORM_DOMAIN: 'fanz.network' }
    const page = await app.request('https://fanz.network/sandbox-age/start?session=x', { headers: { host: 'fanz.network' }, cf: cf('US', 'CA') } as RequestInit, production, createExecutionContext())
    expect(page.status).toBe(404)
    const hook = await app.request('https://api.fanz.network/api/vault/age/webhooks/sandbox', { method: 'POST', headers: { host: 'api.fanz.network', 'content-type': 'application/json' }, body: '{}', cf: cf('US', 'CA') } as RequestInit, production, createExecutionContext())
    expect(hook.status).toBe(404)
  })

  it('runs only sessions FANZ opened: an unsigned or altered start link is refused', async () => {
    const { token } = await fan()
    const started = (await (await start(token, 'FAE', GB)).json()) as { url: string }
    const altered = new URL(started.url)
    altered.searchParams.set('threshold', '18')
    expect((await call('localhost', altered.pathname + altered.search)).status).toBe(400)
    expect((await call('localhost', '/sandbox-age/start?method=FAE&threshold=18')).status).toBe(400)
  })

  it('ID_DOC: an adult passes; only method, result, reference, times and jurisdiction are kept; users columns and audit set', async () => {
    const { userId, token } = await fan()
    const vaultBefore = [await objectCount(env.VAULT), await objectCount(env.VAULT_EU)]
    const dob = yearsAgo(30)
    const res = await start(token, 'ID_DOC', TX, { return_to: 'http://boyfanz.localhost/' })
    const started = (await res.json()) as { verification_id: string; url: string }
    const done = await completeAtSandbox(started.url, { dob, selfie: 'match' })
    expect(done.status).toBe(200)
    const back = done.headers.get('refresh')!
    expect(back).toBe(`0;url=http://sso.localhost/age-verification?verification=${started.verification_id}&return_to=${encodeURIComponent('http://boyfanz.localhost/')}`)

    const stored = await row(started.verification_id)
    expect(stored).toMatchObject({ user_id: userId, method: 'ID_DOC', provider: 'sandbox', status: 'passed', jurisdiction: 'US-TX' })
    expect(Object.keys(stored).sort()).toEqual(['created_at_ms', 'expires_at_ms', 'id', 'jurisdiction', 'method', 'provider', 'provider_ref', 'status', 'updated_at_ms', 'user_id', 'verified_at_ms'])
    expect(stored.expires_at_ms as number - (stored.verified_at_ms as number)).toBe(365 * DAY_MS)
    // nothing identifying anywhere: no DOB in D1, nothing in the vault buckets
    expect(JSON.stringify(stored)).not.toContain(dob)
    const userRow = await env.DB.prepare('SELECT * FROM users WHERE id = ?').bind(userId).first()
    expect(JSON.stringify(userRow)).not.toContain(dob)
    expect([await objectCount(env.VAULT), await objectCount(env.VAULT_EU)]).toEqual(vaultBefore)

    expect(await userAv(userId)).toEqual({ age_verified_method: 'ID_DOC', age_verified_expires_at_ms: stored.expires_at_ms })
    const audited = await auditFor('vault.age.verified', `user:${userId}`)
    expect(audited).toHaveLength(1)
    expect(audited[0]!.details).toEqual({
      verification_id: started.verification_id,
      method: 'ID_DOC',
      provider: 'sandbox',
      jurisdiction: 'US-TX',
      config_version: 0,
      required_age: 18,
      expires_at: new Date(stored.expires_at_ms as number).toISOString(),
    })
    expect(JSON.stringify(audited)).not.toContain(dob)

    const status = await call(API, '/api/vault/age/status', { token, cf: TX })
    expect(await status.json()).toMatchObject({ verified: true, method: 'ID_DOC', expires_at: new Date(stored.expires_at_ms as number).toISOString() })
  })

  it('ID_DOC: a 17-year-old fails and the account stays unverified', async () => {
    const { userId, token } = await fan()
    const started = (await (await start(token, 'ID_DOC')).json()) as { verification_id: string; url: string }
    const done = await completeAtSandbox(started.url, { dob: yearsAgo(18, -1), selfie: 'match' })
    expect(done.status).toBe(200)
    expect(await row(started.verification_id)).toMatchObject({ status: 'failed', verified_at_ms: null, expires_at_ms: null })
    expect(await userAv(userId)).toEqual({ age_verified_method: null, age_verified_expires_at_ms: null })
    expect((await auditFor('vault.age.failed', `user:${userId}`))[0]!.details).toMatchObject({ method: 'ID_DOC', outcome: 'fail', required_age: 18 })
  })

  it('FAE: an estimate under the challenge age (24 < 25) fails, at the challenge age (25) passes', async () => {
    const { userId, token } = await fan()
    const first = (await (await start(token, 'FAE', GB)).json()) as { verification_id: string; url: string }
    await completeAtSandbox(first.url, { estimate: '24' })
    expect(await row(first.verification_id)).toMatchObject({ status: 'failed' })
    expect((await userAv(userId)).age_verified_method).toBeNull()

    const second = (await (await start(token, 'FAE', GB)).json()) as { verification_id: string; url: string }
    await completeAtSandbox(second.url, { estimate: '25' })
    expect(await row(second.verification_id)).toMatchObject({ status: 'passed', jurisdiction: 'GB' })
    expect((await userAv(userId)).age_verified_method).toBe('FAE')
    expect((await auditFor('vault.age.verified', `user:${userId}`))[0]!.details).toMatchObject({ method: 'FAE', fae_challenge_age: 25, required_age: 25 })
  })

  it('CC and DIGITAL_ID run through the sandbox too', async () => {
    const { userId, token } = await fan()
    const cc = (await (await start(token, 'CC', GB)).json()) as { verification_id: string; url: string }
    await completeAtSandbox(cc.url, { card: '4000 0566 5566 5556' })
    expect(await row(cc.verification_id)).toMatchObject({ status: 'failed' })
    const wallet = (await (await start(token, 'DIGITAL_ID', TX)).json()) as { verification_id: string; url: string }
    await completeAtSandbox(wallet.url, { over18: 'true' })
    expect(await row(wallet.verification_id)).toMatchObject({ status: 'passed' })
    expect((await userAv(userId)).age_verified_method).toBe('DIGITAL_ID')
  })

  it('the webhook refuses a tampered result and applies a replay only once', async () => {
    const { userId, token } = await fan()
    const started = (await (await start(token, 'ID_DOC')).json()) as { verification_id: string; url: string }
    const session = new URL(started.url).searchParams.get('session')!
    const secret = await sandboxAgeSecret(getConfig(env))
    const result = { event_id: 'sbx_avev_0123456789abcdef', session_id: session, reference: started.verification_id, method: 'ID_DOC', outcome: 'fail', threshold: 18, occurred_at: new Date().toISOString() }
    const raw = JSON.stringify(result)
    const signature = signAgeCallback(secret, raw, Math.floor(Date.now() / 1000))
    const post = (body: string, sig: string) => call(API, '/api/vault/age/webhooks/sandbox', { headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sig }, body })

    const tampered = await post(raw.replace('"fail"', '"pass"'), signature)
    expect(tampered.status).toBe(400)
    expect(await tampered.json()).toMatchObject({ code: 'SIGNATURE_INVALID', errors: [{ path: `header.${SIGNATURE_HEADER}` }] })
    expect(await row(started.verification_id)).toMatchObject({ status: 'pending' })

    const first = await post(raw, signature)
    expect(await first.json()).toEqual({ verification_id: started.verification_id, state: 'failed', duplicate: false })
    const pass = JSON.stringify({ ...result, event_id: 'sbx_avev_fedcba9876543210', outcome: 'pass' })
    const again = await post(pass, signAgeCallback(secret, pass, Math.floor(Date.now() / 1000)))
    expect(await again.json()).toEqual({ verification_id: started.verification_id, state: 'failed', duplicate: true })
    expect((await userAv(userId)).age_verified_method).toBeNull()
    expect(await auditFor('vault.age.failed', `user:${userId}`)).toHaveLength(1)

    const unknown = JSON.stringify({ ...result, session_id: 'sbx_avs_AAAAAAAAAAAAAAAA' })
    expect((await post(unknown, signAgeCallback(secret, unknown, Math.floor(Date.now() / 1000)))).status).toBe(404)
  })
})

describe('support reads a history', () => {
  it('with vault:read, a purpose and a recent strong sign-in; method, result and times only; audited', async () => {
    const { userId, token } = await fan()
    const started = (await (await start(token, 'ID_DOC')).json()) as { verification_id: string; url: string }
    await completeAtSandbox(started.url, { dob: yearsAgo(40), selfie: 'match' })
    const path = `/api/vault/age/users/${userId}`
    const purpose = { 'vault-purpose': 'age_verification_support; note="fan asked why the gate still shows"' }

    expect((await call(API, path, { token, headers: purpose })).status).toBe(403)
    expect((await call(API, path, { token: await tokenFor(['compliance_officer']), headers: purpose })).status).toBe(401)
    const officer = await strongToken(['compliance_officer'])
    const noPurpose = await call(API, path, { token: officer })
    expect(noPurpose.status).toBe(400)
    expect(await noPurpose.json()).toMatchObject({ errors: [{ path: 'header.vault-purpose' }] })

    const res = await call(API, path, { token: officer, headers: purpose })
    expect(res.status).toBe(200)
    const history = (await res.json()) as { status: { verified: boolean }; items: Array<Record<string, unknown>> }
    expect(history.status.verified).toBe(true)
    expect(history.items).toHaveLength(1)
    expect(Object.keys(history.items[0]!).sort()).toEqual(['created_at', 'expires_at', 'id', 'method', 'result', 'verified_at'])
    expect(history.items[0]).toMatchObject({ id: started.verification_id, method: 'ID_DOC', result: 'passed' })
    expect((await auditFor('vault.age.read', `user:${userId}`))[0]!.details).toMatchObject({ purpose: 'age_verification_support', items: 1 })
  })
})

/** Text of the last page of a browse. */
async function finalPage(jar: CookieJar, host: string, where: IncomingRequestCfProperties): Promise<{ status: number; html: string; path: string }> {
  const hops = await browse(jar, `http://${host}/`, { cf: where })
  const last = hops[hops.length - 1]!
  return { status: last.status, html: await last.res.text(), path: `${last.host}${last.path}` }
}

const GATE = 'Age verification required'

describe('the SSO age-verification page', () => {
  it('signed out: explains what the place accepts and asks for a sign-in, with no start form', async () => {
    const res = await call('sso.localhost', `/age-verification?return_to=${encodeURIComponent('http://girlfanz.localhost/c/alice')}`, { cf: TX })
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(body).toContain('HB 1181')
    expect(body).toContain('Photo ID with a selfie')
    expect(body).toContain('Sign in to verify')
    expect(body).not.toContain('<form')
    expect(body).toContain('href="http://girlfanz.localhost/c/alice">Back to GirlFanz</a>')
  })
})

describe('the age gate on every brand', () => {
  it('a fan verified once on FanzSSO passes on all five brands; an expired verification gates again', async () => {
    const { userId } = await createUser()
    const jar = new CookieJar()
    await signInAtSso(jar, userId)
    const hosts = Object.values(BRAND_HOSTS)

    // signed in on every brand (silent SSO), not verified: every brand shows the gate in Texas
    for (const host of hosts) {
      const page = await finalPage(jar, host, TX)
      expect(page.status, host).toBe(200)
      expect(page.html, host).toContain(GATE)
      expect(jar.get(host, 'fanz_session'), host).toBeTruthy()
    }

    // the gate's link: the SSO page lists what Texas accepts, with start forms
    const ssoPage = await browse(jar, `http://sso.localhost/age-verification?return_to=${encodeURIComponent('http://boyfanz.localhost/')}`, { cf: TX })
    const html = await ssoPage[0]!.res.text()
    expect(html).toContain('data-method="ID_DOC"')
    expect(html).toContain('data-method="DIGITAL_ID"')
    expect(html).not.toContain('data-method="FAE"')
    const token = /name="method" value="ID_DOC"\/?><input type="hidden" name="token" value="([^"]+)"/.exec(html)?.[1]
    expect(token).toBeTruthy()
    // a start needs the token of this session and method
    const forged = await browse(jar, `http://sso.localhost/age-verification?method=ID_DOC&token=${'A'.repeat(43)}`, { cf: TX })
    expect(forged[0]!.res.headers.get('refresh')).toBeNull()
    await forged[0]!.res.body?.cancel()

    const begun = await browse(jar, `http://sso.localhost/age-verification?${new URLSearchParams({ method: 'ID_DOC', token: token!, return_to: 'http://boyfanz.localhost/' })}`, { cf: TX })
    const providerUrl = begun[0]!.res.headers.get('refresh')!.replace(/^0;url=/, '')
    await begun[0]!.res.body?.cancel()
    const done = await completeAtSandbox(providerUrl, { dob: yearsAgo(25), selfie: 'match' })
    const back = done.headers.get('refresh')!.replace(/^0;url=/, '')
    const result = await browse(jar, back, { cf: TX })
    const resultHtml = await result[0]!.res.text()
    expect(resultHtml).toContain('data-result="passed"')
    expect(resultHtml).toContain('Back to BoyFanz')

    // every brand session, still holding its claim-less token, is refreshed and passes
    for (const host of hosts) {
      const before = jar.get(host, 'fanz_session')
      const page = await finalPage(jar, host, TX)
      expect(page.status, host).toBe(200)
      expect(page.html, host).not.toContain(GATE)
      expect(page.html, host).toContain('id="hero-title"')
      expect(jar.get(host, 'fanz_session'), host).not.toBe(before)
    }

    // the verification expires: when each brand's token comes up for refresh, the claim is gone and the gate is back
    await env.DB.prepare('UPDATE users SET age_verified_expires_at_ms = ? WHERE id = ?').bind(Date.now() - 1000, userId).run()
    for (const host of hosts) {
      jar.delete(host, 'fanz_session')
      const page = await finalPage(jar, host, TX)
      expect(page.status, host).toBe(200)
      expect(page.html, host).toContain(GATE)
    }
    const status = await call(API, '/api/vault/age/status', { token: await tokenFor(['fan'], { subject: userId }), cf: TX })
    expect(await status.json()).toMatchObject({ verified: false, method: null })
  })
})

describe('versioned settings', () => {
  it('a change appends a version, is audited with old and new values, and the FAE challenge age follows it', async () => {
    const officer = await strongToken(['compliance_officer'])
    const weak = await tokenFor(['compliance_officer'])
    const change = { fae_challenge_age: 30, validity_days: 180, per_session_validity_hours: 24, reason: 'provider accuracy review: raise the buffer' }
    expect((await call(API, '/api/vault/age/config', { method: 'PUT', token: weak, body: change })).status).toBe(401)
    expect((await call(API, '/api/vault/age/config', { method: 'PUT', token: await tokenFor(['fan']), body: change })).status).toBe(403)
    const bad = await call(API, '/api/vault/age/config', { method: 'PUT', token: officer, body: { ...change, fae_challenge_age: 16 } })
    expect(bad.status).toBe(422)

    const before = (await (await call(API, '/api/vault/age/config', { token: officer })).json()) as { current: { version: number; fae_challenge_age: number } }
    const res = await call(API, '/api/vault/age/config', { method: 'PUT', token: officer, body: change })
    expect(res.status).toBe(201)
    const next = (await res.json()) as { version: number }
    expect(next).toMatchObject({ version: before.current.version + 1, fae_challenge_age: 30, validity_days: 180 })
    const audited = await auditFor('vault.age.config_changed', 'config:age-verification')
    expect(audited[0]!.details).toMatchObject({ version: next.version, from: { fae_challenge_age: before.current.fae_challenge_age }, to: { fae_challenge_age: 30, validity_days: 180 } })

    try {
      const { userId, token } = await fan()
      const started = (await (await start(token, 'FAE', GB)).json()) as { verification_id: string; url: string }
      expect(new URL(started.url).searchParams.get('threshold')).toBe('30')
      await completeAtSandbox(started.url, { estimate: '27' })
      expect(await row(started.verification_id)).toMatchObject({ status: 'failed' })
      const again = (await (await start(token, 'ID_DOC', GB)).json()) as { verification_id: string; url: string }
      await completeAtSandbox(again.url, { dob: yearsAgo(20), selfie: 'match' })
      const stored = await row(again.verification_id)
      expect((stored.expires_at_ms as number) - (stored.verified_at_ms as number)).toBe(180 * DAY_MS)
      expect((await auditFor('vault.age.verified', `user:${userId}`))[0]!.details).toMatchObject({ config_version: next.version })
    } finally {
      // later tests in this run expect the default figures: a new version restores them (history is never rewritten)
      const restore = { fae_challenge_age: DEFAULT_AGE_CONFIG.fae_challenge_age, validity_days: DEFAULT_AGE_CONFIG.validity_days, per_session_validity_hours: DEFAULT_AGE_CONFIG.per_session_validity_hours, reason: 'test: back to the default figures' }
      expect((await call(API, '/api/vault/age/config', { method: 'PUT', token: officer, body: restore })).status).toBe(201)
    }
    const history = (await (await call(API, '/api/vault/age/config', { token: officer })).json()) as { history: Array<{ version: number }> }
    expect(history.history.map((v) => v.version)).toEqual([...Array(next.version + 2).keys()])
  })
})
