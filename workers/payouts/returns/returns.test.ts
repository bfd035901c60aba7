import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { auditLog } from '../../compliance/audit'
import { ledgerFor } from '../../ledger/stub'
import { call } from '../../../test/helpers'
import { writeBatchFile } from '../files/batch-file'
import { confirmFile } from '../files/confirm'
import { outboxFor } from '../../sso/mail/outbox'
import { ACH_INDIVIDUAL, ACH_SAVINGS, API, SEPA_ANNA, SEPA_JEAN, addBatch, addMethod, addPayout, fund, newCreator, sandboxReturnFile, strong, summary, weak, withAccount } from '../files/test-kit'
import { pain002Xml } from './pain002-fixture'

const SYSTEM = { env, actor: 'system:test' }
let keyN = 0
const key = () => ({ 'idempotency-key': `"ret-${Date.now()}-${++keyN}"` })

async function achFile(funded = 100_000) {
  const batchId = await addBatch('nacha', 'USD')
  const out: Array<{ id: string; creatorId: string; amount: number; net: number; trace: string; routing: string; account: string; name: string; code: '22' | '32' }> = []
  for (const [m, amount] of [
    [ACH_INDIVIDUAL, 40_000],
    [ACH_SAVINGS, 25_000],
  ] as const) {
    const creatorId = await newCreator()
    await fund(creatorId, 'USD', funded)
    const method = await addMethod(creatorId, m, 'USD')
    const id = await addPayout({ creatorId, methodId: method.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: amount, feeMinor: 25 })
    out.push({ id, creatorId, amount, net: amount - 25, trace: '', routing: m.routingNumber, account: m.accountNumber, name: m.accountHolderName, code: m.accountType === 'savings' ? '32' : '22' })
  }
  const file = await writeBatchFile(env, SYSTEM, batchId)
  for (const p of out) p.trace = (await env.DB.prepare('SELECT processor_ref FROM payouts WHERE id = ?').bind(p.id).first<{ processor_ref: string }>())!.processor_ref
  return { batchId, file, payouts: out }
}

const stateOf = async (id: string) => (await env.DB.prepare('SELECT state, failure_code FROM payouts WHERE id = ?').bind(id).first<{ state: string; failure_code: string | null }>())!

describe('ACH returns', () => {
  it('R01 after confirmation credits the creator back exactly once; a second import of the file changes nothing; an unknown trace is listed', async () => {
    const { batchId, file, payouts } = await achFile()
    await confirmFile(env, SYSTEM, file.fileId, null)
    const [p] = payouts
    expect(await summary(p!.creatorId, 'USD')).toMatchObject({ availableMinor: 60_000, onHoldMinor: 0 })

    const text = sandboxReturnFile([
      { originalTraceNumber: p!.trace, originalReceivingDfi: p!.routing, returnReasonCode: 'R01', originalTransactionCode: p!.code, amountMinor: p!.net, accountNumber: p!.account, individualName: p!.name },
      { originalTraceNumber: '121042889999999', originalReceivingDfi: '231380104', returnReasonCode: 'R03', originalTransactionCode: '22', amountMinor: 777, accountNumber: '1', individualName: 'NOBODY' },
    ])
    const finance = await weak(['finance'])
    const res = await call(API, '/api/payouts/returns/ach', { token: finance, headers: { 'content-type': 'text/plain', ...key() }, body: text })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { entries: number; matched: Array<{ payout_id: string; status: string; code: string; reason: string }>; already_returned: unknown[]; unmatched: Array<{ original_trace: string; why: string; code: string }> }
    expect(out.entries).toBe(2)
    expect(out.matched).toEqual([expect.objectContaining({ payout_id: p!.id, status: 'returned', state: 'returned', code: 'R01', reason: 'Insufficient funds' })])
    expect(out.unmatched).toEqual([expect.objectContaining({ original_trace: '121042889999999', why: 'unknown_trace', code: 'R03' })])
    // the whole payout (amount incl. fee, as the hold posted it) is back
    expect(await summary(p!.creatorId, 'USD')).toMatchObject({ availableMinor: 100_000, onHoldMinor: 0 })
    expect((await ledgerFor(env, p!.creatorId).verify()).ok).toBe(true)

    const again = await call(API, '/api/payouts/returns/ach', { token: finance, headers: { 'content-type': 'application/json', ...key() }, body: { file: text } })
    expect(again.status).toBe(200)
    const second = (await again.json()) as { matched: unknown[]; already_returned: Array<{ payout_id: string }> }
    expect(second.matched).toEqual([])
    expect(second.already_returned.map((r) => r.payout_id)).toEqual([p!.id])
    expect(await summary(p!.creatorId, 'USD')).toMatchObject({ availableMinor: 100_000 })
    expect(await auditLog(env).list({ action: 'payouts.payout.return', subject: `payout:${p!.id}`, limit: 10 })).toHaveLength(1)
    const ret = await env.DB.prepare('SELECT source, code FROM payout_returns WHERE payout_id = ?').bind(p!.id).all()
    expect(ret.results).toEqual([{ source: 'ach_return', code: 'R01' }])
    // the other payout stayed paid; the batch counts a returned payout as paid
    expect((await stateOf(payouts[1]!.id)).state).toBe('settled')
    expect((await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!.state).toBe('settled')
  })

  it('a return before confirmation fails the payout and voids its hold', async () => {
    const { payouts } = await achFile()
    const p = payouts[1]!
    const text = sandboxReturnFile([{ originalTraceNumber: p.trace, originalReceivingDfi: p.routing, returnReasonCode: 'R04', originalTransactionCode: p.code, amountMinor: p.net, accountNumber: p.account, individualName: p.name }])
    const res = await call(API, '/api/payouts/returns/ach', { token: await weak(['finance']), headers: { 'content-type': 'text/plain', ...key() }, body: text })
    const out = (await res.json()) as { matched: Array<{ status: string; state: string }> }
    expect(out.matched).toEqual([expect.objectContaining({ status: 'failed', state: 'failed', code: 'R04', reason: 'Invalid account number' })])
    expect(await stateOf(p.id)).toEqual({ state: 'failed', failure_code: 'R04' })
    expect(await summary(p.creatorId, 'USD')).toMatchObject({ availableMinor: 100_000, onHoldMinor: 0 })
  })

  it('refuses what is not a return file: 422 naming the problem; 403 without payouts:manage', async () => {
    const finance = await weak(['finance'])
    const bad = await call(API, '/api/payouts/returns/ach', { token: finance, headers: { 'content-type': 'text/plain', ...key() }, body: 'not a nacha file' })
    expect(bad.status).toBe(422)
    const { file } = await achFile()
    const outgoing = await (await env.EXPORTS.get(file.r2Key))!.text()
    const noReturns = await call(API, '/api/payouts/returns/ach', { token: finance, headers: { 'content-type': 'text/plain', ...key() }, body: outgoing })
    expect(noReturns.status).toBe(422)
    expect(((await noReturns.json()) as { detail: string }).detail).toContain('no return entries')
    expect((await call(API, '/api/payouts/returns/ach', { token: await weak(['compliance_officer']), headers: { 'content-type': 'text/plain', ...key() }, body: outgoing })).status).toBe(403)
  })
})

describe('SEPA pain.002 rejections', () => {
  it('RJCT before confirmation voids the hold; confirming settles the rest; the batch ends partially failed', async () => {
    const batchId = await addBatch('sepa', 'EUR')
    const ids: Array<{ id: string; creatorId: string }> = []
    for (const m of [SEPA_ANNA, SEPA_JEAN]) {
      const creatorId = await newCreator()
      await fund(creatorId, 'EUR', 50_000)
      const method = await addMethod(creatorId, m, 'EUR')
      ids.push({ id: await addPayout({ creatorId, methodId: method.id, batchId, rail: 'sepa', currency: 'EUR', amountMinor: 20_000, feeMinor: 45 }), creatorId })
    }
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const msgId = file.fileId.replace('_', '-')
    const [rejected, paid] = ids
    const xml = pain002Xml({
      messageId: 'STS-1',
      createdAt: '2026-11-27T10:00:00Z',
      originalMessageId: msgId,
      bankBic: 'COBADEFFXXX',
      instructions: [{ originalPaymentInformationId: `${msgId}-1`, transactions: [{ endToEndId: rejected!.id.replace('_', '-'), status: 'RJCT', reason: 'AC04' }, { endToEndId: 'po-01JNOTOURS000000000000000', status: 'RJCT', reason: 'MS03' }] }],
    })
    const res = await call(API, '/api/payouts/returns/sepa', { token: await weak(['finance']), headers: { 'content-type': 'application/xml', ...key() }, body: xml })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { file_id: string; matched: Array<{ payout_id: string; status: string; code: string; reason: string }>; unmatched: Array<{ why: string; code: string }> }
    expect(out.file_id).toBe(file.fileId)
    expect(out.matched).toEqual([expect.objectContaining({ payout_id: rejected!.id, status: 'failed', code: 'AC04', reason: 'Account closed' })])
    expect(out.unmatched).toEqual([expect.objectContaining({ why: 'unknown_end_to_end_id', code: 'MS03' })])
    expect(await summary(rejected!.creatorId, 'EUR')).toMatchObject({ availableMinor: 50_000, onHoldMinor: 0 })
    expect(await stateOf(paid!.id)).toEqual({ state: 'submitted', failure_code: null })

    const confirmed = await confirmFile(env, SYSTEM, file.fileId, 'bank statement shows the debit')
    expect(confirmed.settled.map((s) => s.payout_id)).toEqual([paid!.id])
    expect(await summary(paid!.creatorId, 'EUR')).toMatchObject({ availableMinor: 30_000, onHoldMinor: 0 })
    expect((await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!.state).toBe('partially_failed')

    // the same report again moves nothing
    const again = (await (await call(API, '/api/payouts/returns/sepa', { token: await weak(['finance']), headers: { 'content-type': 'application/xml', ...key() }, body: xml })).json()) as { matched: unknown[]; already_returned: Array<{ payout_id: string }> }
    expect(again.matched).toEqual([])
    expect(again.already_returned.map((r) => r.payout_id)).toEqual([rejected!.id])
    expect(await summary(rejected!.creatorId, 'EUR')).toMatchObject({ availableMinor: 50_000 })
  })

  it('a whole file rejected at group level fails every payout in it', async () => {
    const batchId = await addBatch('sepa', 'EUR')
    const creatorId = await newCreator()
    await fund(creatorId, 'EUR', 50_000)
    const method = await addMethod(creatorId, SEPA_ANNA, 'EUR')
    const id = await addPayout({ creatorId, methodId: method.id, batchId, rail: 'sepa', currency: 'EUR', amountMinor: 10_000, feeMinor: 0 })
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const xml = pain002Xml({ messageId: 'STS-2', createdAt: '2026-11-27T10:00:00Z', originalMessageId: file.fileId.replace('_', '-'), groupStatus: 'RJCT', groupReason: 'FF01', bankBic: 'COBADEFFXXX', instructions: [] })
    const out = (await (await call(API, '/api/payouts/returns/sepa', { token: await weak(['finance']), headers: { 'content-type': 'application/xml', ...key() }, body: xml })).json()) as { matched: Array<{ payout_id: string; level: string; code: string }> }
    expect(out.matched).toEqual([expect.objectContaining({ payout_id: id, level: 'group', code: 'FF01' })])
    expect((await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!.state).toBe('failed')
    expect(await summary(creatorId, 'EUR')).toMatchObject({ availableMinor: 50_000, onHoldMinor: 0 })
  })
})

describe('manual return', () => {
  it('needs a strong step-up; a settled payout comes back once; a payout that never left cannot', async () => {
    const { file, payouts } = await achFile()
    await confirmFile(env, SYSTEM, file.fileId, null)
    const p = payouts[0]!
    const path = `/api/payouts/payouts/${p.id}/return`
    const body = { code: 'R02', reason: 'bank letter: account closed' }
    expect((await call(API, path, { token: await weak(['finance']), headers: key(), body })).status).toBe(401)
    const email = await withAccount(p.creatorId)
    const finance = await strong(['finance'])
    const res = await call(API, path, { token: finance, headers: key(), body })
    expect(res.status).toBe(200)
    const mails = await outboxFor(env.DB, email)
    expect(mails).toHaveLength(1)
    expect(mails[0]!.textBody).toContain(`Your payout ${p.id} of 400.00 USD was returned by the receiving bank (R02: bank letter: account closed)`)
    expect(mails[0]!.textBody).not.toContain(p.account)
    expect(await res.json()).toMatchObject({ payout_id: p.id, status: 'returned', state: 'returned', code: 'R02', code_text: 'Account closed' })
    expect(await summary(p.creatorId, 'USD')).toMatchObject({ availableMinor: 100_000 })
    const twice = await call(API, path, { token: finance, headers: key(), body })
    expect(await twice.json()).toMatchObject({ status: 'already_returned' })
    expect(await outboxFor(env.DB, email)).toHaveLength(1)
    expect(await summary(p.creatorId, 'USD')).toMatchObject({ availableMinor: 100_000 })

    const batchId = await addBatch('nacha', 'USD')
    const c = await newCreator()
    await fund(c, 'USD', 10_000)
    const m = await addMethod(c, ACH_INDIVIDUAL, 'USD')
    const queued = await addPayout({ creatorId: c, methodId: m.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: 1_000, feeMinor: 0 })
    const refused = await call(API, `/api/payouts/payouts/${queued}/return`, { token: finance, headers: key(), body })
    expect(refused.status).toBe(409)
    const bad = await call(API, path, { token: finance, headers: key(), body: { code: 'nope', reason: 'x' } })
    expect(bad.status).toBe(422)

    const list = (await (await call(API, `/api/payouts/returns?payout_id=${p.id}`, { token: await weak(['finance']) })).json()) as { items: Array<{ source: string; code: string }> }
    expect(list.items).toEqual([expect.objectContaining({ source: 'manual', code: 'R02' })])
  })
})
