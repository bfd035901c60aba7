/**
 * ACH notifications of change (NOC: SEC code COR, addenda 98): a receiving bank posted one of our
 * credits but tells us a detail of the receiver's account is wrong or out of date (a merger changed
 * the routing number, the account was renumbered, it is a savings account, ...). Nacha rules oblige
 * the originator to make the change within six banking days or before the next entry, whichever is
 * later: so the correction is applied to the creator's ACH payout method as soon as the file is
 * imported, and the next NACHA file pays the corrected account.
 *
 * What each change code means for an ACH method (`AchMethod` in methods/methods.ts) is the table
 * CHANGE_CODES; where the values sit inside the 29 characters of corrected data is `readCorrection`
 * (positions per the Nacha change code table, as in moov-io/ach docs/changes.md and addenda98.go).
 *
 * Applying one: the original trace number finds the payout (`rail = 'nacha' AND processor_ref`), the
 * payout its method; the corrected method is validated like one a creator enters (a correction that
 * does not validate, e.g. a routing number with a wrong check digit, is reported `invalid` and not
 * applied), and replaces the method through the store's `replaceMethod` (new row, same default and
 * payout rule, the old one kept for the payouts that went to it). The new row's `created_by` is
 * `ach_noc:<original trace>:<change code>:<replaced method id>`: it makes a second import of the same
 * file find its earlier work (`already_applied`), and lets a later notification about an earlier
 * payout follow the corrections already made to the method.
 * @module
 */
import type { z } from 'zod'
import type { AuditContext } from '../../compliance/audit'
import { audit } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { AchMethod, type PayoutMethod } from '../methods/methods'
import { methodById, type MethodRow, openMethodRow, replaceMethod } from '../methods/store'
import { notifyCreator } from '../notify'

type Ach = z.output<typeof AchMethod>
type AchPatch = Partial<Pick<Ach, 'routingNumber' | 'accountNumber' | 'accountType' | 'accountHolderName'>>
type AchField = keyof AchPatch

/** One addenda 98 as read from the file. */
export interface AchChangeNotice {
  /** trace number of the entry we sent */
  original_trace: string
  /** trace number of the COR entry */
  noc_trace: string
  change_code: string
  /** RDFI identification (8 digits) of the original entry */
  original_rdfi: string
  /** the 29 characters as written: never put into a response, an audit row or a mail */
  corrected_data: string
}

export type CorrectedField = 'routing_number' | 'account_number' | 'account_type' | 'account_holder_name'

export type NocStatus = 'applied' | 'already_applied' | 'not_applicable' | 'unmatched' | 'invalid'

/** What one notification did; masked summaries only (the response is stored by the idempotency layer). */
export interface NocOutcome {
  original_trace: string
  noc_trace: string
  change_code: string
  meaning: string
  /** the method fields the code corrects */
  corrects: CorrectedField[]
  status: NocStatus
  detail: string
  payout_id: string | null
  creator_id: string | null
  old_method_id: string | null
  new_method_id: string | null
  old_summary: string | null
  new_summary: string | null
  notified: boolean
}

interface ChangeCodeInfo {
  meaning: string
  /** the AchMethod fields the code corrects; absent when it is not applicable to a method */
  corrects?: readonly AchField[]
  /** why nothing is changed for this code */
  notApplicable?: string
}

const OUR_COMPANY = 'it corrects our company record at the ODFI, not the creator’s account: for finance to take up with the bank'
const REFUSAL = 'a refused notification of change travels from an ODFI back to an RDFI; an originator never receives one'

/** Nacha change codes (Operating Rules appendix 5; moov-io/ach addenda98.go and docs/changes.md). */
export const CHANGE_CODES: Readonly<Record<string, ChangeCodeInfo>> = {
  C01: { meaning: 'Incorrect DFI account number', corrects: ['accountNumber'] },
  C02: { meaning: 'Incorrect routing number', corrects: ['routingNumber'] },
  C03: { meaning: 'Incorrect routing number and incorrect DFI account number', corrects: ['routingNumber', 'accountNumber'] },
  C04: { meaning: 'Incorrect individual name / receiving company name', corrects: ['accountHolderName'] },
  C05: { meaning: 'Incorrect transaction code (checking or savings account)', corrects: ['accountType'] },
  C06: { meaning: 'Incorrect DFI account number and incorrect transaction code', corrects: ['accountNumber', 'accountType'] },
  C07: { meaning: 'Incorrect routing number, DFI account number and transaction code', corrects: ['routingNumber', 'accountNumber', 'accountType'] },
  C08: { meaning: 'Incorrect receiving DFI identification (IAT only)', notApplicable: 'international (IAT) entries only: we originate PPD and CCD credits' },
  C09: {
    meaning: 'Incorrect individual identification number',
    notApplicable: 'our entries carry the payout id in the individual id field, not a number of the creator’s: there is nothing on the method to correct',
  },
  C10: { meaning: 'Incorrect company name', notApplicable: OUR_COMPANY },
  C11: { meaning: 'Incorrect company identification', notApplicable: OUR_COMPANY },
  C12: { meaning: 'Incorrect company name and company identification', notApplicable: OUR_COMPANY },
  C13: { meaning: 'Addenda format error', notApplicable: 'the entry posted; it concerns the format of our addenda 05 (the file writer), not the creator’s account' },
  C14: { meaning: 'Incorrect SEC code for an outbound international payment', notApplicable: 'international (IAT) entries only: we originate PPD and CCD credits' },
  C61: { meaning: 'Misrouted notification of change', notApplicable: REFUSAL },
  C62: { meaning: 'Incorrect trace number', notApplicable: REFUSAL },
  C63: { meaning: 'Incorrect company identification number', notApplicable: REFUSAL },
  C64: { meaning: 'Incorrect individual identification number', notApplicable: REFUSAL },
  C65: { meaning: 'Incorrectly formatted corrected data', notApplicable: REFUSAL },
  C66: { meaning: 'Incorrect discretionary data', notApplicable: REFUSAL },
  C67: { meaning: 'Routing number not from the original entry detail record', notApplicable: REFUSAL },
  C68: { meaning: 'DFI account number not from the original entry detail record', notApplicable: REFUSAL },
  C69: { meaning: 'Incorrect transaction code', notApplicable: REFUSAL },
}

export function changeCodeMeaning(code: string): string {
  return CHANGE_CODES[code]?.meaning ?? 'Unknown change code'
}

const SNAKE: Record<AchField, CorrectedField> = { routingNumber: 'routing_number', accountNumber: 'account_number', accountType: 'account_type', accountHolderName: 'account_holder_name' }

export type Correction = { ok: true; patch: AchPatch } | { ok: false; why: string }

/**
 * The corrected values of `code` from its 29 characters of corrected data. Positions (1-based, per
 * the Nacha change code table): C01 account 1-17; C02 routing 1-9; C03 routing 1-9, account 13-29;
 * C04 name 1-22; C05 transaction code 1-2; C06 account 1-17, transaction code 21-22; C07 routing
 * 1-9, account 10-26, transaction code 27-28. Each value is read from its range trimmed, so a bank
 * that right-justifies the last value of C03/C06/C07 inside the field (as moov-io/ach writes them)
 * reads the same. Only the layout is checked here; the values are validated as a whole method.
 */
export function readCorrection(code: string, data: string): Correction {
  const info = CHANGE_CODES[code]
  if (!info?.corrects) return { ok: false, why: info?.notApplicable ?? `${code} is not a Nacha change code` }
  const at = (from: number, to: number) => data.padEnd(29, ' ').slice(from - 1, to).trim()
  const patch: AchPatch = {}
  const problems: string[] = []
  const token = (value: string, what: string): string => {
    if (value === '') problems.push(`the corrected ${what} is blank`)
    else if (/\s/.test(value)) problems.push(`the corrected ${what} holds a blank`)
    return value
  }
  const accountType = (tc: string) => {
    // a corrected code is that of the credit we should have sent: 2x demand (checking), 3x savings
    const m = /^([23])([2-4])$/.exec(tc)
    if (m) return m[1] === '2' ? 'checking' : 'savings'
    problems.push(/^[45][0-9]$/.test(tc) ? `transaction code ${tc} is a general ledger or loan account: we pay checking and savings accounts only` : `"${tc}" is not a credit transaction code (22/32)`)
    return undefined
  }
  switch (code) {
    case 'C01':
      patch.accountNumber = token(at(1, 17), 'account number')
      break
    case 'C02':
      patch.routingNumber = token(at(1, 9), 'routing number')
      break
    case 'C03':
      patch.routingNumber = token(at(1, 9), 'routing number')
      patch.accountNumber = token(at(10, 29), 'account number')
      break
    case 'C04':
      patch.accountHolderName = at(1, 22)
      if (patch.accountHolderName === '') problems.push('the corrected name is blank')
      break
    case 'C05':
      patch.accountType = accountType(at(1, 2))
      break
    case 'C06':
      patch.accountNumber = token(at(1, 17), 'account number')
      patch.accountType = accountType(at(18, 29))
      break
    case 'C07':
      patch.routingNumber = token(at(1, 9), 'routing number')
      patch.accountNumber = token(at(10, 26), 'account number')
      patch.accountType = accountType(at(27, 29))
      break
  }
  if (problems.length > 0) return { ok: false, why: problems.join('; ') }
  return { ok: true, patch }
}

/** The method with the correction, validated as one entered by the creator; or why it does not validate. */
export function correctedMethod(method: Ach, patch: AchPatch): { ok: true; method: Ach } | { ok: false; why: string } {
  const parsed = AchMethod.safeParse({ ...method, ...patch })
  if (parsed.success) return { ok: true, method: parsed.data }
  return { ok: false, why: `the corrected method does not validate: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` }
}

const sameAch = (a: Ach, b: Ach) =>
  a.routingNumber === b.routingNumber && a.accountNumber === b.accountNumber && a.accountType === b.accountType && a.accountHolderName === b.accountHolderName && a.holderType === b.holderType

const NOC_ACTOR = 'ach_noc:'
/** escapes `%`, `_` and the escape itself for `LIKE ... ESCAPE '!'` */
const like = (value: string) => value.replace(/[!%_]/g, (c) => `!${c}`)

async function rowCreatedBy(env: Env, creatorId: string, pattern: string): Promise<MethodRow | null> {
  const row = await env.DB.prepare(`SELECT id FROM payout_methods WHERE creator_id = ? AND created_by LIKE ? ESCAPE '!' ORDER BY id DESC LIMIT 1`).bind(creatorId, pattern).first<{ id: string }>()
  return row ? methodById(env, row.id) : null
}

/** The method in use that corrections (by notifications of change only) made of `row`, or the last one reached. */
async function latestCorrection(env: Env, row: MethodRow): Promise<MethodRow> {
  let current = row
  // a chain longer than this is not a bank correcting a detail: stop and let an operator look
  for (let hop = 0; hop < 10 && current.removedAtMs !== null; hop++) {
    const next = await rowCreatedBy(env, current.creatorId, `${like(NOC_ACTOR)}%:${like(current.id)}`)
    if (!next) break
    current = next
  }
  return current
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'

async function openAch(env: Env, row: MethodRow): Promise<Ach | null> {
  if (row.type !== 'ach') return null
  const method: PayoutMethod = await openMethodRow(env, row)
  return method.type === 'ach' ? method : null
}

/**
 * Applies one notification of change (module comment). Never throws for what the bank sent: every
 * outcome is listed for finance with why.
 */
export async function applyChangeNotice(env: Env, ctx: AuditContext, notice: AchChangeNotice, nowMs = Date.now()): Promise<NocOutcome> {
  const info = CHANGE_CODES[notice.change_code]
  const out: NocOutcome = {
    original_trace: notice.original_trace,
    noc_trace: notice.noc_trace,
    change_code: notice.change_code,
    meaning: changeCodeMeaning(notice.change_code),
    corrects: (info?.corrects ?? []).map((f) => SNAKE[f]),
    status: 'unmatched',
    detail: '',
    payout_id: null,
    creator_id: null,
    old_method_id: null,
    new_method_id: null,
    old_summary: null,
    new_summary: null,
    notified: false,
  }
  const done = (status: NocStatus, detail: string): NocOutcome => Object.assign(out, { status, detail })

  const { results } = await env.DB.prepare(`SELECT id, creator_id, method_id FROM payouts WHERE rail = 'nacha' AND processor_ref = ? ORDER BY id DESC`)
    .bind(notice.original_trace)
    .all<{ id: string; creator_id: string; method_id: string }>()
  if (results.length === 0) return done('unmatched', 'no NACHA payout carries this trace number')
  if (new Set(results.map((r) => r.method_id)).size > 1) return done('unmatched', `${results.length} payouts to different methods carry this trace number: correct the method by hand`)
  const payout = results[0]!
  Object.assign(out, { payout_id: payout.id, creator_id: payout.creator_id, old_method_id: payout.method_id })

  if (!info) return done('invalid', `${notice.change_code} is not a Nacha change code`)
  if (!info.corrects) return done('not_applicable', info.notApplicable ?? 'nothing to correct')
  const correction = readCorrection(notice.change_code, notice.corrected_data)
  if (!correction.ok) return done('invalid', correction.why)

  const paid = await methodById(env, payout.method_id)
  const paidMethod = paid ? await openAch(env, paid) : null
  if (!paid || !paidMethod) return done('not_applicable', `payout ${payout.id} was not paid to an ACH method`)
  out.old_summary = paid.summary
  // the bank corrects the entry it received: one naming another bank is not about this payout's account
  if (paidMethod.routingNumber.slice(0, 8) !== notice.original_rdfi) {
    return done('invalid', `the notification names RDFI ${notice.original_rdfi}, payout ${payout.id} was sent to ${paidMethod.routingNumber.slice(0, 8)}`)
  }

  const key = `${NOC_ACTOR}${notice.original_trace}:${notice.change_code}:`
  const earlier = await rowCreatedBy(env, payout.creator_id, `${like(key)}%`)
  if (earlier) {
    Object.assign(out, { new_method_id: earlier.id, new_summary: earlier.summary })
    return done('already_applied', `applied on ${when(earlier.createdAtMs)}`)
  }

  const current = await latestCorrection(env, paid)
  if (current.removedAtMs !== null) {
    return done('not_applicable', `method ${current.id} was replaced or removed by the creator on ${when(current.removedAtMs)}: the correction is not carried over to another method (check the method in use with the creator)`)
  }
  const currentMethod = await openAch(env, current)
  if (!currentMethod) return done('not_applicable', `method ${current.id} is not an ACH method`)
  Object.assign(out, { old_method_id: current.id, old_summary: current.summary })
  const corrected = correctedMethod(currentMethod, correction.patch)
  if (!corrected.ok) return done('invalid', corrected.why)
  if (sameAch(corrected.method, currentMethod)) {
    Object.assign(out, { new_method_id: current.id, new_summary: current.summary })
    return done('already_applied', `method ${current.id} already carries the corrected details`)
  }

  const row = await replaceMethod(env, current.id, {
    id: newId('payoutMethod', nowMs),
    creatorId: payout.creator_id,
    method: corrected.method,
    currency: current.currency,
    createdBy: key + current.id,
    nowMs,
    // No new cool-off: the cool-off protects against account takeover, someone with a stolen
    // session redirecting money to their own account; a bank's notification of change is not a
    // change anyone signed in to make, it corrects the account the creator already chose, and Nacha
    // wants it used for the next entry. A method still cooling off keeps its own end.
    coolOffMs: Math.max(0, current.usableFromMs - nowMs),
    makeDefault: false,
  })
  if (!row) {
    const raced = await rowCreatedBy(env, payout.creator_id, `${like(key)}%`)
    if (raced) {
      Object.assign(out, { new_method_id: raced.id, new_summary: raced.summary })
      return done('already_applied', 'applied by an import running at the same time')
    }
    return done('not_applicable', `method ${current.id} was replaced or removed meanwhile`)
  }
  Object.assign(out, { new_method_id: row.id, new_summary: row.summary })

  const notified = await notifyCreator(env, payout.creator_id, {
    subject: 'Your bank corrected your payout account details',
    text: [
      `On ${when(nowMs)} your bank sent us a notification of change about your payout ${payout.id} (${notice.change_code}: ${out.meaning}).`,
      `As the ACH rules require, we corrected your payout method: ${current.summary} is now ${row.summary}${row.isDefault ? ', still your default' : ''}. Your next payouts go to the corrected account.`,
      'If these are not your bank’s details, contact FANZ support at once.',
    ].join('\n\n'),
  })
  out.notified = notified.sent
  await audit(ctx, 'payouts.method.noc_applied', `payout_method:${row.id}`, {
    creator_id: row.creatorId,
    payout_id: payout.id,
    replaces: current.id,
    change_code: notice.change_code,
    meaning: out.meaning,
    corrects: out.corrects,
    original_trace: notice.original_trace,
    noc_trace: notice.noc_trace,
    before: current.summary,
    after: row.summary,
    usable_from_ms: row.usableFromMs,
    default: row.isDefault,
    notified: notified.sent,
  })
  return done('applied', `${out.corrects.join(', ')} corrected; usable ${row.usableFromMs <= nowMs ? 'at once' : `from ${when(row.usableFromMs)}`}`)
}
