/**
 * Age verification in a real browser: a new fan signs up (in California, where nothing gates),
 * is gated on a brand once in Texas (dev geo override `x-fanz-geo`), verifies with a photo ID
 * through the sandbox provider on FanzSSO, and then passes the gate on all five brands; the
 * sandbox page is only ever given a test date of birth, which FANZ never keeps.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BRANDS, cspViolations, launch, signUpFromBoyFanz, url } from './browser'

const GATE = 'Age verification required'
const email = `av-fan-${Date.now()}@example.com`
let browser: Browser
let context: BrowserContext
let page: Page
let violations: string[]

function adultDateOfBirth(): string {
  const d = new Date()
  d.setUTCFullYear(d.getUTCFullYear() - 30)
  return d.toISOString().slice(0, 10)
}

beforeAll(async () => {
  browser = await launch()
  context = await browser.newContext({ extraHTTPHeaders: { 'x-fanz-geo': 'US-CA' } })
  page = await context.newPage()
  violations = cspViolations(page)
})

afterAll(async () => {
  await browser?.close()
})

describe('age verification across brands in Chromium', () => {
  it('a new fan signs up where nothing gates', async () => {
    await signUpFromBoyFanz(page, 'Robin Vale', email)
    await expect.poll(() => page.locator('.account').innerText()).toContain('Robin Vale')
  })

  it('is gated on every brand in Texas while unverified', async () => {
    await context.setExtraHTTPHeaders({ 'x-fanz-geo': 'US-TX' })
    for (const brand of BRANDS) {
      await page.goto(url(brand.host))
      expect(await page.locator('h1').textContent(), brand.host).toBe(GATE)
    }
  })

  it('verifies with a photo ID through the sandbox provider, offered only what Texas accepts', async () => {
    await page.goto(url('boyfanz.localhost'))
    await page.getByRole('link', { name: 'Verify my age' }).click()
    await page.waitForURL((u) => u.hostname === 'sso.localhost' && u.pathname === '/age-verification')
    expect(await page.locator('h1').textContent()).toBe('Age verification')
    // Texas: photo ID and digital ID; facial age estimation is not accepted there
    expect(await page.locator('button[data-method]').evaluateAll((els) => els.map((el) => el.getAttribute('data-method')))).toEqual(['ID_DOC', 'DIGITAL_ID'])
    await page.locator('button[data-method="ID_DOC"]').click()
    // a self-advancing page sends the fan on to the provider's hosted page
    await page.waitForURL((u) => u.hostname === 'localhost' && u.pathname === '/sandbox-age/start')
    await page.getByLabel('Date of birth on the test ID').fill(adultDateOfBirth())
    await page.getByLabel('Selfie', { exact: true }).selectOption('match')
    await page.getByRole('button', { name: 'Verify' }).click()
    // the provider posts its signed result, then sends the fan back to FanzSSO
    await page.waitForURL((u) => u.hostname === 'sso.localhost' && u.searchParams.has('verification'))
    expect(await page.locator('[data-result]').getAttribute('data-result')).toBe('passed')
    expect(await page.locator('main').innerText()).toContain('Your age is verified')
    await page.getByRole('link', { name: 'Back to BoyFanz' }).click()
    await page.waitForURL((u) => u.hostname === 'boyfanz.localhost')
    expect(await page.locator('h1').textContent()).toBe('BoyFanz')
  })

  it('passes the gate on all five brands', async () => {
    for (const brand of BRANDS) {
      await page.goto(url(brand.host, `/c/${brand.creator}`))
      expect(await page.locator('h1').textContent(), brand.host).not.toBe(GATE)
      expect(await page.locator('.account').innerText(), brand.host).toContain('Robin Vale')
    }
  })

  it('raised no CSP violations', () => {
    expect(violations).toEqual([])
  })
})
