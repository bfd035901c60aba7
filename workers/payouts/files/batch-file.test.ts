import { env } from 'cloudflare:workers'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { auditLog } from '../../compliance/audit'
import { sha256Hex } from '../../lib/encoding'
import { ledgerFor } from '../../ledger/stub'
import { call } from '../../../test/helpers'
import { writeBatchFile } from './batch-file'
import { CHECK_COLUMNS, WIRE_COLUMNS } from './build'
import { parseNachaFile } from './nacha/parser'
import { ACH_BUSINESS, ACH_INDIVIDUAL, ACH_SAVINGS, API, SEPA_ANNA, SEPA_JEAN, addBatch, addMethod, addPayout, fund, newCreator, strong, summary, weak } from './test-kit'

const SYSTEM = { env, actor: 'system:test' }

async function achBatch() {
  const batchId = await addBatch('nacha', 'USD')
  const specs = [
    { method: ACH_INDIVIDUAL, amount: 125_000, fee: 25 },
    { method: ACH_SAVINGS, amount: 9_999, fee: 25 },
    { method: ACH_BUSINESS, amount: 50_001, fee: 25 },
  ]
  const payouts: Array<{ id: string; creatorId: string; amount: number; net: number }> = []
  for (const s of specs) {
    const creatorId = await newCreator()
    await fund(creatorId, 'USD', 200_000)
    const m = await addMethod(creatorId, s.method, 'USD')
    const id = await addPayout({ creatorId, methodId: m.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: s.amount, feeMinor: s.fee })
    payouts.push({ id, creatorId, amount: s.amount, net: s.amount - s.fee })
  }
  return { batchId, payouts }
}

async function stored(r2Key: string): Promise<string> {
  return (await (await env.EXPORTS.get(r2Key))!.text())
}

describe('writeBatchFile: NACHA', () => {
  it('writes a structurally exact file from real payouts: PPD with PAYROLL, CCD for the business, traces as processor refs', async () => {
    const { batchId, payouts } = await achBatch()
    const now = Date.UTC(2026, 10, 26, 18, 0) // a Thursday: effective entry date Friday 2026-11-27
    const file = await writeBatchFile(env, SYSTEM, batchId, now)
    expect(file.format).toBe('nacha')
    expect(file.entryCount).toBe(3)
    // nets: 124975 + 9974 + 49976
    expect(file.totalMinor).toBe(184_925)

    const text = await stored(file.r2Key)
    const lines = text.split('\n').slice(0, -1)
    expect(lines.every((l) => l.length === 94)).toBe(true)
    expect(lines.length % 10).toBe(0)
    const parsed = parseNachaFile(text)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    const [ppd, ccd] = parsed.file.batches
    expect(ppd!.secCode).toBe('PPD')
    expect(ppd!.companyEntryDescription).toBe('PAYROLL')
    expect(ppd!.effectiveEntryDate).toBe('2026-11-27')
    expect(ccd!.secCode).toBe('CCD')
    expect(ppd!.entries.map((e) => e.amountMinor).sort((a, b) => a - b)).toEqual([9_974, 124_975])
    expect(ccd!.entries.map((e) => [e.amountMinor, e.individualName, e.transactionCode])).toEqual([[49_976, 'RIVERS MEDIA LLC', '22']])
    expect(ppd!.entries.find((e) => e.amountMinor === 9_974)!.transactionCode).toBe('32')
    // entry hash: 01100001 + 23138010 (PPD), 02100002 (CCD)
    expect(ppd!.control.entryHash).toBe(1_100_001 + 23_138_010)
    expect(parsed.file.control).toMatchObject({ batchCount: 2, entryHash: 1_100_001 + 23_138_010 + 2_100_002, totalCreditMinor: 184_925, totalDebitMinor: 0, entryAddendaCount: 6 })

    const row = (await env.DB.prepare('SELECT * FROM payout_files WHERE id = ?').bind(file.fileId).first<{ sha256_hex: string; byte_length: number; batch_id: string }>())!
    expect(row.sha256_hex).toBe(sha256Hex(new TextEncoder().encode(text)))
    expect(row.byte_length).toBe(text.length)
    const traces = new Map(parsed.file.batches.flatMap((b) => b.entries.map((e) => [e.addenda[0]!.paymentRelatedInformation.split(' ').at(-1)!, e.traceNumber])))
    for (const p of payouts) {
      const after = (await env.DB.prepare('SELECT state, processor_ref FROM payouts WHERE id = ?').bind(p.id).first<{ state: string; processor_ref: string }>())!
      expect(after.state).toBe('submitted')
      expect(after.processor_ref).toBe(traces.get(p.id))
      expect(after.processor_ref).toMatch(/^12104288\d{7}$/)
    }
    const batch = (await env.DB.prepare('SELECT state, external_ref FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string; external_ref: string }>())!
    expect(batch).toEqual({ state: 'submitted', external_ref: file.fileId })
    const audits = await auditLog(env).list({ action: 'payouts.file.write', subject: `payout_file:${file.fileId}`, limit: 10 })
    expect(audits).toHaveLength(1)
    expect(JSON.parse(audits[0]!.details)).toMatchObject({ sha256: row.sha256_hex, entry_count: 3, total_minor: 184_925, sandbox_accounts: true })

    // a second call: the same file, nothing written
    const objectsBefore = (await env.EXPORTS.list({ prefix: 'payouts/files/' })).objects.length
    const again = await writeBatchFile(env, SYSTEM, batchId, now + 60_000)
    expect(again).toEqual(file)
    expect((await env.EXPORTS.list({ prefix: 'payouts/files/' })).objects.length).toBe(objectsBefore)
    expect(await auditLog(env).list({ action: 'payouts.file.write', subject: `payout_file:${file.fileId}`, limit: 10 })).toHaveLength(1)
    // the holds are still pending: the money left nobody's hands yet
    expect(await summary(payouts[0]!.creatorId, 'USD')).toMatchObject({ availableMinor: 75_000, onHoldMinor: 125_000 })
  })

  it('finishes a file whose writer died after recording it: the same file, the same references, no second object', async () => {
    const { batchId, payouts } = await achBatch()
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const refs = async () => (await env.DB.prepare('SELECT id, state, processor_ref FROM payouts WHERE batch_id = ? ORDER BY id').bind(batchId).all<{ id: string; state: string; processor_ref: string | null }>()).results
    const before = await refs()
    // the state a crash right after the payout_files INSERT leaves behind
    await env.DB.prepare(`UPDATE payouts SET state = 'queued', processor_ref = NULL WHERE batch_id = ?`).bind(batchId).run()
    await env.DB.prepare(`UPDATE payout_batches SET state = 'approved', external_ref = NULL WHERE id = ?`).bind(batchId).run()
    const objects = (await env.EXPORTS.list({ prefix: 'payouts/files/' })).objects.length
    const again = await writeBatchFile(env, SYSTEM, batchId, Date.now() + 3_600_000)
    expect(again).toEqual(file)
    expect(await refs()).toEqual(before)
    expect(before.every((p) => p.state === 'submitted' && p.processor_ref !== null)).toBe(true)
    expect(before.map((p) => p.id).sort()).toEqual(payouts.map((p) => p.id).sort())
    expect((await env.EXPORTS.list({ prefix: 'payouts/files/' })).objects.length).toBe(objects)
    expect((await env.DB.prepare('SELECT external_ref FROM payout_batches WHERE id = ?').bind(batchId).first<{ external_ref: string }>())!.external_ref).toBe(file.fileId)
  })

  it('continues trace numbers across files, so a trace names one entry', async () => {
    const first = await achBatch()
    const a = await writeBatchFile(env, SYSTEM, first.batchId)
    const second = await achBatch()
    const b = await writeBatchFile(env, SYSTEM, second.batchId)
    const refs = async (batchId: string) => (await env.DB.prepare('SELECT processor_ref FROM payouts WHERE batch_id = ? ORDER BY processor_ref').bind(batchId).all<{ processor_ref: string }>()).results.map((r) => r.processor_ref)
    const ra = await refs(first.batchId)
    const rb = await refs(second.batchId)
    expect(new Set([...ra, ...rb]).size).toBe(6)
    expect(rb[0]! > ra.at(-1)!).toBe(true)
    expect(a.fileId).not.toBe(b.fileId)
  })

  it('fails a payout whose method does not belong on the rail (hold voided) and files the others', async () => {
    const batchId = await addBatch('nacha', 'USD')
    const good = await newCreator()
    await fund(good, 'USD', 10_000)
    const gm = await addMethod(good, ACH_INDIVIDUAL, 'USD')
    const goodPayout = await addPayout({ creatorId: good, methodId: gm.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: 5_000, feeMinor: 0 })
    const wrong = await newCreator()
    await fund(wrong, 'USD', 10_000)
    const wm = await addMethod(wrong, SEPA_ANNA, 'EUR')
    const wrongPayout = await addPayout({ creatorId: wrong, methodId: wm.id, batchId, rail: 'nacha', currency: 'USD', amountMinor: 4_000, feeMinor: 0 })
    const file = await writeBatchFile(env, SYSTEM, batchId)
    expect(file.entryCount).toBe(1)
    const states = (await env.DB.prepare('SELECT id, state, failure_code FROM payouts WHERE batch_id = ?').bind(batchId).all<{ id: string; state: string; failure_code: string | null }>()).results
    expect(states.find((s) => s.id === goodPayout)!.state).toBe('submitted')
    expect(states.find((s) => s.id === wrongPayout)).toMatchObject({ state: 'failed', failure_code: 'method_unusable' })
    expect(await summary(wrong, 'USD')).toMatchObject({ availableMinor: 10_000, onHoldMinor: 0 })
  })
})

describe('writeBatchFile: SEPA, wire and check', () => {
  it('writes pain.001.001.09 with the platform as debtor, one EndToEndId per payout, counts and control sum', async () => {
    const batchId = await addBatch('sepa', 'EUR')
    const ids: string[] = []
    for (const [method, amount] of [
      [SEPA_ANNA, 100_000],
      [SEPA_JEAN, 2_345],
    ] as const) {
      const creatorId = await newCreator()
      await fund(creatorId, 'EUR', 200_000)
      const m = await addMethod(creatorId, method, 'EUR')
      ids.push(await addPayout({ creatorId, methodId: m.id, batchId, rail: 'sepa', currency: 'EUR', amountMinor: amount, feeMinor: 45 }))
    }
    const file = await writeBatchFile(env, SYSTEM, batchId, Date.UTC(2026, 10, 27, 9, 0)) // Friday -> Monday
    expect(file.format).toBe('pain.001.001.09')
    const xml = await stored(file.r2Key)
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'CdtTrfTxInf' }).parse(xml)
    const root = doc.Document.CstmrCdtTrfInitn
    expect(root.GrpHdr.NbOfTxs).toBe('2')
    // 999.55 + 23.00
    expect(root.GrpHdr.CtrlSum).toBe('1022.55')
    expect(root.GrpHdr.MsgId).toBe(file.fileId.replace('_', '-'))
    expect(root.PmtInf.CtrlSum).toBe('1022.55')
    expect(root.PmtInf.ReqdExctnDt.Dt).toBe('2026-11-30')
    expect(root.PmtInf.DbtrAcct.Id.IBAN).toBe('DE89370400440532013000')
    expect(root.PmtInf.CdtTrfTxInf.map((t: { Cdtr: { Nm: string } }) => t.Cdtr.Nm)).toEqual(expect.arrayContaining(['Anna Muller', 'Jean Dupont']))
    for (const id of ids) {
      const ref = (await env.DB.prepare('SELECT processor_ref FROM payouts WHERE id = ?').bind(id).first<{ processor_ref: string }>())!.processor_ref
      expect(ref).toBe(id.replace('_', '-'))
      expect(root.PmtInf.CdtTrfTxInf.some((t: { PmtId: { EndToEndId: string } }) => t.PmtId.EndToEndId === ref)).toBe(true)
    }
  })

  it('writes wire and check registers as CSV with a reference per payout', async () => {
    const wireBatch = await addBatch('wire', 'USD')
    const c1 = await newCreator()
    await fund(c1, 'USD', 50_000)
    const wm = await addMethod(c1, { type: 'wire', beneficiaryName: '=Rivers, "Alex"', bic: 'CHASUS33', accountNumber: '000123456', bankName: 'JPMorgan Chase', bankAddress: { streetName: 'Park Avenue', buildingNumber: '383', postCode: '10179', townName: 'New York', countrySubDivision: 'NY', country: 'US' }, intermediaryBic: 'IRVTUS3N' }, 'USD')
    const wp = await addPayout({ creatorId: c1, methodId: wm.id, batchId: wireBatch, rail: 'wire', currency: 'USD', amountMinor: 30_000, feeMinor: 2_500 })
    const wf = await writeBatchFile(env, SYSTEM, wireBatch)
    const wire = (await stored(wf.r2Key)).split('\r\n')
    expect(wire[0]).toBe(WIRE_COLUMNS.join(','))
    // the formula-looking name is defused and quoted
    expect(wire[1]).toBe(`${wp.replace('_', '-')},${wp},${c1},"'=Rivers, ""Alex""",CHASUS33,,000123456,JPMorgan Chase,"Park Avenue 383, 10179 New York, NY, US",IRVTUS3N,275.00,USD,000123456789,COBADEFFXXX,FANZ creator payout ${wp.replace('_', '-')}`)

    const checkBatch = await addBatch('check', 'USD')
    const c2 = await newCreator()
    await fund(c2, 'USD', 50_000)
    const cm = await addMethod(c2, { type: 'check', payeeName: 'Sam Stone', address: { streetName: 'Main St', buildingNumber: '1', postCode: '82801', townName: 'Sheridan', countrySubDivision: 'WY', country: 'US' } }, 'USD')
    const cp = await addPayout({ creatorId: c2, methodId: cm.id, batchId: checkBatch, rail: 'check', currency: 'USD', amountMinor: 12_345, feeMinor: 300 })
    const cf = await writeBatchFile(env, SYSTEM, checkBatch)
    const check = (await stored(cf.r2Key)).split('\r\n')
    expect(check[0]).toBe(CHECK_COLUMNS.join(','))
    expect(check[1]).toBe(`${cp.replace('_', '-')},${cp},${c2},Sam Stone,Main St 1,82801,Sheridan,WY,US,120.45,USD,FANZ creator payout ${cp.replace('_', '-')},Sandbox Bank (not a real account),231380104,000123456789`)
    expect(cf.totalMinor).toBe(12_045)
  })
})

describe('/api/payouts/files', () => {
  it('download: 401 without a strong step-up, 403 for a creator, the audited bytes with ETag for finance; tampered bytes are never served', async () => {
    const { batchId } = await achBatch()
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const path = `/api/payouts/files/${file.fileId}/download`
    expect((await call(API, path, { token: await weak(['finance']) })).status).toBe(401)
    expect((await call(API, path, { token: await strong(['creator']) })).status).toBe(403)

    const finance = await strong(['finance'])
    const res = await call(API, path, { token: finance })
    expect(res.status).toBe(200)
    const body = await res.text()
    const row = (await env.DB.prepare('SELECT sha256_hex FROM payout_files WHERE id = ?').bind(file.fileId).first<{ sha256_hex: string }>())!
    expect(sha256Hex(new TextEncoder().encode(body))).toBe(row.sha256_hex)
    expect(res.headers.get('etag')).toBe(`"${row.sha256_hex}"`)
    expect(res.headers.get('content-type')).toBe('text/plain; charset=us-ascii')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${file.fileId}.ach"`)
    const downloads = await auditLog(env).list({ action: 'payouts.file.download', subject: `payout_file:${file.fileId}`, limit: 10 })
    expect(downloads).toHaveLength(1)
    expect(JSON.parse(downloads[0]!.details).sha256).toBe(row.sha256_hex)

    const view = await call(API, `/api/payouts/files/${file.fileId}`, { token: await weak(['finance']) })
    expect(view.status).toBe(200)
    expect(await view.json()).toMatchObject({ id: file.fileId, status: 'awaiting_confirmation', entry_count: 3, currency: 'USD', states: { submitted: { count: 3, net_minor: 184_925 } } })
    const list = (await (await call(API, `/api/payouts/files?batch_id=${batchId}`, { token: await weak(['finance']) })).json()) as { items: Array<{ id: string }> }
    expect(list.items.map((i) => i.id)).toEqual([file.fileId])

    // someone changes one digit in the stored file
    await env.EXPORTS.put(file.r2Key, body.replace('PAYROLL', 'PAYR0LL'))
    const tampered = await call(API, path, { token: finance })
    expect(tampered.status).toBe(409)
    expect(tampered.headers.get('content-type')).toContain('application/problem+json')
    expect(await tampered.text()).not.toContain('PAYR0LL')
    expect(await auditLog(env).list({ action: 'payouts.file.integrity_failure', subject: `payout_file:${file.fileId}`, limit: 10 })).toHaveLength(1)
    expect(await auditLog(env).list({ action: 'payouts.file.download', subject: `payout_file:${file.fileId}`, limit: 10 })).toHaveLength(1)
  })

  it('confirm: every payout settles, holds posted, ledgers balanced; a second confirm settles nothing', async () => {
    const { batchId, payouts } = await achBatch()
    const file = await writeBatchFile(env, SYSTEM, batchId)
    const path = `/api/payouts/files/${file.fileId}/confirm`
    const finance = await strong(['finance'])
    expect((await call(API, path, { token: await weak(['finance']), headers: { 'idempotency-key': '"c-weak"' }, body: {} })).status).toBe(401)
    expect((await call(API, path, { token: finance, body: {} })).status).toBe(400)
    const res = await call(API, path, { token: finance, headers: { 'idempotency-key': '"c-1"' }, body: { reason: 'bank confirmed by phone' } })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { settled: Array<{ payout_id: string }> }
    expect(out.settled.map((s) => s.payout_id).sort()).toEqual(payouts.map((p) => p.id).sort())
    for (const p of payouts) {
      expect(await summary(p.creatorId, 'USD')).toMatchObject({ availableMinor: 200_000 - p.amount, onHoldMinor: 0 })
      expect((await ledgerFor(env, p.creatorId).verify()).ok).toBe(true)
    }
    const batch = (await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(batchId).first<{ state: string }>())!
    expect(batch.state).toBe('settled')
    const again = await call(API, path, { token: finance, headers: { 'idempotency-key': '"c-2"' }, body: {} })
    expect(((await again.json()) as { settled: unknown[] }).settled).toEqual([])
    expect(await auditLog(env).list({ action: 'payouts.file.confirm', subject: `payout_file:${file.fileId}`, limit: 10 })).toHaveLength(1)
    const view = (await (await call(API, `/api/payouts/files/${file.fileId}`, { token: finance })).json()) as { status: string }
    expect(view.status).toBe('confirmed')
  })
})
