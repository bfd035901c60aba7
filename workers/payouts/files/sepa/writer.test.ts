/**
 * pain.001.001.09 writer, read back with fast-xml-parser: counts and control sums at group and
 * payment-instruction level (recomputed from the parsed InstdAmt), ids, escaping, SEPA character
 * conversion, and every refusal naming its field. The XSD check with xmllint runs under Node:
 * pain001.xsd.node.test.ts.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { minorFromDecimal } from '../../../payments/bank/money-text'
import { manyPayments, pain001Input, THREE_PAYMENTS } from './fixtures'
import type { Pain001Input } from './input'
import { PAIN_001_001_09_NAMESPACE, Pain001InputError, writePain001 } from './writer'

type Node = Record<string, unknown>
const ARRAYS = new Set(['PmtInf', 'CdtTrfTxInf', 'AdrLine'])
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, isArray: (name) => ARRAYS.has(name) })

function parse(xml: string): { doc: Node; grpHdr: Node; pmtInfs: Node[] } {
  expect(XMLValidator.validate(xml)).toBe(true)
  const doc = (parser.parse(xml) as Node).Document as Node
  const root = doc.CstmrCdtTrfInitn as Node
  return { doc, grpHdr: root.GrpHdr as Node, pmtInfs: root.PmtInf as Node[] }
}

const txs = (pmtInf: Node) => pmtInf.CdtTrfTxInf as Node[]
const amountOf = (tx: Node) => (tx.Amt as Node).InstdAmt as Node
const cents = (text: unknown) => minorFromDecimal(String(text), 'EUR')!
const endToEnd = (tx: Node) => (tx.PmtId as Node).EndToEndId

/** The issues a refused input produces: [{ path, message }]. */
function issuesOf(input: Pain001Input): Array<{ path: string; message: string }> {
  try {
    writePain001(input)
  } catch (error) {
    expect(error).toBeInstanceOf(Pain001InputError)
    return [...(error as Pain001InputError).issues]
  }
  throw new Error('expected the input to be refused')
}

/** The default input with its first payment changed. */
function withPayment(change: (payment: Pain001Input['instructions'][number]['payments'][number]) => object): Pain001Input {
  const input = pain001Input()
  const instruction = input.instructions[0]!
  return { ...input, instructions: [{ ...instruction, payments: [change(THREE_PAYMENTS[0]!) as typeof THREE_PAYMENTS[0], ...THREE_PAYMENTS.slice(1)] }] }
}

const P0 = 'instructions.0.payments.0'

describe('writePain001: structure, counts and control sums', () => {
  it('3 payments 10.00 + 0.01 + 1234.56 = 1244.57 at group and PmtInf level', () => {
    const file = writePain001(pain001Input())
    expect(file.numberOfTransactions).toBe(3)
    expect(file.controlSum).toBe('1244.57')

    const { doc, grpHdr, pmtInfs } = parse(file.xml)
    expect(doc['@_xmlns']).toBe(PAIN_001_001_09_NAMESPACE)
    expect(grpHdr.NbOfTxs).toBe('3')
    expect(grpHdr.CtrlSum).toBe('1244.57')
    expect(pmtInfs).toHaveLength(1)
    expect(pmtInfs[0]!.NbOfTxs).toBe('3')
    expect(pmtInfs[0]!.CtrlSum).toBe('1244.57')
    expect(txs(pmtInfs[0]!).map((tx) => amountOf(tx)['#text'])).toEqual(['10.00', '0.01', '1234.56'])
    expect(txs(pmtInfs[0]!).map((tx) => amountOf(tx)['@_Ccy'])).toEqual(['EUR', 'EUR', 'EUR'])
    // the printed amounts add up to the printed control sum
    expect(txs(pmtInfs[0]!).reduce((sum, tx) => sum + cents(amountOf(tx)['#text']), 0)).toBe(cents(grpHdr.CtrlSum))
  })

  it('several payment instructions: each its own count and sum, the group their totals', () => {
    const input = pain001Input()
    const first = input.instructions[0]!
    const file = writePain001({
      ...input,
      instructions: [
        first,
        { ...first, id: 'PMTINF-2', requestedExecutionDate: '2026-12-01', payments: manyPayments(40) },
        { ...first, id: 'PMTINF-3', payments: [{ ...THREE_PAYMENTS[1]!, endToEndId: 'X1', amountMinor: 10 }, { ...THREE_PAYMENTS[1]!, endToEndId: 'X2', amountMinor: 20 }] },
      ],
    })
    // 1244.57 + (1 + ... + 40 = 820.00) + (0.10 + 0.20 = 0.30, exact: no float 0.30000000000000004)
    expect(file.numberOfTransactions).toBe(45)
    expect(file.controlSum).toBe('2064.87')
    const { grpHdr, pmtInfs } = parse(file.xml)
    expect(grpHdr.NbOfTxs).toBe('45')
    expect(grpHdr.CtrlSum).toBe('2064.87')
    expect(pmtInfs.map((p) => [p.PmtInfId, p.NbOfTxs, p.CtrlSum])).toEqual([
      ['PMTINF-1', '3', '1244.57'],
      ['PMTINF-2', '40', '820.00'],
      ['PMTINF-3', '2', '0.30'],
    ])
    for (const pmtInf of pmtInfs) {
      expect(txs(pmtInf)).toHaveLength(Number(pmtInf.NbOfTxs))
      expect(txs(pmtInf).reduce((sum, tx) => sum + cents(amountOf(tx)['#text']), 0)).toBe(cents(pmtInf.CtrlSum))
    }
    expect((pmtInfs[1]!.ReqdExctnDt as Node).Dt).toBe('2026-12-01')
  })

  it('writes ids, dates, the SEPA service level, SLEV and the accounts', () => {
    const { grpHdr, pmtInfs } = parse(writePain001(pain001Input()).xml)
    const pmtInf = pmtInfs[0]!
    expect(grpHdr.MsgId).toBe('MSG-20261126-0001')
    expect(grpHdr.CreDtTm).toBe('2026-11-26T18:41:31Z')
    expect((grpHdr.InitgPty as Node).Nm).toBe('FANZ Payments GmbH')
    expect(pmtInf.PmtInfId).toBe('PMTINF-1')
    expect(pmtInf.PmtMtd).toBe('TRF')
    expect(pmtInf.BtchBookg).toBe('true')
    expect(((pmtInf.PmtTpInf as Node).SvcLvl as Node).Cd).toBe('SEPA')
    expect(pmtInf.ReqdExctnDt).toEqual({ Dt: '2026-11-27' })
    expect(pmtInf.ChrgBr).toBe('SLEV')
    expect(pmtInf.DbtrAcct).toEqual({ Id: { IBAN: 'DE89370400440532013000' } })
    expect(pmtInf.DbtrAgt).toEqual({ FinInstnId: { BICFI: 'COBADEFFXXX' } })
    const [a, b, c] = txs(pmtInf)
    expect([a, b, c].map((tx) => endToEnd(tx!))).toEqual(['PAYOUT-0001', 'PAYOUT-0002', 'PAYOUT-0003'])
    expect(a!.CdtrAgt).toEqual({ FinInstnId: { BICFI: 'BYLADEM1001' } })
    // no BIC: no CdtrAgt at all (EPC)
    expect(b!.CdtrAgt).toBeUndefined()
    // lowercase BIC and spaced IBAN come out in the XSD's form
    expect(c!.CdtrAgt).toEqual({ FinInstnId: { BICFI: 'ABNANL2A' } })
    expect(c!.CdtrAcct).toEqual({ Id: { IBAN: 'NL91ABNA0417164300' } })
    expect(b!.RmtInf).toBeUndefined()
    expect(a!.RmtInf).toEqual({ Ustrd: 'FANZ payout November 2026' })
  })

  it('keeps the XSD element order in a transaction and a payment instruction', () => {
    const xml = writePain001(pain001Input()).xml
    const order = (names: string[], from: number) => names.map((n) => xml.indexOf(`<${n}`, from))
    const pmtInf = order(['PmtInfId', 'PmtMtd', 'BtchBookg', 'NbOfTxs', 'CtrlSum', 'PmtTpInf', 'ReqdExctnDt', 'Dbtr>', 'DbtrAcct', 'DbtrAgt', 'ChrgBr', 'CdtTrfTxInf'], xml.indexOf('<PmtInf>'))
    expect(pmtInf).toEqual([...pmtInf].sort((x, y) => x - y))
    const tx = order(['PmtId', 'Amt', 'CdtrAgt', 'Cdtr>', 'CdtrAcct', 'RmtInf'], xml.indexOf('<CdtTrfTxInf>'))
    expect(tx).toEqual([...tx].sort((x, y) => x - y))
  })

  it('writes structured and hybrid postal addresses with TwnNm and Ctry', () => {
    const { pmtInfs } = parse(writePain001(pain001Input()).xml)
    const [a, b, c] = txs(pmtInfs[0]!)
    expect((a!.Cdtr as Node).PstlAdr).toEqual({ StrtNm: 'Hauptstrasse', BldgNb: '5', PstCd: '10115', TwnNm: 'Berlin', Ctry: 'DE' })
    expect((b!.Cdtr as Node).PstlAdr).toBeUndefined()
    expect((c!.Cdtr as Node).PstlAdr).toEqual({ TwnNm: 'Amsterdam', Ctry: 'NL', AdrLine: ['Keizersgracht 1', '2e verdieping'] })
    expect((pmtInfs[0]!.Dbtr as Node).PstlAdr).toEqual({ StrtNm: 'Friedrichstrasse', BldgNb: '100', PstCd: '10117', TwnNm: 'Berlin', Ctry: 'DE' })
  })

  it("leaves BtchBookg out when not given, and prints 'false' when asked", () => {
    const input = pain001Input()
    const off = writePain001({ ...input, instructions: [{ ...input.instructions[0]!, batchBooking: false }] }).xml
    const unset = writePain001({ ...input, instructions: [{ ...input.instructions[0]!, batchBooking: undefined }] }).xml
    expect(parse(off).pmtInfs[0]!.BtchBookg).toBe('false')
    expect(unset).not.toContain('BtchBookg')
  })
})

describe('writePain001: text', () => {
  it("escapes ' and converts & < > \" before they reach the XML", () => {
    const { xml } = writePain001(pain001Input())
    expect(xml).toContain('<Nm>Jansen + Zonen (B.V.)</Nm>')
    expect(xml).toContain('<Ustrd>Invoice &apos;42&apos; + bonus &apos;Q4&apos;</Ustrd>')
    // no raw markup character inside any text node
    for (const text of xml.matchAll(/>([^<]*)</g)) expect(text[1]).not.toMatch(/[&<>"'](?!(amp|lt|gt|quot|apos);)/)
    const tx = txs(parse(xml).pmtInfs[0]!)[2]!
    expect((tx.RmtInf as Node).Ustrd).toBe("Invoice '42' + bonus 'Q4'")
  })

  it('converts names, address parts and remittance to the SEPA set', () => {
    const { xml } = writePain001(
      withPayment((p) => ({
        ...p,
        creditor: { ...(p as typeof THREE_PAYMENTS[0]).creditor, name: 'Zoë Ångström-Øster', postalAddress: { streetName: 'Große Straße', townName: 'Köln', country: 'DE' } },
        remittance: 'Auszahlung für “Oktober” – danke',
      })),
    )
    const tx = txs(parse(xml).pmtInfs[0]!)[0]!
    expect((tx.Cdtr as Node).Nm).toBe('Zoe Angstrom-Oster')
    expect((tx.Cdtr as Node).PstlAdr).toEqual({ StrtNm: 'Grosse Strasse', TwnNm: 'Koln', Ctry: 'DE' })
    expect((tx.RmtInf as Node).Ustrd).toBe("Auszahlung fur 'Oktober' - danke")
  })

  it('refuses characters with no SEPA equivalent, naming field and code point', () => {
    const issues = issuesOf(withPayment((p) => ({ ...p, creditor: { ...(p as typeof THREE_PAYMENTS[0]).creditor, name: 'Иван' } })))
    expect(issues).toEqual([{ path: `${P0}.creditor.name`, message: "character 'И' (U+0418) has no SEPA Latin equivalent" }])
    expect(issuesOf(withPayment((p) => ({ ...p, remittance: 'thanks 😀' })))[0]!.path).toBe(`${P0}.remittance`)
  })

  it('holds lengths after conversion: name 70, remittance 140, town 35', () => {
    expect(() => writePain001(withPayment((p) => ({ ...p, remittance: 'r'.repeat(140) })))).not.toThrow()
    expect(issuesOf(withPayment((p) => ({ ...p, remittance: 'r'.repeat(141) })))).toEqual([
      { path: `${P0}.remittance`, message: 'is 141 characters in the SEPA character set; at most 140' },
    ])
    const creditor = (p: object) => (p as typeof THREE_PAYMENTS[0]).creditor
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), name: 'n'.repeat(71) } })))[0]!.path).toBe(`${P0}.creditor.name`)
    // 18 × "ß" is 18 characters in, 36 after conversion
    const town = issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), postalAddress: { townName: 'ß'.repeat(18), country: 'DE' } } })))
    expect(town).toEqual([{ path: `${P0}.creditor.postalAddress.townName`, message: 'is 36 characters in the SEPA character set; at most 35' }])
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), name: '   ' } })))[0]).toEqual({ path: `${P0}.creditor.name`, message: 'must not be empty' })
  })
})

describe('writePain001: refusals name the field', () => {
  const creditor = (p: object) => (p as typeof THREE_PAYMENTS[0]).creditor

  it('non-EUR currencies', () => {
    expect(issuesOf(withPayment((p) => ({ ...p, currency: 'USD' })))).toEqual([{ path: `${P0}.currency`, message: 'SEPA credit transfers are in EUR only' }])
  })

  it('amounts of 0, below 0, fractional cents and above 999999999.99', () => {
    expect(issuesOf(withPayment((p) => ({ ...p, amountMinor: 0 })))[0]).toEqual({ path: `${P0}.amountMinor`, message: 'must be at least 1 cent (0.01 EUR)' })
    expect(issuesOf(withPayment((p) => ({ ...p, amountMinor: -500 })))[0]!.path).toBe(`${P0}.amountMinor`)
    expect(issuesOf(withPayment((p) => ({ ...p, amountMinor: 10.5 })))[0]).toEqual({ path: `${P0}.amountMinor`, message: 'must be an integer number of cents' })
    expect(issuesOf(withPayment((p) => ({ ...p, amountMinor: 100_000_000_000 })))[0]).toEqual({
      path: `${P0}.amountMinor`,
      message: 'must be at most 99999999999 cents (999999999.99 EUR)',
    })
    const max = writePain001(withPayment((p) => ({ ...p, amountMinor: 99_999_999_999 })))
    expect(max.controlSum).toBe('1000001234.56')
    expect(amountOf(txs(parse(max.xml).pmtInfs[0]!)[0]!)['#text']).toBe('999999999.99')
  })

  it('bad IBANs and BICs, creditor and debtor', () => {
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), iban: 'DE89 3704 0044 0532 0130 01' } })))).toEqual([
      { path: `${P0}.creditor.iban`, message: 'is not a valid IBAN (format, length for the country, or mod-97 check digits)' },
    ])
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), iban: 'DE8937040044053201300' } })))[0]!.path).toBe(`${P0}.creditor.iban`)
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), bic: 'COBADEF' } })))[0]!.path).toBe(`${P0}.creditor.bic`)
    expect(issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), bic: 'COBAD3FF' } })))[0]!.path).toBe(`${P0}.creditor.bic`)
    const input = pain001Input()
    const instruction = input.instructions[0]!
    const badDebtor = { ...input, instructions: [{ ...instruction, debtor: { ...instruction.debtor, iban: 'GB82 WEST 1234 5698 7654 33', bic: 'DEUT-DEFF' } }] }
    expect(issuesOf(badDebtor).map((i) => i.path)).toEqual(['instructions.0.debtor.iban', 'instructions.0.debtor.bic'])
  })

  it('postal addresses without TwnNm or Ctry, with 3 lines, or with a lowercase country', () => {
    const address = (postalAddress: object) => issuesOf(withPayment((p) => ({ ...p, creditor: { ...creditor(p), postalAddress } }))).map((i) => i.path)
    expect(address({ streetName: 'Main St', country: 'DE' })).toEqual([`${P0}.creditor.postalAddress.townName`])
    expect(address({ townName: 'Berlin' })).toEqual([`${P0}.creditor.postalAddress.country`])
    expect(address({ townName: 'Berlin', country: 'de' })).toEqual([`${P0}.creditor.postalAddress.country`])
    expect(address({ townName: 'Berlin', country: 'DE', addressLines: ['a', 'b', 'c'] })).toEqual([`${P0}.creditor.postalAddress.addressLines`])
    // an unstructured address (lines only) is no longer accepted
    expect(address({ addressLines: ['Hauptstr. 1, 10115 Berlin'] })).toEqual([`${P0}.creditor.postalAddress.townName`, `${P0}.creditor.postalAddress.country`])
    expect(address({ town: 'Berlin', townName: 'Berlin', country: 'DE' })).toEqual([`${P0}.creditor.postalAddress`])
  })

  it('bad and duplicate ids', () => {
    expect(issuesOf({ ...pain001Input(), messageId: '/MSG' })).toEqual([{ path: 'messageId', message: "must not start or end with '/'" }])
    expect(issuesOf(withPayment((p) => ({ ...p, endToEndId: 'A//B' })))).toEqual([{ path: `${P0}.endToEndId`, message: "must not contain '//'" }])
    expect(issuesOf(withPayment((p) => ({ ...p, endToEndId: 'PAYOUT-0002' })))).toEqual([
      { path: 'instructions.0.payments.1.endToEndId', message: 'duplicate EndToEndId PAYOUT-0002' },
    ])
    const input = pain001Input()
    const first = input.instructions[0]!
    expect(issuesOf({ ...input, instructions: [first, { ...first, payments: manyPayments(1) }] })).toEqual([
      { path: 'instructions.1.id', message: 'duplicate payment instruction id PMTINF-1' },
    ])
  })

  it('impossible dates, empty lists, unknown fields, and several problems at once', () => {
    const input = pain001Input()
    const first = input.instructions[0]!
    expect(issuesOf({ ...input, instructions: [{ ...first, requestedExecutionDate: '2026-02-30' }] })[0]!.path).toBe('instructions.0.requestedExecutionDate')
    expect(issuesOf({ ...input, instructions: [{ ...first, payments: [] }] })).toEqual([{ path: 'instructions.0.payments', message: 'at least one payment' }])
    expect(issuesOf({ ...input, instructions: [] })).toEqual([{ path: 'instructions', message: 'at least one payment instruction' }])
    expect(issuesOf(withPayment((p) => ({ ...p, chargeBearer: 'SHAR' })))[0]!.path).toBe(P0)
    const many = issuesOf(withPayment((p) => ({ ...p, currency: 'GBP', creditor: { ...creditor(p), iban: 'GB00WEST12345698765432' } })))
    expect(many.map((i) => i.path).sort()).toEqual([`${P0}.creditor.iban`, `${P0}.currency`])
    const error = (() => {
      try {
        writePain001(withPayment((p) => ({ ...p, currency: 'GBP' })))
      } catch (e) {
        return e as Error
      }
    })()
    expect(error?.message).toBe(`invalid pain.001 input: ${P0}.currency: SEPA credit transfers are in EUR only`)
  })
})
