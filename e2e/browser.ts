/**
 * Shared pieces of the browser suite: the Chromium launch, URLs on the dev server's port, the five
 * brands, CSP-violation capture and dev tokens minted through the dev server.
 */
import { chromium, type Browser, type Page } from 'playwright-core'
import { inject } from 'vitest'
import { ensureDevVars, request } from '../scripts/dev-server.mjs'

export const port: number = inject('port')

/** Chromium resolves *.localhost to loopback, where wrangler dev listens. */
export const url = (host: string, path = '/'): string => `http://${host}:${port}${path}`

export const BRANDS = [
  { host: 'boyfanz.localhost', name: 'BoyFanz', creator: 'alex' },
  { host: 'girlfanz.localhost', name: 'GirlFanz', creator: 'alice' },
  { host: 'pupfanz.localhost', name: 'PupFanz', creator: 'rex' },
  { host: 'transfanz.localhost', name: 'TransFanz', creator: 'sasha' },
  { host: 'taboofanz.localhost', name: 'TabooFanz', creator: 'nyx' },
] as const

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** Collects every CSP violation the page reports on the console. */
export function cspViolations(page: Page): string[] {
  const seen: string[] = []
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.push(message.text())
  })
  return seen
}

/** A real access token from the dev server's dev-only endpoint (what `npm run token` does); `subject` picks the user (e.g. a seeded creator). */
export async function mintToken(roles: string[], ageVerified = false, subject?: string): Promise<string> {
  const body = JSON.stringify({ roles, age_verified: ageVerified, ...(subject ? { subject } : {}) })
  const res = (await request(port, 'api.localhost', '/api/dev/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': new TextEncoder().encode(body).length, 'x-dev-token-secret': ensureDevVars().DEV_TOKEN_SECRET },
    body,
  })) as { status: number; body: string }
  if (res.status !== 201) throw new Error(`token mint failed: ${res.status} ${res.body}`)
  return (JSON.parse(res.body) as { access_token: string }).access_token
}

/** Signs a new account up from BoyFanz's Sign in link and waits until the brand shows it signed in. */
export async function signUpFromBoyFanz(page: Page, displayName: string, email: string): Promise<void> {
  await page.goto(url('boyfanz.localhost'))
  // the silent check found nobody: the page is shown signed out
  if ((await page.locator('h1').textContent()) !== 'BoyFanz') throw new Error('BoyFanz home did not load signed out')
  await page.getByRole('link', { name: 'Sign in' }).click()
  await page.waitForURL(/sso\.localhost:\d+\/login\?request=arq_/)
  await page.getByRole('link', { name: /create an account/i }).click()
  await page.waitForURL(/\/signup/)
  await page.getByLabel(/display name/i).fill(displayName)
  await page.getByLabel(/^email/i).fill(email)
  await page.getByLabel(/^password/i).fill('a long passphrase nobody guesses 42')
  await page.getByRole('button', { name: /create account/i }).click()
  await page.waitForURL(/boyfanz\.localhost:\d+\/$/)
}
