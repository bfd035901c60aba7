/**
 * ACH notifications of change through the returns import, as finance uses it: creators add their ACH
 * methods through the methods API, are paid in a NACHA file, and the bank's COR file (written by the
 * project's return writer) corrects the methods: applied at once, mailed and audited with masked
 * values, the next file pays the corrected account, a second import changes nothing; corrections
 * that do not validate, codes that do not apply and unknown traces are listed, not applied.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { outboxFor } from '../../sso/mail/outbox'
import { mint, newCreator as newCreatorAccount } from '../../vault/kyc/test-kit'
import { defaultMethod as runDefaultMethod, factsForCreators } from '../eligibility/facts'
import { writeBatchFile } from '../files/batch-file'
import { parseNachaFile } from '../files/nacha/parser'
import { correctedDataOf, type CorrectedValues, type NachaReturnFileInput } from '../files/nacha/return-writer'
import { API, addBatch, addPayout, fund, sandboxReturnFile, weak } from '../files/test-kit'
import { everyMethodOf, methodById, openMethodRow } from '../methods/store'
import { readCorrection, type NocOutcome } from './noc'

const SYSTEM = { env, actor: 'system:test' }
let keyN = 0
const key = () => ({ 'idempotency-key': `"noc-${Date.now()}-${++keyN}"` })

const ALEX = { type: 'ach', routingNumber: '011000015', accountNumber: '123456789', accountType: 'checking', accountHolderName: 'ALEX RIVERS' } as const

interface Paid {
  creatorId: string
  email: string
  methodId: string
  payoutId: string
  trace: string
  method: { routingNumber: string; accountNumber: string; accountType: 'checking' | 'savings'; accountHolderName: string }
}

/** A creator adds the method through the API (strong step-up, as they would), then is paid in a NACHA file. */
async function addAchMethod(method: Paid['method']): Promise<Omit<Paid, 'payoutId' | 'trace'>> {
  const creator = await newCreatorAccount()
  const token = await mint({ roles: ['creator'], subject: creator.userId, amr: ['pwd', 'otp', 'mfa'] })
  const res = await call(API, `/api/payouts/creators/${creator.creatorId}/methods`, { token, headers: key(), body: { method: { type: 'ach', ...method } } })
  expect(res.status).toBe(201)
  const methodId = ((await res.json()) as { method: { id: string } }).method.id
  // three days on: the cool-off is over (no payout goes to a method before)
  await env.DB.prepare('UPDATE payout_methods SET usable_from_ms = ? WHERE id = ?').bind(Date.now() - 1, methodId).run()
  await fund(creator.creatorId, 'USD', 100_000)
  return { creatorId: creator.creatorId, email: creator.email, methodId, method }
}

async function payInOneFile(creators: Array<Omit<Paid, 'payoutId' | 'trace'>>): Promise<Paid[]> {
  const batchId = await addBatch('nacha', 'USD')
  const payouts = []
  for (const c of creators) payouts.push({ ...c, payoutId: await addPayout({ creatorId: c.creatorId, methodId: c.methodId, batchId, rail: 'nacha', currency: 'USD', amountMinor: 10_000, feeMinor: 25 }) })
  await writeBatchFile(env, SYSTEM, batchId)
  const out: Paid[] = []
  for (const p of payouts) {
    const row = await env.DB.prepare('SELECT processor_ref FROM payouts WHERE id = ?').bind(p.payoutId).first<{ processor_ref: string }>()
    out.push({ ...p, trace: row!.processor_ref })
  }
  return out
}

type Correction = NonNullable<NachaReturnFileInput['corrections']>[number]

function correction(p: Paid, changeCode: string, values: CorrectedValues): Correction {
  return {
    originalTraceNumber: p.trace,
    originalReceivingDfi: p.method.routingNumber,
    changeCode,
    correctedData: correctedDataOf(changeCode, values),
    originalTransactionCode: p.method.accountType === 'savings' ? '32' : '22',
    accountNumber: p.method.accountNumber,
    individualName: p.method.accountHolderName,
  }
}

interface ImportBody {
  entries: number
  matched: Array<{ payout_id: string; code: string }>
  unmatched: Array<{ original_trace: string; why: string }>
  notifications_of_change: NocOutcome[]
}

async function importFile(text: string): Promise<ImportBody> {
  const res = await call(API, '/api/payouts/returns/ach', { token: await weak(['finance']), headers: { 'content-type': 'text/plain', ...key() }, body: text })
  expect(res.status).toBe(200)
  return (await res.json()) as ImportBody
}

const details = async (id: string) => openMethodRow(env, (await methodById(env, id))!)
const nocMails = async (email: string) => (await outboxFor(env.DB, email)).filter((m) => m.subject === 'Your bank corrected your payout account details')

/** notifications of change first (the file's point here), returned entries after */
const nocFile = (corrections: Correction[], entries: Parameters<typeof sandboxReturnFile>[0] = []) => sandboxReturnFile(entries, corrections)

describe('ACH notifications of change', () => {
  it('C01 to C07 correct the methods the payouts went to: usable at once, mailed and audited masked; the next file pays the corrected account; a second import changes nothing', async () => {
    const cases: Array<{ code: string; values: CorrectedValues; expect: Paid['method']; summary: string; corrects: string[] }> = [
      { code: 'C01', values: { accountNumber: '99887766' }, expect: { ...ALEX, accountNumber: '99887766' }, summary: 'ACH checking •••• 7766', corrects: ['account_number'] },
      { code: 'C02', values: { routingNumber: '021000021' }, expect: { ...ALEX, routingNumber: '021000021' }, summary: 'ACH checking •••• 6789', corrects: ['routing_number'] },
      {
        code: 'C03',
        values: { routingNumber: '231380104', accountNumber: '12345678901234567' },
        expect: { ...ALEX, routingNumber: '231380104', accountNumber: '12345678901234567' },
        summary: 'ACH checking •••• 4567',
        corrects: ['routing_number', 'account_number'],
      },
      { code: 'C04', values: { name: 'ALEX RIVERS-STONE' }, expect: { ...ALEX, accountHolderName: 'ALEX RIVERS-STONE' }, summary: 'ACH checking •••• 6789', corrects: ['account_holder_name'] },
      { code: 'C05', values: { transactionCode: '32' }, expect: { ...ALEX, accountType: 'savings' }, summary: 'ACH savings •••• 6789', corrects: ['account_type'] },
      { code: 'C06', values: { accountNumber: '5550001234', transactionCode: '32' }, expect: { ...ALEX, accountNumber: '5550001234', accountType: 'savings' }, summary: 'ACH savings •••• 1234', corrects: ['account_number', 'account_type'] },
      {
        code: 'C07',
        values: { routingNumber: '021000021', accountNumber: '44455566677', transactionCode: '32' },
        expect: { routingNumber: '021000021', accountNumber: '44455566677', accountType: 'savings', accountHolderName: 'ALEX RIVERS' },
        summary: 'ACH savings •••• 6677',
        corrects: ['routing_number', 'account_number', 'account_type'],
      },
    ]
    const creators = []
    for (let i = 0; i < cases.length; i++) creators.push(await addAchMethod({ ...ALEX }))
    const paid = await payInOneFile(creators)
    const text = nocFile(cases.map((c, i) => correction(paid[i]!, c.code, c.values)))
    const before = Date.now()

    const out = await importFile(text)
    expect(out.entries).toBe(0)
    expect(out.matched).toEqual([])
    expect(out.notifications_of_change).toHaveLength(cases.length)
    for (const [i, c] of cases.entries()) {
      const p = paid[i]!
      const n = out.notifications_of_change.find((x) => x.original_trace === p.trace)!
      expect(n).toMatchObject({ change_code: c.code, status: 'applied', payout_id: p.payoutId, creator_id: p.creatorId, old_method_id: p.methodId, old_summary: 'ACH checking •••• 6789', new_summary: c.summary, corrects: c.corrects, notified: true })
      expect(n.new_method_id).toMatch(/^pm_/)
      expect(n.new_method_id).not.toBe(p.methodId)
      // the corrected details, sealed like any method; the holder type keeps its default
      expect(await details(n.new_method_id!)).toEqual({ type: 'ach', ...c.expect, holderType: 'individual' })
      const [now, old] = await everyMethodOf(env, p.creatorId)
      expect(now!.id).toBe(n.new_method_id)
      expect(now!.removedAtMs).toBeNull()
      expect(now!.isDefault).toBe(true)
      // no cool-off for the bank's correction: usable at once
      expect(now!.usableFromMs).toBeLessThanOrEqual(Date.now())
      expect(now!.usableFromMs).toBeGreaterThanOrEqual(before)
      expect(old!.id).toBe(p.methodId)
      expect(old!.removedAtMs).not.toBeNull()

      const mails = await nocMails(p.email)
      expect(mails).toHaveLength(1)
      expect(mails[0]!.textBody).toContain(`${c.code}: `)
      expect(mails[0]!.textBody).toContain(`ACH checking •••• 6789 is now ${c.summary}`)
      expect(mails[0]!.textBody).not.toContain(c.expect.accountNumber)

      const audits = await auditLog(env).list({ action: 'payouts.method.noc_applied', subject: `payout_method:${n.new_method_id}`, limit: 10 })
      expect(audits).toHaveLength(1)
      const logged = JSON.parse(audits[0]!.details) as Record<string, unknown>
      expect(logged).toMatchObject({ creator_id: p.creatorId, payout_id: p.payoutId, replaces: p.methodId, change_code: c.code, before: 'ACH checking •••• 6789', after: c.summary, original_trace: p.trace })
      // masked values only: neither the old nor the corrected account number, nor the raw corrected data
      expect(audits[0]!.details).not.toContain(ALEX.accountNumber)
      expect(audits[0]!.details).not.toContain(c.expect.accountNumber)
    }
    // the response is stored by the idempotency layer: masked there too
    expect(JSON.stringify(out)).not.toContain('44455566677')
    expect(JSON.stringify(out)).not.toContain('123456789')

    // the next payout of the C07 creator: the run picks the corrected method, the file pays its account
    const c07 = paid[cases.findIndex((c) => c.code === 'C07')]!
    const [facts] = await factsForCreators(env.DB, [c07.creatorId])
    const next = runDefaultMethod(facts!.methods)!
    expect(next.id).toBe(out.notifications_of_change.find((x) => x.original_trace === c07.trace)!.new_method_id)
    expect(next.usableFromMs).toBeLessThanOrEqual(Date.now())
    const batchId = await addBatch('nacha', 'USD')
    await addPayout({ creatorId: c07.creatorId, methodId: next.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: 5_000, feeMinor: 25 })
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const parsed = parseNachaFile(await (await env.EXPORTS.get(file.r2Key))!.text())
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    const entries = parsed.file.batches.flatMap((b) => b.entries)
    expect(entries.map((e) => [e.receivingDfi, e.accountNumber, e.transactionCode, e.amountMinor])).toEqual([['021000021', '44455566677', '32', 4_975]])

    // the same file again: every correction is already applied, nothing new is written, mailed or audited
    const again = await importFile(text)
    for (const [i] of cases.entries()) {
      const p = paid[i]!
      const first = out.notifications_of_change.find((x) => x.original_trace === p.trace)!
      expect(again.notifications_of_change.find((x) => x.original_trace === p.trace)).toMatchObject({ status: 'already_applied', payout_id: p.payoutId, new_method_id: first.new_method_id, notified: false })
      expect(await everyMethodOf(env, p.creatorId)).toHaveLength(2)
      expect(await nocMails(p.email)).toHaveLength(1)
      expect(await auditLog(env).list({ action: 'payouts.method.noc_applied', subject: `payout_method:${first.new_method_id}`, limit: 10 })).toHaveLength(1)
    }
  })

  it('a C02 with a wrong check digit is invalid and not applied; C09 is not applicable; an unknown trace is unmatched; a return in the same file still returns', async () => {
    const [bad, c09, returned] = await payInOneFile([await addAchMethod({ ...ALEX }), await addAchMethod({ ...ALEX }), await addAchMethod({ ...ALEX })])
    const stranger = { ...bad!, trace: '121042889999999' }
    const text = nocFile(
      [correction(bad!, 'C02', { routingNumber: '021000022' }), correction(c09!, 'C09', { individualId: 'NEW ID 42' }), correction(stranger, 'C01', { accountNumber: '1111' })],
      [{ originalTraceNumber: returned!.trace, originalReceivingDfi: ALEX.routingNumber, returnReasonCode: 'R03', originalTransactionCode: '22', amountMinor: 9_975, accountNumber: ALEX.accountNumber, individualName: ALEX.accountHolderName }],
    )
    const out = await importFile(text)
    expect(out.matched).toEqual([expect.objectContaining({ payout_id: returned!.payoutId, code: 'R03' })])
    const by = (trace: string, code: string) => out.notifications_of_change.find((n) => n.original_trace === trace && n.change_code === code)!
    expect(by(bad!.trace, 'C02')).toMatchObject({ status: 'invalid', payout_id: bad!.payoutId, old_method_id: bad!.methodId, new_method_id: null, meaning: 'Incorrect routing number' })
    expect(by(bad!.trace, 'C02').detail).toContain('routingNumber: not a valid ABA routing number')
    expect(by(c09!.trace, 'C09')).toMatchObject({ status: 'not_applicable', payout_id: c09!.payoutId, new_method_id: null, meaning: 'Incorrect individual identification number' })
    expect(by(stranger.trace, 'C01')).toMatchObject({ status: 'unmatched', payout_id: null, detail: 'no NACHA payout carries this trace number' })
    // nothing changed: each creator still has the one method they entered, in use
    for (const p of [bad!, c09!]) {
      const rows = await everyMethodOf(env, p.creatorId)
      expect(rows.map((r) => [r.id, r.removedAtMs])).toEqual([[p.methodId, null]])
      expect(await details(p.methodId)).toMatchObject({ routingNumber: ALEX.routingNumber })
      expect(await nocMails(p.email)).toEqual([])
    }
    const imported = await auditLog(env).list({ action: 'payouts.returns.import', limit: 100 })
    const mine = imported.map((e) => JSON.parse(e.details) as { notifications_of_change?: Array<{ trace: string; status: string }> }).find((d) => d.notifications_of_change?.some((n) => n.trace === bad!.trace))
    expect(mine!.notifications_of_change!.map((n) => n.status).sort()).toEqual(['invalid', 'not_applicable', 'unmatched'])
  })

  it('two notifications about two payouts to the same method both apply, the second on top of the first; one about a method the creator replaced since is not applied', async () => {
    const alex = await addAchMethod({ ...ALEX })
    const [first] = await payInOneFile([alex])
    const [second] = await payInOneFile([alex])
    const sam = await addAchMethod({ ...ALEX })
    const [samPaid] = await payInOneFile([sam])
    // Sam changes the account himself (through the API) before the bank's notification arrives
    const token = await mint({ roles: ['creator'], subject: (await env.DB.prepare('SELECT user_id FROM creators WHERE id = ?').bind(sam.creatorId).first<{ user_id: string }>())!.user_id, amr: ['pwd', 'otp', 'mfa'] })
    const replaced = await call(API, `/api/payouts/creators/${sam.creatorId}/methods/${sam.methodId}/replace`, { token, headers: key(), body: { method: { ...ALEX, accountNumber: '70707070' } } })
    expect(replaced.status).toBe(201)

    const out = await importFile(
      nocFile([correction(first!, 'C02', { routingNumber: '021000021' }), correction(second!, 'C01', { accountNumber: '99887766' }), correction(samPaid!, 'C01', { accountNumber: '99887766' })]),
    )
    const [c02, c01, samNoc] = [first!, second!, samPaid!].map((p) => out.notifications_of_change.find((n) => n.original_trace === p.trace)!)
    expect(c02).toMatchObject({ status: 'applied', old_method_id: alex.methodId })
    expect(c01).toMatchObject({ status: 'applied', old_method_id: c02!.new_method_id })
    expect(await details(c01!.new_method_id!)).toMatchObject({ routingNumber: '021000021', accountNumber: '99887766' })
    expect((await everyMethodOf(env, alex.creatorId)).filter((r) => r.removedAtMs === null).map((r) => r.id)).toEqual([c01!.new_method_id])
    expect(samNoc).toMatchObject({ status: 'not_applicable', payout_id: samPaid!.payoutId, new_method_id: null })
    expect(samNoc!.detail).toContain('replaced or removed by the creator')
    expect(await everyMethodOf(env, sam.creatorId)).toHaveLength(2)
  })
})

describe('reading the corrected data', () => {
  it('reads values at the Nacha positions, and the same values when a bank right-justifies the last one (as moov-io/ach writes C03/C06/C07)', () => {
    expect(readCorrection('C06', `${'987'.padEnd(20)}32`)).toEqual({ ok: true, patch: { accountNumber: '987', accountType: 'savings' } })
    expect(readCorrection('C06', `987${'22'.padStart(26)}`)).toEqual({ ok: true, patch: { accountNumber: '987', accountType: 'checking' } })
    expect(readCorrection('C07', `021000021${'44455566677'.padEnd(17)}32`)).toEqual({ ok: true, patch: { routingNumber: '021000021', accountNumber: '44455566677', accountType: 'savings' } })
    expect(readCorrection('C07', `02100002144455566677${'32'.padStart(9)}`)).toEqual({ ok: true, patch: { routingNumber: '021000021', accountNumber: '44455566677', accountType: 'savings' } })
    expect(readCorrection('C03', `021000021${'12345'.padStart(20)}`)).toEqual({ ok: true, patch: { routingNumber: '021000021', accountNumber: '12345' } })
  })

  it('refuses what a method cannot take: a general ledger account, a debit code, an account with a blank inside, a blank value', () => {
    expect(readCorrection('C05', '42')).toEqual({ ok: false, why: 'transaction code 42 is a general ledger or loan account: we pay checking and savings accounts only' })
    expect(readCorrection('C05', '27')).toEqual({ ok: false, why: '"27" is not a credit transaction code (22/32)' })
    expect(readCorrection('C03', '021000021   1234 5678')).toEqual({ ok: false, why: 'the corrected account number holds a blank' })
    expect(readCorrection('C01', ' '.repeat(29))).toEqual({ ok: false, why: 'the corrected account number is blank' })
    expect(readCorrection('C09', 'ANYTHING')).toMatchObject({ ok: false })
    expect(readCorrection('C99', 'ANYTHING')).toEqual({ ok: false, why: 'C99 is not a Nacha change code' })
  })
})
