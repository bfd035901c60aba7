/**
 * Every surface in a real browser: each brand host shows its own brand, SSO and dash show theirs,
 * the security headers arrive, and no page trips the CSP.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BRANDS, cspViolations, launch, mintToken, url } from './browser'

let browser: Browser
let context: BrowserContext
let page: Page
let violations: string[]

beforeAll(async () => {
  browser = await launch()
  context = await browser.newContext()
  page = await context.newPage()
  violations = cspViolations(page)
})

afterAll(async () => {
  await browser?.close()
})

describe('surfaces in Chromium', () => {
  it.each(BRANDS)('$host shows $name', async ({ host, name }) => {
    const res = await page.goto(url(host))
    expect(res?.status()).toBe(200)
    expect(await page.locator('h1').textContent()).toBe(name)
    expect(await page.title()).toBe(name)
    // the theme's colours and the static stylesheet both applied
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    expect(bg).not.toBe('rgba(0, 0, 0, 0)')
    expect(await page.locator('.skip').evaluate((el) => getComputedStyle(el).position)).toBe('absolute')
    expect(await page.locator('footer a', { hasText: '18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement' }).count()).toBe(1)
  })

  it('each brand has its own colours', async () => {
    const colours = new Set<string>()
    for (const { host } of BRANDS) {
      await page.goto(url(host))
      colours.add(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--primary')))
    }
    expect(colours.size).toBe(BRANDS.length)
  })

  it('sends the security headers on pages', async () => {
    for (const target of [url('girlfanz.localhost', '/c/alice'), url('sso.localhost'), url('dash.localhost'), url('api.localhost', '/api/docs')]) {
      const res = await page.goto(target)
      const headers = res!.headers()
      expect(headers['content-security-policy'], target).toMatch(/default-src 'self'.*style-src 'self' 'nonce-[^']+'.*frame-ancestors 'none'/)
      expect(headers['x-frame-options']).toBe('DENY')
      expect(headers['x-content-type-options']).toBe('nosniff')
      expect(headers['referrer-policy']).toBe('same-origin')
      expect(headers['permissions-policy']).toContain('camera=()')
    }
  })

  it('FanzSSO shows its landing page and the JWKS link works', async () => {
    await page.goto(url('sso.localhost'))
    expect(await page.locator('h1').textContent()).toBe('FanzSSO')
    await page.getByRole('link', { name: '/.well-known/jwks.json' }).click()
    const jwks = JSON.parse(await page.locator('body').innerText()) as { keys: Array<{ kty: string }> }
    expect(jwks.keys[0]?.kty).toBe('OKP')
  })

  it('the platform index links every brand', async () => {
    await page.goto(url('localhost'))
    await page.getByRole('link', { name: 'TabooFanz' }).click()
    expect(await page.locator('h1').textContent()).toBe('TabooFanz')
  })

  it('FanzDash asks for sign-in, refuses a fan, and signs an admin in through its form', async () => {
    const first = await page.goto(url('dash.localhost'))
    expect(first?.status()).toBe(401)
    expect(await page.locator('h1').textContent()).toBe('Sign-in required')

    await page.getByLabel('Access token').fill(await mintToken(['fan']))
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(await page.getByRole('alert').textContent()).toContain('FanzDash needs super_admin, admin, operator, or a payouts role')

    await page.getByLabel('Access token').fill(await mintToken(['admin']))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url('dash.localhost'))
    expect(await page.locator('h1').textContent()).toBe('Overview')
    for (const { name } of BRANDS) expect(await page.getByRole('rowheader', { name }).count()).toBe(1)
    expect(await page.locator('.status.ok').textContent()).toBe('Intact')
    const cookie = (await context.cookies(url('dash.localhost'))).find((c) => c.name === 'fanz_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' })

    await page.getByRole('button', { name: 'Sign out' }).click()
    expect(await page.locator('h1').textContent()).toBe('Sign-in required')
  })

  it('no page reported a CSP violation', () => {
    expect(violations).toEqual([])
  })
})
