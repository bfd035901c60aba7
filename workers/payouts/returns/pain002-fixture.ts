/**
 * A pain.002.001.10 payment status report as an EPC bank sends it, for the tests (workerd import
 * tests and the xmllint check under Node, which proves the shape against the EPC 2025 XSD) and for
 * dev (simulating a bank's answer to a generated pain.001). Pure text, no Workers or Node APIs.
 * The EPC restriction of pain.002.001.10 is a reject report: GrpSts, PmtInfSts and TxSts may only be
 * RJCT there (checked with xmllint); the importer still reads other statuses from non-EPC banks.
 * @module
 */
import { escapeXml } from '../files/sepa/xml-escape'

export interface Pain002FixtureInput {
  messageId: string
  createdAt: string
  /** the pain.001 MsgId the report answers */
  originalMessageId: string
  groupStatus?: string
  groupReason?: string
  /** the bank that reports (Orgtr/AnyBIC and DbtrAgt) */
  bankBic: string
  instructions: Array<{
    originalPaymentInformationId: string
    status?: string
    reason?: string
    transactions: Array<{ endToEndId: string; status: string; reason?: string }>
  }>
}

function reason(indent: string, bic: string, code: string | undefined): string {
  if (!code) return ''
  return `${indent}<StsRsnInf>\n${indent}  <Orgtr><Id><OrgId><AnyBIC>${escapeXml(bic)}</AnyBIC></OrgId></Id></Orgtr>\n${indent}  <Rsn><Cd>${escapeXml(code)}</Cd></Rsn>\n${indent}</StsRsnInf>\n`
}

export function pain002Xml(input: Pain002FixtureInput): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">\n  <CstmrPmtStsRpt>\n'
  out += `    <GrpHdr>\n      <MsgId>${escapeXml(input.messageId)}</MsgId>\n      <CreDtTm>${input.createdAt}</CreDtTm>\n      <DbtrAgt><FinInstnId><BICFI>${escapeXml(input.bankBic)}</BICFI></FinInstnId></DbtrAgt>\n    </GrpHdr>\n`
  out += `    <OrgnlGrpInfAndSts>\n      <OrgnlMsgId>${escapeXml(input.originalMessageId)}</OrgnlMsgId>\n      <OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>\n`
  if (input.groupStatus) out += `      <GrpSts>${input.groupStatus}</GrpSts>\n`
  out += reason('      ', input.bankBic, input.groupReason)
  out += '    </OrgnlGrpInfAndSts>\n'
  for (const i of input.instructions) {
    out += `    <OrgnlPmtInfAndSts>\n      <OrgnlPmtInfId>${escapeXml(i.originalPaymentInformationId)}</OrgnlPmtInfId>\n`
    if (i.status) out += `      <PmtInfSts>${i.status}</PmtInfSts>\n`
    out += reason('      ', input.bankBic, i.reason)
    for (const t of i.transactions) {
      out += `      <TxInfAndSts>\n        <OrgnlEndToEndId>${escapeXml(t.endToEndId)}</OrgnlEndToEndId>\n        <TxSts>${t.status}</TxSts>\n`
      out += reason('        ', input.bankBic, t.reason)
      out += '      </TxInfAndSts>\n'
    }
    out += '    </OrgnlPmtInfAndSts>\n'
  }
  return `${out}  </CstmrPmtStsRpt>\n</Document>\n`
}
