/**
 * A monthly statement as CSV (RFC 4180): CRLF line ends, every field that holds a comma, a quote or a
 * line break is quoted with inner quotes doubled. Text fields that a spreadsheet would run as a
 * formula (leading `=`, `+`, `-`, `@`, tab, CR) get a leading apostrophe (OWASP "CSV injection");
 * amounts are integers in minor units and are written as they are.
 * @module
 */
import { CREATOR_ACCOUNTS, type Statement } from './model'

export const STATEMENT_CSV_HEADER = ['row', 'at', 'seq', 'transfer_id', 'code', 'payment_id', 'account', 'currency', 'amount_minor', 'balance_after_minor', 'note'] as const

/** One RFC 4180 field. */
export function csvField(value: string | number | null): string {
  if (value === null) return ''
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvLine(fields: Array<string | number | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`
}

/** Opening balances, one row per movement, closing balances. */
export function statementCsv(s: Statement): string {
  const from = new Date(s.fromMs).toISOString()
  const to = new Date(s.toMs).toISOString()
  let out = csvLine([...STATEMENT_CSV_HEADER])
  for (const account of CREATOR_ACCOUNTS) out += csvLine(['opening', from, null, null, 'opening_balance', null, account, s.currency, s.opening[account], s.opening[account], null])
  for (const l of s.lines) out += csvLine(['line', new Date(l.atMs).toISOString(), l.seq, l.transferId, l.code, l.paymentId, l.account, s.currency, l.amountMinor, l.accountBalanceAfterMinor, l.note])
  for (const account of CREATOR_ACCOUNTS) out += csvLine(['closing', to, null, null, 'closing_balance', null, account, s.currency, s.closing[account], s.closing[account], null])
  return out
}
