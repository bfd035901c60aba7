/**
 * SEPA payment status reports (ISO 20022 pain.002, EPC 2025: pain.002.001.10; earlier versions read
 * the same way): the bank's answer to a pain.001 we sent. Rejections come at three levels:
 * the whole message (`OrgnlGrpInfAndSts/GrpSts` RJCT), one payment instruction
 * (`OrgnlPmtInfAndSts/PmtInfSts` RJCT) or one transaction (`TxInfAndSts/TxSts` RJCT with
 * `OrgnlEndToEndId`), each with `StsRsnInf/Rsn/Cd` (AC01, AC04, AM04, MS03, ...). Every payout a
 * rejection reaches is failed (not yet confirmed) or returned (already confirmed) by apply.ts;
 * accepting statuses (ACCP, ACSC, ACTC, ACWC, PDNG, PART) move nothing and are listed as such (the
 * EPC restriction of pain.002.001.10 only carries RJCT; other banks' reports may carry the rest).
 * Parsed with fast-xml-parser, every value kept as text.
 * @module
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { AuditContext } from '../../compliance/audit'
import { audit } from '../../compliance/audit'
import { ProblemError } from '../../edge/problem'
import { bankReference } from '../files/build'
import { applyReturn, type ReturnOutcome } from './apply'
import { sepaReasonText } from './codes'

type Node = Record<string, unknown>

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ['OrgnlPmtInfAndSts', 'TxInfAndSts', 'StsRsnInf', 'AddtlInf'].includes(name),
})

const NAMESPACE = /xmlns(?::\w+)?\s*=\s*"urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.(\d{2})"/

const node = (v: unknown): Node | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined)
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() || undefined : undefined)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v])

export interface StatusReason {
  code: string
  text: string
  additional: string[]
}

export interface Pain002Transaction {
  endToEndId: string | null
  status: string | null
  reasons: StatusReason[]
}

export interface Pain002Report {
  version: string
  messageId: string | null
  originalMessageId: string
  originalMessageName: string
  groupStatus: string | null
  groupReasons: StatusReason[]
  instructions: Array<{ originalPaymentInformationId: string; status: string | null; reasons: StatusReason[]; transactions: Pain002Transaction[] }>
}

function reasons(v: unknown): StatusReason[] {
  return list(v).flatMap((r) => {
    const n = node(r)
    const code = text(node(node(n?.Rsn))?.Cd) ?? text(node(node(n?.Rsn))?.Prtry)
    if (!code) return []
    return [{ code, text: sepaReasonText(code), additional: list(n?.AddtlInf).map((a) => text(a) ?? '').filter(Boolean) }]
  })
}

/** Reads a pain.002; a document that is not one is a 422 naming what is missing. */
export function parsePain002(xml: string): Pain002Report {
  const bad = (message: string, path = 'body'): never => {
    throw new ProblemError('VALIDATION_FAILED', { detail: `not a pain.002 payment status report: ${message}`, errors: [{ path, message }] })
  }
  const valid = XMLValidator.validate(xml)
  if (valid !== true) bad(`XML error at line ${valid.err.line}: ${valid.err.msg}`)
  const version = NAMESPACE.exec(xml)?.[1] ?? bad('the document is not in a pain.002.001.xx namespace')
  const report = node(node(node(parser.parse(xml))?.Document)?.CstmrPmtStsRpt) ?? bad('no Document/CstmrPmtStsRpt', 'body.Document')
  const group = node(report.OrgnlGrpInfAndSts) ?? bad('no OrgnlGrpInfAndSts', 'body.OrgnlGrpInfAndSts')
  const originalMessageId = text(group.OrgnlMsgId) ?? bad('no OrgnlMsgId', 'body.OrgnlGrpInfAndSts.OrgnlMsgId')
  return {
    version: `pain.002.001.${version}`,
    messageId: text(node(report.GrpHdr)?.MsgId) ?? null,
    originalMessageId,
    originalMessageName: text(group.OrgnlMsgNmId) ?? '',
    groupStatus: text(group.GrpSts) ?? null,
    groupReasons: reasons(group.StsRsnInf),
    instructions: list(report.OrgnlPmtInfAndSts).map((i) => {
      const n = node(i) ?? {}
      return {
        originalPaymentInformationId: text(n.OrgnlPmtInfId) ?? '',
        status: text(n.PmtInfSts) ?? null,
        reasons: reasons(n.StsRsnInf),
        transactions: list(n.TxInfAndSts).map((t) => {
          const tn = node(t) ?? {}
          return { endToEndId: text(tn.OrgnlEndToEndId) ?? null, status: text(tn.TxSts) ?? null, reasons: reasons(tn.StsRsnInf) }
        }),
      }
    }),
  }
}

export interface SepaItem {
  level: 'group' | 'instruction' | 'transaction'
  end_to_end_id: string | null
  status: string
  code: string
  reason: string
}

export interface SepaImportResult {
  original_message_id: string
  file_id: string | null
  group_status: string | null
  matched: Array<SepaItem & ReturnOutcome>
  already_returned: Array<SepaItem & ReturnOutcome>
  unmatched: Array<SepaItem & { why: 'unknown_end_to_end_id' | 'not_returnable'; detail: string; payout_id: string | null }>
  /** statuses that move nothing (accepted, pending, settled) */
  informational: Array<{ level: SepaItem['level']; end_to_end_id: string | null; status: string }>
}

const REJECTED = 'RJCT'
const reasonOf = (rs: StatusReason[], fallback: StatusReason[] = []): { code: string; reason: string } => {
  const r = rs[0] ?? fallback[0]
  if (!r) return { code: 'NARR', reason: 'rejected without a reason code' }
  return { code: r.code, reason: [r.text, ...r.additional].join(': ').slice(0, 500) }
}

export async function importPain002(env: Env, ctx: AuditContext, xml: string, recordedBy: string, sha256: string, nowMs = Date.now()): Promise<SepaImportResult> {
  const report = parsePain002(xml)
  // our MsgId is the file id in SEPA spelling (files/build.ts bankReference)
  const file = await env.DB.prepare(`SELECT id, batch_id FROM payout_files WHERE format = 'pain.001.001.09' AND id = ?`)
    .bind(report.originalMessageId.replace('-', '_'))
    .first<{ id: string; batch_id: string }>()
  const result: SepaImportResult = { original_message_id: report.originalMessageId, file_id: file?.id ?? null, group_status: report.groupStatus, matched: [], already_returned: [], unmatched: [], informational: [] }

  const filePayouts = async (): Promise<string[]> => {
    if (!file) return []
    const { results } = await env.DB.prepare(`SELECT processor_ref FROM payouts WHERE batch_id = ? AND rail = 'sepa' AND processor_ref IS NOT NULL ORDER BY id`).bind(file.batch_id).all<{ processor_ref: string }>()
    return results.map((r) => r.processor_ref)
  }

  const reject = async (item: SepaItem) => {
    const payout = await env.DB.prepare(`SELECT id FROM payouts WHERE rail = 'sepa' AND processor_ref = ?`).bind(item.end_to_end_id).first<{ id: string }>()
    if (!payout) {
      result.unmatched.push({ ...item, why: 'unknown_end_to_end_id', detail: 'no SEPA payout carries this EndToEndId', payout_id: null })
      return
    }
    const outcome = await applyReturn(env, ctx, payout.id, { source: 'sepa_reject', code: item.code, reason: item.reason, recordedBy }, nowMs)
    if (outcome.status === 'already_returned') result.already_returned.push({ ...item, ...outcome })
    else if (outcome.status === 'not_returnable') result.unmatched.push({ ...item, why: 'not_returnable', detail: `payout ${outcome.payout_id} is ${outcome.state}`, payout_id: outcome.payout_id })
    else result.matched.push({ ...item, ...outcome })
  }

  const done = new Set<string>()
  if (report.groupStatus === REJECTED) {
    // the whole file was refused: every payout in it
    const { code, reason } = reasonOf(report.groupReasons)
    if (!file) result.unmatched.push({ level: 'group', end_to_end_id: null, status: REJECTED, code, reason, why: 'unknown_end_to_end_id', detail: `no pain.001 file with MsgId ${report.originalMessageId}`, payout_id: null })
    for (const ref of await filePayouts()) {
      done.add(ref)
      await reject({ level: 'group', end_to_end_id: ref, status: REJECTED, code, reason })
    }
  } else if (report.groupStatus) {
    result.informational.push({ level: 'group', end_to_end_id: null, status: report.groupStatus })
  }
  for (const instruction of report.instructions) {
    if (instruction.status === REJECTED) {
      const { code, reason } = reasonOf(instruction.reasons, report.groupReasons)
      // we write one PmtInf per file, `<MsgId>-1`
      const ours = file && instruction.originalPaymentInformationId === `${bankReference(file.id)}-1`
      if (!ours) result.unmatched.push({ level: 'instruction', end_to_end_id: null, status: REJECTED, code, reason, why: 'unknown_end_to_end_id', detail: `no payment instruction ${instruction.originalPaymentInformationId} in our files`, payout_id: null })
      else {
        for (const ref of await filePayouts()) {
          if (done.has(ref)) continue
          done.add(ref)
          await reject({ level: 'instruction', end_to_end_id: ref, status: REJECTED, code, reason })
        }
      }
    } else if (instruction.status) {
      result.informational.push({ level: 'instruction', end_to_end_id: null, status: instruction.status })
    }
    for (const tx of instruction.transactions) {
      if (tx.status !== REJECTED) {
        result.informational.push({ level: 'transaction', end_to_end_id: tx.endToEndId, status: tx.status ?? 'none' })
        continue
      }
      const { code, reason } = reasonOf(tx.reasons, instruction.reasons)
      if (!tx.endToEndId) {
        result.unmatched.push({ level: 'transaction', end_to_end_id: null, status: REJECTED, code, reason, why: 'unknown_end_to_end_id', detail: 'a rejected transaction without OrgnlEndToEndId', payout_id: null })
        continue
      }
      if (done.has(tx.endToEndId)) continue
      done.add(tx.endToEndId)
      await reject({ level: 'transaction', end_to_end_id: tx.endToEndId, status: REJECTED, code, reason })
    }
  }
  await audit(ctx, 'payouts.returns.import', `payout_returns:sepa:${sha256}`, {
    source: 'sepa_reject',
    sha256,
    original_message_id: report.originalMessageId,
    group_status: report.groupStatus,
    matched: result.matched.length,
    already_returned: result.already_returned.length,
    unmatched: result.unmatched.map((u) => ({ end_to_end_id: u.end_to_end_id, code: u.code, why: u.why })),
  })
  return result
}
