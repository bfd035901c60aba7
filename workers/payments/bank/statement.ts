/**
 * What a bank statement becomes, whatever its format: the statement's own id and account, and its
 * booked credit entries with the remittance text the payer sent. Parsers (camt053.ts, csv.ts) throw
 * `StatementError` naming the line and field, which the API answers as a 400 problem.
 * @module
 */

export interface StatementEntry {
  /** the bank's own reference for the entry (camt AcctSvcrRef / NtryRef; CSV entry_id) */
  entryRef: string
  amountMinor: number
  /** ISO 4217 */
  currency: string
  bookedAtMs: number
  /** structured creditor references (camt Strd/CdtrRefInf/Ref), as sent */
  structured: string[]
  /** free-text remittance lines (camt Ustrd; CSV reference) */
  unstructured: string[]
  debtorName: string | null
}

export interface ParsedStatement {
  format: 'camt053'| 'csv'
  /** unique per statement: camt Stmt/Id, or `sha256:<hex>` of a CSV file */
  statementRef: string
  accountIban: string | null
  /** booked credits only */
  entries: StatementEntry[]
  /** entries left out (debits, not booked), for the import summary */
  skipped: number
}

export interface StatementIssue {
  /** `line 12`, `Stmt.Ntry[3].Amt`, `line 4, column amount` */
  path: string
  message: string
}

export class StatementError extends Error {
  readonly issues: StatementIssue[]
  constructor(issues: StatementIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '))
    this.issues = issues
  }
}

/** The remittance as one stored text: structured references first, then the free text. */
export function remittanceText(entry: Pick<StatementEntry, 'structured' | 'unstructured'>): string {
  return [...entry.structured, ...entry.unstructured].join(' | ').slice(0, 1000)
}

/** At most this many credit entries per import (a statement is a day or a month of one account). */
export const MAX_STATEMENT_ENTRIES = 3000
