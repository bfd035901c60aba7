/**
 * Generated SEPA files against the EPC 2025 pain.001.001.09 XSD with xmllint (acceptance: "validate
 * against ../shared/data/payments/xsd/EPC132-08_2025_V1.0_pain.001.001.09.xsd with xmllint in the
 * test suite"). Runs under Node (`npx vitest run --config vitest.node.config.ts`): workerd cannot
 * start processes. A missing xmllint fails every test (Debian package libxml2-utils), never skips.
 * Broken variants prove the check can fail: a missing CtrlSum, a lowercase BIC, 3 decimals, a DtTm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBTOR_BIC, manyPayments, pain001Input, THREE_PAYMENTS } from './fixtures'
import { writePain001 } from './writer'
import { xmllintFor, type Xmllint } from '../xsd-kit'

let lint: Xmllint

beforeAll(async () => {
  lint = await xmllintFor('EPC132-08_2025_V1.0_pain.001.001.09.xsd')
})

afterAll(() => lint?.close())

const xmllint = (name: string, xml: string) => lint.check(name, xml)

function expectValid(name: string, xml: string): void {
  const result = xmllint(name, xml)
  expect(result.output).toContain('validates')
  expect(result.status, result.output).toBe(0)
}

function expectInvalid(name: string, xml: string, mentions: string): void {
  const result = xmllint(name, xml)
  expect(result.status, result.output).not.toBe(0)
  expect(result.output).toContain('fails to validate')
  expect(result.output).toContain(mentions)
}

describe('pain.001.001.09 files against the EPC 2025 XSD (xmllint)', () => {
  it('finds the schema and xmllint', () => {
    expect(lint.xsdExists(), lint.xsd).toBe(true)
  })

  it('one payment, no postal addresses', () => {
    const input = pain001Input()
    const instruction = input.instructions[0]!
    const file = writePain001({
      ...input,
      instructions: [{ ...instruction, batchBooking: undefined, debtor: { ...instruction.debtor, postalAddress: undefined }, payments: [THREE_PAYMENTS[1]!] }],
    })
    expect(file.numberOfTransactions).toBe(1)
    expect(file.controlSum).toBe('0.01')
    expectValid('one-payment', file.xml)
  })

  it('three payments with structured and hybrid postal addresses, escaped and converted text', () => {
    const file = writePain001(pain001Input())
    expect(file.controlSum).toBe('1244.57')
    expect(file.xml).toContain('&apos;')
    expectValid('three-payments', file.xml)
  })

  it('many payments over two payment instructions, every optional address field used', () => {
    const input = pain001Input()
    const first = input.instructions[0]!
    const fullAddress = {
      department: 'Payouts', subDepartment: 'EU', streetName: 'Rue de la Loi', buildingNumber: '200', buildingName: 'Berlaymont',
      floor: '3', postBox: 'PB 12', room: '301', postCode: '1049', townName: 'Bruxelles', townLocationName: 'Etterbeek',
      districtName: 'Bruxelles-Capitale', countrySubDivision: 'BRU', country: 'BE', addressLines: ['c/o Finance'],
    }
    const file = writePain001({
      ...input,
      instructions: [
        { ...first, payments: manyPayments(250) },
        {
          id: 'PMTINF-2',
          requestedExecutionDate: '2026-11-30',
          debtor: { name: 'FANZ Payments GmbH', iban: 'GB82WEST12345698765432', bic: 'DEUTDEFF', postalAddress: fullAddress },
          payments: [{ ...THREE_PAYMENTS[0]!, endToEndId: 'PAYOUT-0100', creditor: { ...THREE_PAYMENTS[0]!.creditor, postalAddress: fullAddress } }],
        },
      ],
    })
    // 1.00 + 2.00 + ... + 250.00 = 31375.00, plus 10.00
    expect(file.numberOfTransactions).toBe(251)
    expect(file.controlSum).toBe('31385.00')
    expectValid('many-payments', file.xml)
  })

  describe('broken files fail (the check can fail)', () => {
    const good = () => writePain001(pain001Input()).xml

    it('is valid before it is broken', () => {
      expectValid('baseline', good())
    })

    it('a missing group CtrlSum', () => {
      const xml = good().replace(/\n\s*<CtrlSum>1244\.57<\/CtrlSum>/, '')
      expect(xml).not.toBe(good())
      expectInvalid('missing-ctrlsum', xml, 'CtrlSum')
    })

    it('a lowercase BIC', () => {
      const xml = good().replace(`<BICFI>${DEBTOR_BIC}</BICFI>`, `<BICFI>${DEBTOR_BIC.toLowerCase()}</BICFI>`)
      expect(xml).toContain('<BICFI>cobadeffxxx</BICFI>')
      expectInvalid('lowercase-bic', xml, 'BICFI')
    })

    it('an amount with 3 decimals', () => {
      const xml = good().replace('<InstdAmt Ccy="EUR">10.00</InstdAmt>', '<InstdAmt Ccy="EUR">10.001</InstdAmt>')
      expect(xml).toContain('10.001')
      expectInvalid('three-decimals', xml, 'InstdAmt')
    })

    it('ReqdExctnDt as DtTm: the EPC restriction of .09 allows only Dt', () => {
      const xml = good().replace('<Dt>2026-11-27</Dt>', '<DtTm>2026-11-27T09:00:00Z</DtTm>')
      expect(xml).toContain('<DtTm>')
      expectInvalid('dttm', xml, 'DtTm')
    })

    it('a charge bearer other than SLEV', () => {
      const xml = good().replace('<ChrgBr>SLEV</ChrgBr>', '<ChrgBr>SHAR</ChrgBr>')
      expectInvalid('chrgbr', xml, 'ChrgBr')
    })
  })
})
