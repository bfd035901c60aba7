import { describe, expect, it } from 'vitest'
import { ccbill } from './ccbill'
import { commercegate } from './commercegate'
import { epoch } from './epoch'
import { compileAllowlist } from './ip-allowlist'
import { netbilling } from './netbilling'
import { segpay } from './segpay'
import type { NormalizedEvent, ParseResult, PostbackRequest } from './types'
import { vendo } from './vendo'
import { verotel, verotelSignature } from './verotel'

const TOKEN = 'tok_0123456789abcdef0123'
const allowlist = compileAllowlist(['203.0.113.0/24', '2001:db8:1::/48'])

function events(result: ParseResult): NormalizedEvent[] {
  if (!result.ok) throw new Error(result.reason)
  return result.events
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

describe('CCBill webhooks (IP ranges + URL token)', () => {
  const settings = { flexId: 'f', clientSubacc: '0000', salt: 's', postbackToken: TOKEN }
  const sale = JSON.stringify({
    subscriptionId: '1000000001',
    transactionId: '0912191101000000159',
    clientAccnum: '900100',
    clientSubacc: '0000',
    timestamp: '2026-11-20 10:00:00',
    billedInitialPrice: '19.99',
    billedRecurringPrice: '19.99',
    billedCurrencyCode: '840',
    billedCurrency: 'USD',
    'X-referenceId': 'pay_ccb1',
  })
  const request = (eventType: string, body: string, overrides: Partial<PostbackRequest> = {}): PostbackRequest => ({
    method: 'POST',
    url: `https://api.example.test/webhooks/ccbill?eventType=${eventType}&eventGroupType=Subscription&pbt=${TOKEN}`,
    headers: { 'content-type': 'application/json' },
    rawBody: body,
    sourceIp: '64.38.240.17',
    ...overrides,
  })

  it('accepts a post from the published range with the token', () => {
    expect(ccbill.verifyPostback(settings, request('NewSaleSuccess', sale), 0)).toEqual({ ok: true })
  })

  it('refuses an address one outside the range, a changed token, a missing token', () => {
    expect(ccbill.verifyPostback(settings, request('NewSaleSuccess', sale, { sourceIp: '64.38.240.255' }), 0)).toEqual({ ok: false, reason: 'source_ip_not_allowed' })
    expect(ccbill.verifyPostback(settings, request('NewSaleSuccess', sale, { url: request('NewSaleSuccess', sale).url.replace(TOKEN, `${TOKEN.slice(0, -1)}4`) }), 0)).toEqual({ ok: false, reason: 'bad_postback_token' })
    expect(ccbill.verifyPostback(settings, request('NewSaleSuccess', sale, { url: 'https://api.example.test/webhooks/ccbill?eventType=NewSaleSuccess' }), 0)).toEqual({ ok: false, reason: 'missing_postback_token' })
    expect(ccbill.verifyPostback({ ...settings, postbackToken: `${TOKEN.slice(0, -1)}4` }, request('NewSaleSuccess', sale), 0)).toEqual({ ok: false, reason: 'bad_postback_token' })
  })

  it('parses sale, rebill, refund, chargeback, void, cancellation, expiration with exact amounts', () => {
    expect(events(ccbill.parsePostback(settings, request('NewSaleSuccess', sale)))).toEqual([
      expect.objectContaining({ gateway: 'ccbill', eventId: 'NewSaleSuccess:0912191101000000159', type: 'sale', occurredAt: '2026-11-20T17:00:00.000Z', reference: 'pay_ccb1', subscriptionId: '1000000001', transactionId: '0912191101000000159', amount: { minor: 1999, currency: 'USD' } }),
    ])
    const renewal = form({ subscriptionId: '1000000001', transactionId: '0912191101000000200', timestamp: '2026-12-20 10:00:00', billedAmount: '19.99', billedCurrencyCode: '978' })
    expect(events(ccbill.parsePostback(settings, request('RenewalSuccess', renewal, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })))[0]).toMatchObject({ type: 'rebill', amount: { minor: 1999, currency: 'EUR' } })
    const reversal = (name: string) => JSON.stringify({ subscriptionId: '1000000001', transactionId: '0912191101000000159', timestamp: '2026-12-01 08:30:00', amount: '4.95', currency: 'USD', currencyCode: '840', reason: 'Customer Refunded' })
    expect(events(ccbill.parsePostback(settings, request('Refund', reversal('Refund'))))[0]).toMatchObject({ type: 'refund', eventId: 'Refund:0912191101000000159:2026-12-01 08:30:00', originalTransactionId: '0912191101000000159', transactionId: null, amount: { minor: 495, currency: 'USD' } })
    expect(events(ccbill.parsePostback(settings, request('Chargeback', reversal('Chargeback'))))[0]).toMatchObject({ type: 'chargeback', eventId: 'Chargeback:0912191101000000159', amount: { minor: 495, currency: 'USD' } })
    expect(events(ccbill.parsePostback(settings, request('Void', reversal('Void'))))[0]).toMatchObject({ type: 'void', amount: { minor: 495, currency: 'USD' } })
    const lifecycle = JSON.stringify({ subscriptionId: '1000000001', timestamp: '2027-01-01 00:00:00', reason: 'Billed cancel' })
    expect(events(ccbill.parsePostback(settings, request('Cancellation', lifecycle)))[0]).toMatchObject({ type: 'cancellation', eventId: 'Cancellation:1000000001', amount: null })
    expect(events(ccbill.parsePostback(settings, request('Expiration', lifecycle)))[0]).toMatchObject({ type: 'expiration', eventId: 'Expiration:1000000001' })
    const failure = JSON.stringify({ transactionId: '0912191101000000999', timestamp: '2026-11-20 10:00:00', billedInitialPrice: '1500.00', billedCurrencyCode: '392', failureCode: 'BE-900', failureReason: 'Transaction Denied' })
    expect(events(ccbill.parsePostback(settings, request('NewSaleFailure', failure)))[0]).toMatchObject({ type: 'failure', reason: 'BE-900 Transaction Denied', amount: { minor: 1500, currency: 'JPY' } })
  })
})

describe('Verotel postbacks (signature)', () => {
  const settings = { shopId: '64233', signatureKey: 'BddJxtUBkDgFB9kj7Zwguxde4gAqha' }
  const signedUrl = (params: Record<string, string>, algorithm: 'sha256' | 'sha1' = 'sha256') =>
    `https://api.example.test/webhooks/verotel?${new URLSearchParams({ ...params, signature: verotelSignature(settings.signatureKey, params, algorithm) })}`
  const get = (url: string): PostbackRequest => ({ method: 'GET', url, headers: {}, rawBody: '', sourceIp: '195.20.32.10' })
  const initial = { shopID: '64233', saleID: '8812', transactionID: '99001', referenceID: 'pay_ver1', event: 'initial', type: 'subscription', priceAmount: '12.64', priceCurrency: 'EUR', paymentMethod: 'CC' }

  it('accepts SHA-256 and legacy SHA-1 signatures', () => {
    expect(verotel.verifyPostback(settings, get(signedUrl(initial)), 0)).toEqual({ ok: true })
    expect(verotel.verifyPostback(settings, get(signedUrl(initial, 'sha1')), 0)).toEqual({ ok: true })
    expect(verotel.verifyPostback({ ...settings, acceptSha1: false }, get(signedUrl(initial, 'sha1')), 0)).toEqual({ ok: false, reason: 'unsupported_signature' })
  })

  it('refuses one changed character in a parameter, the signature or the key', () => {
    const url = signedUrl(initial)
    expect(verotel.verifyPostback(settings, get(url.replace('priceAmount=12.64', 'priceAmount=12.65')), 0)).toEqual({ ok: false, reason: 'bad_signature' })
    const sig = new URL(url).searchParams.get('signature') ?? ''
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`
    expect(verotel.verifyPostback(settings, get(url.replace(sig, flipped)), 0)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(verotel.verifyPostback({ ...settings, signatureKey: 'BddJxtUBkDgFB9kj7Zwguxde4gAqhb' }, get(url), 0)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(verotel.verifyPostback(settings, get(url.replace(/&signature=[0-9a-f]+/, '')), 0)).toEqual({ ok: false, reason: 'missing_signature' })
  })

  it('parses initial, rebill, credit, chargeback, cancel, expiry', () => {
    const parse = (params: Record<string, string>) => events(verotel.parsePostback(settings, get(signedUrl(params))))[0]
    expect(parse(initial)).toMatchObject({ type: 'sale', eventId: 'initial:99001', reference: 'pay_ver1', subscriptionId: '8812', amount: { minor: 1264, currency: 'EUR' } })
    expect(parse({ ...initial, event: 'rebill', transactionID: '99002' })).toMatchObject({ type: 'rebill', transactionId: '99002' })
    expect(parse({ shopID: '64233', saleID: '8812', transactionID: '99003', parentID: '99001', event: 'credit', amount: '5.00', currency: 'EUR' })).toMatchObject({ type: 'refund', originalTransactionId: '99001', amount: { minor: 500, currency: 'EUR' } })
    expect(parse({ shopID: '64233', saleID: '8812', transactionID: '99004', parentID: '99001', event: 'chargeback', amount: '12.64', currency: 'EUR' })).toMatchObject({ type: 'chargeback', amount: { minor: 1264, currency: 'EUR' } })
    expect(parse({ shopID: '64233', saleID: '8812', event: 'cancel', cancelledBy: 'buyer' })).toMatchObject({ type: 'cancellation', eventId: 'cancel:8812', amount: null })
    expect(parse({ shopID: '64233', saleID: '8812', event: 'expiry' })).toMatchObject({ type: 'expiration', eventId: 'expiry:8812' })
    expect(parse({ shopID: '64233', saleID: '7001', transactionID: '7001', referenceID: 'pay_ppv', type: 'purchase', priceAmount: '2.64', priceCurrency: 'EUR' })).toMatchObject({ type: 'sale', subscriptionId: null, amount: { minor: 264, currency: 'EUR' } })
  })
})

/** The IP + token gateways share one check; each is exercised through its own adapter. */
function formPost(gateway: string, fields: Record<string, string>, overrides: Partial<PostbackRequest> = {}): PostbackRequest {
  return { method: 'POST', url: `https://api.example.test/webhooks/${gateway}?pbt=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: form(fields), sourceIp: '203.0.113.9', ...overrides }
}

describe('Segpay TransPost / member postbacks', () => {
  const settings = { eticketIds: { purchase: '1:1', subscription: '1:2' }, postbackToken: TOKEN, allowlist }
  const auth = { action: 'Auth', stage: 'Initial', approved: 'Yes', trantype: 'Sale', purchaseid: '55001', tranid: '770001', price: '24.95', currencycode: 'USD', transtime: '2026-11-20T10:00:00Z', ref: 'pay_seg1' }

  it('verifies source range + token and refuses each single change', () => {
    expect(segpay.verifyPostback(settings, formPost('segpay', auth), 0)).toEqual({ ok: true })
    expect(segpay.verifyPostback(settings, formPost('segpay', auth, { sourceIp: '203.0.114.9' }), 0)).toEqual({ ok: false, reason: 'source_ip_not_allowed' })
    expect(segpay.verifyPostback(settings, formPost('segpay', auth, { sourceIp: '2001:db8:2::1' }), 0)).toEqual({ ok: false, reason: 'source_ip_not_allowed' })
    expect(segpay.verifyPostback(settings, formPost('segpay', auth, { sourceIp: '2001:db8:1::1' }), 0)).toEqual({ ok: true })
    expect(segpay.verifyPostback(settings, formPost('segpay', auth, { url: `https://api.example.test/webhooks/segpay?pbt=${TOKEN}x` }), 0)).toEqual({ ok: false, reason: 'bad_postback_token' })
    expect(segpay.verifyPostback({ ...settings, allowlist: [] }, formPost('segpay', auth), 0)).toEqual({ ok: false, reason: 'allowlist_not_configured' })
  })

  it('parses sale, rebill, refund, chargeback, void, failure, cancellation, expiration', () => {
    const parse = (fields: Record<string, string>) => events(segpay.parsePostback(settings, formPost('segpay', fields)))[0]
    expect(parse(auth)).toMatchObject({ type: 'sale', eventId: '770001', reference: 'pay_seg1', subscriptionId: '55001', amount: { minor: 2495, currency: 'USD' } })
    expect(parse({ ...auth, stage: 'Rebill', tranid: '770002' })).toMatchObject({ type: 'rebill' })
    expect(parse({ ...auth, trantype: 'Credit', tranid: '770003', relatedtranid: '770001', price: '-24.95' })).toMatchObject({ type: 'refund', originalTransactionId: '770001', amount: { minor: 2495, currency: 'USD' } })
    expect(parse({ ...auth, trantype: 'Charge', tranid: '770004', relatedtranid: '770001' })).toMatchObject({ type: 'chargeback' })
    expect(parse({ ...auth, action: 'Void', tranid: '770005', relatedtranid: '770001' })).toMatchObject({ type: 'void' })
    expect(parse({ ...auth, approved: 'No', tranid: '770006' })).toMatchObject({ type: 'failure' })
    expect(parse({ action: 'Cancel', purchaseid: '55001', ref: 'pay_seg1' })).toMatchObject({ type: 'cancellation', eventId: 'cancel:55001' })
    expect(parse({ action: 'Disable', purchaseid: '55001' })).toMatchObject({ type: 'expiration' })
  })
})

describe('Epoch Data Plus', () => {
  const settings = { coCode: 'ABC', piCodes: { purchase: 'p1', subscription: 'p2' }, currency: 'USD', postbackToken: TOKEN, allowlist, typeCodes: { N: 'sale', R: 'rebill', C: 'refund', D: 'chargeback', X: 'cancellation' } as const }
  const row = { ets_transaction_id: '123456', ets_member_idx: '998877', ets_transaction_date: '2026-11-20 10:00:00', ets_transaction_type: 'N', ets_co_code: 'ABC', ets_pi_code: 'p2', ets_transaction_amount: '29.95', x_reference: 'pay_ep1' }

  it('verifies and parses rows with exact amounts', () => {
    expect(epoch.verifyPostback(settings, formPost('epoch', row), 0)).toEqual({ ok: true })
    expect(epoch.verifyPostback(settings, formPost('epoch', row, { sourceIp: '198.51.100.1' }), 0)).toEqual({ ok: false, reason: 'source_ip_not_allowed' })
    const parse = (fields: Record<string, string>) => events(epoch.parsePostback(settings, formPost('epoch', fields)))[0]
    expect(parse(row)).toMatchObject({ type: 'sale', eventId: '123456', occurredAt: '2026-11-20T10:00:00.000Z', reference: 'pay_ep1', subscriptionId: '998877', amount: { minor: 2995, currency: 'USD' } })
    expect(parse({ ...row, ets_transaction_id: '123457', ets_transaction_type: 'R' })).toMatchObject({ type: 'rebill' })
    expect(parse({ ...row, ets_transaction_id: '123458', ets_transaction_type: 'C', ets_transaction_amount: '-29.95', ets_ref_trans_ids: '123456' })).toMatchObject({ type: 'refund', originalTransactionId: '123456', amount: { minor: 2995, currency: 'USD' } })
    expect(parse({ ...row, ets_transaction_id: '123459', ets_transaction_type: 'D', ets_ref_trans_ids: '123456' })).toMatchObject({ type: 'chargeback' })
    expect(parse({ ...row, ets_transaction_id: '123460', ets_transaction_type: 'X' })).toMatchObject({ type: 'cancellation', amount: null })
    expect(epoch.parsePostback(settings, formPost('epoch', { ...row, ets_transaction_type: 'Q' }))).toEqual({ ok: false, reason: 'unknown_transaction_type' })
  })
})

describe('Vendo postbacks', () => {
  const settings = { siteId: '1', sharedSecret: '3HDW9B', offers: { purchase: '123', subscription: '124' }, postbackToken: TOKEN, allowlist }
  const tx = { callback: 'transaction', is_test: '1', transaction_id: '40001', transaction_type: '10', subscription_id: '5001', amount: '9.95', currency: 'EUR', merchant_reference: 'pay_ven1', transaction_date: '2026-11-20T10:00:00Z' }

  it('builds a signed checkout link and parses transaction types', () => {
    const result = vendo.buildCheckout(settings, { kind: 'ppv', reference: 'pay_ven1', amount: { minor: 995, currency: 'EUR' }, description: 'Video' })
    if (!result.ok || result.request.kind !== 'redirect') throw new Error('expected a redirect')
    expect(result.request.url).toMatch(/^https:\/\/secure\.vend-o\.com\/v\/signup\?site=1&offers=123&merchant_reference=pay_ven1&amount=9\.95&currency=EUR&signature=[A-Za-z0-9_-]{27}$/)
    expect(vendo.verifyPostback(settings, formPost('vendo', tx), 0)).toEqual({ ok: true })
    expect(vendo.verifyPostback(settings, formPost('vendo', tx, { method: 'GET' }), 0)).toEqual({ ok: false, reason: 'method_not_allowed' })
    const parse = (fields: Record<string, string>) => events(vendo.parsePostback(settings, formPost('vendo', fields)))[0]
    expect(parse(tx)).toMatchObject({ type: 'sale', eventId: '40001', reference: 'pay_ven1', amount: { minor: 995, currency: 'EUR' } })
    expect(parse({ ...tx, transaction_id: '40002', transaction_type: '15' })).toMatchObject({ type: 'rebill' })
    expect(parse({ ...tx, transaction_id: '40003', transaction_type: '31', amount: '2.00', original_transaction_id: '40001' })).toMatchObject({ type: 'refund', amount: { minor: 200, currency: 'EUR' }, originalTransactionId: '40001' })
    expect(parse({ ...tx, transaction_id: '40004', transaction_type: '20' })).toMatchObject({ type: 'chargeback' })
    expect(parse({ ...tx, transaction_id: '40005', transaction_type: '21' })).toMatchObject({ type: 'void' })
  })
})

describe('NETbilling and CommerceGate', () => {
  it('parses NETbilling form results into sale / failure', () => {
    const settings = { accountId: '110006559149', siteTag: 'FANZ', currency: 'USD', postbackToken: TOKEN, allowlist, returnUrl: 'https://api.example.test/webhooks/netbilling' }
    const approved = { Ecom_Ezic_Response_TransactionID: '109704163690', Ecom_Ezic_Response_StatusCode: '1', Ecom_Cost_Total: '5.00', Ecom_ConsumerOrderID: 'pay_nb1' }
    expect(netbilling.verifyPostback(settings, formPost('netbilling', approved), 0)).toEqual({ ok: true })
    expect(events(netbilling.parsePostback(settings, formPost('netbilling', approved)))[0]).toMatchObject({ type: 'sale', eventId: '109704163690', reference: 'pay_nb1', amount: { minor: 500, currency: 'USD' } })
    expect(events(netbilling.parsePostback(settings, formPost('netbilling', { ...approved, Ecom_Ezic_Response_StatusCode: '0' })))[0]).toMatchObject({ type: 'failure' })
    const checkout = netbilling.buildCheckout(settings, { kind: 'tip', reference: 'pay_nb1', amount: { minor: 500, currency: 'USD' }, description: 'Tip' })
    expect(checkout.ok && checkout.request.kind === 'form' && checkout.request.fields.Ecom_Ezic_Fulfillment_ReturnURL).toBe(`https://api.example.test/webhooks/netbilling?pbt=${TOKEN}`)
  })

  it('parses CommerceGate postbacks', () => {
    const settings = { customerId: 'c', websiteId: 'w', offers: { purchase: 'o1', subscription: 'o2' }, postbackToken: TOKEN, allowlist }
    const sale = { transactionType: 'SALE', transactionId: 'CG1', amount: '14.99', currency: 'GBP', externalId: 'pay_cg1', membershipId: 'M1', transactionDate: '2026-11-20T10:00:00Z' }
    const parse = (fields: Record<string, string>) => events(commercegate.parsePostback(settings, formPost('commercegate', fields)))[0]
    expect(commercegate.verifyPostback(settings, formPost('commercegate', sale, { sourceIp: '203.0.112.255' }), 0)).toEqual({ ok: false, reason: 'source_ip_not_allowed' })
    expect(parse(sale)).toMatchObject({ type: 'sale', reference: 'pay_cg1', amount: { minor: 1499, currency: 'GBP' } })
    expect(parse({ ...sale, transactionType: 'CHARGEBACK', transactionId: 'CG2', transactionReferenceId: 'CG1' })).toMatchObject({ type: 'chargeback', originalTransactionId: 'CG1' })
    expect(parse({ ...sale, transactionType: 'EXPIREMEMBERSHIP', transactionId: 'CG3' })).toMatchObject({ type: 'expiration', amount: null })
  })
})
