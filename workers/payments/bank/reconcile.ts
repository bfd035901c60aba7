/**
 * Importing a bank statement and matching its credits to pending bank-transfer payments.
 *
 * Each booked credit is, in this order:
 * - `duplicate`: the same bank entry (entry ref, currency, amount, booking date) came in an earlier
 *   statement (or twice in this file). Not stored again: the unique index on those four columns is
 *   what makes an entry count once, so the import answer lists it and the statement's `entries`
 *   count includes it, but it has no row of its own;
 * - `unmatched`: no valid ISO 11649 reference in the remittance, or one that names no pending
 *   bank-transfer payment (or one already paid, or an entry ref already credited);
 * - `amount_mismatch`: the reference names a pending payment, but the amount or currency differs.
 *   No money moves; finance decides (manual match, or a refund to the payer from the bank);
 * - `matched`: exact amount and currency: a `gateway_events` sale (gateway `bank_transfer`, event id
 *   = the bank's entry ref) is stored in the same D1 transaction as the entry, then applied to the
 *   ledger by `applyEvents`, whose ledger op id `bank_transfer:<entry ref>` makes the credit happen
 *   once however often anything is retried.
 * A manual match (finance, with a reason) turns an `unmatched` or `amount_mismatch` entry into
 * `manual` the same way; the sale is the amount that arrived, since that is the money the platform
 * holds (the payment row keeps the price it was opened with, the audit entry keeps both).
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import { applyEvents } from '../apply'
import { gatewaySettings } from '../webhooks/settings'
import { referencesOf } from './match'
import { decimalFromMinor } from './money-text'
import { type ParsedStatement, remittanceText, type StatementEntry } from './statement'
import { paymentKeys } from '../../../r2/keys'

export type EntryStatus = 'matched' | 'unmatched' | 'amount_mismatch' | 'duplicate' | 'manual'

export interface EntryOutcome {
  entry_ref: string
  amount_minor: number
  currency: string
  booked_at: string
  remittance: string
  debtor_name: string | null
  status: EntryStatus
  payment_id: string | null
  detail: string | null
}

export interface ImportResult {
  statement: StatementView
  entries: EntryOutcome[]
}

export interface StatementView {
  id: string
  format: 'camt053' | 'csv'
  statement_ref: string
  account_iban: string | null
  entries: number
  matched: number
  skipped_debits_or_unbooked: number
  imported_by: string | null
  imported_at: string
}

const BANK_METHODS = ['ach', 'sepa', 'wire']
/** D1 binds at most 100 parameters per statement. */
const IN_CHUNK = 90

type PaymentRow = { id: string; amount_minor: number; currency: string; status: string; method: string; gateway: string; bank_reference: string }

async function selectIn<T>(d1: D1Database, sql: (marks: string) => string, values: string[], leading: unknown[] = []): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < values.length; i += IN_CHUNK) {
    const chunk = values.slice(i, i + IN_CHUNK)
    const { results } = await d1.prepare(sql(chunk.map(() => '?').join(','))).bind(...leading, ...chunk).all<T>()
    out.push(...results)
  }
  return out
}

const tupleKey = (e: { entryRef: string; currency: string; amountMinor: number; bookedAtMs: number }) => `${e.entryRef}\u0000${e.currency}\u0000${e.amountMinor}\u0000${e.bookedAtMs}`

function money(minor: number, currency: string): string {
  return `${decimalFromMinor(minor, currency)} ${currency}`
}

/** Classifies every entry (no writes). */
async function classify(d1: D1Database, entries: StatementEntry[]): Promise<Array<{ entry: StatementEntry; status: EntryStatus; paymentId: string | null; detail: string | null }>> {
  const refs = [...new Set(entries.map((e) => e.entryRef))]
  const seen = new Map<string, string>()
  for (const row of await selectIn<{ statement_id: string; entry_ref: string; currency: string; amount_minor: number; booked_at_ms: number }>(
    d1,
    (m) => `SELECT statement_id, entry_ref, currency, amount_minor, booked_at_ms FROM bank_statement_entries WHERE entry_ref IN (${m})`,
    refs,
  )) {
    seen.set(tupleKey({ entryRef: row.entry_ref, currency: row.currency, amountMinor: row.amount_minor, bookedAtMs: row.booked_at_ms }), row.statement_id)
  }
  const credited = new Set(
    (await selectIn<{ event_id: string }>(d1, (m) => `SELECT event_id FROM gateway_events WHERE gateway = 'bank_transfer' AND event_id IN (${m})`, refs)).map((r) => r.event_id),
  )
  const candidates = entries.map(referencesOf)
  const byReference = new Map<string, PaymentRow>()
  for (const row of await selectIn<PaymentRow>(
    d1,
    (m) => `SELECT id, amount_minor, currency, status, method, gateway, bank_reference FROM payments WHERE bank_reference IN (${m})`,
    [...new Set(candidates.flat())],
  )) {
    byReference.set(row.bank_reference, row)
  }

  const inFile = new Set<string>()
  const refsInFile = new Set<string>()
  const claimed = new Map<string, string>()
  return entries.map((entry, i) => {
    const key = tupleKey(entry)
    const earlier = seen.get(key)
    if (earlier) return { entry, status: 'duplicate' as const, paymentId: null, detail: `already imported in statement ${earlier}` }
    if (inFile.has(key) || refsInFile.has(entry.entryRef)) return { entry, status: 'duplicate' as const, paymentId: null, detail: 'this entry ref appears twice in the file' }
    inFile.add(key)
    refsInFile.add(entry.entryRef)
    if (credited.has(entry.entryRef)) return { entry, status: 'unmatched' as const, paymentId: null, detail: `entry ref ${entry.entryRef} already credited a payment from another statement line: check with the bank` }
    const references = candidates[i]!
    if (references.length === 0) return { entry, status: 'unmatched' as const, paymentId: null, detail: 'no valid creditor reference (RF…) in the remittance' }
    const found = references.map((r) => byReference.get(r)).find((p) => p !== undefined)
    if (!found) return { entry, status: 'unmatched' as const, paymentId: null, detail: `reference ${references[0]} names no payment` }
    if (found.gateway !== 'bank_transfer' || !BANK_METHODS.includes(found.method)) return { entry, status: 'unmatched' as const, paymentId: found.id, detail: `payment ${found.id} is a ${found.method} payment, not a bank transfer` }
    if (found.status !== 'pending') return { entry, status: 'unmatched' as const, paymentId: found.id, detail: `payment ${found.id} is already ${found.status}: a second transfer?` }
    const other = claimed.get(found.id)
    if (other) return { entry, status: 'unmatched' as const, paymentId: found.id, detail: `payment ${found.id} was already matched by entry ${other} of this statement` }
    if (found.currency !== entry.currency || found.amount_minor !== entry.amountMinor) {
      return { entry, status: 'amount_mismatch' as const, paymentId: found.id, detail: `received ${money(entry.amountMinor, entry.currency)}, payment ${found.id} expects ${money(found.amount_minor, found.currency)}` }
    }
    claimed.set(found.id, entry.entryRef)
    return { entry, status: 'matched' as const, paymentId: found.id, detail: `reference ${found.bank_reference}` }
  })
}

function saleEvent(d1: D1Database, statementId: string, entryRef: string, paymentId: string, amountMinor: number, currency: string, bookedAtMs: number, evidenceKey: string, nowMs: number, entryStatus: 'matched' | 'manual') {
  // stored only if this statement's entry row is there with that status: a duplicate or lost race writes no sale
  return d1
    .prepare(
      `INSERT INTO gateway_events (gateway, event_id, type, payment_id, gateway_transaction_id, original_transaction_id, amount_minor, currency, occurred_at_ms, evidence_key, status, received_at_ms)
       SELECT 'bank_transfer', ?, 'sale', ?, ?, NULL, ?, ?, ?, ?, 'received', ?
       WHERE EXISTS (SELECT 1 FROM bank_statement_entries WHERE statement_id = ? AND entry_ref = ? AND status = ? AND payment_id = ?)
       ON CONFLICT (gateway, event_id) DO NOTHING`,
    )
    .bind(entryRef, paymentId, entryRef, amountMinor, currency, bookedAtMs, evidenceKey, nowMs, statementId, entryRef, entryStatus, paymentId)
}

export async function importStatement(c: Context<AppEnv>, parsed: ParsedStatement, raw: string, nowMs = Date.now()): Promise<ImportResult> {
  const d1 = c.env.DB
  const settings = await gatewaySettings(c.env, c.var.config, 'bank_transfer')
  if (!settings) throw new ProblemError('NOT_FOUND', { detail: 'bank transfers are not configured here' })
  const ours = settings.account.sepa?.iban
  if (parsed.accountIban && ours && parsed.accountIban !== ours) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `the statement is for account ${parsed.accountIban}, not the platform's receiving account`, errors: [{ path: 'body.Stmt.Acct.Id.IBAN', message: 'not the receiving account' }] })
  }
  const existing = await d1.prepare('SELECT id FROM bank_statements WHERE statement_ref = ?').bind(parsed.statementRef).first<{ id: string }>()
  if (existing) throw new ProblemError('CONFLICT', { detail: `statement ${parsed.statementRef} was already imported as ${existing.id}`, extensions: { statement_id: existing.id } })

  const statementId = newId('bankStatement', nowMs)
  const r2Key = paymentKeys.bankStatement(nowMs, statementId, parsed.format)
  await c.env.EXPORTS.put(r2Key, raw, {
    httpMetadata: { contentType: parsed.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/xml; charset=utf-8' },
    customMetadata: { statement_ref: parsed.statementRef.slice(0, 200), imported_by: c.var.auth?.subject ?? 'unknown', request_id: c.var.requestId ?? '' },
  })

  const classified = await classify(d1, parsed.entries)
  // duplicates keep a row of their own (the unique index skips them); an entry ref twice in one file keeps its first
  const stored = classified
  const matched = classified.filter((x) => x.status === 'matched')
  const importedBy = c.var.auth?.subject ?? null
  const statements: D1PreparedStatement[] = [
    d1
      .prepare(`INSERT INTO bank_statements (id, format, statement_ref, account_iban, r2_key, entries, matched, imported_by, imported_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .bind(statementId, parsed.format, parsed.statementRef, parsed.accountIban, r2Key, parsed.entries.length, matched.length, importedBy, nowMs),
  ]
  for (let i = 0; i < stored.length; i += 10) {
    const rows = stored.slice(i, i + 10)
    statements.push(
      d1
        .prepare(
          `INSERT INTO bank_statement_entries (statement_id, entry_ref, amount_minor, currency, booked_at_ms, remittance, debtor_name, status, payment_id, detail) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
        )
        .bind(...rows.flatMap(({ entry, status, paymentId, detail }) => [statementId, entry.entryRef, entry.amountMinor, entry.currency, entry.bookedAtMs, remittanceText(entry), entry.debtorName, status, paymentId, detail])),
    )
  }
  for (const { entry, paymentId } of matched) statements.push(saleEvent(d1, statementId, entry.entryRef, paymentId!, entry.amountMinor, entry.currency, entry.bookedAtMs, r2Key, nowMs, 'matched'))
  try {
    // one transaction: the statement, its entries and their sales appear together or not at all
    await d1.batch(statements)
  } catch (err) {
    if (String(err).includes('UNIQUE') && String(err).includes('statement_ref')) throw new ProblemError('CONFLICT', { detail: `statement ${parsed.statementRef} is being imported by another request` })
    throw err
  }
  const applied = matched.length ? await applyEvents(c.env, 'bank_transfer', matched.map((m) => m.entry.entryRef)) : {}

  const counts: Record<EntryStatus, number> = { matched: 0, unmatched: 0, amount_mismatch: 0, duplicate: 0, manual: 0 }
  for (const x of classified) counts[x.status]++
  await audit(c, 'payments.bank.import', `bank_statement:${statementId}`, {
    format: parsed.format,
    statement_ref: parsed.statementRef,
    account_iban: parsed.accountIban,
    r2_key: r2Key,
    entries: parsed.entries.length,
    skipped: parsed.skipped,
    ...counts,
    matched_payments: matched.map((m) => m.paymentId!),
  })
  return {
    statement: {
      id: statementId,
      format: parsed.format,
      statement_ref: parsed.statementRef,
      account_iban: parsed.accountIban,
      entries: parsed.entries.length,
      matched: matched.length,
      skipped_debits_or_unbooked: parsed.skipped,
      imported_by: importedBy,
      imported_at: new Date(nowMs).toISOString(),
    },
    entries: classified.map(({ entry, status, paymentId, detail }) => ({
      entry_ref: entry.entryRef,
      amount_minor: entry.amountMinor,
      currency: entry.currency,
      booked_at: new Date(entry.bookedAtMs).toISOString(),
      remittance: remittanceText(entry),
      debtor_name: entry.debtorName,
      status,
      payment_id: paymentId,
      detail: status === 'matched' && applied[entry.entryRef] && applied[entry.entryRef]!.status !== 'applied' ? `${detail}; ledger: ${applied[entry.entryRef]!.status} ${applied[entry.entryRef]!.detail ?? ''}`.trim() : detail,
    })),
  }
}

export interface ManualMatchResult {
  entry: EntryOutcome
  ledger: { status: string; detail: string | null }
}

type EntryRow = { statement_id: string; entry_ref: string; amount_minor: number; currency: string; booked_at_ms: number; remittance: string; debtor_name: string | null; status: EntryStatus; payment_id: string | null; detail: string | null }

export function entryView(row: EntryRow): EntryOutcome {
  return {
    entry_ref: row.entry_ref,
    amount_minor: row.amount_minor,
    currency: row.currency,
    booked_at: new Date(row.booked_at_ms).toISOString(),
    remittance: row.remittance,
    debtor_name: row.debtor_name,
    status: row.status,
    payment_id: row.payment_id,
    detail: row.detail,
  }
}

export async function statementEntries(d1: D1Database, statementId: string, status?: EntryStatus): Promise<EntryOutcome[]> {
  const { results } = await d1
    .prepare(`SELECT * FROM bank_statement_entries WHERE statement_id = ? ${status ? 'AND status = ?' : ''} ORDER BY booked_at_ms, entry_ref LIMIT 5000`)
    .bind(...(status ? [statementId, status] : [statementId]))
    .all<EntryRow>()
  return results.map(entryView)
}

/** Finance matches an unmatched or mismatched entry to a pending bank-transfer payment; the ledger gets the amount that arrived. */
export async function manualMatch(c: Context<AppEnv>, statementId: string, entryRef: string, paymentId: string, reason: string, nowMs = Date.now()): Promise<ManualMatchResult> {
  const d1 = c.env.DB
  const statement = await d1.prepare('SELECT r2_key FROM bank_statements WHERE id = ?').bind(statementId).first<{ r2_key: string }>()
  if (!statement) throw new ProblemError('NOT_FOUND', { detail: `no bank statement ${statementId}` })
  const entry = await d1.prepare('SELECT * FROM bank_statement_entries WHERE statement_id = ? AND entry_ref = ?').bind(statementId, entryRef).first<EntryRow>()
  if (!entry) throw new ProblemError('NOT_FOUND', { detail: `statement ${statementId} has no entry ${entryRef}` })
  if (entry.status !== 'unmatched' && entry.status !== 'amount_mismatch') throw new ProblemError('CONFLICT', { detail: `entry ${entryRef} is ${entry.status}; only unmatched or amount_mismatch entries can be matched by hand` })
  const payment = await d1.prepare('SELECT id, amount_minor, currency, status, method, gateway, bank_reference FROM payments WHERE id = ?').bind(paymentId).first<PaymentRow>()
  if (!payment) throw new ProblemError('VALIDATION_FAILED', { detail: `no payment ${paymentId}`, errors: [{ path: 'body.payment_id', message: 'no such payment' }] })
  if (payment.gateway !== 'bank_transfer' || !BANK_METHODS.includes(payment.method)) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `payment ${paymentId} is not a bank transfer`, errors: [{ path: 'body.payment_id', message: 'not a bank-transfer payment' }] })
  }
  if (payment.status !== 'pending') throw new ProblemError('CONFLICT', { detail: `payment ${paymentId} is already ${payment.status}` })
  if (payment.currency !== entry.currency) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `the entry is in ${entry.currency}, the payment in ${payment.currency}: the ledger never mixes currencies`, errors: [{ path: 'body.payment_id', message: 'currency differs from the entry' }] })
  }
  const who = c.var.auth?.subject ?? 'unknown'
  const detail = `manual match by ${who}: ${reason}${payment.amount_minor !== entry.amount_minor ? ` (received ${money(entry.amount_minor, entry.currency)}, price ${money(payment.amount_minor, payment.currency)})` : ''}`.slice(0, 1000)
  const results = await d1.batch([
    d1
      .prepare(`UPDATE bank_statement_entries SET status = 'manual', payment_id = ?, detail = ? WHERE statement_id = ? AND entry_ref = ? AND status IN ('unmatched', 'amount_mismatch') AND NOT EXISTS (SELECT 1 FROM gateway_events WHERE gateway = 'bank_transfer' AND event_id = ?)`)
      .bind(paymentId, detail, statementId, entryRef, entryRef),
    saleEvent(d1, statementId, entryRef, paymentId, entry.amount_minor, entry.currency, entry.booked_at_ms, statement.r2_key, nowMs, 'manual'),
    d1.prepare(`UPDATE bank_statements SET matched = matched + (SELECT changes()) WHERE id = ?`).bind(statementId),
  ])
  if (!results[0]!.meta.changes) throw new ProblemError('CONFLICT', { detail: `entry ${entryRef} was matched meanwhile, or its bank ref already credited a payment` })
  const outcome = (await applyEvents(c.env, 'bank_transfer', [entryRef]))[entryRef] ?? { status: 'applied', detail: 'already applied' }
  await audit(c, 'payments.bank.match', `bank_statement:${statementId}/${entryRef}`, {
    payment_id: paymentId,
    reason,
    previous_status: entry.status,
    received_minor: entry.amount_minor,
    price_minor: payment.amount_minor,
    currency: entry.currency,
    ledger: outcome.status,
  })
  const updated = await d1.prepare('SELECT * FROM bank_statement_entries WHERE statement_id = ? AND entry_ref = ?').bind(statementId, entryRef).first<EntryRow>()
  return { entry: entryView(updated!), ledger: outcome }
}
