import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { userSessions } from '../sessions'
import { Browser, freshEmail, freshIp, PASSWORD, signUp, SSO } from './test-browser'

const ip = () => freshIp('192.0.2')
const BOYFANZ = 'brd_01JFANZ0000000000000000001'

async function userIdOf(email: string): Promise<string> {
  return (await env.DB.prepare('SELECT id FROM users WHERE email = ?').bind(email).first<{ id: string }>())!.id
}

async function lastMail(email: string): Promise<string> {
  const row = await env.DB.prepare('SELECT text_body FROM outbox_messages WHERE to_address = ? ORDER BY id DESC LIMIT 1').bind(email).first<{ text_body: string }>()
  return row?.text_body ?? ''
}

async function waitForMails(email: string, count: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM outbox_messages WHERE to_address = ?').bind(email).first<{ n: number }>()
    if ((row?.n ?? 0) >= count) return lastMail(email)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`no mail for ${email}`)
}

describe('GET /account', () => {
  it('sends visitors without a session to /login', async () => {
    const res = await call(SSO, '/account')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login')
  })

  it('lists the sessions, marks this device, and signs one out', async () => {
    const email = freshEmail('sessions')
    const here = new Browser(ip())
    await signUp(here, email)
    const there = new Browser(ip())
    const signIn = await there.post('/login', { email, password: PASSWORD }, { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Firefox/130.0' })
    expect(signIn.status).toBe(303)

    const page = await here.get('/account')
    expect(page.headers.get('cache-control')).toBe('no-store')
    const html = await page.text()
    expect(html).toContain('Firefox on Windows')
    expect(html.match(/This device/g)).toHaveLength(1)
    expect(html.match(/action="\/account\/sessions\/revoke"/g)).toHaveLength(2)

    const userId = await userIdOf(email)
    const sessions = await userSessions(env, userId).listSessions()
    const theirs = sessions.find((s) => s.device === 'Firefox on Windows')!
    const res = await here.post('/account/sessions/revoke', { session_id: theirs.sessionId })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/account')
    expect((await there.get('/account')).status).toBe(303)
    expect((await here.get('/account')).status).toBe(200)
  })

  it('"Sign out everywhere" revokes every session, this one included', async () => {
    const email = freshEmail('everywhere')
    const here = new Browser(ip())
    await signUp(here, email)
    const there = new Browser(ip())
    await there.post('/login', { email, password: PASSWORD })
    const userId = await userIdOf(email)
    expect(await userSessions(env, userId).listSessions()).toHaveLength(2)

    const cross = await here.post('/account/sessions/revoke-all', {}, { origin: 'https://evil.example' })
    expect(cross.status).toBe(403)
    expect(await userSessions(env, userId).listSessions()).toHaveLength(2)

    const res = await here.post('/account/sessions/revoke-all', {})
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login?signed_out=1')
    expect(here.cookies.has('fanz_sso')).toBe(false)
    expect(await userSessions(env, userId).listSessions()).toHaveLength(0)
    expect((await there.get('/account')).status).toBe(303)
    const entries = await auditLog(env).list({ afterSeq: 0, limit: 10, action: 'sso.session.revoke_all', subject: `user:${userId}` })
    expect(entries.map((e) => JSON.parse(e.details))).toEqual([{ revoked: 2 }])
  })
})

describe('POST /account/profile', () => {
  it('validates each field: a 422 page naming it, nothing saved', async () => {
    const email = freshEmail('profile-bad')
    const browser = new Browser(ip())
    await signUp(browser, email, 'Kept Name')
    const res = await browser.post('/account/profile', { display_name: '', locale: 'not a locale!', avatar_url: 'http://insecure.example/a.png' })
    expect(res.status).toBe(422)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    expect(html).toContain('<a href="#display_name">Display name: Enter a display name.</a>')
    expect(html).toContain('<a href="#locale">Language: Must be a language tag such as en or pt-BR.</a>')
    expect(html).toContain('<a href="#avatar_url">Avatar URL: Must be an https:// address of an image.</a>')
    expect(html).toMatch(/id="locale" name="locale" type="text" value="not a locale!"[^>]*aria-invalid="true"/)
    const row = await env.DB.prepare('SELECT display_name, locale FROM users WHERE email = ?').bind(email).first()
    expect(row).toEqual({ display_name: 'Kept Name', locale: 'en' })
  })

  it('saves a valid profile and audits it', async () => {
    const email = freshEmail('profile-ok')
    const browser = new Browser(ip())
    await signUp(browser, email)
    const res = await browser.post('/account/profile', { display_name: '  Ann B. ', locale: 'pt-BR', avatar_url: 'https://cdn.example/ann.png' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/account?saved=profile')
    const row = await env.DB.prepare('SELECT id, display_name, locale, avatar_url FROM users WHERE email = ?').bind(email).first<{ id: string }>()
    expect(row).toMatchObject({ display_name: 'Ann B.', locale: 'pt-BR', avatar_url: 'https://cdn.example/ann.png' })
    const entries = await auditLog(env).list({ afterSeq: 0, limit: 10, action: 'sso.profile.update', subject: `user:${row!.id}` })
    expect(entries).toHaveLength(1)
    expect(entries[0]!.actor).toBe(row!.id)
    expect(await (await browser.get('/account?saved=profile')).text()).toContain('Your profile was saved.')
  })

  it('keeps a per-brand display name, and removes it when emptied', async () => {
    const email = freshEmail('brand')
    const browser = new Browser(ip())
    await signUp(browser, email)
    const userId = await userIdOf(email)
    expect((await browser.post('/account/profile/brand', { brand_id: BOYFANZ, brand_display_name: 'Ann on BoyFanz' })).status).toBe(303)
    const row = await env.DB.prepare('SELECT display_name FROM profile_overrides WHERE user_id = ? AND brand_id = ?').bind(userId, BOYFANZ).first()
    expect(row).toEqual({ display_name: 'Ann on BoyFanz' })
    expect(await (await browser.get('/account')).text()).toContain('BoyFanz (now: Ann on BoyFanz)')
    const unknown = await browser.post('/account/profile/brand', { brand_id: 'brd_01JFANZ0000000000000000099', brand_display_name: 'x' })
    expect(unknown.status).toBe(422)
    expect(await unknown.text()).toContain('<a href="#brand_id">Brand: Choose a brand.</a>')
    expect((await browser.post('/account/profile/brand', { brand_id: BOYFANZ, brand_display_name: '' })).status).toBe(303)
    expect(await env.DB.prepare('SELECT 1 FROM profile_overrides WHERE user_id = ?').bind(userId).first()).toBeNull()
  })
})

describe('email pages', () => {
  it('verify-email: the GET only shows a button, the POST verifies once', async () => {
    const email = freshEmail('verify')
    const browser = new Browser(ip())
    await signUp(browser, email)
    const token = /verify-email\?token=([A-Za-z0-9_-]{43})/.exec(await lastMail(email))![1]!
    const page = await browser.get(`/verify-email?token=${token}`)
    expect(page.status).toBe(200)
    expect(await env.DB.prepare('SELECT email_verified_at_ms AS v FROM users WHERE email = ?').bind(email).first()).toEqual({ v: null })
    const ok = await browser.post('/verify-email', { token })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('Email address verified')
    expect((await env.DB.prepare('SELECT email_verified_at_ms AS v FROM users WHERE email = ?').bind(email).first<{ v: number }>())!.v).toBeGreaterThan(0)
    expect((await browser.post('/verify-email', { token })).status).toBe(422)
    expect(await (await browser.get('/account')).text()).not.toContain('Resend verification email')
  })

  it('resends a verification link from the account page', async () => {
    const email = freshEmail('resend')
    const browser = new Browser(ip())
    await signUp(browser, email)
    const res = await browser.post('/account/verify-email/resend', {})
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/account?saved=verify')
    await waitForMails(email, 2)
  })

  it('forgot + reset password: same answer for unknown addresses, the link sets a new password and signs everyone out', async () => {
    const email = freshEmail('reset')
    const browser = new Browser(ip())
    await signUp(browser, email)
    const unknown = await new Browser(ip()).post('/password/forgot', { email: freshEmail('nobody') })
    const known = await new Browser(ip()).post('/password/forgot', { email })
    expect(unknown.status).toBe(202)
    expect(known.status).toBe(202)
    const unknownText = (await unknown.text()).replace(/nonce="[^"]+"/g, '')
    expect((await known.text()).replace(/nonce="[^"]+"/g, '')).toBe(unknownText)

    const token = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(await waitForMails(email, 2))![1]!
    const form = await browser.get(`/reset-password?token=${token}`)
    expect(form.status).toBe(200)
    expect(await form.text()).toContain('autocomplete="new-password"')
    const weak = await browser.post('/reset-password', { token, password: 'password' })
    expect(weak.status).toBe(422)
    expect(await weak.text()).toContain('href="#password"')
    const ok = await browser.post('/reset-password', { token, password: 'quiet harbour violin 97' })
    expect(ok.status).toBe(200)
    expect(browser.cookies.has('fanz_sso')).toBe(false)
    expect((await browser.post('/login', { email, password: 'quiet harbour violin 97' })).status).toBe(303)
    expect((await browser.get(`/reset-password?token=${token}`)).status).toBe(422)
  })
})
