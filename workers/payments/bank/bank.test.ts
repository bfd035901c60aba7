/**
 * Bank-transfer pay-ins end to end: payments opened the way checkout opens them (pending,
 * gateway bank_transfer, method sepa/ach/wire, bank_reference = bankReferenceFor(id)), the
 * instructions page, then statements imported through the API and matched into the creator ledger.
 * The fixtures' references were computed outside this code (ISO 11649 by hand), so they also check
 * `bankReferenceFor`.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { getConfig } from '../../config'
import { ledgerFor } from '../../ledger/stub'
import { adapterFor } from '../gateways/registry'
import { gatewaySettings } from '../webhooks/settings'
import camt from './fixtures/camt053-sepa.xml?raw'
import camtNextDay from './fixtures/camt053-next-day.xml?raw'
import csv from './fixtures/ach-wire.csv?raw'
import { parseCamt053 } from './camt053'
import { parseCsvStatement } from './csv'
import { isValidIban, isValidRoutingNumber } from './iban'
import { referencesInText } from './match'
import { bankReferenceFor } from './reference'

const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'
const FAN = 'usr_01JFANZDEM0000000000000003'
const id = (v: string) => `pay_01JFANZBK${v}`.padEnd(30, '0')

async function openPayment(paymentId: string, method: 'sepa' | 'ach' | 'wire', amountMinor: number, currency: string): Promise<void> {
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payments (id, kind, brand_id, creator_id, fan_user_id, amount_minor, currency, gateway, mid_id, status, method, country, bank_reference, created_at_ms, updated_at_ms)
     VALUES (?, 'tip', ?, ?, ?, ?, ?, 'bank_transfer', 'mid_01JFANZ0000000000000000003', 'pending', ?, 'DE', ?, ?, ?)`,
  )
    .bind(paymentId, BRAND, CREATOR, FAN, amountMinor, currency, method, bankReferenceFor(paymentId), now, now)
    .run()
}

const pending = async (currency: string) => (await ledgerFor(env, CREATOR).balances(currency)).summary[0]?.pendingMinor ?? 0
const statusOf = async (paymentId: string) => ((await env.DB.prepare('SELECT status FROM payments WHERE id = ?').bind(paymentId).first()) as { status: string }).status

let financeToken: string | undefined
/** One finance caller throughout: Idempotency-Keys are scoped to the caller. */
const finance = async () => (financeToken ??= await tokenFor(['finance'], { subject: 'usr_01JFANZF1NANCE000000000001' }))

async function upload(body: string, type: string, key: string): Promise<Response> {
  return call('api.localhost', '/api/payments/bank-statements', { token: await finance(), headers: { 'content-type': type, 'idempotency-key': `"${key}"` }, body })
}

type Imported = { statement: { id: string; entries: number; matched: number; skipped_debits_or_unbooked: number }; entries: Array<{ entry_ref: string; status: string; payment_id: string | null; amount_minor: number; detail: string | null; debtor_name: string | null }> }

describe('account details and references', () => {
  it('validates IBANs, routing numbers and finds references the way fans type them', () => {
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true)
    expect(isValidIban('DE89 3704 0044 0532 0130 00')).toBe(true)
    expect(isValidIban('DE89 3704 0044 0532 0130 01')).toBe(false)
    expect(isValidRoutingNumber('110000000')).toBe(true)
    expect(isValidRoutingNumber('110000001')).toBe(false)
    expect(bankReferenceFor(id('S1'))).toBe('RF59NZBKS1000000000000000')
    expect(referencesInText('boyfanz tip rf08 nzbk s200 0000 0000 0000 0 danke')).toEqual(['RF08NZBKS2000000000000000'])
    expect(referencesInText('RF03 NZBK S410 0000 0000 0000 0')).toEqual([])
  })
})

describe('bank-transfer checkout', () => {
  it('sends the fan to signed instructions with the receiving account and the reference in groups of four', async () => {
    const paymentId = id('M1')
    await openPayment(paymentId, 'sepa', 2500, 'EUR')
    const settings = (await gatewaySettings(env, getConfig(env), 'bank_transfer'))!
    const built = adapterFor('bank_transfer').buildCheckout(settings, { kind: 'tip', reference: paymentId, amount: { minor: 2500, currency: 'EUR' }, description: 'Tip', successUrl: 'http://boyfanz.localhost/c/alex' })
    expect(built.ok && built.request.kind).toBe('redirect')
    const url = new URL(built.ok && built.request.kind === 'redirect' ? built.request.url : '')
    const res = await call('localhost', url.pathname + url.search)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Send 25.00 EUR by bank transfer')
    expect(html).toContain('RF15 NZBK M100 0000 0000 0000 0')
    expect(html).toContain('DE89 3704 0044 0532 0130 00')
    expect(html).toContain('COBADEFFXXX')
    // SEPA payment: no ACH details shown
    expect(html).not.toContain('110000000')
    const tampered = await call('localhost', url.pathname + url.search.replace('amount=2500', 'amount=25'))
    expect(tampered.status).toBe(400)
    // no postbacks for bank transfers
    const postback = await call('api.localhost', '/api/payments/webhooks/bank_transfer', { body: { any: 'thing' } })
    expect(postback.status).toBe(400)
  })
})

describe('camt.053 statement import', () => {
  it('matches exact credits once, lists mismatched and unmatched ones, refuses a re-import, and a manual match credits once', async () => {
    await openPayment(id('S1'), 'sepa', 2500, 'EUR')
    await openPayment(id('S2'), 'sepa', 2500, 'EUR')
    await openPayment(id('S3'), 'sepa', 2500, 'EUR')
    await openPayment(id('S4'), 'sepa', 1800, 'EUR')
    await openPayment(id('S5'), 'wire', 4000, 'EUR')
    const before = await pending('EUR')

    const res = await upload(camt, 'application/xml', 'camt-1')
    expect(res.status).toBe(201)
    const imported = (await res.json()) as Imported
    expect(imported.statement).toMatchObject({ entries: 5, matched: 2, skipped_debits_or_unbooked: 2 })
    expect(imported.entries.map((e) => [e.entry_ref, e.status, e.payment_id])).toEqual([
      ['2026112500010001', 'matched', id('S1')],
      ['2026112500010002', 'matched', id('S2')],
      ['2026112500010003', 'amount_mismatch', id('S3')],
      ['2026112500010004', 'unmatched', null],
      ['2026112500010005', 'unmatched', null],
    ])
    expect(imported.entries[2]!.detail).toBe(`received 20.00 EUR, payment ${id('S3')} expects 25.00 EUR`)
    expect(imported.entries[3]!.debtor_name).toBe('Sam & Lee GbR')
    expect(await statusOf(id('S1'))).toBe('succeeded')
    expect(await statusOf(id('S2'))).toBe('succeeded')
    expect(await statusOf(id('S3'))).toBe('pending')
    expect(await statusOf(id('S4'))).toBe('pending')
    // 2 x 25.00 EUR, no processor fee: 20% platform = 5.00, creator 20.00, 5% reserve 1.00 -> 19.00 pending each
    expect((await pending('EUR')) - before).toBe(3800)
    const events = await env.DB.prepare(`SELECT event_id, status, amount_minor FROM gateway_events WHERE gateway = 'bank_transfer' ORDER BY event_id`).all()
    expect(events.results).toEqual([
      { event_id: '2026112500010001', status: 'applied', amount_minor: 2500 },
      { event_id: '2026112500010002', status: 'applied', amount_minor: 2500 },
    ])
    // the raw file is kept
    const kept = await env.EXPORTS.list({ prefix: 'payments/bank-statements/' })
    expect(kept.objects.some((o) => o.key.endsWith(`${imported.statement.id}.xml`))).toBe(true)

    // the same request again: the stored answer; the same file under a new key: 409
    const replay = await upload(camt, 'application/xml', 'camt-1')
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    const again = await upload(camt, 'application/xml', 'camt-2')
    expect(again.status).toBe(409)
    expect(((await again.json()) as { statement_id: string }).statement_id).toBe(imported.statement.id)
    expect((await pending('EUR')) - before).toBe(3800)

    // the next statement re-sends one entry (duplicate, nothing moves) and brings a new credit
    const next = (await (await upload(camtNextDay, 'application/xml', 'camt-3')).json()) as Imported
    expect(next.entries.map((e) => [e.entry_ref, e.status])).toEqual([
      ['2026112500010001', 'duplicate'],
      ['2026112600020001', 'matched'],
    ])
    expect(await statusOf(id('S5'))).toBe('succeeded')
    expect((await pending('EUR')) - before).toBe(3800 + 3040)

    // listed for finance
    const token = await finance()
    const list = (await (await call('api.localhost', '/api/payments/bank-statements', { token })).json()) as { items: Array<{ id: string }> }
    expect(list.items.map((s) => s.id).slice(0, 2)).toEqual([next.statement.id, imported.statement.id])
    const open = (await (await call('api.localhost', `/api/payments/bank-statements/${imported.statement.id}?status=amount_mismatch`, { token })).json()) as { items: Array<{ entry_ref: string }> }
    expect(open.items.map((e) => e.entry_ref)).toEqual(['2026112500010003'])
    const dupes = (await (await call('api.localhost', `/api/payments/bank-statements/${next.statement.id}?status=duplicate`, { token })).json()) as { items: Array<{ entry_ref: string }> }
    expect(dupes.items.map((e) => e.entry_ref)).toEqual(['2026112500010001'])

    // finance accepts the short payment: the ledger is credited what arrived (20.00), once
    const match = (key: string, entry: string, body: Record<string, unknown>) =>
      call('api.localhost', `/api/payments/bank-statements/${imported.statement.id}/entries/${entry}/match`, { token, headers: { 'idempotency-key': `"${key}"` }, body })
    const matched = await match('m-1', '2026112500010003', { payment_id: id('S3'), reason: 'fan confirmed by email; accept 20.00' })
    expect(matched.status).toBe(200)
    expect(((await matched.json()) as { entry: { status: string }; ledger: { status: string } })).toMatchObject({ entry: { status: 'manual' }, ledger: { status: 'applied' } })
    expect(await statusOf(id('S3'))).toBe('succeeded')
    // 20.00: platform 4.00, creator 16.00, reserve 0.80 -> 15.20 pending
    expect((await pending('EUR')) - before).toBe(3800 + 3040 + 1520)
    expect((await match('m-1', '2026112500010003', { payment_id: id('S3'), reason: 'fan confirmed by email; accept 20.00' })).headers.get('idempotent-replayed')).toBe('true')
    expect((await match('m-2', '2026112500010003', { payment_id: id('S3'), reason: 'again' })).status).toBe(409)
    // the mistyped reference's 18.00 belongs to S4 (18.00): matched by hand
    expect((await match('m-3', '2026112500010005', { payment_id: id('S4'), reason: 'reference mistyped KS41 for KS40' })).status).toBe(200)
    expect((await pending('EUR')) - before).toBe(3800 + 3040 + 1520 + 1368)
    // a matched entry cannot be matched again, a card payment never
    expect((await match('m-4', '2026112500010004', { payment_id: id('S1'), reason: 'wrong payment' })).status).toBe(409)
    const audit = await env.DB.prepare(`SELECT COUNT(*) AS n FROM gateway_events WHERE gateway = 'bank_transfer' AND status = 'applied'`).first<{ n: number }>()
    expect(audit!.n).toBe(5)
    expect((await call('api.localhost', '/api/payments/bank-statements', { token: await tokenFor(['fan']) })).status).toBe(403)
  })

  it('refuses bad XML and bad entries with 400 naming the line and field', async () => {
    const broken = await upload(camt.replace('<Sts>BOOK</Sts>', '<Sts>BOOK</Stz>'), 'application/xml', 'bad-1')
    expect(broken.status).toBe(400)
    const brokenBody = (await broken.json()) as { errors: Array<{ path: string; message: string }> }
    expect(brokenBody.errors[0]!.path).toMatch(/^body: line \d+, column \d+$/)
    const noAmount = await upload(camt.replace('<Amt Ccy="EUR">12.00</Amt>', '<Amt Ccy="EUR">12,00</Amt>'), 'application/xml', 'bad-2')
    expect(noAmount.status).toBe(400)
    const line = camt.split('\n').findIndex((l) => l.includes('<NtryRef>4</NtryRef>'))
    expect(((await noAmount.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(`body: line ${line}: Stmt.Ntry[3].Amt`)
    expect((await upload('not a statement', 'application/json', 'bad-3')).status).toBe(415)
    expect(() => parseCamt053(camt.replace('camt.053.001.02"', 'camt.052.001.02"'))).toThrow(/camt.053/)
  })
})

describe('CSV statement import', () => {
  it('matches ACH and wire credits by reference, lists the rest, and a manual match credits once', async () => {
    await openPayment(id('A1'), 'ach', 999, 'USD')
    await openPayment(id('A2'), 'ach', 999, 'USD')
    await openPayment(id('A3'), 'ach', 999, 'USD')
    await openPayment(id('W1'), 'wire', 15000, 'USD')
    const before = await pending('USD')
    const parsed = parseCsvStatement(csv)
    expect(parsed.entries[1]).toMatchObject({ entryRef: 'WIRE-20261125-0042', amountMinor: 15000, debtorName: 'Acme Holdings LLC' })
    expect(parsed.entries[2]!.debtorName).toBe('Doe, Jane')

    const imported = (await (await upload(csv, 'text/csv', 'csv-1')).json()) as Imported
    expect(imported.statement).toMatchObject({ entries: 4, matched: 2, skipped_debits_or_unbooked: 1 })
    expect(imported.entries.map((e) => [e.entry_ref, e.status, e.payment_id])).toEqual([
      ['ACH-20261125-0001', 'matched', id('A1')],
      ['WIRE-20261125-0042', 'matched', id('W1')],
      ['ACH-20261125-0002', 'unmatched', null],
      ['ACH-20261126-0003', 'amount_mismatch', id('A2')],
    ])
    // 9.99: platform 1.99, creator 8.00, reserve 0.40 -> 7.60; 150.00: 30.00, 120.00, 6.00 -> 114.00
    expect((await pending('USD')) - before).toBe(760 + 11400)
    expect((await upload(csv, 'text/csv', 'csv-2')).status).toBe(409)

    const token = await finance()
    await openPayment(id('E1'), 'sepa', 500, 'EUR')
    const res = await call('api.localhost', `/api/payments/bank-statements/${imported.statement.id}/entries/ACH-20261125-0002/match`, {
      token,
      headers: { 'idempotency-key': '"csv-m-1"' },
      body: { payment_id: id('A3'), reason: 'fan wrote the creator name instead of the reference' },
    })
    expect(res.status).toBe(200)
    expect((await pending('USD')) - before).toBe(760 + 11400 + 760)
    const wrongCurrency = await call('api.localhost', `/api/payments/bank-statements/${imported.statement.id}/entries/ACH-20261126-0003/match`, {
      token,
      headers: { 'idempotency-key': '"csv-m-2"' },
      body: { payment_id: id('E1'), reason: 'wrong one' },
    })
    expect(wrongCurrency.status).toBe(422)
    expect(((await wrongCurrency.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.payment_id')

    const bad = await upload('date,amount,currency,reference,entry_id\n2026-11-25,9.99,USD,x,E1\n2026-13-01,1.00,USD,x,E2\n', 'text/csv', 'csv-bad')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body: line 3, column date')
    const noHeader = await upload('2026-11-25,9.99,USD,x,E1\n', 'text/csv', 'csv-bad-2')
    expect(((await noHeader.json()) as { errors: Array<{ path: string; message: string }> }).errors[0]!.message).toContain('header has no column date')
  })
})
