/**
 * axe-core (WCAG 2.0/2.1 A and AA rules) on every kind of page: each brand home, a creator page,
 * every legal page, the age gate (a light and the dark theme), the 404 page, the platform index, FanzSSO
 * pages, FanzDash (signed out and in) and the API docs. Automated checks find only part of the
 * issues (compliance.md §6); the gate keyboard test lives in gate.e2e.ts.
 */
import { AxeBuilder } from '@axe-core/playwright'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BRANDS, launch, mintToken, url } from './browser'

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
let browser: Browser
let page: Page

beforeAll(async () => {
  browser = await launch()
  page = await (await browser.newContext()).newPage()
})

afterAll(async () => {
  await browser?.close()
})

/** Violations as `rule: target` lines, so a failure says what and where. */
async function violations(target: string, status = 200): Promise<string[]> {
  const res = await page.goto(target)
  expect(res?.status(), target).toBe(status)
  // legacy mode runs axe in the page itself instead of finishing in a second blank page: about
  // twice as fast, and our pages have no iframes (the one thing it would miss); only violations
  // are needed, so the detail of passes is skipped
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(TAGS).options({ resultTypes: ['violations'] }).analyze()
  return results.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} ${n.failureSummary ?? ''}`))
}

describe('axe-core, WCAG 2.1 AA', () => {
  it.each(BRANDS)('$name home', async ({ host }) => {
    expect(await violations(url(host))).toEqual([])
  })

  it('a creator page', async () => {
    expect(await violations(url('girlfanz.localhost', '/c/alice'))).toEqual([])
  })

  it.each(['/legal/terms', '/legal/privacy', '/legal/dmca', '/legal/2257'])('legal page %s', async (path) => {
    expect(await violations(url('boyfanz.localhost', path))).toEqual([])
  })

  it('a legal page in the dark theme', async () => {
    expect(await violations(url('taboofanz.localhost', '/legal/2257'))).toEqual([])
  })

  it('404 page', async () => {
    expect(await violations(url('pupfanz.localhost', '/no/such/page'), 404)).toEqual([])
  })

  describe('gated (Texas)', () => {
    beforeAll(async () => {
      await page.setExtraHTTPHeaders({ 'x-fanz-geo': 'US-TX' })
    })
    afterAll(async () => {
      await page.setExtraHTTPHeaders({})
    })

    // a light and the dark theme; every theme's colour pairs are checked in code (site/theme.test.ts)
    it.each(BRANDS.filter((b) => b.name === 'BoyFanz' || b.name === 'TabooFanz'))('$name age gate', async ({ host }) => {
      expect(await violations(url(host))).toEqual([])
      expect(await page.locator('h1').textContent()).toBe('Age verification required')
    })

    it('SSO age-verification page', async () => {
      expect(await violations(url('sso.localhost', `/age-verification?return_to=${encodeURIComponent(url('boyfanz.localhost'))}`))).toEqual([])
    })
  })

  it('platform index', async () => {
    expect(await violations(url('localhost'))).toEqual([])
  })

  it('FanzSSO landing', async () => {
    expect(await violations(url('sso.localhost'))).toEqual([])
  })

  // signed-in FanzSSO pages (account, TOTP, second factor) are checked along the way in totp.e2e.ts
  it.each(['/login', '/signup', '/password/forgot'])('FanzSSO %s', async (path) => {
    expect(await violations(url('sso.localhost', path))).toEqual([])
  })

  it('API docs', async () => {
    expect(await violations(url('api.localhost', '/api/docs'))).toEqual([])
  })

  it('FanzDash sign-in and overview', async () => {
    expect(await violations(url('dash.localhost'), 401)).toEqual([])
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${await mintToken(['operator'])}` })
    expect(await violations(url('dash.localhost'))).toEqual([])
    await page.setExtraHTTPHeaders({})
  })
})
