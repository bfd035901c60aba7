import { describe, expect, it } from 'vitest'
import { SANDBOX_CARDS, sandbox, sandboxChargeback, sandboxDecision, signSandboxPostback, verifySandboxCheckout, verifySandboxPostback, type SandboxEventBody } from './sandbox'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const NOW = Date.UTC(2026, 10, 20, 10, 0, 0)

const sale: SandboxEventBody = {
  id: 'evt_sale_1',
  type: 'sale',
  occurredAt: new Date(NOW).toISOString(),
  reference: 'pay_sbx1',
  transactionId: 'sbx_tx_1',
  subscriptionId: 'sbx_sub_1',
  originalTransactionId: null,
  amount: { minor: 999, currency: 'USD' },
  reason: null,
}

describe('sandbox gateway', () => {
  it('decides by test card', () => {
    expect(sandboxDecision(SANDBOX_CARDS.approve)).toEqual({ outcome: 'approve', chargebackOnDemand: false })
    expect(sandboxDecision('4000 0000 0000 0002')).toEqual({ outcome: 'decline', code: 'card_declined' })
    expect(sandboxDecision(SANDBOX_CARDS.error)).toEqual({ outcome: 'error', code: 'processing_error' })
    expect(sandboxDecision(SANDBOX_CARDS.chargeback)).toEqual({ outcome: 'approve', chargebackOnDemand: true })
    expect(sandboxDecision('4242424242424241')).toEqual({ outcome: 'decline', code: 'invalid_number' })
  })

  it('signs Standard-Webhooks style and verifies within tolerance', () => {
    const signed = signSandboxPostback(SECRET, sale, NOW)
    expect(signed.headers['webhook-id']).toBe('evt_sale_1')
    expect(signed.headers['webhook-timestamp']).toBe(String(NOW / 1000))
    expect(signed.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(verifySandboxPostback(SECRET, signed, NOW + 299_000)).toEqual({ ok: true })
    expect(verifySandboxPostback(SECRET, signed, NOW - 299_000)).toEqual({ ok: true })
  })

  it('refuses replays outside 5 minutes and any single changed character', () => {
    const signed = signSandboxPostback(SECRET, sale, NOW)
    expect(verifySandboxPostback(SECRET, signed, NOW + 301_000)).toEqual({ ok: false, reason: 'timestamp_outside_tolerance' })
    expect(verifySandboxPostback(SECRET, { ...signed, rawBody: signed.rawBody.replace('999', '998') }, NOW)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(verifySandboxPostback(SECRET, { ...signed, headers: { ...signed.headers, 'webhook-id': 'evt_sale_2' } }, NOW)).toEqual({ ok: false, reason: 'bad_signature' })
    const sig = signed.headers['webhook-signature']
    const flipped = `${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`
    expect(verifySandboxPostback(SECRET, { ...signed, headers: { ...signed.headers, 'webhook-signature': flipped } }, NOW)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(verifySandboxPostback('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx', signed, NOW)).toEqual({ ok: false, reason: 'bad_signature' })
    // moving the timestamp inside the window still breaks the signature
    expect(verifySandboxPostback(SECRET, { ...signed, headers: { ...signed.headers, 'webhook-timestamp': String(NOW / 1000 + 1) } }, NOW)).toEqual({ ok: false, reason: 'bad_signature' })
  })

  it('accepts a rotated secret among several signatures', () => {
    const signed = signSandboxPostback(SECRET, sale, NOW)
    const headers = { ...signed.headers, 'webhook-signature': `v1,AAAA ${signed.headers['webhook-signature']}` }
    expect(verifySandboxPostback(SECRET, { headers, rawBody: signed.rawBody }, NOW)).toEqual({ ok: true })
  })

  it('parses sale and the on-demand chargeback into normalized events', () => {
    const chargeback = sandboxChargeback(sale, 'evt_cb_1', NOW + 60_000)
    const request = (body: SandboxEventBody) => ({ method: 'POST', url: 'https://api.example.test/webhooks/sandbox', sourceIp: '127.0.0.1', ...signSandboxPostback(SECRET, body, NOW) })
    const settings = { secret: SECRET, hostedFormUrl: 'https://pay.example.test/sandbox/checkout' }
    expect(sandbox.verifyPostback(settings, request(chargeback), NOW)).toEqual({ ok: true })
    const parsed = sandbox.parsePostback(settings, request(chargeback))
    expect(parsed.ok && parsed.events).toEqual([
      expect.objectContaining({ gateway: 'sandbox', eventId: 'evt_cb_1', type: 'chargeback', reference: 'pay_sbx1', originalTransactionId: 'sbx_tx_1', amount: { minor: 999, currency: 'USD' } }),
    ])
  })

  it('signs the hosted checkout URL so amount tampering is detectable', () => {
    const settings = { secret: SECRET, hostedFormUrl: 'https://pay.example.test/sandbox/checkout' }
    const result = sandbox.buildCheckout(settings, { kind: 'subscription', reference: 'pay_sbx1', amount: { minor: 999, currency: 'USD' }, description: 'Sub', recurring: { amount: { minor: 999, currency: 'USD' }, periodDays: 30 } })
    if (!result.ok || result.request.kind !== 'redirect') throw new Error('expected a redirect')
    expect(verifySandboxCheckout(SECRET, result.request.url)).toBe(true)
    expect(verifySandboxCheckout(SECRET, result.request.url.replace('amount=999', 'amount=99'))).toBe(false)
  })
})
