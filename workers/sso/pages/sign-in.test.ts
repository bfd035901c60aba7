import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { MESSAGES } from '../accounts/password-policy'
import { INCORRECT, DISABLED } from './credentials'
import { Browser, freshEmail, freshIp, PASSWORD, signUp, SSO } from './test-browser'

const ip = () => freshIp('198.51.100')

describe('GET/POST /signup', () => {
  it('shows a labelled form, never cached', async () => {
    const res = await new Browser(ip()).get('/signup')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const html = await res.text()
    expect(html).toContain('<label for="email">Email address</label>')
    expect(html).toMatch(/<input id="password" name="password" type="password" autocomplete="new-password"/)
    expect(html.match(/<h1[ >]/g)).toHaveLength(1)
  })

  it('creates the account, mails the verification link and signs in', async () => {
    const browser = new Browser(ip())
    const email = freshEmail('signup')
    await signUp(browser, email, 'Ann Signup')
    const row = await env.DB.prepare('SELECT id, display_name, email_verified_at_ms FROM users WHERE email = ?').bind(email).first<{ id: string; display_name: string; email_verified_at_ms: number | null }>()
    expect(row).toMatchObject({ display_name: 'Ann Signup', email_verified_at_ms: null })
    const mail = await env.DB.prepare('SELECT text_body FROM outbox_messages WHERE to_address = ?').bind(email).first<{ text_body: string }>()
    expect(mail?.text_body).toMatch(/http:\/\/sso\.localhost\/verify-email\?token=[A-Za-z0-9_-]{43}/)
    // signed in: the account page opens, with the banner offering a new verification link
    const account = await browser.get('/account')
    expect(account.status).toBe(200)
    const html = await account.text()
    expect(html).toContain('Ann Signup')
    expect(html).toContain('Resend verification email')
  })

  it('names the field for a weak password and for a taken address, keeping what was typed', async () => {
    const browser = new Browser(ip())
    const email = freshEmail('weak')
    const weak = await browser.post('/signup', { display_name: 'Weak', email, password: 'short' })
    expect(weak.status).toBe(422)
    const html = await weak.text()
    expect(html).toContain('href="#password"')
    expect(html).toContain(`Must be at least 15 characters.`)
    expect(MESSAGES.tooShort(15)).toBe('must be at least 15 characters')
    expect(html).toContain('aria-invalid="true" aria-describedby="password-hint password-error"')
    expect(html).toContain(`value="${email}"`)
    expect(browser.cookies.has('fanz_sso')).toBe(false)

    await signUp(new Browser(ip()), email)
    const taken = await new Browser(ip()).post('/signup', { display_name: 'Again', email: email.toUpperCase(), password: PASSWORD })
    expect(taken.status).toBe(409)
    expect(await taken.text()).toContain('An account with this email address already exists')
  })

  it('refuses a cross-site post with 403', async () => {
    const res = await new Browser(ip()).post('/signup', { display_name: 'X', email: freshEmail('csrf'), password: PASSWORD }, { origin: 'https://evil.example' })
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toContain('text/html')
    const none = await call(SSO, '/signup', { method: 'POST', body: 'display_name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(none.status).toBe(403)
  })
})

describe('GET/POST /login', () => {
  it('signs in with the right password and continues the authorization request', async () => {
    const email = freshEmail('login')
    await signUp(new Browser(ip()), email)
    const browser = new Browser(ip())
    const form = await browser.get('/login?request=arq_01JFANZ0000000000000000001')
    const html = await form.text()
    expect(html).toContain('<input type="hidden" name="request" value="arq_01JFANZ0000000000000000001"/>')
    expect(html).toContain('href="/signup?request=arq_01JFANZ0000000000000000001"')
    expect(html).toMatch(/autocomplete="current-password"/)
    const res = await browser.post('/login', { email: email.toUpperCase(), password: PASSWORD, request: 'arq_01JFANZ0000000000000000001' })
    // back to the client through the self-advancing page (CSP form-action governs redirects after a post)
    expect(res.status).toBe(200)
    expect(res.headers.get('refresh')).toBe('0;url=/authorize/resume?request=arq_01JFANZ0000000000000000001')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(browser.cookies.get('fanz_sso')).toMatch(/^usr_[0-9A-Z]{26}\.rt_/)
  })

  it('answers a wrong password and an unknown address the same way, then throttles with 429', async () => {
    const email = freshEmail('guess')
    await signUp(new Browser(ip()), email)
    const unknown = await new Browser(ip()).post('/login', { email: freshEmail('nobody'), password: PASSWORD })
    expect(unknown.status).toBe(401)
    expect(await unknown.text()).toContain(INCORRECT)
    const browser = new Browser(ip())
    const attempts: number[] = []
    let last: Response | undefined
    for (let i = 0; i < 8; i++) {
      last = await browser.post('/login', { email, password: 'wrong password entirely' })
      attempts.push(last.status)
      if (last.status === 429) break
      expect(await last.text()).toContain(INCORRECT)
    }
    // five free failures, the sixth sets a wait: the seventh is refused
    expect(attempts.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401])
    expect(last!.status).toBe(429)
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(last!.headers.get('content-type')).toContain('text/html')
    expect(await last!.text()).toContain('Too many attempts')
    expect(browser.cookies.has('fanz_sso')).toBe(false)
  })

  it('tells a disabled account so, but only after the right password', async () => {
    const email = freshEmail('disabled')
    await signUp(new Browser(ip()), email)
    await env.DB.prepare(`UPDATE users SET status = 'disabled' WHERE email = ?`).bind(email).run()
    const browser = new Browser(ip())
    const right = await browser.post('/login', { email, password: PASSWORD })
    expect(right.status).toBe(403)
    expect(await right.text()).toContain(DISABLED)
    const wrong = await browser.post('/login', { email, password: 'not the password at all' })
    expect(await wrong.text()).toContain(INCORRECT)
    expect(browser.cookies.has('fanz_sso')).toBe(false)
  })

  it('reports empty fields in an error summary linking to them', async () => {
    const res = await new Browser(ip()).post('/login', { email: 'not-an-address', password: '' })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('<a href="#email">')
    expect(html).toContain('<a href="#password">')
    expect(html).toContain('id="email-error"')
  })

  it('drops a request parameter that is no authorization request id', async () => {
    const html = await (await new Browser(ip()).get(`/login?request=${encodeURIComponent('"><script>')}`)).text()
    expect(html).not.toContain('name="request"')
    expect(newId('authRequest')).toMatch(/^arq_/)
  })
})

describe('GET/POST /logout', () => {
  it('shows a button, and the POST ends the IdP session', async () => {
    const browser = new Browser(ip())
    await signUp(browser, freshEmail('logout'))
    const page = await browser.get('/logout')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form method="post" action="/logout"')
    const cookie = browser.cookieHeader()
    const res = await browser.post('/logout', {})
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login?signed_out=1')
    expect(browser.cookies.has('fanz_sso')).toBe(false)
    // the old cookie no longer opens the account
    const after = await call(SSO, '/account', { headers: { cookie } })
    expect(after.status).toBe(303)
    expect(after.headers.get('location')).toBe('/login')
  })
})
