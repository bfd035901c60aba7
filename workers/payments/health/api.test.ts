import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { cf, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { authenticate } from '../../edge/auth'
import { withConfig } from '../../edge/config'
import type { AppEnv } from '../../edge/context'
import { geo } from '../../edge/geo'
import { resolveHost } from '../../edge/host'
import { jurisdiction } from '../../edge/jurisdiction'
import { requestId } from '../../edge/request-id'
import { createSurfaceApp, dispatch, onError } from '../../edge/surface'
import type { Role } from '../../edge/roles'
import { midsApi } from './api'
import { midHealthView, merchantHealth } from './view'

/**
 * The real edge middleware (config, host, auth) in front of `midsApi` mounted where the integrator
 * mounts it, so access, validation and problem rendering are the Worker's own.
 */
const surface = createSurfaceApp()
surface.route('/api/payments/mids', midsApi)
const edge = new Hono<AppEnv>()
edge.use(requestId, withConfig, resolveHost, geo, jurisdiction, authenticate)
edge.all('*', (c) => dispatch(c, surface))
edge.onError(onError)

const tokens = new Map<string, string>()
async function token(role: Role): Promise<string> {
  if (!tokens.has(role)) tokens.set(role, await tokenFor([role]))
  return tokens.get(role)!
}

async function call(path: string, options: { method?: string; body?: unknown; role?: Role | null } = {}): Promise<Response> {
  const headers = new Headers({ host: 'api.localhost' })
  const role = options.role === undefined ? 'finance' : options.role
  if (role) headers.set('authorization', `Bearer ${await token(role)}`)
  if (options.body !== undefined) headers.set('content-type', 'application/json')
  const ctx = createExecutionContext()
  const request = new Request(`http://api.localhost/api/payments/mids${path}`, {
    method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    cf: cf('US', 'CA'),
  })
  const res = await edge.fetch(request, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const BOYFANZ = 'brd_01JFANZ0000000000000000001'

interface Mid {
  id: string
  gateway: string
  currencies: string[]
  brand_ids: string[]
  monthly_cap: { amount_minor: number; currency: string } | null
  region: string
  status: string
  drain_margin_bps: number
  floor_margin_pct: number
}
interface Problem {
  code: string
  errors?: Array<{ path: string; message: string }>
}

const valid = { gateway: 'ccbill', descriptor: 'FANZ*BOYFANZ', acquirer: 'Example Acquiring Bank', currencies: ['USD', 'EUR'], brand_ids: [BOYFANZ], monthly_cap: { amount_minor: 10_000_000, currency: 'USD' } }

async function create(overrides: Record<string, unknown> = {}): Promise<Mid> {
  const res = await call('', { body: { ...valid, ...overrides } })
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as Mid
}

async function entries(action: string, subject: string) {
  return (await auditLog(env).list({ action, subject, limit: 50 })).map((e) => ({ actor: e.actor, details: JSON.parse(e.details) as Record<string, unknown> }))
}

describe('/api/payments/mids access', () => {
  it('answers 401 without a token, 403 to a fan and to an admin writing, and lets finance manage', async () => {
    expect((await call('', { role: null })).status).toBe(401)
    expect((await call('', { role: 'fan' })).status).toBe(403)
    expect((await call('', { role: 'admin' })).status).toBe(200)
    const adminWrite = await call('', { role: 'admin', body: valid })
    expect(adminWrite.status).toBe(403)
    expect(((await adminWrite.json()) as Problem).code).toBe('FORBIDDEN')
    expect((await call('', { role: 'finance', body: valid })).status).toBe(201)
  })

  it('documents its operations with their access', () => {
    const doc = midsApi.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } })
    const ops = doc.paths ?? {}
    const access = (path: string, method: string) => ((ops[path] as Record<string, Record<string, unknown>>)[method]?.['x-fanz-access'] as { permission: string }).permission
    expect(access('/', 'get')).toBe('payments:mids:read')
    expect(access('/', 'post')).toBe('payments:mids:manage')
    expect(access('/{id}', 'patch')).toBe('payments:mids:manage')
    expect(access('/{id}/health', 'get')).toBe('payments:mids:read')
  })
})

describe('creating MIDs', () => {
  it('creates a MID, audits it, and lists and shows it', async () => {
    const mid = await create({ drain_margin_bps: 35 })
    expect(mid).toMatchObject({ gateway: 'ccbill', currencies: ['USD', 'EUR'], brand_ids: [BOYFANZ], region: 'global', status: 'active', drain_margin_bps: 35, floor_margin_pct: 10 })
    expect(mid.id).toMatch(/^mid_[0-9A-Z]{26}$/)
    const audited = await entries('payments.mid.create', mid.id)
    expect(audited).toHaveLength(1)
    expect(audited[0]!.details).toMatchObject({ gateway: 'ccbill', currencies: ['USD', 'EUR'], monthly_cap: { amount_minor: 10_000_000, currency: 'USD' }, drain_margin_bps: 35 })
    expect(audited[0]!.actor).toMatch(/^usr_/)

    expect(await (await call(`/${mid.id}`)).json()).toEqual(mid)
    const list = (await (await call('?gateway=ccbill&limit=200')).json()) as { items: Mid[] }
    expect(list.items.map((m) => m.id)).toContain(mid.id)
    expect((await call('/mid_01J0000000000000000000000Z')).status).toBe(404)
  })

  it('validates the gateway, ISO currencies, brand ids and the cap, naming each field', async () => {
    const problem = async (body: Record<string, unknown>) => {
      const res = await call('', { body: { ...valid, ...body } })
      return { status: res.status, ...((await res.json()) as Problem) }
    }
    expect(await problem({ gateway: 'paypal' })).toMatchObject({ status: 422, code: 'VALIDATION_FAILED', errors: [{ path: 'body.gateway' }] })
    expect(await problem({ currencies: ['USD', 'XYZ'] })).toMatchObject({ status: 422, errors: [{ path: 'body.currencies.1', message: 'not an ISO 4217 currency' }] })
    expect(await problem({ currencies: ['usd'] })).toMatchObject({ status: 422, errors: [{ path: 'body.currencies.0' }] })
    expect(await problem({ currencies: [] })).toMatchObject({ status: 422, errors: [{ path: 'body.currencies' }] })
    expect(await problem({ currencies: ['USD', 'USD'] })).toMatchObject({ status: 422, errors: [{ path: 'body.currencies' }] })
    expect(await problem({ brand_ids: ['brd_01J0000000000000000000000Z'] })).toMatchObject({ status: 422, errors: [{ path: 'body.brand_ids.0', message: 'no brand brd_01J0000000000000000000000Z' }] })
    expect(await problem({ brand_ids: ['boyfanz'] })).toMatchObject({ status: 422, errors: [{ path: 'body.brand_ids.0' }] })
    expect(await problem({ monthly_cap: { amount_minor: 0, currency: 'USD' } })).toMatchObject({ status: 422, errors: [{ path: 'body.monthly_cap.amount_minor' }] })
    expect(await problem({ monthly_cap: { amount_minor: 10.5, currency: 'USD' } })).toMatchObject({ status: 422, errors: [{ path: 'body.monthly_cap.amount_minor' }] })
    expect(await problem({ monthly_cap: { amount_minor: 100, currency: 'GBP' } })).toMatchObject({ status: 422, errors: [{ path: 'body.monthly_cap.currency' }] })
    expect(await problem({ drain_margin_bps: -1 })).toMatchObject({ status: 422, errors: [{ path: 'body.drain_margin_bps' }] })
    expect(await problem({ status: 'draining' })).toMatchObject({ status: 422, errors: [{ path: 'body.status', message: 'unknown field' }] })
  })
})

describe('updating MIDs', () => {
  it('updates fields and margins and audits each change with before and after', async () => {
    const mid = await create()
    const res = await call(`/${mid.id}`, { method: 'PATCH', body: { descriptor: 'FANZ*NEW', region: 'mena', floor_margin_pct: 0 } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ region: 'mena', floor_margin_pct: 0, drain_margin_bps: 20 })
    const audited = await entries('payments.mid.update', mid.id)
    expect(audited).toHaveLength(1)
    expect(audited[0]!.details).toEqual({
      changes: {
        descriptor: { from: 'FANZ*BOYFANZ', to: 'FANZ*NEW' },
        region: { from: 'global', to: 'mena' },
        floor_margin_pct: { from: 10, to: 0 },
      },
    })
  })

  it('keeps the cap currency among the MID\'s currencies', async () => {
    const mid = await create()
    const res = await call(`/${mid.id}`, { method: 'PATCH', body: { currencies: ['EUR'] } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as Problem).errors).toEqual([{ path: 'body.currencies', message: 'the monthly cap is in USD: keep it or change the cap too' }])
    const both = await call(`/${mid.id}`, { method: 'PATCH', body: { currencies: ['EUR'], monthly_cap: { amount_minor: 500, currency: 'EUR' } } })
    expect(await both.json()).toMatchObject({ currencies: ['EUR'], monthly_cap: { amount_minor: 500, currency: 'EUR' } })
  })

  it('disables and re-enables; a draining MID cannot be forced active, and re-enabling honours its health', async () => {
    const mid = await create({ monthly_cap: null })
    const now = Date.now()
    const month = new Date(now)
    const prev = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - 1, 15)
    const stub = merchantHealth(env, mid.id)
    const sales = Array.from({ length: 100 }, (_, i) => ({ kind: 'settled' as const, id: `s${i}`, network: 'mastercard' as const, amountMinor: 100, currency: 'USD', settledAtMs: prev, threeDs: false }))
    const cbs = Array.from({ length: 100 }, (_, i) => ({ kind: 'dispute' as const, id: `c${i}`, network: 'mastercard' as const, reasonCode: '4853', fraud: false, amountMinor: 100, currency: 'USD', disputedAtMs: now }))
    await stub.record([...sales, ...cbs])
    expect(await (await call(`/${mid.id}`)).json()).toMatchObject({ status: 'draining' })

    const force = await call(`/${mid.id}`, { method: 'PATCH', body: { status: 'active' } })
    expect(force.status).toBe(409)
    expect(await (await call(`/${mid.id}`, { method: 'PATCH', body: { status: 'disabled' } })).json()).toMatchObject({ status: 'disabled' })
    expect(await (await call(`/${mid.id}`, { method: 'PATCH', body: { status: 'active' } })).json()).toMatchObject({ status: 'draining' })

    const view = await midHealthView(env, mid.id)
    expect(view).toMatchObject({ midId: mid.id, drain: true, level: { visa: 'standard', mastercard: 'ecm', mastercardEfm: false }, capRemainingMinor: null, status: 'draining' })

    const health = await call(`/${mid.id}/health`)
    expect(health.status).toBe(200)
    const body = (await health.json()) as { standing: { mastercard: { level: string; ctr: { numerator: number; denominator: number; bps: number } }; drain: boolean }; metrics: unknown[] }
    expect(body.standing).toMatchObject({ drain: true, mastercard: { level: 'ecm', ctr: { numerator: 100, denominator: 100, bps: 10_000 } } })
    expect((await call(`/${mid.id}/health?month=2026-13`)).status).toBe(422)
    expect((await call(`/${mid.id}/health?month=2999-01`)).status).toBe(422)
  })
})

describe('midHealthView', () => {
  it('gives routing the cap left this month, and fails closed for an unknown MID', async () => {
    const mid = await create({ monthly_cap: { amount_minor: 50_000, currency: 'USD' } })
    const now = Date.now()
    await merchantHealth(env, mid.id).record([
      { kind: 'settled', id: 'a', network: 'visa', amountMinor: 20_000, currency: 'USD', settledAtMs: now, threeDs: true },
      { kind: 'settled', id: 'b', network: 'visa', amountMinor: 9_000, currency: 'EUR', usdMinor: 10_000, settledAtMs: now, threeDs: false },
    ])
    expect(await midHealthView(env, mid.id)).toEqual({
      midId: mid.id,
      drain: false,
      level: { visa: 'standard', mastercard: 'none', mastercardEfm: false },
      capRemainingMinor: 20_000,
      capCurrency: 'USD',
      status: 'active',
      reasons: [],
    })
    expect(await midHealthView(env, 'mid_01J0000000000000000000000Z')).toMatchObject({ drain: true, status: 'unknown', capRemainingMinor: 0 })
  })
})
