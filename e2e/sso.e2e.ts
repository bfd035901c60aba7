/**
 * One identity across brands, in a real browser: sign up on BoyFanz (through FanzSSO's pages),
 * open GirlFanz and be signed in there by a redirect round trip without typing anything, then sign
 * out on GirlFanz and be signed out on BoyFanz too (back-channel logout).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cspViolations, launch, signUpFromBoyFanz, url } from './browser'

let browser: Browser
let context: BrowserContext
let page: Page
let violations: string[]
const email = `sso-e2e-${Date.now()}@example.com`

beforeAll(async () => {
  browser = await launch()
  context = await browser.newContext()
  await context.setExtraHTTPHeaders({ 'x-fanz-geo': 'US-CA' })
  page = await context.newPage()
  violations = cspViolations(page)
})

afterAll(async () => {
  await browser?.close()
})

describe('FanzSSO across brands in Chromium', () => {
  it('signs up from a brand and comes back signed in', async () => {
    await signUpFromBoyFanz(page, 'Jamie Cross', email)
    await expect.poll(() => page.locator('.account').innerText()).toContain('Jamie Cross')
  })

  it('is signed in on a second brand without typing anything', async () => {
    const res = await page.goto(url('girlfanz.localhost', '/c/alice'))
    expect(res?.status()).toBe(200)
    expect(page.url()).toBe(url('girlfanz.localhost', '/c/alice'))
    expect(await page.locator('.account').innerText()).toContain('Jamie Cross')
    expect(await page.locator('input[type=password]').count()).toBe(0)
  })

  it('signs out everywhere from one brand', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/girlfanz\.localhost:\d+\/$/)
    expect(await page.getByRole('link', { name: 'Sign in' }).count()).toBe(1)
    // BoyFanz still holds its cookies, but FanzSSO told it the session ended
    await expect
      .poll(async () => {
        await page.goto(url('boyfanz.localhost'))
        return page.getByRole('link', { name: 'Sign in' }).count()
      })
      .toBe(1)
  })

  it('raised no CSP violations', () => {
    expect(violations).toEqual([])
  })
})
