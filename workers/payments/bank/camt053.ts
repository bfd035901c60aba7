/**
 * ISO 20022 camt.053 (BankToCustomerStatement), versions 001.02 and later, parsed with
 * fast-xml-parser: `Document/BkToCstmrStmt/Stmt` with `Id`, `Acct/Id/IBAN` and its `Ntry` entries:
 * `Amt@Ccy`, `CdtDbtInd` (only CRDT is a pay-in), `Sts` (only booked entries, `BOOK`, are money;
 * a code in .02, `Sts/Cd` from .08), `BookgDt/Dt|DtTm`, the bank's `AcctSvcrRef` (else `NtryRef`),
 * and per transaction `NtryDtls/TxDtls`: `RmtInf/Strd/CdtrRefInf/Ref`, `RmtInf/Ustrd`,
 * `RltdPties/Dbtr/Nm` (or `Dbtr/Pty/Nm` from .08). A batch entry with several TxDtls, each with its
 * own amount, becomes one entry per transaction (`<ref>:<n>`).
 * One statement (account) per file: a file carrying several is refused, so a statement id stays
 * the import's unit of "imported once". DOCTYPEs are refused (a bank statement has none, and
 * entity tricks have no business here).
 * @module
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { CURRENCY_EXPONENTS } from '../currencies'
import { compactIban } from './iban'
import { minorFromDecimal } from './money-text'
import { MAX_STATEMENT_ENTRIES, type ParsedStatement, StatementError, type StatementEntry } from './statement'

type Node = Record<string, unknown>

const ARRAYS = new Set(['Stmt', 'Ntry', 'TxDtls', 'Ustrd', 'Strd', 'CdtrRefInf'])

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  // every value stays text: amounts are parsed exactly, references keep their leading zeros
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ARRAYS.has(name),
})

const NAMESPACE = /xmlns(?::\w+)?\s*=\s*"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})"/

function node(value: unknown): Node | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Node) : undefined
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined
  const n = node(value)
  if (n && typeof n['#text'] === 'string') return n['#text'].trim() || undefined
  return undefined
}

function at(root: unknown, ...path: string[]): unknown {
  let cur: unknown = root
  for (const key of path) {
    const n = node(cur)
    if (!n) return undefined
    cur = n[key]
  }
  return cur
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value]
}

/** Line of the n-th (0-based) opening tag `name`, for error messages that point into the file. */
function lineOf(xml: string, name: string, n: number): number | null {
  const re = new RegExp(`<(?:[A-Za-z0-9_]+:)?${name}[\\s>/]`, 'g')
  let match: RegExpExecArray | null
  let i = 0
  while ((match = re.exec(xml))) {
    if (i++ === n) return xml.slice(0, match.index).split('\n').length
  }
  return null
}

function bookedAt(entry: Node): number | null {
  const date = text(at(entry, 'BookgDt', 'Dt'))
  if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) return Date.parse(`${date}T00:00:00Z`)
  const dateTime = text(at(entry, 'BookgDt', 'DtTm'))
  const ms = dateTime ? Date.parse(dateTime) : NaN
  return Number.isNaN(ms) ? null : ms
}

function status(entry: Node): string | undefined {
  return text(entry.Sts) ?? text(at(entry, 'Sts', 'Cd'))
}

function debtorName(tx: Node | undefined): string | null {
  return text(at(tx, 'RltdPties', 'Dbtr', 'Nm')) ?? text(at(tx, 'RltdPties', 'Dbtr', 'Pty', 'Nm')) ?? null
}

function remittance(tx: Node | undefined): { structured: string[]; unstructured: string[] } {
  const rmt = at(tx, 'RmtInf')
  const structured = list(at(rmt, 'Strd')).flatMap((s) => list(at(s, 'CdtrRefInf')).map((r) => text(at(r, 'Ref')))).filter((r): r is string => !!r)
  const unstructured = list(at(rmt, 'Ustrd')).map(text).filter((u): u is string => !!u)
  return { structured, unstructured }
}

export function parseCamt053(xml: string): ParsedStatement {
  if (/<!DOCTYPE/i.test(xml)) throw new StatementError([{ path: `line ${xml.slice(0, xml.search(/<!DOCTYPE/i)).split('\n').length}`, message: 'DOCTYPE declarations are not accepted in a bank statement' }])
  const valid = XMLValidator.validate(xml)
  if (valid !== true) throw new StatementError([{ path: `line ${valid.err.line}, column ${valid.err.col}`, message: `not well-formed XML: ${valid.err.msg}` }])
  const version = NAMESPACE.exec(xml)?.[1]
  if (!version || Number(version) < 2) throw new StatementError([{ path: 'Document@xmlns', message: 'not a camt.053.001.02 (or later) document: expected namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN' }])
  const doc = parser.parse(xml) as Node
  const statements = list(at(doc, 'Document', 'BkToCstmrStmt', 'Stmt'))
  if (statements.length !== 1) {
    throw new StatementError([{ path: 'Document.BkToCstmrStmt.Stmt', message: statements.length ? `${statements.length} statements in one file: import one statement (account) per file` : 'no Stmt element' }])
  }
  const stmt = node(statements[0])!
  const statementId = text(stmt.Id)
  if (!statementId) throw new StatementError([{ path: `line ${lineOf(xml, 'Stmt', 0)}: Stmt.Id`, message: 'the statement has no Id' }])
  const iban = text(at(stmt, 'Acct', 'Id', 'IBAN'))

  const issues: { path: string; message: string }[] = []
  const entries: StatementEntry[] = []
  let skipped = 0
  list(stmt.Ntry).forEach((raw, index) => {
    const entry = node(raw) ?? {}
    const where = `line ${lineOf(xml, 'Ntry', index) ?? '?'}: Stmt.Ntry[${index}]`
    const indicator = text(entry.CdtDbtInd)
    if (indicator !== 'CRDT' && indicator !== 'DBIT') return void issues.push({ path: `${where}.CdtDbtInd`, message: 'must be CRDT or DBIT' })
    const state = status(entry)
    // debits are money going out; pending or informational entries are not booked money yet
    if (indicator === 'DBIT' || (state !== undefined && state !== 'BOOK')) return void skipped++
    const currency = text(at(entry, 'Amt', '@_Ccy'))
    if (!currency || !Object.hasOwn(CURRENCY_EXPONENTS, currency)) return void issues.push({ path: `${where}.Amt@Ccy`, message: 'missing or not an ISO 4217 currency' })
    const amountText = text(entry.Amt)
    const amountMinor = amountText ? minorFromDecimal(amountText, currency) : null
    if (amountMinor === null || amountMinor <= 0) return void issues.push({ path: `${where}.Amt`, message: `"${amountText ?? ''}" is not a positive ${currency} amount` })
    const booked = bookedAt(entry)
    if (booked === null) return void issues.push({ path: `${where}.BookgDt`, message: 'missing or not a date (Dt YYYY-MM-DD or DtTm)' })
    const ref = text(entry.AcctSvcrRef) ?? text(entry.NtryRef) ?? text(at(list(at(entry, 'NtryDtls', 'TxDtls'))[0], 'Refs', 'AcctSvcrRef'))
    if (!ref) return void issues.push({ path: `${where}.AcctSvcrRef`, message: 'the entry has no AcctSvcrRef or NtryRef, so it could not be recognised if imported again' })
    const txs = list(at(entry, 'NtryDtls', 'TxDtls')).map(node)
    const txAmounts = txs.map((tx) => {
      const amt = at(tx, 'AmtDtls', 'TxAmt', 'Amt') ?? at(tx, 'Amt')
      const ccy = text(at(amt, '@_Ccy'))
      const t = text(amt)
      return ccy === currency && t ? minorFromDecimal(t, currency) : null
    })
    if (txs.length > 1 && txAmounts.every((a) => a !== null && a > 0)) {
      // a batch booking: each transaction is its own pay-in with its own reference
      txs.forEach((tx, i) => entries.push({ entryRef: `${ref}:${i + 1}`, amountMinor: txAmounts[i]!, currency, bookedAtMs: booked, ...remittance(tx), debtorName: debtorName(tx) }))
      return
    }
    const all = txs.map(remittance)
    entries.push({
      entryRef: ref,
      amountMinor,
      currency,
      bookedAtMs: booked,
      structured: all.flatMap((r) => r.structured),
      unstructured: [...all.flatMap((r) => r.unstructured), ...(text(entry.AddtlNtryInf) ? [text(entry.AddtlNtryInf)!] : [])],
      debtorName: debtorName(txs[0]),
    })
  })
  if (issues.length) throw new StatementError(issues.slice(0, 20))
  if (entries.length > MAX_STATEMENT_ENTRIES) throw new StatementError([{ path: 'Document.BkToCstmrStmt.Stmt.Ntry', message: `more than ${MAX_STATEMENT_ENTRIES} credit entries: split the statement` }])
  return { format: 'camt053', statementRef: statementId, accountIban: iban ? compactIban(iban) : null, entries, skipped }
}
