/**
 * Gateways admin through the Worker: the list (terms, credentials presence, MIDs, offered or why
 * not), validated and audited edits, a switched-off gateway not offered at checkout, and a fee
 * change reaching the next sale's processor fee in the creator's ledger.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { ledgerFor } from '../../ledger/stub'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const FAN = 'usr_01JFANZDEM0000000000000003'

type Gateway = {
  gateway: string
  adapter: boolean
  configured: boolean
  enabled: boolean
  methods: string[]
  processor_fee_bps: number | null
  fixed_fee_minor: number | null
  chargeback_fee_minor: number | null
  fee_currency: string | null
  credentials_configured: boolean
  mids: number
  offered: boolean
  not_offered_because: string | null
  updated_by: string | null
}
type Problem = { code: string; errors?: Array<{ path: string; message: string }>; reasons?: string[] }

const patch = (gateway: string, body: unknown, token: string) => call('api.localhost', `/api/payments/gateways/${gateway}`, { method: 'PATCH', token, body })

async function list(token: string): Promise<Gateway[]> {
  const res = await call('api.localhost', '/api/payments/gateways', { token })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Gateway[] }).items
}

async function tipAtSandbox(key: string, card: string): Promise<{ paymentId: string; status: number }> {
  const res = await call('api.localhost', '/api/payments/checkout', {
    token: await tokenFor(['fan'], { subject: FAN }),
    headers: { 'idempotency-key': `"${key}"` },
    body: { creator_id: CREATOR, kind: 'tip', amount_minor: 999, currency: 'USD', return_url: 'http://boyfanz.localhost/c/alex' },
  })
  const started = (await res.json()) as { payment_id: string; next: { url: string } }
  const formUrl = new URL(started.next.url)
  const html = await (await call('localhost', formUrl.pathname + formUrl.search)).text()
  const q = /name="q" value="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
  const paid = await call('localhost', '/sandbox-gateway/checkout', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ q, card }).toString(),
  })
  return { paymentId: started.payment_id, status: paid.status }
}

describe('gateways admin', () => {
  it('lists every gateway with its terms, credentials presence, MIDs and whether checkout offers it', async () => {
    const items = await list(await tokenFor(['admin']))
    const byId = new Map(items.map((g) => [g.gateway, g]))
    expect(byId.get('sandbox')).toMatchObject({ adapter: true, configured: true, enabled: true, methods: ['card'], processor_fee_bps: 1000, chargeback_fee_minor: 2500, fee_currency: 'USD', credentials_configured: true, mids: 1, offered: true, not_offered_because: null })
    expect(byId.get('ccbill')).toMatchObject({ enabled: false, processor_fee_bps: 1050, credentials_configured: false, mids: 0, offered: false, not_offered_because: 'disabled in gateway_configs' })
    expect(byId.get('verotel')?.fee_currency).toBe('EUR')
    // every gateway of the seed is there, in the registry's order first
    for (const id of ['sandbox', 'nowpayments', 'bank_transfer', 'ccbill', 'segpay', 'epoch', 'vendo', 'verotel', 'netbilling', 'commercegate']) expect(byId.has(id)).toBe(true)
    // presence only: the sandbox's derived secret never leaves the server
    expect(JSON.stringify(items)).not.toMatch(/secret|salt|whsec_/i)
  })

  it('refuses callers without the permission and bad terms, naming each field', async () => {
    expect((await call('api.localhost', '/api/payments/gateways', { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await call('api.localhost', '/api/payments/gateways')).status).toBe(401)
    // admins read, finance manages
    expect((await patch('sandbox', { processor_fee_bps: 900 }, await tokenFor(['admin']))).status).toBe(403)
    const finance = await tokenFor(['finance'])
    const bad = await patch('sandbox', { processor_fee_bps: 5001, fixed_fee_minor: -1, chargeback_fee_minor: 1.5, methods: ['card', 'paypal'], fee_currency: 'usd' }, finance)
    expect(bad.status).toBe(422)
    const paths = ((await bad.json()) as Problem).errors!.map((e) => e.path).sort()
    expect(paths).toEqual(['body.chargeback_fee_minor', 'body.fee_currency', 'body.fixed_fee_minor', 'body.methods.1', 'body.processor_fee_bps'])
    expect(((await (await patch('sandbox', { fee_currency: 'XYZ' }, finance)).json()) as Problem).errors).toEqual([{ path: 'body.fee_currency', message: 'not an ISO 4217 currency' }])
    expect(((await (await patch('sandbox', { methods: ['card', 'card'] }, finance)).json()) as Problem).errors?.[0]?.path).toBe('body.methods')
    expect(((await (await patch('sandbox', { colour: 'red' }, finance)).json()) as Problem).errors?.[0]?.path).toBe('body.colour')
    expect((await patch('sandbox', {}, finance)).status).toBe(422)
    expect((await patch('paypal', { enabled: true }, finance)).status).toBe(404)
    expect((await patch('Not A Gateway', { enabled: true }, finance)).status).toBe(400)
  })

  it('enables a gateway without credentials (checkout skips it and the list says why), audited with before and after', async () => {
    const finance = await tokenFor(['finance'])
    const res = await patch('segpay', { enabled: true, processor_fee_bps: 990 }, finance)
    expect(res.status).toBe(200)
    const after = (await res.json()) as Gateway
    expect(after).toMatchObject({ gateway: 'segpay', enabled: true, processor_fee_bps: 990, credentials_configured: false, offered: false, not_offered_because: 'enabled, but no credentials configured (PAYMENT_GATEWAYS)' })
    expect(after.updated_by).toMatch(/^usr_/)
    const entries = await auditLog(env).list({ action: 'payments.gateway.update', subject: 'segpay', limit: 10 })
    const details = JSON.parse(entries.at(-1)!.details) as { before: Gateway; after: Gateway; changed: string[] }
    expect(details.before).toMatchObject({ enabled: false, processor_fee_bps: 1050 })
    expect(details.after).toMatchObject({ enabled: true, processor_fee_bps: 990 })
    expect(details.changed.sort()).toEqual(['enabled', 'processor_fee_bps'])
    expect(entries.at(-1)!.actor).toBe(after.updated_by)

    // the simulator shows the reason checkout skips it
    const sim = await call('api.localhost', '/api/payments/routing/simulate', { token: finance, body: { brand_id: 'brd_01JFANZ0000000000000000001', country: 'US', currency: 'USD', amount_minor: 999 } })
    const decision = (await sim.json()) as { excluded: Array<{ gateway: string; mid_id: string | null; reason: string }> }
    expect(decision.excluded).toContainEqual({ gateway: 'segpay', mid_id: null, reason: 'not offered: enabled, but no credentials configured (PAYMENT_GATEWAYS)' })
    await patch('segpay', { enabled: false, processor_fee_bps: 1050 }, finance)
  })

  it('a switched-off gateway is not offered at checkout', async () => {
    const finance = await tokenFor(['finance'])
    expect((await patch('sandbox', { enabled: false }, finance)).status).toBe(200)
    try {
      const res = await call('api.localhost', '/api/payments/checkout', {
        token: await tokenFor(['fan'], { subject: FAN }),
        headers: { 'idempotency-key': '"off-1"' },
        body: { creator_id: CREATOR, kind: 'tip', amount_minor: 500, currency: 'USD', return_url: 'http://boyfanz.localhost/c/alex' },
      })
      expect(res.status).toBe(422)
      const problem = (await res.json()) as Problem
      expect(problem.code).toBe('PAYMENT_NOT_ROUTABLE')
      expect(problem.reasons).toContain('gateway sandbox excluded: not offered: disabled in gateway_configs')
    } finally {
      expect((await patch('sandbox', { enabled: true }, finance)).status).toBe(200)
    }
  })

  it('a fee change reaches the next sale: the ledger posts the new processor fee', async () => {
    const finance = await tokenFor(['finance'])
    expect((await patch('sandbox', { processor_fee_bps: 500, fixed_fee_minor: 30 }, finance)).status).toBe(200)
    try {
      const sale = await tipAtSandbox('fee-1', '4242424242424242')
      expect(sale.status).toBe(200)
      const history = await ledgerFor(env, CREATOR).history({ limit: 50 })
      const fee = history.items.find((t) => t.paymentId === sale.paymentId && t.code === 'sale.processor_fee')
      // 5% of 9.99 = 0.49 (rounded down) + the fixed 0.30 in the contract's currency = 0.79
      expect(fee?.amountMinor).toBe(79)
    } finally {
      await patch('sandbox', { processor_fee_bps: 1000, fixed_fee_minor: 0 }, finance)
    }
    const back = await tipAtSandbox('fee-2', '4242424242424242')
    const history = await ledgerFor(env, CREATOR).history({ limit: 50 })
    expect(history.items.find((t) => t.paymentId === back.paymentId && t.code === 'sale.processor_fee')?.amountMinor).toBe(99)
  })
})
