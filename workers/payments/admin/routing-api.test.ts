/**
 * Routing rules admin through the Worker: validation naming fields, permissions, versions created
 * and activated atomically with audit entries, the simulator, and checkout following the active
 * configuration (a rule sends EUR to a second gateway, everything else takes the default order).
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const FAN = 'usr_01JFANZDEM0000000000000003'
const BOYFANZ = 'brd_01JFANZ0000000000000000001'

type Version = { version: number; active: boolean; note: string; created_by: string | null; config: { defaultOrder: string[]; rules: Array<{ id: string }> } }
type Problem = { code: string; errors?: Array<{ path: string; message: string }>; reasons?: string[] }
type Decision = { version: number; segment: string; rule_id: string | null; candidates: Array<{ gateway: string; mid_id: string; reasons: string[] }>; excluded: Array<{ gateway: string; mid_id: string | null; reason: string }>; reasons: string[] }

const base = {
  rules: [],
  defaultOrder: ['sandbox', 'ccbill'],
  successRate: { enabled: false, windowSize: 200, explorationBps: 0, minSamples: 20, segmentBy: ['method', 'currency'] },
  elimination: { failures: 5, withinMs: 60_000, cooldownMs: 300_000 },
}

const eurToCcbill = {
  ...base,
  rules: [{ id: 'eur-to-ccbill', description: 'euro cards through CCBill', conditions: [{ field: 'currency', op: 'eq', value: 'EUR' }], output: { type: 'priority', gateways: ['ccbill'] } }],
}

const post = (token: string, key: string, body: unknown) => call('api.localhost', '/api/payments/routing/configs', { token, headers: { 'idempotency-key': `"${key}"` }, body })
const activate = (token: string, version: number | string) => call('api.localhost', `/api/payments/routing/configs/${version}/activate`, { method: 'POST', token })
const active = async (token: string) => (await (await call('api.localhost', '/api/payments/routing/config', { token })).json()) as Version
const simulate = async (token: string, body: Record<string, unknown>) => {
  const res = await call('api.localhost', '/api/payments/routing/simulate', { token, body: { brand_id: BOYFANZ, country: 'DE', amount_minor: 1000, ...body } })
  expect(res.status).toBe(200)
  return (await res.json()) as Decision
}

async function checkout(key: string, currency: string): Promise<Response> {
  return call('api.localhost', '/api/payments/checkout', {
    token: await tokenFor(['fan'], { subject: FAN }),
    headers: { 'idempotency-key': `"${key}"` },
    body: { creator_id: CREATOR, kind: 'tip', amount_minor: 1000, currency, return_url: 'http://boyfanz.localhost/c/alex' },
  })
}

describe('routing rules admin', () => {
  it('refuses callers without the permission and invalid configurations, naming each field', async () => {
    const finance = await tokenFor(['finance'])
    expect((await call('api.localhost', '/api/payments/routing/config', { token: await tokenFor(['fan']) })).status).toBe(403)
    // admins read and simulate; only finance changes routing
    expect((await call('api.localhost', '/api/payments/routing/config', { token: await tokenFor(['admin']) })).status).toBe(200)
    expect((await post(await tokenFor(['admin']), 'admin-1', { config: base, note: 'x' })).status).toBe(403)
    expect((await activate(await tokenFor(['operator']), 1)).status).toBe(403)
    expect((await post(finance, 'no-key-check', { config: base })).status).toBe(201)
    expect((await activate(finance, 1)).status).toBe(200)

    const invalid = await post(finance, 'invalid-1', {
      config: { ...base, defaultOrder: [], successRate: { ...base.successRate, minSamples: 500 }, elimination: { failures: 0, withinMs: 1, cooldownMs: 1 } },
      note: 'broken',
    })
    expect(invalid.status).toBe(422)
    const paths = ((await invalid.json()) as Problem).errors!.map((e) => e.path)
    expect(paths).toEqual(expect.arrayContaining(['body.config.defaultOrder', 'body.config.elimination.failures']))

    const unknown = await post(finance, 'unknown-1', { config: { ...eurToCcbill, defaultOrder: ['sandbox', 'paypal'] }, note: 'typo' })
    expect(unknown.status).toBe(422)
    expect(((await unknown.json()) as Problem).errors).toEqual([{ path: 'body.config.defaultOrder.1', message: 'no gateway paypal in gateway_configs' }])
    const splitTypo = await post(finance, 'unknown-2', {
      config: { ...base, rules: [{ id: 'split', conditions: [], output: { type: 'volume_split', splits: [{ gateway: 'sandbox', percent: 60 }, { gateway: 'stripe', percent: 40 }] } }] },
      note: '',
    })
    expect(((await splitTypo.json()) as Problem).errors).toEqual([{ path: 'body.config.rules.0.output.splits.1.gateway', message: 'no gateway stripe in gateway_configs' }])
    expect((await activate(finance, 999)).status).toBe(404)
    expect((await activate(finance, 'latest')).status).toBe(400)
    expect((await call('api.localhost', '/api/payments/routing/simulate', { token: finance, body: { brand_id: BOYFANZ, country: 'germany', currency: 'EUR', amount_minor: 0 } })).status).toBe(422)
  })

  it('adds versions that become active at once, rolls back and forward, and audits each change', async () => {
    const finance = await tokenFor(['finance'])
    const before = await active(finance)
    const newest = ((await (await call('api.localhost', '/api/payments/routing/configs?limit=1', { token: finance })).json()) as { items: Version[] }).items[0]!.version
    const created = await post(finance, 'eur-rule', { config: eurToCcbill, note: 'EUR through CCBill' })
    expect(created.status).toBe(201)
    const v = (await created.json()) as Version
    expect(v).toMatchObject({ version: newest + 1, active: true, note: 'EUR through CCBill', config: { rules: [{ id: 'eur-to-ccbill' }] } })
    expect(v.created_by).toMatch(/^usr_/)
    // the same request again: the same version, not another one
    const replay = await post(finance, 'eur-rule', { config: eurToCcbill, note: 'EUR through CCBill' })
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(((await replay.json()) as Version).version).toBe(v.version)

    const versions = (await (await call('api.localhost', '/api/payments/routing/configs?limit=2', { token: finance })).json()) as { items: Version[]; next_cursor: string | null }
    expect(versions.items.map((x) => [x.version, x.active])).toEqual([
      [v.version, true],
      [v.version - 1, false],
    ])
    const older = (await (await call('api.localhost', `/api/payments/routing/configs?limit=50&cursor=${versions.next_cursor}`, { token: finance })).json()) as { items: Version[] }
    expect(older.items.at(-1)?.version).toBe(1)
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM routing_configs WHERE active = 1').first<{ n: number }>())?.n).toBe(1)

    expect((await activate(finance, 1)).status).toBe(200)
    expect((await active(finance)).version).toBe(1)
    expect((await activate(finance, v.version)).status).toBe(200)
    expect((await active(finance)).version).toBe(v.version)
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM routing_configs WHERE active = 1').first<{ n: number }>())?.n).toBe(1)

    const creates = await auditLog(env).list({ action: 'payments.routing.create', subject: `routing_config:${v.version}`, limit: 10 })
    expect(creates).toHaveLength(1)
    expect(JSON.parse(creates[0]!.details)).toMatchObject({ version: v.version, previous: before.version, note: 'EUR through CCBill' })
    const activations = await auditLog(env).list({ action: 'payments.routing.activate', limit: 50 })
    expect(activations.slice(-2).map((e) => JSON.parse(e.details) as { version: number; previous: number })).toEqual([
      { version: 1, previous: v.version },
      { version: v.version, previous: 1 },
    ])
  })

  it('checkout follows the active configuration: a rule sends EUR to a second gateway, the rest takes the default order', async () => {
    const finance = await tokenFor(['finance'])
    const bindings = env as unknown as { PAYMENT_GATEWAYS?: string }
    bindings.PAYMENT_GATEWAYS = JSON.stringify({ ccbill: { flexId: 'f00d-test', clientSubacc: '0000', salt: 'test-salt', postbackToken: 'test-token' } })
    try {
      const mid = await call('api.localhost', '/api/payments/mids', { token: finance, body: { gateway: 'ccbill', descriptor: 'FANZ*CCBILL', acquirer: 'Test acquirer', currencies: ['USD', 'EUR'], brand_ids: [BOYFANZ] } })
      const ccbillMid = ((await mid.json()) as { id: string }).id
      expect((await call('api.localhost', '/api/payments/gateways/ccbill', { method: 'PATCH', token: finance, body: { enabled: true } })).status).toBe(200)
      const v = ((await (await post(finance, 'eur-rule-2', { config: eurToCcbill, note: 'EUR through CCBill, again' })).json()) as Version).version

      const eur = await checkout('eur-1', 'EUR')
      expect(eur.status).toBe(201)
      const eurStarted = (await eur.json()) as { payment_id: string; gateway: string; mid_id: string; routing: string[] }
      expect(eurStarted).toMatchObject({ gateway: 'ccbill', mid_id: ccbillMid })
      expect(eurStarted.routing).toContain(`routing configuration version ${v}`)
      expect(eurStarted.routing).toContain('rule eur-to-ccbill matched (currency eq EUR)')
      const stored = await env.DB.prepare('SELECT routing_json, country FROM payments WHERE id = ?').bind(eurStarted.payment_id).first<{ routing_json: string; country: string }>()
      expect(JSON.parse(stored!.routing_json)).toMatchObject({ version: v, ruleId: 'eur-to-ccbill', segment: 'card/EUR' })

      const usd = (await (await checkout('usd-1', 'USD')).json()) as { gateway: string; routing: string[] }
      expect(usd.gateway).toBe('sandbox')
      expect(usd.routing).toContain('none of 1 rules matched: default order')

      // the simulator gives the same decision without opening a payment
      const paymentsBefore = (await env.DB.prepare('SELECT COUNT(*) AS n FROM payments').first<{ n: number }>())!.n
      const sim = await simulate(finance, { currency: 'EUR' })
      expect(sim).toMatchObject({ version: v, rule_id: 'eur-to-ccbill', segment: 'card/EUR', candidates: [{ gateway: 'ccbill', mid_id: ccbillMid }] })
      const simUsd = await simulate(await tokenFor(['admin']), { currency: 'USD' })
      expect(simUsd.candidates.map((c) => c.gateway)).toEqual(['sandbox', 'ccbill'])
      // a gateway that does not take the method is excluded with its reason
      const crypto = await simulate(finance, { currency: 'USD', method: 'crypto', version: 1 })
      expect(crypto.version).toBe(1)
      expect(crypto.excluded).toContainEqual({ gateway: 'sandbox', mid_id: null, reason: 'does not take crypto payments' })
      expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payments').first<{ n: number }>())!.n).toBe(paymentsBefore)

      // switched off again, the rule's gateway is excluded with the reason and EUR falls back to the default order
      await call('api.localhost', '/api/payments/gateways/ccbill', { method: 'PATCH', token: finance, body: { enabled: false } })
      const fallback = (await (await checkout('eur-2', 'EUR')).json()) as { gateway: string; routing: string[] }
      expect(fallback.gateway).toBe('sandbox')
      expect(fallback.routing).toContain('gateway ccbill excluded: not offered: disabled in gateway_configs')
      expect(fallback.routing).toContain('rule eur-to-ccbill left no eligible gateway: default order instead')
    } finally {
      delete bindings.PAYMENT_GATEWAYS
      await call('api.localhost', '/api/payments/gateways/ccbill', { method: 'PATCH', token: finance, body: { enabled: false } })
      await activate(finance, 1)
    }
  })
})
