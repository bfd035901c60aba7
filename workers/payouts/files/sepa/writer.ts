/**
 * SEPA credit-transfer initiation file: ISO 20022 pain.001.001.09 as restricted by the EPC SCT
 * customer-to-PSP implementation guidelines 2025 (EPC132-08 2025 V1.0). One GrpHdr, then one PmtInf
 * per debtor account and execution date, each with its payments (CdtTrfTxInf). NbOfTxs and CtrlSum
 * are computed here, at group and PmtInf level, from the same integer cents that are printed.
 * Element order follows the XSD's xs:sequence; the file is checked against the EPC XSD with xmllint
 * in pain001.xsd.node.test.ts. Pure TypeScript (no Workers or Node APIs): runs in both.
 * Written by hand because no installed library writes pain.001.
 * @module
 */
import { euroText } from './euro-amount'
import { checkPain001Input, type Pain001Checked, type Pain001Input, type PostalAddress } from './input'
import { escapeXml } from './xml-escape'

export { Pain001InputError, type Pain001Input, type Pain001Issue } from './input'

export const PAIN_001_001_09_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'

export interface Pain001File {
  xml: string
  /** count of CdtTrfTxInf in the file (= GrpHdr/NbOfTxs) */
  numberOfTransactions: number
  /** sum of all InstdAmt, decimal EUR text as in GrpHdr/CtrlSum, e.g. "1244.57" */
  controlSum: string
}

type Instruction = Pain001Checked['instructions'][number]
type Payment = Instruction['payments'][number]

/** Collects indented lines; every text value goes through escapeXml. */
class XmlLines {
  private readonly lines: string[] = []
  private depth = 0
  open(tag: string, attributes = ''): void {
    this.lines.push(`${'  '.repeat(this.depth)}<${tag}${attributes}>`)
    this.depth++
  }
  close(tag: string): void {
    this.depth--
    this.lines.push(`${'  '.repeat(this.depth)}</${tag}>`)
  }
  leaf(tag: string, text: string, attributes = ''): void {
    this.lines.push(`${'  '.repeat(this.depth)}<${tag}${attributes}>${escapeXml(text)}</${tag}>`)
  }
  optionalLeaf(tag: string, text: string | undefined): void {
    if (text !== undefined) this.leaf(tag, text)
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`
  }
}

/** `2026-11-26T18:41:31Z`: xs:dateTime, UTC, whole seconds. */
function isoDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function sumCents(payments: readonly Payment[]): bigint {
  return payments.reduce((sum, p) => sum + BigInt(p.amountMinor), 0n)
}

function writeAddress(out: XmlLines, address: PostalAddress | undefined): void {
  if (!address) return
  out.open('PstlAdr')
  out.optionalLeaf('Dept', address.department)
  out.optionalLeaf('SubDept', address.subDepartment)
  out.optionalLeaf('StrtNm', address.streetName)
  out.optionalLeaf('BldgNb', address.buildingNumber)
  out.optionalLeaf('BldgNm', address.buildingName)
  out.optionalLeaf('Flr', address.floor)
  out.optionalLeaf('PstBx', address.postBox)
  out.optionalLeaf('Room', address.room)
  out.optionalLeaf('PstCd', address.postCode)
  out.leaf('TwnNm', address.townName)
  out.optionalLeaf('TwnLctnNm', address.townLocationName)
  out.optionalLeaf('DstrctNm', address.districtName)
  out.optionalLeaf('CtrySubDvsn', address.countrySubDivision)
  out.leaf('Ctry', address.country)
  for (const line of address.addressLines ?? []) out.leaf('AdrLine', line)
  out.close('PstlAdr')
}

function writeAgent(out: XmlLines, tag: 'DbtrAgt' | 'CdtrAgt', bic: string): void {
  out.open(tag)
  out.open('FinInstnId')
  out.leaf('BICFI', bic)
  out.close('FinInstnId')
  out.close(tag)
}

function writeAccount(out: XmlLines, tag: 'DbtrAcct' | 'CdtrAcct', iban: string): void {
  out.open(tag)
  out.open('Id')
  out.leaf('IBAN', iban)
  out.close('Id')
  out.close(tag)
}

function writePayment(out: XmlLines, payment: Payment): void {
  out.open('CdtTrfTxInf')
  out.open('PmtId')
  out.leaf('EndToEndId', payment.endToEndId)
  out.close('PmtId')
  out.open('Amt')
  out.leaf('InstdAmt', euroText(BigInt(payment.amountMinor)), ' Ccy="EUR"')
  out.close('Amt')
  // EPC: without a BIC the Creditor Agent structure is left out entirely
  if (payment.creditor.bic !== undefined) writeAgent(out, 'CdtrAgt', payment.creditor.bic)
  out.open('Cdtr')
  out.leaf('Nm', payment.creditor.name)
  writeAddress(out, payment.creditor.postalAddress)
  out.close('Cdtr')
  writeAccount(out, 'CdtrAcct', payment.creditor.iban)
  if (payment.remittance !== undefined) {
    out.open('RmtInf')
    out.leaf('Ustrd', payment.remittance)
    out.close('RmtInf')
  }
  out.close('CdtTrfTxInf')
}

function writeInstruction(out: XmlLines, instruction: Instruction): void {
  out.open('PmtInf')
  out.leaf('PmtInfId', instruction.id)
  out.leaf('PmtMtd', 'TRF')
  if (instruction.batchBooking !== undefined) out.leaf('BtchBookg', String(instruction.batchBooking))
  out.leaf('NbOfTxs', String(instruction.payments.length))
  out.leaf('CtrlSum', euroText(sumCents(instruction.payments)))
  out.open('PmtTpInf')
  out.open('SvcLvl')
  out.leaf('Cd', 'SEPA')
  out.close('SvcLvl')
  out.close('PmtTpInf')
  out.open('ReqdExctnDt')
  out.leaf('Dt', instruction.requestedExecutionDate)
  out.close('ReqdExctnDt')
  out.open('Dbtr')
  out.leaf('Nm', instruction.debtor.name)
  writeAddress(out, instruction.debtor.postalAddress)
  out.close('Dbtr')
  writeAccount(out, 'DbtrAcct', instruction.debtor.iban)
  writeAgent(out, 'DbtrAgt', instruction.debtor.bic)
  // charges shared, the only bearer code SEPA allows; stated once per PmtInf as the EPC recommends
  out.leaf('ChrgBr', 'SLEV')
  for (const payment of instruction.payments) writePayment(out, payment)
  out.close('PmtInf')
}

/** Checks the input (throws Pain001InputError naming each bad field) and writes the file. */
export function writePain001(input: Pain001Input): Pain001File {
  const checked = checkPain001Input(input)
  const all = checked.instructions.flatMap((instruction) => instruction.payments)
  const numberOfTransactions = all.length
  const controlSum = euroText(sumCents(all))

  const out = new XmlLines()
  out.open('Document', ` xmlns="${PAIN_001_001_09_NAMESPACE}"`)
  out.open('CstmrCdtTrfInitn')
  out.open('GrpHdr')
  out.leaf('MsgId', checked.messageId)
  out.leaf('CreDtTm', isoDateTime(checked.createdAtMs))
  out.leaf('NbOfTxs', String(numberOfTransactions))
  out.leaf('CtrlSum', controlSum)
  out.open('InitgPty')
  out.leaf('Nm', checked.initiatingParty.name)
  out.close('InitgPty')
  out.close('GrpHdr')
  for (const instruction of checked.instructions) writeInstruction(out, instruction)
  out.close('CstmrCdtTrfInitn')
  out.close('Document')
  return { xml: `<?xml version="1.0" encoding="UTF-8"?>\n${out.toString()}`, numberOfTransactions, controlSum }
}
