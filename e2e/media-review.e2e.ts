/**
 * Media review in Chromium: the demo creator uploads a photo through the multipart API; the queue
 * consumer ingests it (hashes, PDQ, hash lists, sandbox classifier) into the review queue; a
 * moderator signs in to FanzDash with a dev token, lands on the review queue, sees the item with
 * its classifier scores and SLA, claims it and approves it. The page passes axe (WCAG 2.1 AA) and
 * raises no CSP violation.
 */
import { readFileSync } from 'node:fs'
import { AxeBuilder } from '@axe-core/playwright'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../scripts/dev-server.mjs'
import { cspViolations, launch, mintToken, port, url } from './browser'

/** The demo creator Alex Rivers' account (d1/seed.sql). */
const ALEX_USER = 'usr_01JFANZDEM0000000000000004'
const PHOTO = readFileSync(new URL('../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg', import.meta.url))

let browser: Browser
let moderator: Page
let violations: string[]
let itemId: string

async function axe(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).options({ resultTypes: ['violations'] }).analyze()
  return results.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))
}

async function api(method: string, path: string, token: string, body?: Buffer | string, contentType = 'application/json') {
  const headers: Record<string, string | number> = { authorization: `Bearer ${token}` }
  if (body !== undefined) Object.assign(headers, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  const res = (await request(port, 'api.localhost', path, { method, headers, body })) as { status: number; body: string }
  return { status: res.status, json: () => JSON.parse(res.body) as Record<string, unknown>, text: res.body }
}

const creatorToken = (): Promise<string> => mintToken(['creator'], false, ALEX_USER)

beforeAll(async () => {
  browser = await launch()
  moderator = await (await browser.newContext()).newPage()
  violations = cspViolations(moderator)
})

afterAll(async () => {
  await browser?.close()
})

describe('FanzDash media review', () => {
  it('the creator uploads a photo; ingest queues it for review', async () => {
    const token = await creatorToken()
    const created = await api('POST', '/api/media/uploads/multipart', token, JSON.stringify({ type: 'image/jpeg', size: PHOTO.byteLength, title: 'Harbour at dawn', brand: 'boyfanz' }))
    expect(created.status, created.text).toBe(201)
    const upload = created.json() as { upload_id: string; item_id: string; part_count: number }
    expect(upload.part_count).toBe(1)
    itemId = upload.item_id
    const part = await api('PUT', `/api/media/uploads/multipart/${upload.upload_id}/parts/1`, token, PHOTO, 'application/octet-stream')
    expect(part.status, part.text).toBeLessThan(300)
    const done = await api('POST', `/api/media/uploads/multipart/${upload.upload_id}/complete`, token)
    expect(done.status, done.text).toBe(200)

    // the local queue delivers the ingest message within a few seconds
    const mod = await mintToken(['moderator'])
    const deadline = Date.now() + 45_000
    let queued = false
    while (!queued && Date.now() < deadline) {
      const q = await api('GET', '/api/media/review?limit=200', mod)
      queued = (q.json().items as Array<{ item_id: string }>).some((i) => i.item_id === itemId)
      if (!queued) await new Promise((r) => setTimeout(r, 500))
    }
    expect(queued).toBe(true)
  })

  it('a moderator signs in with a dev token and lands on the review queue with scores and SLA', async () => {
    await moderator.goto(url('dash.localhost', '/media/review'))
    expect(await moderator.locator('h1').textContent()).toBe('Sign-in required')
    await moderator.getByLabel('Access token').fill(await mintToken(['moderator']))
    await moderator.getByRole('button', { name: 'Sign in', exact: true }).click()
    await moderator.waitForURL(/dash\.localhost:\d+\/media\/review$/)
    expect(await moderator.locator('h1').textContent()).toBe('Media review')
    const row = moderator.locator(`tr[data-item="${itemId}"]`)
    expect(await row.count()).toBe(1)
    expect(await row.getAttribute('data-sla')).toBe('on_time')
    expect(await row.locator('[data-verdict]').textContent()).toBe('allow')
    expect(await row.locator(`ul[data-scores="${itemId}"] li`).count()).toBe(4)
    expect(await row.textContent()).toContain('2 (routine)')
    expect(await row.textContent()).toContain('Harbour at dawn')
    expect(await axe(moderator)).toEqual([])
  })

  it('claims and approves the item', async () => {
    await moderator.getByRole('button', { name: `Claim ${itemId}`, exact: true }).click()
    await moderator.waitForURL(/done=claim/)
    expect(await moderator.getByRole('status').textContent()).toContain(`${itemId}: claimed for 15 minutes.`)
    await moderator.getByRole('button', { name: `Approve ${itemId}`, exact: true }).click()
    await moderator.waitForURL(/done=approve/)
    expect(await moderator.getByRole('status').textContent()).toContain(`${itemId}: approved.`)
    expect(await moderator.locator(`tr[data-item="${itemId}"]`).count()).toBe(0)
    expect(await axe(moderator)).toEqual([])
  })

  it('raised no CSP violations', () => {
    expect(violations).toEqual([])
  })
})
