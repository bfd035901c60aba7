/**
 * The pain.002 test reports (pain002-fixture.ts, the files the workerd import tests post) against
 * the EPC 2025 pain.002.001.10 XSD with xmllint, and read back by our parser. Runs under Node:
 * npx vitest run --config vitest.node.config.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { xmllintFor, type Xmllint } from '../files/xsd-kit'
import { parsePain002 } from './pain002'
import { pain002Xml, type Pain002FixtureInput } from './pain002-fixture'

let lint: Xmllint
beforeAll(async () => {
  lint = await xmllintFor('EPC132-08_2025_V1.0_pain.002.001.10.xsd')
})
afterAll(() => lint?.close())

const TX_REJECT: Pain002FixtureInput = {
  messageId: 'STS-20261127-0001',
  createdAt: '2026-11-27T10:00:00Z',
  originalMessageId: 'pof-01JFILE0000000000000000001',
  bankBic: 'COBADEFFXXX',
  instructions: [
    {
      originalPaymentInformationId: 'pof-01JFILE0000000000000000001-1',
      transactions: [
        { endToEndId: 'po-01JPAYOUT0000000000000000', status: 'RJCT', reason: 'AC04' },
        { endToEndId: 'po-01JPAYOUT0000000000000001', status: 'RJCT', reason: 'AM04' },
      ],
    },
  ],
}

describe('pain.002.001.10 reports against the EPC 2025 XSD', () => {
  it('finds the schema', () => {
    expect(lint.xsdExists(), lint.xsd).toBe(true)
  })

  it('transaction rejections: valid, and read back with their codes', () => {
    const xml = pain002Xml(TX_REJECT)
    const run = lint.check('tx-reject', xml)
    expect(run.output).toContain('validates')
    expect(run.status).toBe(0)
    const report = parsePain002(xml)
    expect(report.version).toBe('pain.002.001.10')
    expect(report.originalMessageId).toBe('pof-01JFILE0000000000000000001')
    expect(report.instructions[0]!.transactions).toEqual([
      { endToEndId: 'po-01JPAYOUT0000000000000000', status: 'RJCT', reasons: [{ code: 'AC04', text: 'Account closed', additional: [] }] },
      { endToEndId: 'po-01JPAYOUT0000000000000001', status: 'RJCT', reasons: [{ code: 'AM04', text: 'Insufficient funds', additional: [] }] },
    ])
  })

  it('a whole file rejected at group level: valid', () => {
    const xml = pain002Xml({ ...TX_REJECT, groupStatus: 'RJCT', groupReason: 'FF01', instructions: [] })
    const run = lint.check('group-reject', xml)
    expect(run.status, run.output).toBe(0)
    expect(parsePain002(xml)).toMatchObject({ groupStatus: 'RJCT', groupReasons: [{ code: 'FF01' }] })
  })

  it('the check can fail: an accepted status is outside the EPC reject report', () => {
    const xml = pain002Xml({ ...TX_REJECT, instructions: [{ ...TX_REJECT.instructions[0]!, transactions: [{ endToEndId: 'po-01JPAYOUT0000000000000000', status: 'ACCP' }] }] })
    const run = lint.check('accepted', xml)
    expect(run.status).not.toBe(0)
    expect(run.output).toContain('TxSts')
  })
})
