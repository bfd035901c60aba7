/**
 * Payouts in Chromium: the demo creator signs in on BoyFanz, goes from Earnings to Payouts and sees
 * the payout schedule (the platform default, weekly on Tuesday), the balances and the history; an
 * admin signs in to FanzDash with a dev token and opens Payouts. Every page passes axe (WCAG 2.1 AA)
 * and raises no CSP violation.
 */
import { AxeBuilder } from '@axe-core/playwright'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cspViolations, launch, mintToken, url } from './browser'

const PASSWORD = 'fanz local demo only'
let browser: Browser
let creator: Page
let operator: Page
let creatorViolations: string[]
let operatorViolations: string[]

async function axe(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).options({ resultTypes: ['violations'] }).analyze()
  return results.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))
}

beforeAll(async () => {
  browser = await launch()
  creator = await (await browser.newContext({ extraHTTPHeaders: { 'x-fanz-geo': 'US-CA' } })).newPage()
  operator = await (await browser.newContext()).newPage()
  creatorViolations = cspViolations(creator)
  operatorViolations = cspViolations(operator)
})

afterAll(async () => {
  await browser?.close()
})

describe('creator payouts on the brand site', () => {
  it('the creator signs in and reaches Payouts from Earnings', async () => {
    await creator.goto(url('boyfanz.localhost', '/me/earnings'))
    await creator.waitForURL(/sso\.localhost:\d+\/login/)
    await creator.locator('#email').fill('creator@fanz.localhost')
    await creator.locator('#password').fill(PASSWORD)
    await creator.getByRole('button', { name: 'Sign in', exact: true }).click()
    await creator.waitForURL(/boyfanz\.localhost:\d+\/me\/earnings/)
    await creator.getByRole('link', { name: 'Payouts', exact: true }).click()
    await creator.waitForURL(/boyfanz\.localhost:\d+\/me\/payouts$/)
    expect(await creator.locator('h1').textContent()).toBe('Payouts')
  })

  it('shows the schedule, the next Tuesday, balances, methods and history', async () => {
    expect(await creator.locator('h2').first().textContent()).toBe('Alex Rivers (@alex)')
    expect(await creator.getByText('Payout schedule: Every Tuesday (platform default).').count()).toBe(1)
    const next = creator.locator('td[data-balance="next"] time')
    const nextAt = await next.getAttribute('datetime')
    expect(nextAt).toMatch(/T09:00:00\.000Z$/)
    expect(new Date(nextAt!).getUTCDay()).toBe(2)
    expect(await creator.locator('tr[data-currency="USD"] td[data-balance="available"]').textContent()).toMatch(/^\d+\.\d{2} USD$/)
    expect(await creator.getByRole('heading', { name: 'Payout methods' }).count()).toBe(1)
    expect(await creator.getByRole('heading', { name: 'Payout history' }).count()).toBe(1)
    const rows = creator.locator('tr[data-payout]')
    if ((await rows.count()) === 0) expect(await creator.getByText('No payouts yet.').count()).toBe(1)
    expect(await axe(creator)).toEqual([])
  })

  it('another path under /me/payouts that is not the creator’s is the 404 page', async () => {
    const res = await creator.goto(url('boyfanz.localhost', '/me/payouts/po_01JFANZ0000000000000000000/remittance'))
    expect(res?.status()).toBe(404)
  })
})

describe('FanzDash payouts', () => {
  it('an admin signs in with a dev token and opens Payouts', async () => {
    await operator.goto(url('dash.localhost', '/payouts'))
    expect(await operator.locator('h1').textContent()).toBe('Sign-in required')
    await operator.getByLabel('Access token').fill(await mintToken(['admin']))
    await operator.getByRole('button', { name: 'Sign in', exact: true }).click()
    await operator.waitForURL(/dash\.localhost:\d+\/$/)
    await operator.getByRole('link', { name: 'Payouts', exact: true }).click()
    await operator.waitForURL(/dash\.localhost:\d+\/payouts$/)
    expect(await operator.locator('h1').textContent()).toBe('Payouts')
    for (const name of ['Drafts awaiting approval', 'Approved, not yet submitted', 'Submitted', 'Finished', 'Refusals of the latest run', 'Open cases: payouts with retries exhausted']) {
      expect(await operator.getByRole('heading', { name, exact: true }).count(), name).toBe(1)
    }
    expect(await axe(operator)).toEqual([])
  })

  it('raised no CSP violations', () => {
    expect([...creatorViolations, ...operatorViolations]).toEqual([])
  })
})
