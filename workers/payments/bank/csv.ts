/**
 * Bank statements as CSV, for banks (and ACH/wire reports) without camt.053. RFC 4180: comma
 * separated, optional double quotes ("" inside quotes is a quote), CRLF or LF, UTF-8 (a BOM is
 * ignored). The first line is the header; columns are found by name, in any order:
 *
 *   date       booking date, YYYY-MM-DD                                   required
 *   amount     decimal, "." as separator; positive = credit (negative or zero lines are skipped)   required
 *   currency   ISO 4217                                                   required
 *   reference  the remittance text or creditor reference the payer sent  required (may be empty)
 *   entry_id   the bank's own id of the line, unique for the account     required
 *   debtor     the payer's name                                           optional
 *
 * Other columns are ignored. The statement's identity is the SHA-256 of the file.
 * @module
 */
import { sha256Hex } from '../../lib/encoding'
import { CURRENCY_EXPONENTS } from '../currencies'
import { minorFromDecimal } from './money-text'
import { MAX_STATEMENT_ENTRIES, type ParsedStatement, StatementError, type StatementEntry, type StatementIssue } from './statement'

export const CSV_COLUMNS = ['date', 'amount', 'currency', 'reference', 'entry_id', 'debtor'] as const
const REQUIRED = ['date', 'amount', 'currency', 'reference', 'entry_id'] as const

/** Records with the line each starts on; a quote left open is an error at its line. */
export function csvRecords(input: string): Array<{ line: number; fields: string[] }> {
  const textIn = input.replace(/^\uFEFF/, '')
  const records: Array<{ line: number; fields: string[] }> = []
  let fields: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  let start = 1
  let fieldStarted = false
  for (let i = 0; i < textIn.length; i++) {
    const ch = textIn[i]!
    if (quoted) {
      if (ch === '"') {
        if (textIn[i + 1] === '"') (field += '"'), i++
        else quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
      continue
    }
    if (ch === '"' && !fieldStarted) {
      quoted = true
      fieldStarted = true
    } else if (ch === ',') {
      fields.push(field)
      field = ''
      fieldStarted = false
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && textIn[i + 1] === '\n') i++
      fields.push(field)
      if (fields.length > 1 || fields[0] !== '') records.push({ line: start, fields })
      fields = []
      field = ''
      fieldStarted = false
      line++
      start = line
    } else {
      field += ch
      fieldStarted = true
    }
  }
  if (quoted) throw new StatementError([{ path: `line ${start}`, message: 'a quoted field is not closed' }])
  fields.push(field)
  if (fields.length > 1 || fields[0] !== '') records.push({ line: start, fields })
  return records
}

export function parseCsvStatement(input: string): ParsedStatement {
  const records = csvRecords(input)
  const header = records.shift()
  if (!header) throw new StatementError([{ path: 'line 1', message: `empty file: expected a header line ${CSV_COLUMNS.join(',')}` }])
  const names = header.fields.map((f) => f.trim().toLowerCase())
  const missing = REQUIRED.filter((name) => !names.includes(name))
  if (missing.length) throw new StatementError(missing.map((name) => ({ path: 'line 1', message: `header has no column ${name} (expected ${CSV_COLUMNS.join(',')})` })))
  const col = (name: string) => names.indexOf(name)

  const issues: StatementIssue[] = []
  const entries: StatementEntry[] = []
  let skipped = 0
  for (const record of records) {
    const get = (name: string) => (col(name) >= 0 ? (record.fields[col(name)] ?? '').trim() : '')
    const where = (name: string) => `line ${record.line}, column ${name}`
    if (record.fields.length < names.length) {
      issues.push({ path: `line ${record.line}`, message: `${record.fields.length} fields, the header has ${names.length}` })
      continue
    }
    const date = get('date')
    const booked = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN
    if (Number.isNaN(booked)) issues.push({ path: where('date'), message: `"${date}" is not a date YYYY-MM-DD` })
    const currency = get('currency').toUpperCase()
    if (!Object.hasOwn(CURRENCY_EXPONENTS, currency)) issues.push({ path: where('currency'), message: `"${currency}" is not an ISO 4217 currency` })
    const amount = get('amount')
    const negative = /^-/.test(amount)
    const minor = Object.hasOwn(CURRENCY_EXPONENTS, currency) ? minorFromDecimal(amount.replace(/^[-+]/, ''), currency) : null
    if (minor === null && Object.hasOwn(CURRENCY_EXPONENTS, currency)) issues.push({ path: where('amount'), message: `"${amount}" is not a ${currency} amount` })
    const entryId = get('entry_id')
    if (!entryId) issues.push({ path: where('entry_id'), message: 'empty: every line needs the bank\'s id' })
    if (entryId.length > 140) issues.push({ path: where('entry_id'), message: 'longer than 140 characters' })
    if (minor === null || Number.isNaN(booked) || !entryId || entryId.length > 140) continue
    if (negative || minor === 0) {
      skipped++
      continue
    }
    const reference = get('reference')
    entries.push({ entryRef: entryId, amountMinor: minor, currency, bookedAtMs: booked, structured: [], unstructured: reference ? [reference] : [], debtorName: get('debtor') || null })
  }
  if (issues.length) throw new StatementError(issues.slice(0, 20))
  if (entries.length > MAX_STATEMENT_ENTRIES) throw new StatementError([{ path: `line ${records.at(-1)?.line ?? 1}`, message: `more than ${MAX_STATEMENT_ENTRIES} credit lines: split the file` }])
  return { format: 'csv', statementRef: `sha256:${sha256Hex(input)}`, accountIban: null, entries, skipped }
}
