import { describe, expect, it } from 'vitest'
import { ccbill, ccbillFormDigest } from './ccbill'
import { nowpayments, nowpaymentsLegacySignature, nowpaymentsSignature } from './crypto'
import { vendoSignUrl } from './vendo'
import { verotel, verotelSignature } from './verotel'
import type { PostbackRequest } from './types'

const DOC_SALT = '7d901dad245fd0ff6bc20d06'

describe('CCBill formDigest (ccbill.com/doc/formdigest-value)', () => {
  it('reproduces the official single-billing example', () => {
    expect(ccbillFormDigest({ initialPrice: '10.00', initialPeriod: '30', currencyCode: '840', salt: DOC_SALT })).toBe('a7459445d0e5dc0963fe736dc5cf900b')
  })

  it('reproduces the official recurring example', () => {
    expect(
      ccbillFormDigest({ initialPrice: '10.00', initialPeriod: '30', recurringPrice: '10.00', recurringPeriod: '30', numRebills: '99', currencyCode: '840', salt: DOC_SALT }),
    ).toBe('48f0b12e4307e64edb781c479665c899')
  })

  it('builds the dynamic-pricing URL that carries the same digest', () => {
    const result = ccbill.buildCheckout(
      { flexId: '687fa3e0-e60d-4466-88e2-181fa56dd6a9', clientSubacc: '0000', salt: DOC_SALT, postbackToken: 'x'.repeat(32) },
      { kind: 'subscription', reference: 'pay_01', amount: { minor: 1000, currency: 'USD' }, description: 'Fan club', recurring: { amount: { minor: 1000, currency: 'USD' }, periodDays: 30 } },
    )
    if (!result.ok || result.request.kind !== 'redirect') throw new Error('expected a redirect')
    const url = new URL(result.request.url)
    expect(url.origin + url.pathname).toBe('https://api.ccbill.com/wap-frontflex/flexforms/687fa3e0-e60d-4466-88e2-181fa56dd6a9')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      clientSubacc: '0000',
      initialPrice: '10.00',
      initialPeriod: '30',
      recurringPrice: '10.00',
      recurringPeriod: '30',
      numRebills: '99',
      currencyCode: '840',
      formDigest: '48f0b12e4307e64edb781c479665c899',
      referenceId: 'pay_01',
    })
  })

  it('prints JPY with two decimals and numeric currency 392', () => {
    const result = ccbill.buildCheckout(
      { flexId: 'f', clientSubacc: '0001', salt: DOC_SALT, postbackToken: 'x'.repeat(32) },
      { kind: 'tip', reference: 'pay_02', amount: { minor: 1500, currency: 'JPY' }, description: 'Tip' },
    )
    if (!result.ok || result.request.kind !== 'redirect') throw new Error('expected a redirect')
    const params = new URL(result.request.url).searchParams
    expect(params.get('initialPrice')).toBe('1500.00')
    expect(params.get('currencyCode')).toBe('392')
    expect(params.get('formDigest')).toBe(ccbillFormDigest({ initialPrice: '1500.00', initialPeriod: '30', currencyCode: '392', salt: DOC_SALT }))
  })
})

describe('Verotel FlexPay signature', () => {
  const docParams = { description: 'Super video download', priceAmount: '9.99', priceCurrency: 'USD', custom1: 'xxyyzz', shopID: '64233', type: 'purchase', version: '3.2' }

  it('reproduces the official v3.2 SHA-1 example', () => {
    expect(verotelSignature('BddJxtUBkDgFB9kj7Zwguxde4gAqha', docParams, 'sha1')).toBe('3f27723dc11c49dbd01706410f44e6eeff9e8ebf')
  })

  it('signs start URLs with SHA-256 over the same canonical string', async () => {
    const canonical = 'BddJxtUBkDgFB9kj7Zwguxde4gAqha:custom1=xxyyzz:description=Super video download:priceAmount=9.99:priceCurrency=USD:shopID=64233:type=purchase:version=3.2'
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)))
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')
    expect(verotelSignature('BddJxtUBkDgFB9kj7Zwguxde4gAqha', docParams, 'sha256')).toBe(hex)
  })

  it('builds a subscription start URL whose signature verifies and excludes email', () => {
    const settings = { shopId: '64233', signatureKey: 'BddJxtUBkDgFB9kj7Zwguxde4gAqha' }
    const result = verotel.buildCheckout(settings, {
      kind: 'subscription',
      reference: 'pay_03',
      amount: { minor: 500, currency: 'EUR' },
      initialPeriodDays: 7,
      description: 'Creator subscription',
      email: 'fan@example.test',
      recurring: { amount: { minor: 1264, currency: 'EUR' }, periodDays: 30 },
    })
    if (!result.ok || result.request.kind !== 'redirect') throw new Error('expected a redirect')
    const params = Object.fromEntries(new URL(result.request.url).searchParams)
    expect(params).toMatchObject({ version: '4', type: 'subscription', subscriptionType: 'recurring', priceAmount: '12.64', priceCurrency: 'EUR', period: 'P30D', trialAmount: '5.00', trialPeriod: 'P7D', referenceID: 'pay_03' })
    const { email, signature, ...signed } = params
    expect(email).toBe('fan@example.test')
    expect(signature).toBe(verotelSignature(settings.signatureKey, signed, 'sha256'))
  })
})

describe('Vendo signed URLs (docs.vendoservices.com/docs/signing-urls)', () => {
  it('reproduces the official example', () => {
    expect(vendoSignUrl('https://secure.vend-o.com/v/signup?site=1&offers=123', '3HDW9B')).toBe(
      'https://secure.vend-o.com/v/signup?site=1&offers=123&signature=UrYz6hgkRcRHmPksyIjTt_jFJ-g',
    )
  })
})

describe('NOWPayments IPN signature', () => {
  // Body shaped like the IPN example in the NOWPayments API docs; expected value computed with the
  // docs' own Node expression: createHmac('sha512', secret).update(JSON.stringify(p, Object.keys(p).sort()))
  const body =
    '{"payment_id":5077125051,"payment_status":"finished","pay_address":"0xd1cDE08A07cD25adEbEd35c3867a59228C09B606","price_amount":170,"price_currency":"usd","pay_amount":155.38559757,"actually_paid":180,"pay_currency":"mana","order_id":"pay_01JABCDEF","order_description":"Creator tip","purchase_id":"6084744717","created_at":"2021-04-12T14:22:54.942Z","updated_at":"2021-04-12T14:23:06.244Z","outcome_amount":1131.7812095,"outcome_currency":"trx"}'
  const expected = '3d9e01781bdaceceeb19361abbfb16f113e611369bcf26251bef55c18dcc6482de7dc4a0400d22e4941b1a2692600375ed2f420040b5b754a3b9bfd0d8b4a142'

  it('matches the derived vector', () => {
    expect(nowpaymentsSignature('test-ipn-secret', body)).toBe(expected)
  })

  it('verifies and parses the IPN into an exact sale', () => {
    const request: PostbackRequest = { method: 'POST', url: 'https://api.example.test/webhooks/nowpayments', headers: { 'x-nowpayments-sig': expected }, rawBody: body, sourceIp: '51.89.194.21' }
    expect(nowpayments.verifyPostback({ apiKey: 'k', ipnSecret: 'test-ipn-secret' }, request, 0)).toEqual({ ok: true })
    const parsed = nowpayments.parsePostback({ apiKey: 'k', ipnSecret: 'test-ipn-secret' }, request)
    expect(parsed.ok && parsed.events[0]).toMatchObject({ gateway: 'nowpayments', eventId: '5077125051:finished', type: 'sale', reference: 'pay_01JABCDEF', transactionId: '5077125051', amount: { minor: 17000, currency: 'USD' } })
    expect(nowpayments.verifyPostback({ apiKey: 'k', ipnSecret: 'test-ipn-secret' }, { ...request, rawBody: body.replace('"price_amount":170', '"price_amount":171') }, 0)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(nowpayments.verifyPostback({ apiKey: 'k', ipnSecret: 'test-ipn-secreT' }, request, 0)).toEqual({ ok: false, reason: 'bad_signature' })
  })
  // A current IPN with the nested `fee` object; both values computed in Node with the docs'
  // expressions: recursive sortObject (current) and the replacer-array form (older), which drops
  // the nested keys. Both verify; a partially_paid IPN is a failure, never a sale.
  const nested =
    '{"payment_id":4409701815,"parent_payment_id":null,"invoice_id":5138411206,"payment_status":"finished","pay_address":"0x9c7bd5F2C5b3F1D3f2c3bA1A5C2B0e2A1f8e4D7c","payin_extra_id":null,"price_amount":9.99,"price_currency":"usd","pay_amount":9.99,"actually_paid":9.99,"actually_paid_at_fiat":9.99,"pay_currency":"usdc","order_id":"pay_01JFANZ0000000000000000777","order_description":"Tip","purchase_id":"5723998404","outcome_amount":9.94,"outcome_currency":"usdc","payment_extra_ids":null,"fee":{"currency":"usdc","depositFee":0,"withdrawalFee":0,"serviceFee":0.05},"created_at":"2026-11-26T10:00:00.000Z","updated_at":"2026-11-26T10:05:00.000Z"}'
  const current = '3077239eb4477b23165d97bc7635a3511914e5f686c2b65238c17631781f52419b9a337723a453b2869dddf4e3d614ed9e022192256aa3d6dbdf40a39f9626a4'
  const legacy = '629fec4b8e16a2160b6717e02f4200c9ccb441270b475567fc9fb67a554f2e77a1e50efd1e7ad08b2cab72eb2bc47ba986eb1eebac299e31bdd41db6545f185d'

  it('signs nested IPNs like the current docs and still accepts the older form', () => {
    expect(nowpaymentsSignature('test-ipn-secret', nested)).toBe(current)
    expect(nowpaymentsLegacySignature('test-ipn-secret', nested)).toBe(legacy)
    const request: PostbackRequest = { method: 'POST', url: 'https://api.example.test/webhooks/nowpayments', headers: { 'x-nowpayments-sig': current }, rawBody: nested, sourceIp: '' }
    const settings = { apiKey: 'k', ipnSecret: 'test-ipn-secret' }
    expect(nowpayments.verifyPostback(settings, request, 0)).toEqual({ ok: true })
    expect(nowpayments.verifyPostback(settings, { ...request, headers: { 'x-nowpayments-sig': legacy } }, 0)).toEqual({ ok: true })
    // the current form covers the nested fee: changing it breaks the signature
    expect(nowpayments.verifyPostback(settings, { ...request, rawBody: nested.replace('"serviceFee":0.05', '"serviceFee":0.06') }, 0)).toEqual({ ok: false, reason: 'bad_signature' })
    const parsed = nowpayments.parsePostback(settings, request)
    expect(parsed.ok && parsed.events[0]).toMatchObject({ eventId: '4409701815:finished', type: 'sale', amount: { minor: 999, currency: 'USD' }, reference: 'pay_01JFANZ0000000000000000777' })
    expect(parsed.ok && parsed.events[0]!.raw).toMatchObject({ pay_currency: 'usdc', actually_paid: '9.99' })
    const short = nowpayments.parsePostback(settings, { ...request, rawBody: nested.replace('"finished"', '"partially_paid"') })
    expect(short.ok && short.events[0]).toMatchObject({ eventId: '4409701815:partially_paid', type: 'failure', reason: 'partially_paid' })
    const expired = nowpayments.parsePostback(settings, { ...request, rawBody: nested.replace('"finished"', '"expired"') })
    expect(expired.ok && expired.events[0]).toMatchObject({ type: 'failure', reason: 'expired' })
    const progress = nowpayments.parsePostback(settings, { ...request, rawBody: nested.replace('"finished"', '"confirming"') })
    expect(progress).toEqual({ ok: true, events: [] })
  })

  it('builds the invoice request in NOWPayments wire format', () => {
    const built = nowpayments.buildCheckout({ apiKey: 'live-key', ipnSecret: 's' }, { kind: 'tip', reference: 'pay_01JFANZ0000000000000000777', amount: { minor: 999, currency: 'USD' }, description: 'Tip', successUrl: 'https://boyfanz.com/c/alex', postbackUrl: 'https://api.fanz.network/api/payments/webhooks/nowpayments' })
    expect(built).toEqual({
      ok: true,
      request: {
        kind: 'api',
        method: 'POST',
        url: 'https://api.nowpayments.io/v1/invoice',
        headers: { 'x-api-key': 'live-key', 'content-type': 'application/json' },
        body: '{"price_amount":9.99,"price_currency":"usd","order_id":"pay_01JFANZ0000000000000000777","order_description":"Tip","ipn_callback_url":"https://api.fanz.network/api/payments/webhooks/nowpayments","success_url":"https://boyfanz.com/c/alex"}',
      },
    })
  })
})
