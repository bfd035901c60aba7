import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getConfig } from '../../config'
import { call } from '../../../test/helpers'
import { signSandboxPostback, type SandboxEventBody } from '../gateways/sandbox'
import { sandboxSecret } from './settings'

const config = getConfig(env)

function sale(id: string, overrides: Partial<SandboxEventBody> = {}): SandboxEventBody {
  return {
    id,
    type: 'sale',
    occurredAt: new Date().toISOString(),
    reference: 'pay_01JFANZ0000000000000000001',
    transactionId: `tx-${id}`,
    subscriptionId: null,
    originalTransactionId: null,
    amount: { minor: 1299, currency: 'USD' },
    reason: null,
    ...overrides,
  }
}

async function post(rawBody: string, headers: Record<string, string>): Promise<Response> {
  return call('api.localhost', '/api/payments/webhooks/sandbox', { method: 'POST', headers, body: rawBody })
}

async function rowsFor(eventId: string) {
  return (await env.DB.prepare('SELECT type, payment_id, amount_minor, currency, status, evidence_key FROM gateway_events WHERE gateway = ? AND event_id = ?').bind('sandbox', eventId).all()).results
}

describe('gateway postbacks', () => {
  it('verifies, keeps the raw request in R2, stores the normalized event once', async () => {
    const signed = signSandboxPostback(await sandboxSecret(config), sale('evt-1'), Date.now())
    const res = await post(signed.rawBody, signed.headers)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ received: 1, new: 1, duplicates: 0 })
    const rows = await rowsFor('evt-1')
    // stored, then applied: no such payment exists here, so it waits for one (never dropped)
    expect(rows).toEqual([expect.objectContaining({ type: 'sale', payment_id: 'pay_01JFANZ0000000000000000001', amount_minor: 1299, currency: 'USD', status: 'waiting' })])
    const evidence = await env.EXPORTS.get(rows[0]!.evidence_key as string)
    const stored = (await evidence!.json()) as { body: string; headers: Record<string, string> }
    expect(stored.body).toBe(signed.rawBody)
    expect(stored.headers['webhook-signature']).toBe(signed.headers['webhook-signature'])

    const again = await post(signed.rawBody, signed.headers)
    expect(await again.json()).toEqual({ received: 1, new: 0, duplicates: 1 })
    expect(await rowsFor('evt-1')).toHaveLength(1)
  })

  it('answers 20 simultaneous copies with 2xx and stores one', async () => {
    const signed = signSandboxPostback(await sandboxSecret(config), sale('evt-burst'), Date.now())
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(signed.rawBody, signed.headers)))
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200))
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Array<{ new: number }>
    expect(bodies.filter((b) => b.new === 1)).toHaveLength(1)
    expect(await rowsFor('evt-burst')).toHaveLength(1)
  })

  it.each([
    ['the body', (s: { rawBody: string; headers: Record<string, string> }) => ({ ...s, rawBody: s.rawBody.replace('1299', '1298') })],
    ['the signature', (s: { rawBody: string; headers: Record<string, string> }) => ({ ...s, headers: { ...s.headers, 'webhook-signature': s.headers['webhook-signature']!.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')) } })],
    ['the event id', (s: { rawBody: string; headers: Record<string, string> }) => ({ ...s, headers: { ...s.headers, 'webhook-id': 'evt-other' } })],
  ])('refuses a postback with one changed character in %s and stores nothing', async (_what, tamper) => {
    const before = await env.EXPORTS.list({ prefix: 'payments/postbacks/sandbox/' })
    const signed = tamper(signSandboxPostback(await sandboxSecret(config), sale('evt-tampered'), Date.now()))
    const res = await post(signed.rawBody, signed.headers)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'SIGNATURE_INVALID' })
    expect(await rowsFor('evt-tampered')).toEqual([])
    expect((await env.EXPORTS.list({ prefix: 'payments/postbacks/sandbox/' })).objects.length).toBe(before.objects.length)
  })

  it('refuses an old signed postback (replay window) and an unknown gateway', async () => {
    const stale = signSandboxPostback(await sandboxSecret(config), sale('evt-stale'), Date.now() - 10 * 60_000)
    expect((await post(stale.rawBody, stale.headers)).status).toBe(400)
    const res = await call('api.localhost', '/api/payments/webhooks/nosuch', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('param.gateway')
  })
})
