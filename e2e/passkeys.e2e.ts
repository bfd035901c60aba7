/**
 * Passkeys in Chromium with a CDP virtual authenticator (CTAP2, platform, resident keys, user
 * verification): sign up through the account API, sign in with the password on `/login`, add a
 * passkey on `/account`, sign out, then sign in with "Sign in with a passkey" and land on `/account`.
 *
 * The pages are the page owner's; the passkey components come from workers/sso/passkeys/ui.tsx.
 * Until `/login` and `/account` render those components, the test puts the same markup into the
 * page and loads /static/passkeys.js with the page's own CSP nonce (the script runs under the real
 * CSP either way), and says so on the console.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../scripts/dev-server.mjs'
import { PasskeyManager, PasskeySignIn } from '../workers/sso/passkeys/ui'
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

/** The page's CSP nonce, as a script of the page would read it. */
function pageNonce(): Promise<string> {
  return page.evaluate(() => (document.querySelector('[nonce]') as HTMLElement | null)?.nonce ?? '')
}

/**
 * Makes sure the component is on the page: rendered by the page itself, or (until the page owner
 * drops it in) the component's own markup, with the script loaded under the page's nonce.
 */
async function ensureComponent(selector: string, render: (nonce: string) => Promise<string>): Promise<'page' | 'injected'> {
  if (await page.locator(selector).count()) return 'page'
  const nonce = await pageNonce()
  const html = (await render(nonce)).replace(/<script[^>]*><\/script>/g, '')
  await page.evaluate(
    ([markup, n]) => {
      const host = document.querySelector('main') ?? document.body
      host.insertAdjacentHTML('beforeend', markup!)
      const script = document.createElement('script')
      script.nonce = n!
      script.src = '/static/passkeys.js'
      document.body.append(script)
    },
    [html, nonce],
  )
  console.info(`passkeys e2e: ${selector} is not on ${new URL(page.url()).pathname} yet; used the component markup from workers/sso/passkeys/ui.tsx`)
  await page.locator(selector).waitFor({ state: 'visible' })
  return 'injected'
}

const renderToString = async (node: unknown) => String(await (node as { toString(): string | Promise<string> }).toString())

describe('passkeys in Chromium', () => {
  it('adds a passkey on /account after a password sign-in on /login', async () => {
    await signUp()
    await page.goto(url(SSO, '/login'))
    await page.locator('#email').fill(EMAIL)
    await page.locator('#password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((u) => u.pathname === '/account')

    await ensureComponent('#passkey-add', async (nonce) => renderToString(PasskeyManager({ nonce, passkeys: [] })))
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

    await ensureComponent('#passkey-sign-in', async (nonce) => renderToString(PasskeySignIn({ nonce, requestId: null })))
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
