/**
 * `/me/payouts` and `/me/payouts/{id}/remittance` on BoyFanz, through the whole Worker with the
 * brand session cookie: the creator sees their figures (test-fixtures.ts), another creator sees
 * none of them, nobody signed in is sent to sign in.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import { newId } from '../lib/ids'
import { seedCreatorWithPayouts, type Fixture } from '../payouts/statements/test-fixtures'

const SITE = 'boyfanz.localhost'
let f: Fixture
let other: Fixture
let cookie: string
let otherCookie: string

beforeAll(async () => {
  f = await seedCreatorWithPayouts(env)
  other = await seedCreatorWithPayouts(env, { displayName: 'Quinn Elsewhere' })
  cookie = `fanz_session=${await tokenFor(['creator'], { subject: f.userId, age_verified: true })}`
  otherCookie = `fanz_session=${await tokenFor(['creator'], { subject: other.userId, age_verified: true })}`
})

describe('/me/payouts', () => {
  it('shows balances, the next payout, methods, refusals in plain words and the history with remittance links', async () => {
    const res = await call(SITE, '/me/payouts', { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const html = await res.text()
    expect(html).toContain('<h1 id="title">Payouts</h1>')
    expect(html).toContain(`Remy Payee (@${f.handle})`)
    expect(html).toContain('Payout schedule: Every Tuesday (platform default).')
    expect(html).toContain('<td data-balance="available">102.00 USD</td>')
    expect(html).toContain('<td data-balance="reserve">8.00 USD</td>')
    expect(html).toContain('<td data-balance="paid">49.75 USD</td>')
    expect(html).toMatch(/<td data-balance="next"><time datetime="\d{4}-\d{2}-\d{2}T09:00:00.000Z">\d{4}-\d{2}-\d{2}<\/time><\/td>/)
    expect(html).toContain('<th scope="row">ACH checking •••• 6789</th>')
    expect(html).toContain('<time datetime="2030-01-13T12:00:00.000Z">2030-01-13</time> (security waiting period after a change)')
    expect(html).toContain('Verify your identity to get paid.')
    expect(html).not.toContain('no approved KYC verification')
    // history newest first: the failed payout, then the settled one with its remittance link
    const failedAt = html.indexOf(`data-payout="${f.failedId}" data-state="failed"`)
    const settledAt = html.indexOf(`data-payout="${f.settledId}" data-state="settled"`)
    expect(failedAt).toBeGreaterThan(0)
    expect(settledAt).toBeGreaterThan(failedAt)
    expect(html).toContain('<span class="status ok">Paid</span>')
    expect(html).toContain('<span class="status broken">Failed</span>')
    expect(html).toContain('No account / unable to locate account. The amount is in your balance again.')
    expect(html).toContain(`<a href="/me/payouts/${f.settledId}/remittance" aria-label="Remittance advice for the payout of 2030-01-15">Remittance advice</a>`)
    expect(html).not.toContain(`/me/payouts/${f.failedId}/remittance`)
    expect(html).toContain(`<li data-statement="2030-01 USD">2030-01 (USD): <a href="/api/payouts/creators/${f.creatorId}/remittances/2030-01?currency=USD&amp;format=html">printable</a>`)
    expect(html).not.toContain('123456789')
    expect(html).not.toContain('<script')
    expect(html).not.toContain(other.creatorId)
  })

  it("another creator's page shows nothing of this creator", async () => {
    const html = await (await call(SITE, '/me/payouts', { headers: { cookie: otherCookie } })).text()
    expect(html).toContain('Quinn Elsewhere')
    expect(html).not.toContain(f.creatorId)
    expect(html).not.toContain(f.settledId)
    expect(html).not.toContain('Remy Payee')
  })

  it('sends a visitor without a session to sign in; a fan without a profile is told so', async () => {
    const res = await call(SITE, '/me/payouts')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/auth/login?return_to=%2Fme%2Fpayouts')
    const fan = `fanz_session=${await tokenFor(['fan'], { subject: newId('user'), age_verified: true })}`
    expect(await (await call(SITE, '/me/payouts', { headers: { cookie: fan } })).text()).toContain('You have no creator profile on BoyFanz.')
  })

  it('the earnings page links here', async () => {
    expect(await (await call(SITE, '/me/earnings', { headers: { cookie } })).text()).toContain('<a href="/me/payouts">Payouts</a>')
  })
})

describe('/me/payouts/{id}/remittance', () => {
  it('renders the remittance advice of an own paid payout', async () => {
    const res = await call(SITE, `/me/payouts/${f.settledId}/remittance`, { headers: { cookie } })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<h1 id="title">Remittance advice</h1>')
    expect(html).toContain('<dd data-field="payee">Remy Payee</dd>')
    expect(html).toContain('<dd data-field="processor-ref">TRACE-021000020000001</dd>')
    expect(html).toContain('<td data-amount="net">49.75 USD</td>')
    expect(html).toContain(`href="/api/payouts/payouts/${f.settledId}/remittance?format=csv"`)
  })

  it('the CSV and monthly statement links work with the brand session', async () => {
    const res = await call(SITE, `/api/payouts/payouts/${f.settledId}/remittance?format=csv`, { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(`,${f.settledId},2030-01-15,settled,`)
    const monthly = await call(SITE, `/api/payouts/creators/${f.creatorId}/remittances/2030-01?currency=USD&format=html`, { headers: { cookie } })
    expect(monthly.status).toBe(200)
    const html = await monthly.text()
    expect(html).toContain('<h1 id="statement-title">Remittance statement 2030-01 (USD)</h1>')
    expect(html).toContain('<tr data-total="paid"><th scope="row">Paid (1)</th><td>50.00 USD</td><td>0.25 USD</td><td>49.75 USD</td></tr>')
    expect(html).toContain('<tr data-total="not_paid"><th scope="row">Not paid (1)</th><td>30.00 USD</td><td>0.25 USD</td><td>29.75 USD</td></tr>')
    expect((await call(SITE, `/api/payouts/creators/${f.creatorId}/remittances/2030-01`, { headers: { cookie: otherCookie } })).status).toBe(404)
  })

  it("is the 404 page for someone else's payout, a failed payout and nonsense", async () => {
    for (const [path, who] of [
      [`/me/payouts/${f.settledId}/remittance`, otherCookie],
      [`/me/payouts/${f.failedId}/remittance`, cookie],
      ['/me/payouts/nonsense/remittance', cookie],
    ] as const) {
      const res = await call(SITE, path, { headers: { cookie: who } })
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain('Remy Payee')
    }
  })
})
