/**
 * `/api/ledger` through the real edge chain (config, host, geo, jurisdiction, token verification)
 * with the ledger app mounted at /api/ledger as workers/api/app.ts will mount it.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { authenticate } from '../edge/auth'
import { withConfig } from '../edge/config'
import type { AppEnv } from '../edge/context'
import { geo } from '../edge/geo'
import { resolveHost } from '../edge/host'
import { jurisdiction } from '../edge/jurisdiction'
import { createSurfaceApp, dispatch, onError } from '../edge/surface'
import { newId } from '../lib/ids'
import { cf, tokenFor } from '../../test/helpers'
import { ledgerApi } from './api'
import { ledgerFor } from './stub'

const surface = createSurfaceApp()
surface.route('/api/ledger', ledgerApi)
const edge = new Hono<AppEnv>()
edge.use(withConfig, resolveHost, geo, jurisdiction, authenticate)
edge.all('/api/ledger/*', (c) => dispatch(c, surface))
edge.onError(onError)

const HOST = 'api.localhost'
async function hit(path: string, init: { method?: string; token?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const headers: Record<string, string> = { host: HOST, ...init.headers }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const ctx = createExecutionContext()
  const res = await edge.fetch(new Request(`http://${HOST}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), cf: cf('US', 'CA') } as RequestInit), env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const ownerSubject = newId('user')
const creatorId = newId('creator')
const otherCreatorId = newId('creator')
const SPLIT = { platformFeeBps: 2000, reserveBps: 500, reserveDays: 90, pendingDays: 7 }
const JAN = Date.UTC(2030, 0, 15)

beforeAll(async () => {
  const brand = await env.DB.prepare('SELECT id FROM brands LIMIT 1').first<{ id: string }>()
  for (const [id, user] of [[creatorId, ownerSubject], [otherCreatorId, newId('user')]] as const) {
    await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)').bind(id, brand!.id, id.toLowerCase(), 'Ledger Test', '', user, Date.now()).run()
  }
  const ledger = ledgerFor(env, creatorId)
  await ledger.sale({ opId: 's1', paymentId: 'pay_a', currency: 'USD', grossMinor: 10_000, processorFeeMinor: 1_000, split: SPLIT }, JAN)
  await ledger.sale({ opId: 's2', paymentId: 'pay_"b,c"', currency: 'USD', grossMinor: 5_000, processorFeeMinor: 0, split: SPLIT }, JAN + 1000)
})

describe('reads', () => {
  it('finance reads any creator; the creator reads their own; others get 404; no token 401', async () => {
    const finance = await tokenFor(['finance'])
    const res = await hit(`/api/ledger/creators/${creatorId}/balances?currency=USD`, { token: finance })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { summary: Array<Record<string, unknown>>; seq: number }
    expect(body.summary).toEqual([{ currency: 'USD', pending_minor: 6840 + 3800, available_minor: 0, reserve_minor: 360 + 200, on_hold_minor: 0, debt_minor: 0 }])
    expect(body.seq).toBe(7) // 4 legs + 3 (no processor fee on the second sale)

    const owner = await tokenFor(['creator'], { subject: ownerSubject })
    expect((await hit(`/api/ledger/creators/${creatorId}/balances`, { token: owner })).status).toBe(200)
    expect((await hit(`/api/ledger/creators/${otherCreatorId}/balances`, { token: owner })).status).toBe(404)
    expect((await hit(`/api/ledger/creators/${newId('creator')}/balances`, { token: finance })).status).toBe(404)
    expect((await hit(`/api/ledger/creators/${creatorId}/balances`, { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await hit(`/api/ledger/creators/${creatorId}/balances`)).status).toBe(401)
  })

  it('history pages by an opaque cursor, newest first', async () => {
    const token = await tokenFor(['admin'])
    const first = (await (await hit(`/api/ledger/creators/${creatorId}/history?limit=5`, { token })).json()) as { items: Array<{ seq: number; at: string }>; next_cursor: string }
    expect(first.items.map((t) => t.seq)).toEqual([7, 6, 5, 4, 3])
    expect(first.items[0]!.at).toBe(new Date(JAN + 1000).toISOString())
    const second = (await (await hit(`/api/ledger/creators/${creatorId}/history?limit=5&cursor=${first.next_cursor}`, { token })).json()) as { items: Array<{ seq: number }>; next_cursor: string | null }
    expect(second.items.map((t) => t.seq)).toEqual([2, 1])
    expect(second.next_cursor).toBeNull()
    expect((await hit(`/api/ledger/creators/${creatorId}/history?cursor=nonsense`, { token })).status).toBe(400)
  })

  it('statement as JSON and as CSV with RFC 4180 quoting', async () => {
    const token = await tokenFor(['finance'])
    const res = await hit(`/api/ledger/creators/${creatorId}/statements/2030-01?currency=USD`, { token })
    expect(res.status).toBe(200)
    const s = (await res.json()) as { opening_total_minor: number; closing_total_minor: number; lines: unknown[] }
    expect(s).toMatchObject({ opening_total_minor: 0, closing_total_minor: 7200 + 4000 })
    expect(s.lines).toHaveLength(4)

    const csv = await hit(`/api/ledger/creators/${creatorId}/statements/2030-01`, { token, headers: { accept: 'text/csv' } })
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const text = await csv.text()
    const rows = text.split('\r\n')
    expect(rows[0]).toBe('row,at,seq,transfer_id,code,payment_id,account,currency,amount_minor,balance_after_minor,note')
    expect(rows.filter((r) => r.startsWith('line,'))).toHaveLength(4)
    expect(text).toContain(',"pay_""b,c""",creator_pending,USD,3800,10640,')
    expect(rows.at(-2)).toBe('closing,2030-02-01T00:00:00.000Z,,,closing_balance,,debt,USD,0,0,')
    const viaQuery = await hit(`/api/ledger/creators/${creatorId}/statements/2030-01?format=csv`, { token })
    expect(await viaQuery.text()).toBe(text)
    expect((await hit(`/api/ledger/creators/${creatorId}/statements/2030-13`, { token })).status).toBe(400)
  })
})

describe('adjustments', () => {
  const body = { currency: 'USD', direction: 'credit', amount_minor: 1234, reason: 'support goodwill credit' }

  it('need ledger:adjust and an Idempotency-Key; a replay answers the first result; another body 422', async () => {
    const finance = await tokenFor(['finance'])
    const path = `/api/ledger/creators/${creatorId}/adjustments`
    expect((await hit(path, { method: 'POST', token: await tokenFor(['creator'], { subject: ownerSubject }), body, headers: { 'idempotency-key': '"k-00000001"' } })).status).toBe(403)
    const missing = await hit(path, { method: 'POST', token: finance, body })
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' })

    const key = { 'idempotency-key': `"${crypto.randomUUID()}"` }
    const first = await hit(path, { method: 'POST', token: finance, body, headers: key })
    expect(first.status).toBe(201)
    const firstBody = (await first.json()) as { seq: number; replayed: boolean; transfer_ids: string[] }
    expect(firstBody.replayed).toBe(false)
    const again = await hit(path, { method: 'POST', token: finance, body, headers: key })
    expect(await again.json()).toEqual({ ...firstBody, replayed: true })
    const other = await hit(path, { method: 'POST', token: finance, body: { ...body, amount_minor: 99 }, headers: key })
    expect(other.status).toBe(422)
    expect(await other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', ledger_code: 'exists_with_different_amount' })

    const b = await ledgerFor(env, creatorId).balances('USD')
    expect(b.summary[0]!.availableMinor).toBe(1234)
    const tooMuch = await hit(path, { method: 'POST', token: finance, body: { ...body, direction: 'debit', amount_minor: 5000 }, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` } })
    expect(tooMuch.status).toBe(409)
    expect((await hit(path, { method: 'POST', token: finance, body: { ...body, reason: '' }, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` } })).status).toBe(422)
    await ledgerFor(env, creatorId).projectionSettled()
    const trail = await env.DB.prepare('SELECT COUNT(*) AS n FROM ledger_balances WHERE creator_id = ?').bind(creatorId).first<{ n: number }>()
    expect(trail!.n).toBeGreaterThan(0)
  })
})
