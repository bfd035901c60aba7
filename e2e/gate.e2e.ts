/**
 * The age gate in a real browser, using the dev geo override (`x-fanz-geo` header, `fanz_geo`
 * cookie): shown in Texas, not in California, keyboard-operable, and the verify link reaches the
 * SSO host's age-verification page, which sends the visitor back.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cspViolations, launch, port, url } from './browser'

const GATE = 'Age verification required'
let browser: Browser
let texas: Page
let violations: string[]

beforeAll(async () => {
  browser = await launch()
  const context = await browser.newContext()
  await context.setExtraHTTPHeaders({ 'x-fanz-geo': 'US-TX' })
  texas = await context.newPage()
  violations = cspViolations(texas)
})

afterAll(async () => {
  await browser?.close()
})

describe('age gate in Chromium', () => {
  it('is shown to a Texas visitor instead of the content, and is not cached', async () => {
    const res = await texas.goto(url('boyfanz.localhost'))
    expect(await texas.locator('h1').textContent()).toBe(GATE)
    expect(await texas.locator('main').innerText()).toContain('HB 1181')
    expect(await texas.getByText('Alex Rivers').count()).toBe(0)
    expect(await texas.locator('main img, main video').count()).toBe(0)
    expect(res?.headers()['cache-control']).toBe('private, no-store')
  })

  it('is not shown in California (fanz_geo cookie), and legal pages stay reachable in Texas', async () => {
    const context = await browser.newContext()
    await context.addCookies([{ name: 'fanz_geo', value: 'US-CA', url: url('boyfanz.localhost') }])
    const page = await context.newPage()
    await page.goto(url('boyfanz.localhost'))
    expect(await page.locator('h1').textContent()).toBe('BoyFanz')
    expect(await page.getByRole('link', { name: 'Alex Rivers' }).count()).toBe(1)
    await context.close()

    await texas.goto(url('boyfanz.localhost', '/legal/2257'))
    expect(await texas.locator('h1').textContent()).toBe('18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement')
  })

  it('is keyboard-operable: Tab reaches the verify link with a visible focus ring', async () => {
    await texas.goto(url('boyfanz.localhost', '/c/alex'))
    // the skip link comes first and becomes visible when focused
    await texas.keyboard.press('Tab')
    expect(await texas.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content')
    expect(await texas.locator('.skip').evaluate((el) => el.getBoundingClientRect().top)).toBeGreaterThanOrEqual(0)
    let focused = ''
    for (let i = 0; i < 10 && focused !== 'Verify my age'; i++) {
      await texas.keyboard.press('Tab')
      focused = (await texas.evaluate(() => document.activeElement?.textContent?.trim())) ?? ''
    }
    expect(focused).toBe('Verify my age')
    const ring = await texas.evaluate(() => {
      const style = getComputedStyle(document.activeElement!)
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor }
    })
    expect(ring.style).toBe('solid')
    expect(ring.width).toBeGreaterThanOrEqual(2)
    // Enter follows it to the SSO host, keeping the dev port and where to come back to
    await texas.keyboard.press('Enter')
    await texas.waitForURL((u) => u.hostname === 'sso.localhost')
    expect(new URL(texas.url()).port).toBe(String(port))
    expect(await texas.locator('h1').textContent()).toBe('Age verification')
    expect(await texas.locator('main').innerText()).toContain('Sign in to verify')
    await texas.getByRole('link', { name: 'Back to BoyFanz' }).click()
    expect(texas.url()).toBe(url('boyfanz.localhost', '/c/alex'))
  })

  it('Leave is the other choice on the gate', async () => {
    await texas.goto(url('girlfanz.localhost'))
    expect(await texas.getByRole('link', { name: 'Leave' }).getAttribute('href')).toMatch(/^https:\/\//)
  })

  it('no page reported a CSP violation', () => {
    expect(violations).toEqual([])
  })
})
