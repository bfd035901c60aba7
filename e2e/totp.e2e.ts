/**
 * Two-step verification with an authenticator app, in Chromium against `wrangler dev`: sign up on
 * `/signup`, set up TOTP on `/account/totp` (the key is read from the page and the codes are
 * computed here in Node, as an app would), sign out, sign in with the password, enter a fresh code
 * on `/login/mfa` and land on `/account`. No form needs JavaScript; no CSP violation is allowed.
 * Each page on the way, error states included, is also checked with axe (WCAG 2.1 AA) as shown.
 */
import { AxeBuilder } from '@axe-core/playwright'
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { totpCode, totpStep } from '../workers/sso/mfa/totp'
import { cspViolations, launch, url } from './browser'

const SSO = 'sso.localhost'
const PASSWORD = 'lantern orbit cactus 42'
const EMAIL = `totp.e2e.${Date.now()}@example.com`

let browser: Browser
let page: Page
let violations: string[]
let secret: Uint8Array
let enrolledStep: number

beforeAll(async () => {
  browser = await launch()
  page = await (await browser.newContext()).newPage()
  violations = cspViolations(page)
})

afterAll(async () => {
  await browser?.close()
})

/** axe-core violations of the page as it is now (signed-in pages and error states need the flow). */
async function axe(): Promise<string[]> {
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).options({ resultTypes: ['violations'] }).analyze()
  return results.violations.flatMap((v) => v.nodes.map((n) => `${page.url()} ${v.id}: ${n.target.join(' ')}`))
}

/** Waits until the authenticator shows a code for a step after `step` (codes are accepted once). */
async function codeAfter(step: number): Promise<string> {
  while (totpStep(Date.now()) <= step) await new Promise((resolve) => setTimeout(resolve, 250))
  return totpCode(secret, totpStep(Date.now()))
}

describe('TOTP in Chromium', () => {
  it('signs up on /signup and lands on the account page', async () => {
    await page.goto(url(SSO, '/signup'))
    expect(await axe()).toEqual([])
    // a weak password first: the error summary and the field's error must be accessible too
    await page.getByLabel('Display name').fill('Tia Totp')
    await page.getByLabel('Email address').fill(EMAIL)
    await page.getByLabel('Password').fill('password')
    await page.getByRole('button', { name: 'Create account' }).click()
    expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true')
    expect(await axe()).toEqual([])
    await page.getByLabel('Display name').fill('Tia Totp')
    await page.getByLabel('Email address').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL((u) => u.pathname === '/account')
    expect(await page.locator('h1').textContent()).toBe('Your account')
    expect(await page.locator('main').innerText()).toContain('Tia Totp')
    expect(await axe()).toEqual([])
  })

  it('sets up the authenticator app with the key shown on /account/totp and shows recovery codes once', async () => {
    await page.goto(url(SSO, '/account/totp'))
    expect(await page.locator('h1').textContent()).toBe('Set up an authenticator app')
    expect(await axe()).toEqual([])
    const key = (await page.locator('#totp-secret').textContent()) ?? ''
    expect(key).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/)
    expect(await page.locator('#totp-uri').textContent()).toContain(`otpauth://totp/FANZ:${encodeURIComponent(EMAIL)}?secret=${key.replaceAll(' ', '')}`)
    secret = decodeBase32IgnorePadding(key.replaceAll(' ', ''))
    enrolledStep = totpStep(Date.now())
    await page.getByLabel('Code from the app').fill(totpCode(secret, enrolledStep))
    await page.getByRole('button', { name: 'Turn on' }).click()
    expect(await page.locator('h1').textContent()).toBe('Authenticator app is on')
    expect(await page.locator('#recovery-codes li').count()).toBe(10)
    expect(await axe()).toEqual([])
    await page.getByRole('link', { name: 'I have saved them' }).click()
    await page.waitForURL((u) => u.pathname === '/account')
    expect(await page.locator('main').innerText()).toContain('10 recovery codes left')
  })

  it('signs out, then needs the password and a fresh code to get back in', async () => {
    await page.goto(url(SSO, '/account/totp'))
    expect(await page.locator('h1').textContent()).toBe('Authenticator app')
    expect(await axe()).toEqual([])
    await page.goto(url(SSO, '/logout'))
    expect(await axe()).toEqual([])
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL((u) => u.pathname === '/login')
    expect(await page.locator('main').innerText()).toContain('You have been signed out.')
    expect(await axe()).toEqual([])
    await page.locator('#email').fill(EMAIL)
    await page.locator('#password').fill('not the password at all')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    expect(await page.locator('#form-error').innerText()).toContain('Email or password is incorrect')
    expect(await axe()).toEqual([])

    await page.locator('#email').fill(EMAIL)
    await page.locator('#password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((u) => u.pathname === '/login/mfa')
    expect(await page.locator('h1').textContent()).toBe('Confirm it’s you')
    expect(await axe()).toEqual([])

    // a wrong code is refused with the error tied to the field
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, enrolledStep))
    await page.getByRole('button', { name: 'Continue' }).click()
    expect(await page.locator('#code').getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('#error-summary').innerText()).toMatch(/already used|not right/)
    expect(await axe()).toEqual([])

    await page.getByLabel('Code from your authenticator app').fill(await codeAfter(enrolledStep))
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL((u) => u.pathname === '/account')
    expect(await page.locator('h1').textContent()).toBe('Your account')
    expect(await page.locator('main').innerText()).toContain('This device')
  })

  it('the email pages pass axe too', async () => {
    for (const path of ['/password/forgot', '/reset-password?token=not-a-token', '/verify-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      await page.goto(url(SSO, path))
      expect(await axe()).toEqual([])
    }
  })

  it('no page reported a CSP violation', () => {
    expect(violations).toEqual([])
  })
})
