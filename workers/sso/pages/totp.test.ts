import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { auditLog } from '../../compliance/audit'
import { IDP_CLIENT_ID } from '../login/idp-session'
import { totpCode, totpStep } from '../mfa/totp'
import { userSessions } from '../sessions'
import { MFA_MESSAGES } from './mfa'
import { codesOnPage, Browser, freshEmail, freshIp, PASSWORD, secretOnPage, signUp } from './test-browser'
import { TOTP_MESSAGES } from './totp'

const ip = () => freshIp('203.0.113')

async function userIdOf(email: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE email = ?').bind(email).first<{ id: string }>()
  return row!.id
}

/** A code the user's secret will accept now: one step ahead when the current one was just used. */
function codeAt(secret: Uint8Array, stepOffset = 0): string {
  return totpCode(secret, totpStep(Date.now()) + stepOffset)
}

/** Signs up and turns TOTP on through the pages; returns the secret and the recovery codes. */
async function enrolled(tag: string) {
  const browser = new Browser(ip())
  const email = freshEmail(tag)
  await signUp(browser, email)
  const setup = await browser.get('/account/totp')
  expect(setup.status).toBe(200)
  const secret = secretOnPage(await setup.text())
  const confirm = await browser.post('/account/totp', { code: codeAt(secret) })
  expect(confirm.status).toBe(200)
  const codes = codesOnPage(await confirm.text())
  expect(codes).toHaveLength(10)
  return { browser, email, secret, codes, userId: await userIdOf(email) }
}

describe('TOTP enrolment (/account/totp)', () => {
  it('shows the key and the otpauth URI, refuses a wrong code, enables with the right one', async () => {
    const browser = new Browser(ip())
    const email = freshEmail('enrol')
    await signUp(browser, email)
    const setup = await browser.get('/account/totp')
    expect(setup.headers.get('cache-control')).toBe('no-store')
    const html = await setup.text()
    const secret = secretOnPage(html)
    expect(secret.byteLength).toBe(20)
    expect(html).toContain(`otpauth://totp/FANZ:${encodeURIComponent(email)}?secret=`)
    expect(html).toMatch(/autocomplete="one-time-code"/)
    // a reload shows the same key (it is pending in a sealed cookie, not regenerated)
    expect(secretOnPage(await (await browser.get('/account/totp')).text())).toEqual(secret)

    const right = codeAt(secret)
    const wrong = right === '000000' ? '111111' : '000000'
    const refused = await browser.post('/account/totp', { code: wrong })
    expect(refused.status).toBe(401)
    expect(await refused.text()).toContain(TOTP_MESSAGES.invalid)
    const userId = await userIdOf(email)
    expect((await env.DB.prepare('SELECT totp_enabled_at_ms FROM users WHERE id = ?').bind(userId).first())?.totp_enabled_at_ms).toBeNull()

    const ok = await browser.post('/account/totp', { code: right })
    expect(ok.status).toBe(200)
    expect(codesOnPage(await ok.text())).toHaveLength(10)
    const row = await env.DB.prepare('SELECT totp_secret_sealed, totp_enabled_at_ms, totp_last_step, recovery_codes_json FROM users WHERE id = ?')
      .bind(userId)
      .first<{ totp_secret_sealed: string; totp_enabled_at_ms: number; totp_last_step: number; recovery_codes_json: string }>()
    expect(row!.totp_enabled_at_ms).toBeGreaterThan(0)
    expect(row!.totp_last_step).toBeGreaterThanOrEqual(totpStep(Date.now()) - 1)
    expect(JSON.parse(row!.recovery_codes_json)).toHaveLength(10)
    expect(row!.totp_secret_sealed).not.toContain(right)
    const entries = await auditLog(env).list({ afterSeq: 0, limit: 10, action: 'sso.totp.enable', subject: `user:${userId}` })
    expect(entries).toHaveLength(1)
    // the account page now says it is on
    expect(await (await browser.get('/account')).text()).toContain('10 recovery codes left')
  })

  it('needs a recent sign-in: an old session is sent to confirm the password first', async () => {
    const browser = new Browser(ip())
    const email = freshEmail('stale')
    await signUp(browser, email)
    const userId = await userIdOf(email)
    const nowMs = Date.now()
    const old = await userSessions(env, userId).createSession({ clientId: IDP_CLIENT_ID, device: 'test', ip: null, country: null, amr: ['pwd'], authTimeS: Math.floor(nowMs / 1000) - 3600, nowMs })
    if (!old.ok) throw new Error(old.message)
    const stale = new Browser(ip())
    stale.cookies.set('fanz_sso', `${userId}.${old.refreshToken}`)
    const res = await stale.get('/account/totp')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/account/reauth?return=%2Faccount%2Ftotp')
    const post = await stale.post('/account/totp', { code: '123456' })
    expect(post.headers.get('location')).toBe('/account/reauth?return=%2Faccount%2Ftotp')

    const wrong = await stale.post('/account/reauth?return=%2Faccount%2Ftotp', { password: 'not my password at all' })
    expect(wrong.status).toBe(401)
    const ok = await stale.post('/account/reauth?return=%2Faccount%2Ftotp', { password: PASSWORD })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/account/totp')
    expect((await stale.get('/account/totp')).status).toBe(200)
    // an unknown return target falls back to the account page (no open redirect)
    const other = await stale.post('/account/reauth?return=https%3A%2F%2Fevil.example', { password: PASSWORD })
    expect(other.headers.get('location')).toBe('/account')
  })

  it('turns off with a current code, and new recovery codes replace the old ones', async () => {
    const { browser, secret, codes, userId } = await enrolled('manage')
    const manage = await browser.get('/account/totp')
    expect(await manage.text()).toContain('Turn off authenticator app')
    // the enrolment code's step is used: the next step's code is the fresh one
    const regen = await browser.post('/account/recovery-codes', { regenerate_code: codeAt(secret, 1) })
    expect(regen.status).toBe(200)
    const fresh = codesOnPage(await regen.text())
    expect(fresh).toHaveLength(10)
    expect(fresh).not.toEqual(codes)
    const stored = JSON.parse((await env.DB.prepare('SELECT recovery_codes_json AS j FROM users WHERE id = ?').bind(userId).first<{ j: string }>())!.j)
    expect(stored).toHaveLength(10)

    const replay = await browser.post('/account/totp/disable', { disable_code: codeAt(secret, 1) })
    expect(replay.status).toBe(401)
    expect(await replay.text()).toContain(TOTP_MESSAGES.replayed)
    // time passes (the next-step code is no longer ahead): today's code disables
    await env.DB.prepare('UPDATE users SET totp_last_step = ? WHERE id = ?').bind(totpStep(Date.now()) - 5, userId).run()
    const done = await browser.post('/account/totp/disable', { disable_code: codeAt(secret) })
    expect(done.status).toBe(303)
    const row = await env.DB.prepare('SELECT totp_secret_sealed, totp_enabled_at_ms, recovery_codes_json FROM users WHERE id = ?').bind(userId).first()
    expect(row).toEqual({ totp_secret_sealed: null, totp_enabled_at_ms: null, recovery_codes_json: null })
  })
})

describe('second factor at sign-in (/login/mfa)', () => {
  it('a correct password with TOTP on leads to /login/mfa; a code completes once, its replay is refused', async () => {
    const { email, secret, userId } = await enrolled('mfa')
    // make the enrolment code's step old news, so the current code is usable at sign-in
    await env.DB.prepare('UPDATE users SET totp_last_step = ? WHERE id = ?').bind(totpStep(Date.now()) - 5, userId).run()

    const browser = new Browser(ip())
    const res = await browser.post('/login', { email, password: PASSWORD, request: 'arq_01JFANZ0000000000000000002' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login/mfa?request=arq_01JFANZ0000000000000000002')
    expect(browser.cookies.has('fanz_sso')).toBe(false)
    expect(browser.cookies.has('fanz_mfa_pending')).toBe(true)
    const page = await browser.get('/login/mfa?request=arq_01JFANZ0000000000000000002')
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Authenticator app')
    expect(html).toContain('Recovery code')

    const code = codeAt(secret)
    // a second browser in the same pending state, to replay the code after the first used it
    const twin = new Browser(ip())
    twin.cookies.set('fanz_mfa_pending', browser.cookies.get('fanz_mfa_pending')!)

    const ok = await browser.post('/login/mfa', { method: 'totp', code })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('refresh')).toBe('0;url=/authorize/resume?request=arq_01JFANZ0000000000000000002')
    expect(browser.cookies.get('fanz_sso')).toMatch(/^usr_/)
    expect(browser.cookies.has('fanz_mfa_pending')).toBe(false)
    const sessions = await userSessions(env, userId).listSessions()
    expect(sessions.find((s) => s.clientId === IDP_CLIENT_ID && s.amr.includes('otp'))?.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']))

    const replay = await twin.post('/login/mfa', { method: 'totp', code })
    expect(replay.status).toBe(401)
    expect(await replay.text()).toContain(MFA_MESSAGES.totpReplayed)
    expect(twin.cookies.has('fanz_sso')).toBe(false)
  })

  it('a recovery code works once and is audited', async () => {
    const { email, codes, userId } = await enrolled('recovery')
    const first = new Browser(ip())
    await first.post('/login', { email, password: PASSWORD })
    const ok = await first.post('/login/mfa', { method: 'recovery', recovery_code: codes[3]!.toUpperCase() })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/account')
    expect(first.cookies.has('fanz_sso')).toBe(true)
    const left = JSON.parse((await env.DB.prepare('SELECT recovery_codes_json AS j FROM users WHERE id = ?').bind(userId).first<{ j: string }>())!.j)
    expect(left).toHaveLength(9)

    const second = new Browser(ip())
    await second.post('/login', { email, password: PASSWORD })
    const again = await second.post('/login/mfa', { method: 'recovery', recovery_code: codes[3]! })
    expect(again.status).toBe(401)
    expect(await again.text()).toContain(MFA_MESSAGES.recoveryInvalid)
    const entries = await auditLog(env).list({ afterSeq: 0, limit: 10, action: 'sso.recovery_code.use', subject: `user:${userId}` })
    expect(entries.map((e) => JSON.parse(e.details))).toEqual([{ remaining: 9 }])
  })

  it('wrong codes are throttled per user; without a pending sign-in the page sends you to /login', async () => {
    const { email } = await enrolled('mfa-throttle')
    const browser = new Browser(ip())
    await browser.post('/login', { email, password: PASSWORD })
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) {
      const res = await browser.post('/login/mfa', { method: 'totp', code: 'abcdef' })
      statuses.push(res.status)
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toMatch(/^[0-9]+$/)
        break
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429])

    const nobody = await new Browser(ip()).get('/login/mfa')
    expect(nobody.status).toBe(303)
    expect(nobody.headers.get('location')).toBe('/login')
  })
})
