/**
 * ACH return files: the ODFI's file of entries RDFIs sent back, each with an addenda 99 naming the
 * R-code and the trace number of the entry we originated (files/nacha/parser.ts reads it). Each
 * return finds its payout by that trace number (`payouts.processor_ref` of a NACHA payout, set when
 * the file was written) and the amount; then returns/apply.ts decides what the money does.
 * Notifications of change in the same file (COR entries, addenda 98) correct the creator's ACH
 * method instead (returns/noc.ts); a file may hold only those.
 * @module
 */
import type { AuditContext } from '../../compliance/audit'
import { audit } from '../../compliance/audit'
import { ProblemError } from '../../edge/problem'
import { parseNachaFile } from '../files/nacha/parser'
import { applyReturn, type ReturnOutcome } from './apply'
import { achReturnText } from './codes'
import { applyChangeNotice, type AchChangeNotice, type NocOutcome } from './noc'

export interface AchReturnItem {
  original_trace: string
  return_trace: string
  code: string
  reason: string
  amount_minor: number
  date_of_death: string | null
  addenda_information: string
}

export type Unmatched = AchReturnItem & { why: 'unknown_trace' | 'amount_mismatch' | 'ambiguous' | 'not_returnable'; detail: string; payout_id: string | null }
export type Matched = AchReturnItem & ReturnOutcome

export interface ImportResult {
  entries: number
  matched: Matched[]
  already_returned: Matched[]
  unmatched: Unmatched[]
  /** one per addenda 98, in file order: what the correction did to the creator's method */
  notifications_of_change: NocOutcome[]
}

/**
 * Reads the returns and notifications of change out of a NACHA file; a file that does not parse, or
 * holds neither, is a 422 naming the lines.
 */
export function readAchReturns(text: string): { returns: AchReturnItem[]; notificationsOfChange: AchChangeNotice[] } {
  const parsed = parseNachaFile(text)
  if (!parsed.ok) {
    throw new ProblemError('VALIDATION_FAILED', {
      detail: `the return file is not a valid NACHA file (${parsed.errors.length} errors)`,
      errors: parsed.errors.slice(0, 50).map((e) => ({ path: `body.line ${e.line}.${e.field}`, message: e.message })),
    })
  }
  const returns: AchReturnItem[] = []
  const noc: AchChangeNotice[] = []
  for (const batch of parsed.file.batches) {
    for (const entry of batch.entries) {
      for (const a of entry.addenda) {
        if (a.change) {
          noc.push({
            original_trace: a.change.originalEntryTraceNumber,
            noc_trace: a.change.traceNumber,
            change_code: a.change.changeCode,
            original_rdfi: a.change.originalReceivingDfi,
            corrected_data: a.change.correctedData,
          })
        }
        if (!a.return) continue
        returns.push({
          original_trace: a.return.originalEntryTraceNumber,
          return_trace: a.return.traceNumber,
          code: a.return.returnReasonCode,
          reason: achReturnText(a.return.returnReasonCode),
          amount_minor: entry.amountMinor,
          date_of_death: a.return.dateOfDeath,
          addenda_information: a.return.addendaInformation,
        })
      }
    }
  }
  if (returns.length === 0 && noc.length === 0) {
    throw new ProblemError('VALIDATION_FAILED', {
      detail: 'the file holds no return entries (addenda 99) and no notifications of change (addenda 98): was an outgoing file sent by mistake?',
      errors: [{ path: 'body', message: 'no addenda 99 or 98 records' }],
    })
  }
  return { returns, notificationsOfChange: noc }
}

export async function importAchReturns(env: Env, ctx: AuditContext, text: string, recordedBy: string, sha256: string, nowMs = Date.now()): Promise<ImportResult> {
  const { returns, notificationsOfChange } = readAchReturns(text)
  const result: ImportResult = { entries: returns.length, matched: [], already_returned: [], unmatched: [], notifications_of_change: [] }
  for (const item of returns) {
    const { results } = await env.DB.prepare(`SELECT id, net_minor FROM payouts WHERE rail = 'nacha' AND processor_ref = ?`).bind(item.original_trace).all<{ id: string; net_minor: number }>()
    const sameAmount = results.filter((r) => r.net_minor === item.amount_minor)
    if (results.length === 0) {
      result.unmatched.push({ ...item, why: 'unknown_trace', detail: 'no NACHA payout carries this trace number', payout_id: null })
      continue
    }
    if (sameAmount.length === 0) {
      result.unmatched.push({ ...item, why: 'amount_mismatch', detail: `payout ${results[0]!.id} was ${results[0]!.net_minor}, the return is ${item.amount_minor}`, payout_id: results[0]!.id })
      continue
    }
    if (sameAmount.length > 1) {
      result.unmatched.push({ ...item, why: 'ambiguous', detail: `${sameAmount.length} payouts carry this trace number and amount: record the return by hand`, payout_id: null })
      continue
    }
    const outcome = await applyReturn(env, ctx, sameAmount[0]!.id, { source: 'ach_return', code: item.code, reason: item.reason, recordedBy }, nowMs)
    if (outcome.status === 'already_returned') result.already_returned.push({ ...item, ...outcome })
    else if (outcome.status === 'not_returnable') result.unmatched.push({ ...item, why: 'not_returnable', detail: `payout ${outcome.payout_id} is ${outcome.state}`, payout_id: outcome.payout_id })
    else result.matched.push({ ...item, ...outcome })
  }
  for (const notice of notificationsOfChange) result.notifications_of_change.push(await applyChangeNotice(env, ctx, notice, nowMs))
  await audit(ctx, 'payouts.returns.import', `payout_returns:ach:${sha256}`, {
    source: 'ach_return',
    sha256,
    entries: result.entries,
    matched: result.matched.length,
    already_returned: result.already_returned.length,
    unmatched: result.unmatched.map((u) => ({ trace: u.original_trace, code: u.code, why: u.why })),
    notifications_of_change: result.notifications_of_change.map((n) => ({ trace: n.original_trace, code: n.change_code, status: n.status, payout_id: n.payout_id, new_method_id: n.new_method_id })),
  })
  return result
}
