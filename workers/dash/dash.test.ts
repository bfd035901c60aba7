import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import { app } from '../app'
import { invalidateSnapshot } from '../routing/snapshot'

const DASH = 'dash.localhost'
const ORIGIN = { origin: 'http://dash.localhost', 'content-type': 'application/x-www-form-urlencoded' }

const form = (token: string) => `token=${encodeURIComponent(token)}`

describe('FanzDash', () => {
  let admin: string
  let operator: string
  let fan: string
  beforeAll(async () => {
    ;[admin, operator, fan] = await Promise.all([tokenFor(['admin']), tokenFor(['operator']), tokenFor(['fan'])])
  })

  it('answers 401 with a sign-in page (how to mint a token, a form) without a token', async () => {
    const res = await call(DASH, '/')
    const body = await res.text()
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('www-authenticate')).toContain('Bearer')
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(body).toContain('<h1>Sign-in required</h1>')
    expect(body).toContain('npm run token -- --role admin')
    expect(body).toContain('<form method="post" action="/session"')
    expect(body).toContain('<label for="token">')
    expect(body).toContain('name="token"')
  })

  it('names why a presented token was refused', async () => {
    const body = await (await call(DASH, '/', { headers: { cookie: 'fanz_session=not.a.token' } })).text()
    expect(body).toContain('Your session was not accepted (malformed token)')
  })

  it('answers 403 with a page for a token without an operator role', async () => {
    const res = await call(DASH, '/', { token: fan })
    const body = await res.text()
    expect(res.status).toBe(403)
    expect(body).toContain('This account cannot use FanzDash')
    expect(body).toContain('fan')
  })

  it('shows brands with their domains and the audit chain status to an admin', async () => {
    const res = await call(DASH, '/', { token: admin })
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    for (const name of ['BoyFanz', 'GirlFanz', 'PupFanz', 'TransFanz', 'TabooFanz']) expect(body).toContain(`<th scope="row">${name}</th>`)
    expect(body).toContain('boyfanz.com (apex)')
    expect(body).toContain('www.girlfanz.localhost (www)')
    expect(body).toContain('<h2 id="audit-title">Audit chain</h2>')
    expect(body).toMatch(/<span class="status ok">Intact<\/span> \d+ entr/)
  })

  it('lists open cases newest first, alerts such as a vault break-glass use among them, and not resolved ones', async () => {
    const now = Date.now()
    await env.DB.batch([
      env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status) VALUES ('dlq_older', 'fanz-payouts', 'm-older', '{}', 5, ?, 'open')").bind(now - 60_000),
      env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status) VALUES ('dlq_alert', 'alerts/vault.break_glass', 'm-alert', '{}', 1, ?, 'open')").bind(now),
      env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status, resolved_at_ms, resolution) VALUES ('dlq_done', 'fanz-media-ingest', 'm-done', '{}', 3, ?, 'resolved', ?, 'replayed')").bind(now, now),
    ])
    try {
      const body = await (await call(DASH, '/', { token: operator })).text()
      expect(body).toContain('<h2 id="cases-title">Open cases</h2>')
      expect(body).toContain('<strong>alerts/vault.break_glass</strong>')
      expect(body.indexOf('dlq_alert')).toBeLessThan(body.indexOf('dlq_older'))
      expect(body).not.toContain('dlq_done')
    } finally {
      await env.DB.prepare("DELETE FROM dead_letters WHERE id IN ('dlq_older', 'dlq_alert', 'dlq_done')").run()
    }
  })

  it('admits the operator role too', async () => {
    expect((await call(DASH, '/', { token: operator })).status).toBe(200)
  })

  describe('origin pools', () => {
    beforeAll(async () => {
      await env.DB.batch([
        env.DB.prepare(
          "INSERT INTO origin_pools (id, name, brand_id, path_prefix, health_path, created_at_ms, updated_at_ms) VALUES ('pool_test', 'Legacy media', 'brd_01JFANZ0000000000000000002', '/legacy', '/healthz', 0, 0)",
        ),
        env.DB.prepare("INSERT INTO origins (id, pool_id, url, region, priority, status, last_checked_at_ms, last_latency_ms, created_at_ms) VALUES ('org_a', 'pool_test', 'https://a.origin.test', 'NA', 0, 'up', 1764115200000, 42, 0)"),
        env.DB.prepare("INSERT INTO origins (id, pool_id, url, region, priority, status, last_error, created_at_ms) VALUES ('org_b', 'pool_test', 'https://b.origin.test', 'EU', 1, 'down', 'timeout', 0)"),
      ])
    })
    afterAll(async () => {
      await env.DB.batch([env.DB.prepare("DELETE FROM origins WHERE pool_id = 'pool_test'"), env.DB.prepare("DELETE FROM origin_pools WHERE id = 'pool_test'")])
      invalidateSnapshot()
    })

    it('lists each pool with its origins and their status', async () => {
      const body = await (await call(DASH, '/', { token: admin })).text()
      expect(body).toContain('Legacy media')
      expect(body).toContain('<code>/legacy</code> for GirlFanz')
      expect(body).toMatch(/https:\/\/a\.origin\.test[\s\S]*?<span class="status up">Up<\/span>[\s\S]*?2025-11-26 00:00:00 UTC, 42 ms/)
      expect(body).toMatch(/https:\/\/b\.origin\.test[\s\S]*?<span class="status down">Down<\/span>[\s\S]*?never, timeout/)
    })
  })

  describe('dev session (POST /session)', () => {
    it('turns an admin token into an HttpOnly, SameSite=Lax session cookie, then the cookie signs in', async () => {
      const res = await call(DASH, '/session', { headers: ORIGIN, body: form(admin) })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/')
      const cookie = res.headers.get('set-cookie') ?? ''
      expect(cookie).toMatch(/^fanz_session=[\w.-]+;/)
      expect(cookie).toContain('HttpOnly')
      expect(cookie).toContain('SameSite=Lax')
      expect(cookie).toContain('Path=/')
      expect(cookie).not.toContain('Secure') // plain-http dev hosts
      const session = cookie.split(';')[0]!
      const page = await call(DASH, '/', { headers: { cookie: session } })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('action="/session/end"')
    })

    it('refuses cross-site posts (no Origin, another origin, or Sec-Fetch-Site: cross-site)', async () => {
      for (const headers of [
        { 'content-type': ORIGIN['content-type'] },
        { ...ORIGIN, origin: 'http://evil.example' },
        { ...ORIGIN, origin: 'http://boyfanz.localhost' },
        { ...ORIGIN, 'sec-fetch-site': 'cross-site' },
      ]) {
        const res = await call(DASH, '/session', { headers, body: form(admin) })
        expect(res.status, JSON.stringify(headers)).toBe(403)
        expect(res.headers.get('set-cookie')).toBeNull()
      }
    })

    it('refuses tokens that do not verify or lack an operator role, with the reason on the page', async () => {
      const bad = await call(DASH, '/session', { headers: ORIGIN, body: form('eyJhbGciOiJFZERTQSJ9.e30.c2ln') })
      expect(bad.status).toBe(401)
      expect(await bad.text()).toContain('role="alert"')
      const notOperator = await call(DASH, '/session', { headers: ORIGIN, body: form(fan) })
      expect(notOperator.status).toBe(403)
      expect(await notOperator.text()).toContain('FanzDash needs super_admin, admin, operator, or a payouts role')
      expect(notOperator.headers.get('set-cookie')).toBeNull()
      expect((await call(DASH, '/session', { headers: ORIGIN, body: 'token=' })).status).toBe(400)
    })

    it('signs out by clearing the cookie (same-origin only)', async () => {
      const res = await call(DASH, '/session/end', { headers: ORIGIN, body: '' , method: 'POST' })
      expect(res.status).toBe(303)
      expect(res.headers.get('set-cookie')).toMatch(/^fanz_session=;.*Max-Age=0/)
      expect((await call(DASH, '/session/end', { method: 'POST', body: '' })).status).toBe(403)
    })

    it('does not exist outside dev', async () => {
      const staging = { ...env, ENVIRONMENT: 'staging' }
      const req = new Request('http://dash.localhost/session', { method: 'POST', headers: { host: DASH, ...ORIGIN }, body: form(admin) })
      const res = await app.fetch(req, staging, createExecutionContext())
      expect(res.status).toBe(404)
      expect(res.headers.get('set-cookie')).toBeNull()
    })
  })
})
