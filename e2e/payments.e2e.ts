/**
 * A fan subscribes to a creator on a brand host through the sandbox gateway, the creator sees the
 * share pending on their earnings page, the fan sees until when and cancels from "My
 * subscriptions", and a sandbox chargeback takes the share back.
 */
import { AxeBuilder } from '@axe-core/playwright'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cspViolations, launch, url } from './browser'

const PASSWORD = 'fanz local demo only'
let browser: Browser
let fan: Page
let creator: Page
let violations: string[]

async function signIn(page: Page, email: string): Promise<void> {
  await page.waitForURL(/sso\.localhost:\d+\/login/)
  await page.locator('#email').fill(email)
  await page.locator('#password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** WCAG 2.1 AA violations on the page as it is now (see a11y.e2e.ts). */
async function axe(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).options({ resultTypes: ['violations'] }).analyze()
  return results.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))
}

const pending = async (page: Page) => {
  await page.goto(url('boyfanz.localhost', '/me/earnings'))
  const cell = page.locator('tr[data-currency="USD"] td[data-balance="pending"]')
  return (await cell.count()) ? (await cell.textContent())!.trim() : '0.00 USD'
}

beforeAll(async () => {
  browser = await launch()
  const fanContext = await browser.newContext({ extraHTTPHeaders: { 'x-fanz-geo': 'US-CA' } })
  const creatorContext = await browser.newContext({ extraHTTPHeaders: { 'x-fanz-geo': 'US-CA' } })
  fan = await fanContext.newPage()
  violations = cspViolations(fan)
  await fan.goto(url('boyfanz.localhost', '/c/alex'))
  creator = await creatorContext.newPage()
})

afterAll(async () => {
  await browser?.close()
})

describe('paying a creator in Chromium', () => {
  it('the creator starts with nothing pending', async () => {
    await creator.goto(url('boyfanz.localhost', '/me/earnings'))
    await signIn(creator, 'creator@fanz.localhost')
    await creator.waitForURL(/boyfanz\.localhost:\d+\/me\/earnings/)
    expect(await creator.locator('h2').first().textContent()).toContain('Alex Rivers')
    expect(await pending(creator)).toBe('0.00 USD')
    expect(await axe(creator)).toEqual([])
  })

  it('a fan subscribes through the sandbox gateway and the share shows as pending', async () => {
    await fan.getByRole('link', { name: 'Sign in to subscribe' }).click()
    await signIn(fan, 'fan@fanz.localhost')
    await fan.waitForURL(/boyfanz\.localhost:\d+\/c\/alex/)
    await fan.getByRole('button', { name: /Subscribe to Alex Rivers for 9\.99 USD a month/ }).click()
    await fan.waitForURL(/localhost:\d+\/sandbox-gateway\/checkout/)
    expect(await fan.locator('h1').textContent()).toBe('Pay 9.99 USD')
    expect(await axe(fan)).toEqual([])
    await fan.getByLabel('Card number').fill('4242 4242 4242 4242')
    await fan.getByRole('button', { name: 'Pay' }).click()
    await fan.waitForURL(/boyfanz\.localhost:\d+\/c\/alex/)
    // 9.99 - 10% processor fee = 9.00 (rounded down fee), 20% platform = 1.80, 5% reserve = 0.36
    expect(await pending(creator)).toBe('6.84 USD')
    expect(await axe(creator)).toEqual([])
  })

  it('the fan sees until when on the creator page, and cancels from "My subscriptions"', async () => {
    await fan.goto(url('boyfanz.localhost', '/c/alex'))
    expect(await fan.locator('p[data-subscription]').textContent()).toMatch(/^Subscribed until \d{4}-\d{2}-\d{2} \(renews automatically\)\./)
    expect(await fan.getByRole('button', { name: /Subscribe to Alex Rivers/ }).count()).toBe(0)
    await fan.getByRole('link', { name: 'Manage', exact: true }).click()
    await fan.waitForURL(/boyfanz\.localhost:\d+\/me\/subscriptions/)
    const row = fan.locator('tr[data-status="active"]')
    expect(await row.count()).toBe(1)
    expect(await row.textContent()).toContain('9.99 USD every 30 days')
    expect(await axe(fan)).toEqual([])
    await fan.getByRole('button', { name: 'Cancel subscription to Alex Rivers' }).click()
    // the confirmation page moves on by itself (refresh), back to the list with a notice
    await fan.waitForURL(/\/me\/subscriptions\?cancelled/)
    expect(await fan.getByRole('status').textContent()).toContain('You keep access until the end of the period you paid for.')
    expect(await fan.locator('tr[data-status="cancelled"]').textContent()).toContain('Access until')
    expect(await axe(fan)).toEqual([])
    // cancelling moved no money
    expect(await pending(creator)).toBe('6.84 USD')
  })

  it('a sandbox chargeback reverses it', async () => {
    await fan.goto(url('localhost', '/sandbox-gateway/transactions'))
    await fan.getByRole('button', { name: /^Charge back pay_/ }).first().click()
    await fan.waitForURL(/sandbox-gateway\/chargebacks/)
    expect(await fan.getByRole('status').textContent()).toContain('Chargeback for')
    expect(await pending(creator)).toBe('0.00 USD')
  })

  it('raised no CSP violations', () => {
    expect(violations).toEqual([])
  })
})
