/**
 * Passkeys in Chromium with a CDP virtual authenticator (CTAP2, platform, resident keys, user
 * verification): sign up through the account API, sign in with the password on `/login`, add a
 * passkey on `/account`, sign out, then sign in with "Sign in with a passkey" and land on `/account`.
 * Everything runs under the pages' real CSP (scripts by nonce only).
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../scripts/dev-server.mjs'
import { cspViolations, launch, port, url } from './browser'

const PASSWORD = 'lantern orbit cactus 42'
const EMAIL = `passkey.e2e.${Date.now()}@example.com`
const SSO = 'sso.localhost'

let browser: Awaited<ReturnType<typeof launch>>
let context: BrowserContext
let page: Page
let cdp: CDPSession
let authenticatorId: string
let violations: string[]

beforeAll(async () => {
  browser = await launch()
  context = await browser.newContext()
  page = await context.newPage()
  violations = cspViolations(page)
  cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })
  authenticatorId = added.authenticatorId
})

afterAll(async () => {
  await browser?.close()
})

async function signUp(): Promise<void> {
  const body = JSON.stringify({ email: EMAIL, password: PASSWORD, display_name: 'Pat Passkey' })
  const res = (await request(port, 'api.localhost', '/api/sso/accounts', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cf-connecting-ip': '192.0.2.77' },
    body,
  })) as { status: number; body: string }
  expect(res.status, res.body).toBe(201)
}

describe('passkeys in Chromium', () => {
  it('adds a passkey on /account after a password sign-in on /login', async () => {
    await signUp()
    await page.goto(url(SSO, '/login'))
    await page.locator('#email').fill(EMAIL)
    await page.locator('#password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((u) => u.pathname === '/account')

    const add = page.getByRole('button', { name: 'Add a passkey' })
    await expect.poll(() => add.isVisible()).toBe(true)
    await page.getByLabel('Name for the new passkey').fill('E2E laptop')
    // keyboard: focus the button and press Enter
    await add.focus()
    await page.keyboard.press('Enter')
    const status = page.locator('#passkey-manager-status')
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('Passkey “E2E laptop” added.')
    expect(await status.getAttribute('aria-live')).toBe('polite')
    expect(await page.locator('#passkey-list li').count()).toBe(1)
    expect(await page.locator('#passkey-list li .passkey-name').textContent()).toBe('E2E laptop')
    expect(await page.getByRole('button', { name: 'Remove passkey E2E laptop' }).count()).toBe(1)

    // the authenticator holds one discoverable credential for the SSO rpId
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    expect(credentials).toHaveLength(1)
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: SSO })
  })

  it('signs out, then signs in with the passkey button on /login and lands signed in on /account', async () => {
    await context.clearCookies({ domain: SSO })
    await page.goto(url(SSO, '/account'))
    expect(new URL(page.url()).pathname).toBe('/login')

    const button = page.getByRole('button', { name: 'Sign in with a passkey' })
    await expect.poll(() => button.isVisible()).toBe(true)
    await button.focus()
    await page.keyboard.press('Enter')
    await page.waitForURL((u) => u.pathname === '/account', { timeout: 15_000 })
    expect(new URL(page.url()).port).toBe(String(port))

    // signed in: the account page stays, and the list (through the session cookie) shows the use
    const cookies = await context.cookies(url(SSO, '/'))
    expect(cookies.find((c) => c.name === 'fanz_sso')?.value).toMatch(/^usr_[0-9A-Z]{26}\.rt_/)
    const list = await page.evaluate(async () => (await (await fetch('/passkeys')).json()) as { passkeys: Array<{ name: string; last_used_at: string | null }> })
    expect(list.passkeys).toHaveLength(1)
    expect(list.passkeys[0]!.name).toBe('E2E laptop')
    expect(list.passkeys[0]!.last_used_at).not.toBeNull()
    expect(violations).toEqual([])
  })
})
