/**
 * The pain.001 a SEPA batch produces (files/build.ts, the same builder writeBatchFile uses in the
 * Worker) against the EPC 2025 pain.001.001.09 XSD with xmllint: batch-shaped input (payouts with
 * their opened SEPA methods, the platform's sandbox debtor account), counts and control sum checked
 * too. Runs under Node: npx vitest run --config vitest.node.config.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePayoutMethod, type PayoutMethod } from '../methods/methods'
import { SANDBOX_BANK_ACCOUNTS } from './bank-accounts'
import { buildSepaFile, type FilePayout } from './build'
import { xmllintFor, type Xmllint } from './xsd-kit'

let lint: Xmllint
beforeAll(async () => {
  lint = await xmllintFor('EPC132-08_2025_V1.0_pain.001.001.09.xsd')
})
afterAll(() => lint?.close())

function method(input: unknown): PayoutMethod {
  const parsed = parsePayoutMethod(input)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
  return parsed.method
}

const ANNA = method({ type: 'sepa', iban: 'DE02 1203 0000 0000 2020 51', bic: 'BYLADEM1001', name: 'Anna Müller', address: { streetName: 'Hauptstraße', buildingNumber: '5', postCode: '10115', townName: 'Berlin', country: 'DE' } })
const JEAN = method({ type: 'sepa', iban: 'FR1420041010050500013M02606', bic: 'PSSTFRPPXXX', name: 'Jean Dupont & Fils', address: { townName: 'Paris', country: 'FR', addressLines: ['12 rue de Rivoli'] } })

/** `count` payouts like a run makes them: ULID ids, net = amount - fee. */
function payouts(count: number): FilePayout[] {
  return Array.from({ length: count }, (_, i) => {
    const amountMinor = 1_000 + i * 137
    return { id: `po_01JPAYOUT${String(i).padStart(16, '0')}`, creatorId: `crt_01JCREATOR${String(i).padStart(15, '0')}`, currency: 'EUR', amountMinor, netMinor: amountMinor - 45, method: i % 2 ? JEAN : ANNA }
  })
}

describe('a SEPA batch file against the EPC 2025 pain.001.001.09 XSD', () => {
  it('finds the schema', () => {
    expect(lint.xsdExists(), lint.xsd).toBe(true)
  })

  it('two payouts: valid, NbOfTxs and CtrlSum right, EndToEndIds are the payouts', () => {
    const batch = payouts(2)
    const file = buildSepaFile(SANDBOX_BANK_ACCOUNTS.sepa as never, batch as never, { fileId: 'pof_01JFILE0000000000000000001', createdAtMs: Date.UTC(2026, 10, 27, 9) })
    const run = lint.check('batch-2', file.text)
    expect(run.output).toContain('validates')
    expect(run.status).toBe(0)
    expect(file.entryCount).toBe(2)
    // (1000 - 45) + (1137 - 45) = 2047 cents
    expect(file.totalMinor).toBe(2_047)
    expect(file.text).toContain('<CtrlSum>20.47</CtrlSum>')
    expect(file.text).toContain('<NbOfTxs>2</NbOfTxs>')
    expect(file.text).toContain('<MsgId>pof-01JFILE0000000000000000001</MsgId>')
    expect(file.text).toContain('<Nm>Jean Dupont + Fils</Nm>')
    for (const p of batch) expect(file.text).toContain(`<EndToEndId>${p.id.replace('_', '-')}</EndToEndId>`)
  })

  it('500 payouts: valid, control sum = the sum of the nets', () => {
    const batch = payouts(500)
    const file = buildSepaFile(SANDBOX_BANK_ACCOUNTS.sepa as never, batch as never, { fileId: 'pof_01JFILE0000000000000000002', createdAtMs: Date.UTC(2026, 10, 27, 9) })
    const run = lint.check('batch-500', file.text)
    expect(run.status, run.output).toBe(0)
    // sum over i<500 of (955 + 137 i) = 500*955 + 137*124750 = 477500 + 17090750 = 17568250 cents
    expect(file.totalMinor).toBe(17_568_250)
    expect(file.text).toContain('<CtrlSum>175682.50</CtrlSum>')
  })

  it('a broken file fails (the check can fail): EndToEndId removed', () => {
    const file = buildSepaFile(SANDBOX_BANK_ACCOUNTS.sepa as never, payouts(1) as never, { fileId: 'pof_01JFILE0000000000000000003', createdAtMs: Date.UTC(2026, 10, 27, 9) })
    const broken = file.text.replace(/<PmtId>[\s\S]*?<\/PmtId>/, '<PmtId></PmtId>')
    const run = lint.check('broken', broken)
    expect(run.status).not.toBe(0)
    expect(run.output).toContain('EndToEndId')
  })
})
