/**
 * CreatorLedger: one per creator (`creator:<creatorId>`): a double-entry book of that creator's
 * money, modelled on TigerBeetle (payments.md §4; issue 4 point 1).
 *
 * Book: accounts per currency (see workers/ledger/model.ts for codes and normal sides), each with
 * debits/credits pending/posted; transfers are immutable rows (a trigger refuses UPDATE and DELETE,
 * L2) joining two accounts of one currency with an amount > 0. Every operation writes its legs as
 * one linked, all-or-nothing unit (L4): the operation plans and checks every leg against the
 * balances first and returns `{ ok: false, code }` without writing anything when a rule refuses it.
 *
 * Why these rules hold under concurrency: every write runs synchronously inside one
 * `transactionSync` (no await between reading a balance and writing it), and a Durable Object runs
 * one such block at a time, so twenty concurrent deliveries of one sale or concurrent refunds of one
 * payment are strictly ordered; the first records the operation, the others see it.
 *
 * Money flow: a sale credits processor_fees, platform_fees, reserve and creator_pending from
 * gateway_receivable; `releaseDue` (alarm at the earliest due date) moves pending and reserve to
 * creator_available and pays any debt back from it; refunds and chargebacks reverse the fees pro rata
 * (cumulative floor, exact at full reversal) and take the creator's part from the payment's own
 * unreleased pending share, then its own unreleased reserve (held against exactly this risk), then
 * available, and book the rest as `debt` (the only way below zero, L6); a won dispute reinstates the
 * reversal, netting debt first (L9; the chargeback fee stays). Payouts are two-phase holds:
 * creator_available -> payout_hold pending, posted (fully or partly, then payout_hold ->
 * payouts_in_transit) or voided, each at most once (L5); a posted payout that comes back (an ACH
 * return, a SEPA reject) moves what was sent from payouts_in_transit back to available, once per hold.
 *
 * Idempotency (L3): each operation carries its id; the first success is stored with the request.
 * Same id + same request -> the stored result (`replayed: true`); same id + other request ->
 * `exists_with_different_<field>`. Refusals are not stored (TigerBeetle stores only created
 * transfers), so a payout hold refused for funds may succeed when retried later.
 *
 * Invariants, inside the same transaction after every write (a throw rolls it back): per currency
 * debits = credits, posted and pending (L1); the change of every account's stored balances equals
 * the sum of the transfers the write stored (so, by induction, balances = sum of their transfers;
 * `verify()` recomputes it from the whole history); account flags (no creator account below zero, L6).
 *
 * Write path (the throughput, bench/ledger.mjs): a transaction first looks up, in one statement,
 * the idempotency records and sale payment ids its operations name; operations then plan against
 * the balances in memory and queue their rows (transfers, operation records, sale payment rows),
 * which reach SQL together as a few `INSERT ... SELECT FROM json_each(?)` statements before the
 * balances are written (each touched account once) and the invariants are checked against what is
 * stored. Anything that reads one of those tables inside the transaction (a refund reading its
 * payment, a replay reading its transfer ids, the release) writes the queue first, so every read
 * sees every earlier write of the same transaction.
 *
 * After the transaction commits, the touched balances are upserted into D1 `ledger_balances` with
 * the ledger sequence (only if newer; in the background, coalesced, see `#afterCommit`), and the
 * release alarm is moved earlier when needed.
 *
 * Clock: methods take an optional trailing `nowMs` (like UserSessions); the alarm uses the real clock.
 * Transfer timestamps never go backwards (max of the clock and the last one), so seq order is time order.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { migrateSql } from './sql-migrations'
import { newId } from '../workers/lib/ids'
import { log } from '../workers/edge/logger'
import { projectBalances, type ProjectedBalance } from '../workers/ledger/projection'
import {
  ACCOUNT_CODES,
  ACCOUNT_FLAGS,
  accountFlags,
  CREATOR_ACCOUNTS,
  DAY_MS,
  flagNames,
  isCreditNormal,
  LedgerOp,
  MAX_BATCH,
  OpId,
  reversalParts,
  saleAmounts,
  TRANSFER_FLAGS,
  type AccountBalance,
  type AccountCode,
  type AdjustOp,
  type Balances,
  type BalanceSummary,
  type ChargebackOp,
  type CreatorAccount,
  type DisputeWonOp,
  type HistoryPage,
  type HoldOp,
  type LedgerFailureCode,
  type OpFailure,
  type OpInput,
  type OpKind,
  type OpResult,
  type OpSuccess,
  type PayoutReturnedOp,
  type PostHoldOp,
  type RefundOp,
  type SaleOp,
  type Statement,
  type StatementLine,
  type TransferView,
  type VerifyReport,
  type VoidHoldOp,
} from '../workers/ledger/model'

const MIGRATIONS = [
  `CREATE TABLE accounts (
     id INTEGER PRIMARY KEY,
     currency TEXT NOT NULL,
     code TEXT NOT NULL,
     flags INTEGER NOT NULL,
     debits_pending INTEGER NOT NULL DEFAULT 0,
     debits_posted INTEGER NOT NULL DEFAULT 0,
     credits_pending INTEGER NOT NULL DEFAULT 0,
     credits_posted INTEGER NOT NULL DEFAULT 0,
     UNIQUE (currency, code)
   )`,
  `CREATE TABLE transfers (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     op_id TEXT NOT NULL,
     debit_account INTEGER NOT NULL REFERENCES accounts (id),
     credit_account INTEGER NOT NULL REFERENCES accounts (id),
     amount INTEGER NOT NULL CHECK (amount > 0),
     currency TEXT NOT NULL,
     code TEXT NOT NULL,
     flags INTEGER NOT NULL,
     pending_id TEXT,
     payment_id TEXT,
     at_ms INTEGER NOT NULL,
     note TEXT,
     CHECK (debit_account <> credit_account)
   )`,
  `CREATE TRIGGER transfers_immutable_update BEFORE UPDATE ON transfers BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END`,
  `CREATE TRIGGER transfers_immutable_delete BEFORE DELETE ON transfers BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END`,
  // the first result is kept as the seq range of its transfers (they are contiguous: one operation
  // is written at once), not as JSON: fewer bytes on the hottest insert; a replay rebuilds it
  `CREATE TABLE operations (
     op_id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     request TEXT NOT NULL,
     first_seq INTEGER NOT NULL,
     legs INTEGER NOT NULL,
     at_ms INTEGER NOT NULL
   ) WITHOUT ROWID`,
  // one row per sale: what is still refundable and what is still waiting for its release date
  `CREATE TABLE payments (
     payment_id TEXT PRIMARY KEY,
     currency TEXT NOT NULL,
     gross INTEGER NOT NULL,
     processor_fee INTEGER NOT NULL,
     platform_fee INTEGER NOT NULL,
     refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded <= gross),
     state TEXT NOT NULL CHECK (state IN ('captured', 'charged_back', 'reinstated')),
     pending_remaining INTEGER NOT NULL CHECK (pending_remaining >= 0),
     pending_due_ms INTEGER NOT NULL,
     reserve_remaining INTEGER NOT NULL CHECK (reserve_remaining >= 0),
     reserve_due_ms INTEGER NOT NULL,
     cb_processor INTEGER NOT NULL DEFAULT 0,
     cb_platform INTEGER NOT NULL DEFAULT 0,
     cb_creator INTEGER NOT NULL DEFAULT 0,
     at_ms INTEGER NOT NULL
   ) WITHOUT ROWID`,
  `CREATE INDEX payments_pending_due ON payments (pending_due_ms) WHERE pending_remaining > 0`,
  `CREATE INDEX payments_reserve_due ON payments (reserve_due_ms) WHERE reserve_remaining > 0`,
  `CREATE TABLE holds (
     hold_id TEXT PRIMARY KEY,
     payout_id TEXT NOT NULL UNIQUE,
     currency TEXT NOT NULL,
     amount INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'voided'))
   ) WITHOUT ROWID`,
  // the bench's baseline: a bare insert of the same row count (never read by the ledger)
  `CREATE TABLE bench_rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, amount INTEGER NOT NULL, at_ms INTEGER NOT NULL)`,
  // what a posted hold actually sent (a partial post sends less than was held) and whether it came back
  `ALTER TABLE holds ADD COLUMN posted_amount INTEGER`,
  `ALTER TABLE holds ADD COLUMN returned_amount INTEGER`,
]

interface Account {
  id: number
  currency: string
  code: AccountCode
  flags: number
  dp: number
  dpo: number
  cp: number
  cpo: number
}

/** One leg of an operation, before it is written. */
interface Leg {
  debit: AccountCode
  credit: AccountCode
  amount: number
  code: string
  flags: number
  pendingId?: string
  /** the pending transfer's amount, for post/void legs */
  pendingAmount?: number
  note?: string
}

type PaymentRow = {
  payment_id: string
  currency: string
  gross: number
  processor_fee: number
  platform_fee: number
  refunded: number
  state: 'captured' | 'charged_back' | 'reinstated'
  pending_remaining: number
  pending_due_ms: number
  reserve_remaining: number
  reserve_due_ms: number
  cb_processor: number
  cb_platform: number
  cb_creator: number
}

type TransferRow = {
  seq: number
  id: string
  op_id: string
  debit_account: number
  credit_account: number
  amount: number
  currency: string
  code: string
  flags: number
  pending_id: string | null
  payment_id: string | null
  at_ms: number
  note: string | null
}

/** A refusal travels as this through the planning code and becomes `{ ok: false }`. */
class Refusal {
  constructor(
    readonly code: LedgerFailureCode,
    readonly detail: string,
  ) {}
}

const { PENDING, POST_PENDING, VOID_PENDING, LINKED } = TRANSFER_FLAGS

type SqlValue = string | number | null
type Row = SqlValue[]

/**
 * Queued rows reach SQL as one JSON array of rows per statement (up to ROWS_PER_STATEMENT), unpacked
 * by `json_each`: one statement and one bound parameter for a thousand rows instead of three
 * statements with 6 to 48 bound values per sale (profiled: those statements were ~40% of a batch's
 * time). The CTE is MATERIALIZED so each row's JSON text is produced once, not once per column it
 * yields (measured: about 20% less time per row). Column order = the order of COLUMNS below.
 */
function insertFromJson(table: string, columns: string[]): string {
  return `WITH r(v) AS MATERIALIZED (SELECT value FROM json_each(?)) INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((_, i) => `v ->> ${i}`).join(', ')} FROM r`
}
const COLUMNS = {
  transfers: ['seq', 'id', 'op_id', 'debit_account', 'credit_account', 'amount', 'currency', 'code', 'flags', 'pending_id', 'payment_id', 'at_ms', 'note'],
  operations: ['op_id', 'kind', 'request', 'first_seq', 'legs', 'at_ms'],
  payments: ['payment_id', 'currency', 'gross', 'processor_fee', 'platform_fee', 'state', 'pending_remaining', 'pending_due_ms', 'reserve_remaining', 'reserve_due_ms', 'at_ms'],
} as const
type QueuedTable = keyof typeof COLUMNS
/** flush order: payments and operations are independent of transfers (transfers carry their seq) */
const QUEUED_TABLES: readonly QueuedTable[] = ['payments', 'transfers', 'operations']
const INSERT_JSON = Object.fromEntries(QUEUED_TABLES.map((t) => [t, insertFromJson(t, [...COLUMNS[t]])])) as Record<QueuedTable, string>
/** rows per statement: keeps one JSON parameter far below the 2 MB a Durable Object SQL value may hold */
const ROWS_PER_STATEMENT = 1000

/** The transaction's queue of rows not yet in SQL. */
type WriteQueue = Record<QueuedTable, Row[]>
const emptyQueue = (): WriteQueue => ({ payments: [], transfers: [], operations: [] })

/** An operation's stored first result (its idempotency record). */
type OpRecord = {
  kind: string
  request: string
  first_seq: number
  legs: number
}

/**
 * JSON carries a string to SQLite unchanged only when it is well-formed Unicode (a lone surrogate's
 * escape decodes to other bytes than the same string bound directly). Every string a row holds is:
 * ids and codes are ASCII by schema, free text arrives JSON-encoded, and the schema refuses lone
 * surrogates in references; a row that is not anyway is a bug, refused before it is written.
 */
function jsonSafe(row: Row): boolean {
  for (const v of row) if (typeof v === 'string' && !v.isWellFormed()) return false
  return true
}

export class CreatorLedger extends DurableObject<Env> {
  #accounts = new Map<string, Account>()
  #accountsById = new Map<number, Account>()
  #seq = 0
  #lastAtMs = 0
  #alarmAtMs: number | null = null
  /** accounts changed since the last projection */
  #touched = new Set<Account>()
  #projection: Promise<void> | null = null
  #projectionQueue = new Map<string, ProjectedBalance>()
  /** rows of the running transaction not yet in SQL (see the module comment and `#flushWrites`) */
  #queue: WriteQueue = emptyQueue()
  /** idempotency records the running transaction knows: stored (null = none) or written by it */
  #knownOps = new Map<string, OpRecord | null>()
  /** sale payment ids the running transaction knows: stored or recorded by it (true), or absent (false) */
  #knownPayments = new Map<string, boolean>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => {
      migrateSql(ctx.storage, MIGRATIONS)
      this.#load()
      this.#alarmAtMs = await ctx.storage.getAlarm()
    })
  }

  // ---------------------------------------------------------------- RPC: operations

  sale(op: OpInput<SaleOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'sale' }, nowMs)
  }
  refund(op: OpInput<RefundOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'refund' }, nowMs)
  }
  chargeback(op: OpInput<ChargebackOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'chargeback' }, nowMs)
  }
  disputeWon(op: OpInput<DisputeWonOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'disputeWon' }, nowMs)
  }
  holdForPayout(op: OpInput<HoldOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'holdForPayout' }, nowMs)
  }
  postHold(op: OpInput<PostHoldOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'postHold' }, nowMs)
  }
  voidHold(op: OpInput<VoidHoldOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'voidHold' }, nowMs)
  }
  payoutReturned(op: OpInput<PayoutReturnedOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'payoutReturned' }, nowMs)
  }
  adjust(op: OpInput<AdjustOp>, nowMs?: number): Promise<OpResult> {
    return this.#single({ ...op, kind: 'adjust' }, nowMs)
  }

  /**
   * Many operations in one call and one storage transaction (one commit, one invariant check, one
   * projection write): the throughput path. Each operation is still all-or-nothing on its own: a
   * refused one writes nothing and the others go on; results come back in order.
   */
  async batch(ops: LedgerOp[], nowMs?: number): Promise<{ results: OpResult[]; seq: number }> {
    if (!Array.isArray(ops) || ops.length > MAX_BATCH) {
      return { results: [{ ok: false, opId: '', code: 'invalid_request', detail: `a batch holds 1 to ${MAX_BATCH} operations` }], seq: this.#seq }
    }
    const results = this.#transaction(() => {
      this.#lookUp(ops)
      return ops.map((op) => this.#execute(op, nowMs ?? Date.now()))
    })
    await this.#afterCommit()
    return { results, seq: this.#seq }
  }

  /** Moves pending and reserve amounts whose date has come to available, then nets any debt. */
  async releaseDue(nowMs?: number): Promise<{ released: number; seq: number }> {
    const released = this.#transaction(() => this.#releaseDue(nowMs ?? Date.now()))
    await this.#afterCommit()
    return { released, seq: this.#seq }
  }

  override async alarm(): Promise<void> {
    this.#alarmAtMs = null
    await this.releaseDue(Date.now())
    const next = this.#nextDueMs()
    if (next !== null) {
      this.#alarmAtMs = next
      await this.ctx.storage.setAlarm(next)
    }
  }

  // ---------------------------------------------------------------- RPC: reads

  balances(currency?: string): Balances {
    const accounts = [...this.#accounts.values()].filter((a) => !currency || a.currency === currency).sort((a, b) => a.currency.localeCompare(b.currency) || ACCOUNT_CODES.indexOf(a.code) - ACCOUNT_CODES.indexOf(b.code))
    const currencies = [...new Set(accounts.map((a) => a.currency))]
    const summary: BalanceSummary[] = currencies.map((cur) => {
      const get = (code: AccountCode) => this.#accounts.get(`${cur}:${code}`)
      const credit = (code: AccountCode) => {
        const a = get(code)
        return a ? a.cpo - a.dpo : 0
      }
      const available = get('creator_available')
      const hold = get('payout_hold')
      const debt = get('debt')
      return {
        currency: cur,
        pendingMinor: credit('creator_pending'),
        availableMinor: available ? available.cpo - available.dpo - available.dp : 0,
        reserveMinor: credit('reserve'),
        onHoldMinor: hold ? hold.cp - hold.dp : 0,
        debtMinor: debt ? debt.dpo - debt.cpo : 0,
      }
    })
    return { seq: this.#seq, accounts: accounts.map(viewAccount), summary }
  }

  /** Transfers newest first; `cursor` is the `nextCursor` of the previous page. */
  history(options: { cursor?: number | null; limit?: number } = {}): HistoryPage {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 500)
    const before = options.cursor ?? Number.MAX_SAFE_INTEGER
    const rows = this.ctx.storage.sql.exec<TransferRow>('SELECT * FROM transfers WHERE seq < ? ORDER BY seq DESC LIMIT ?', before, limit + 1).toArray()
    const page = rows.slice(0, limit)
    return { items: page.map((r) => this.#viewTransfer(r)), nextCursor: rows.length > limit ? page.at(-1)!.seq : null }
  }

  /** A monthly statement (`yyyy-mm`, UTC) of the creator accounts in one currency: posted movements only. */
  statement(month: string, currency: string): Statement | OpFailure {
    const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month)
    if (!m || !/^[A-Z]{3}$/.test(currency)) return { ok: false, opId: '', code: 'invalid_request', detail: 'month is yyyy-mm, currency an ISO 4217 code' }
    const fromMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)
    const toMs = Date.UTC(Number(m[1]), Number(m[2]), 1)
    const ids = new Map<number, CreatorAccount>()
    for (const code of CREATOR_ACCOUNTS) {
      const a = this.#accounts.get(`${currency}:${code}`)
      if (a) ids.set(a.id, code)
    }
    const opening = zeroes()
    const sign = (code: CreatorAccount) => (code === 'debt' ? -1 : 1)
    // posted effect: plain and post transfers move posted balances; pending and void ones do not
    const posted = '(flags & 5) = 0'
    // transfer timestamps never decrease with seq, so the month is a seq range: no index on at_ms
    // (one index less on the hottest insert), two binary searches instead
    const fromSeq = this.#firstSeqAtOrAfter(fromMs)
    const toSeq = this.#firstSeqAtOrAfter(toMs)
    for (const row of this.ctx.storage.sql.exec<{ account: number; credits: number; debits: number }>(
      `SELECT account, SUM(credits) AS credits, SUM(debits) AS debits FROM (
         SELECT credit_account AS account, amount AS credits, 0 AS debits FROM transfers WHERE seq < ? AND currency = ? AND ${posted}
         UNION ALL SELECT debit_account, 0, amount FROM transfers WHERE seq < ? AND currency = ? AND ${posted}
       ) GROUP BY account`,
      fromSeq, currency, fromSeq, currency,
    )) {
      const code = ids.get(row.account)
      if (code) opening[code] = sign(code) * (row.credits - row.debits)
    }
    const running = { ...opening }
    const lines: StatementLine[] = []
    for (const t of this.ctx.storage.sql.exec<TransferRow>(`SELECT * FROM transfers WHERE seq >= ? AND seq < ? AND currency = ? AND ${posted} ORDER BY seq`, fromSeq, toSeq, currency)) {
      for (const [accountId, direction] of [[t.debit_account, -1], [t.credit_account, 1]] as const) {
        const code = ids.get(accountId)
        if (!code) continue
        const amount = sign(code) * direction * t.amount
        running[code] += amount
        lines.push({ seq: t.seq, transferId: t.id, atMs: t.at_ms, code: t.code, paymentId: t.payment_id, account: code, amountMinor: amount, accountBalanceAfterMinor: running[code], note: t.note })
      }
    }
    return { month, currency, fromMs, toMs, opening, closing: running, openingTotalMinor: total(opening), closingTotalMinor: total(running), lines }
  }

  /** The first seq whose timestamp is >= atMs (seq + 1 past the end when none). */
  #firstSeqAtOrAfter(atMs: number): number {
    const sql = this.ctx.storage.sql
    let lo = 1
    let hi = this.#seq + 1
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      const at = sql.exec<{ at_ms: number }>('SELECT at_ms FROM transfers WHERE seq = ?', mid).one().at_ms
      if (at < atMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Recomputes every account from the whole transfer history and checks L1 and the account flags:
   * the auditor's view (tests call it after every step; operators may call it any time).
   */
  verify(): VerifyReport {
    const problems: string[] = []
    const stored = this.#storedAccounts()
    const { effects: expected } = this.#transferEffects(0)
    for (const a of stored.values()) {
      const e = expected.get(a.id) ?? { dp: 0, dpo: 0, cp: 0, cpo: 0 }
      if (e.dp !== a.dp || e.dpo !== a.dpo || e.cp !== a.cp || e.cpo !== a.cpo) problems.push(`${a.currency}:${a.code} balances differ from the sum of its transfers`)
      const cached = this.#accountsById.get(a.id)
      if (!cached || cached.dp !== a.dp || cached.dpo !== a.dpo || cached.cp !== a.cp || cached.cpo !== a.cpo) problems.push(`${a.currency}:${a.code} cached balances differ from storage`)
      if (violatesFlags(a)) problems.push(`${a.currency}:${a.code} violates its flags`)
    }
    for (const id of expected.keys()) if (!stored.has(id)) problems.push(`transfers name unknown account ${id}`)
    problems.push(...l1Problems(stored.values()))
    const transfers = this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM transfers').one().n
    return { ok: problems.length === 0, problems, transfers }
  }

  /** Rewrites every balance into the D1 projection (repair after a failed projection write). */
  async reproject(): Promise<number> {
    for (const a of this.#accounts.values()) this.#touched.add(a)
    const n = this.#touched.size
    await this.#afterCommit()
    await this.projectionSettled()
    return n
  }

  /**
   * Bench baseline: `rows` bare inserts of one transfer-sized row in one transaction, no checks;
   * compared with the ledger's postings in the same run (bench/ledger.mjs). Dev builds only reach it.
   */
  benchBareInsert(rows: number): number {
    if (this.env.ENVIRONMENT !== 'dev' && this.env.ENVIRONMENT !== 'test') return 0
    const n = Math.min(Math.max(Math.trunc(rows), 1), 100_000)
    const sql = this.ctx.storage.sql
    this.ctx.storage.transactionSync(() => {
      const at = Date.now()
      for (let i = 0; i < n; i++) sql.exec('INSERT INTO bench_rows (id, amount, at_ms) VALUES (?, ?, ?)', newId('ledgerTransfer', at), 100 + i, at)
    })
    return n
  }

  // ---------------------------------------------------------------- execution

  async #single(op: LedgerOp, nowMs: number | undefined): Promise<OpResult> {
    const result = this.#transaction(() => {
      this.#lookUp([op])
      return this.#execute(op, nowMs ?? Date.now())
    })
    await this.#afterCommit()
    return result
  }

  /** Runs `fn` in one storage transaction ending with the invariant check; the cache follows a rollback. */
  #transaction<T>(fn: () => T): T {
    const startSeq = this.#seq
    try {
      return this.ctx.storage.transactionSync(() => {
        const before = this.#storedAccounts()
        const result = fn()
        this.#flushWrites()
        this.#flushAccounts()
        this.#assertInvariants(startSeq, before)
        return result
      })
    } catch (err) {
      this.#load()
      this.#touched.clear()
      this.#pendingAlarm = null
      throw err
    } finally {
      // what a transaction knows is only true inside it (and a rollback drops the queue unwritten)
      this.#queue = emptyQueue()
      this.#knownOps.clear()
      this.#knownPayments.clear()
    }
  }

  /**
   * Reads, in one statement per 1000, the idempotency records and the sale payment ids the
   * operations of this transaction name, so each operation checks them in memory. Ids the schema
   * will refuse anyway (see `jsonSafe`) are left out; anything not looked up here is read when needed.
   */
  #lookUp(ops: readonly unknown[]): void {
    const opIds: string[] = []
    const paymentIds: string[] = []
    for (const raw of ops) {
      if (!raw || typeof raw !== 'object') continue
      const { opId, kind, paymentId } = raw as { opId?: unknown; kind?: unknown; paymentId?: unknown }
      if (typeof opId === 'string' && !this.#knownOps.has(opId) && OpId.safeParse(opId).success) {
        this.#knownOps.set(opId, null)
        opIds.push(opId)
      }
      if (kind === 'sale' && typeof paymentId === 'string' && paymentId.length <= 200 && paymentId.isWellFormed() && !this.#knownPayments.has(paymentId)) {
        this.#knownPayments.set(paymentId, false)
        paymentIds.push(paymentId)
      }
    }
    for (let at = 0; at < Math.max(opIds.length, paymentIds.length); at += ROWS_PER_STATEMENT) {
      const rows = this.ctx.storage.sql.exec<{ key: string; kind: string | null; request: string; first_seq: number; legs: number }>(
        `SELECT op_id AS key, kind, request, first_seq, legs FROM operations WHERE op_id IN (SELECT value FROM json_each(?1))
         UNION ALL SELECT payment_id, NULL, NULL, NULL, NULL FROM payments WHERE payment_id IN (SELECT value FROM json_each(?2))`,
        JSON.stringify(opIds.slice(at, at + ROWS_PER_STATEMENT)),
        JSON.stringify(paymentIds.slice(at, at + ROWS_PER_STATEMENT)),
      )
      for (const r of rows) {
        if (r.kind === null) this.#knownPayments.set(r.key, true)
        else this.#knownOps.set(r.key, { kind: r.kind, request: r.request, first_seq: r.first_seq, legs: r.legs })
      }
    }
  }

  /** The stored first result of operation `opId`, if any (this transaction's own included). */
  #opRecord(opId: string): OpRecord | null {
    let record = this.#knownOps.get(opId)
    if (record === undefined) {
      record = this.ctx.storage.sql.exec<OpRecord>('SELECT kind, request, first_seq, legs FROM operations WHERE op_id = ?', opId).toArray()[0] ?? null
      this.#knownOps.set(opId, record)
    }
    return record
  }

  /** True when a sale of `paymentId` is recorded (this transaction's own included). */
  #paymentRecorded(paymentId: string): boolean {
    let known = this.#knownPayments.get(paymentId)
    if (known === undefined) {
      known = this.ctx.storage.sql.exec('SELECT 1 FROM payments WHERE payment_id = ?', paymentId).toArray().length > 0
      this.#knownPayments.set(paymentId, known)
    }
    return known
  }

  /** Queues one row for `table` (written by `#flushWrites`). */
  #queueRow(table: QueuedTable, row: Row): void {
    if (!jsonSafe(row)) throw new Error(`ledger bug: a ${table} row holds a string that is not well-formed Unicode`)
    const rows = this.#queue[table]
    rows.push(row)
    if (rows.length >= ROWS_PER_STATEMENT) this.#flushTable(table)
  }

  /** Writes every queued row: before any read of a queued table inside a transaction, and before its commit. */
  #flushWrites(): void {
    for (const table of QUEUED_TABLES) this.#flushTable(table)
  }

  #flushTable(table: QueuedTable): void {
    const rows = this.#queue[table]
    if (!rows.length) return
    this.#queue[table] = []
    this.ctx.storage.sql.exec(INSERT_JSON[table], JSON.stringify(rows))
  }

  #execute(raw: LedgerOp, nowMs: number): OpResult {
    const parsed = LedgerOp.safeParse(raw)
    const opId = typeof (raw as { opId?: unknown })?.opId === 'string' ? (raw as { opId: string }).opId : ''
    if (!parsed.success) {
      return { ok: false, opId, code: 'invalid_request', detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'op'}: ${i.message}`).join('; ') }
    }
    const op = parsed.data
    const { opId: _id, kind: _kind, ...body } = op
    // zod builds its output in schema key order, so equal requests serialise to equal text
    const request = JSON.stringify(body)
    const prior = this.#opRecord(op.opId)
    if (prior) {
      if (prior.kind !== op.kind) return { ok: false, opId: op.opId, code: 'exists_with_different_kind', detail: `operation ${op.opId} was a ${prior.kind}` }
      if (prior.request !== request) {
        const field = firstDifference(JSON.parse(prior.request) as Record<string, unknown>, body)
        return { ok: false, opId: op.opId, code: `exists_with_different_${snake(field)}`, detail: `operation ${op.opId} was recorded with another ${field}` }
      }
      this.#flushWrites() // the first delivery may be earlier in this very transaction
      const ids = this.ctx.storage.sql.exec<{ id: string }>('SELECT id FROM transfers WHERE seq >= ? AND seq < ? ORDER BY seq', prior.first_seq, prior.first_seq + prior.legs).toArray().map((r) => r.id)
      return { ok: true, opId: op.opId, kind: op.kind, seq: prior.first_seq + prior.legs - 1, transferIds: ids, holdId: op.kind === 'holdForPayout' ? ids[0]! : null, replayed: true }
    }
    const atMs = (this.#lastAtMs = Math.max(this.#lastAtMs, Math.trunc(nowMs)))
    let planned: { currency: string; legs: Leg[]; paymentId: string | null; after?: (ids: string[]) => void }
    try {
      planned = this.#plan(op, atMs)
    } catch (err) {
      if (err instanceof Refusal) return { ok: false, opId: op.opId, code: err.code, detail: err.detail }
      throw err
    }
    const firstSeq = this.#seq + 1
    const ids = this.#write(op.opId, planned.currency, planned.legs, planned.paymentId, atMs)
    planned.after?.(ids)
    const result: OpSuccess = { ok: true, opId: op.opId, kind: op.kind, seq: this.#seq, transferIds: ids, holdId: op.kind === 'holdForPayout' ? ids[0]! : null, replayed: false }
    this.#knownOps.set(op.opId, { kind: op.kind, request, first_seq: firstSeq, legs: ids.length })
    this.#queueRow('operations', [op.opId, op.kind, request, firstSeq, ids.length, atMs])
    return result
  }

  /** Decides the legs of one operation (and its side-table writes, run only once the legs are written). */
  #plan(op: LedgerOp, atMs: number): { currency: string; legs: Leg[]; paymentId: string | null; after?: (ids: string[]) => void } {
    const sql = this.ctx.storage.sql
    switch (op.kind) {
      case 'sale': {
        if (op.processorFeeMinor > op.grossMinor) throw new Refusal('invalid_request', 'processorFeeMinor exceeds grossMinor')
        const s = saleAmounts(op.grossMinor, op.processorFeeMinor, op.split)
        const pendingTo: AccountCode = op.split.pendingDays === 0 ? 'creator_available' : 'creator_pending'
        const reserveTo: AccountCode = op.split.reserveDays === 0 ? 'creator_available' : 'reserve'
        const legs = nonZero([
          { debit: 'gateway_receivable', credit: 'processor_fees', amount: s.processorFeeMinor, code: 'sale.processor_fee', flags: 0 },
          { debit: 'gateway_receivable', credit: 'platform_fees', amount: s.platformFeeMinor, code: 'sale.platform_fee', flags: 0 },
          { debit: 'gateway_receivable', credit: reserveTo, amount: s.reserveMinor, code: 'sale.reserve', flags: 0 },
          { debit: 'gateway_receivable', credit: pendingTo, amount: s.pendingMinor, code: 'sale.creator_share', flags: 0 },
        ])
        const pendingRemaining = pendingTo === 'creator_pending' ? s.pendingMinor : 0
        const reserveRemaining = reserveTo === 'reserve' ? s.reserveMinor : 0
        const pendingDue = atMs + op.split.pendingDays * DAY_MS
        const reserveDue = atMs + op.split.reserveDays * DAY_MS
        // refused = nothing written; the payment id's primary key still refuses a duplicate the
        // in-memory check missed (the insert throws and the whole transaction rolls back)
        if (this.#paymentRecorded(op.paymentId)) throw new Refusal('payment_exists', `payment ${op.paymentId} is already recorded`)
        this.#knownPayments.set(op.paymentId, true)
        this.#queueRow('payments', [op.paymentId, op.currency, op.grossMinor, s.processorFeeMinor, s.platformFeeMinor, 'captured', pendingRemaining, pendingDue, reserveRemaining, reserveDue, atMs])
        return {
          currency: op.currency,
          legs,
          paymentId: op.paymentId,
          after: () => {
            if (pendingRemaining > 0) this.#due(pendingDue)
            if (reserveRemaining > 0) this.#due(reserveDue)
          },
        }
      }
      case 'refund': {
        const p = this.#payment(op.paymentId)
        if (!p) throw new Refusal('payment_not_found', `no sale recorded for payment ${op.paymentId}`)
        if (p.state === 'charged_back') throw new Refusal('payment_charged_back', `payment ${op.paymentId} is charged back`)
        const refundable = p.gross - p.refunded
        if (op.amountMinor > refundable) throw new Refusal('exceeds_refundable', `refundable ${refundable} < requested ${op.amountMinor} (${p.currency} minor units)`)
        const parts = reversalParts(p.gross, { processorFeeMinor: p.processor_fee, platformFeeMinor: p.platform_fee }, p.refunded, p.refunded + op.amountMinor)
        const taken = this.#takeFromCreator(p, parts.creatorMinor, 'refund.creator_share', 'gateway_receivable')
        const legs = nonZero([
          { debit: 'processor_fees', credit: 'gateway_receivable', amount: parts.processorMinor, code: 'refund.processor_fee', flags: 0 },
          { debit: 'platform_fees', credit: 'gateway_receivable', amount: parts.platformMinor, code: 'refund.platform_fee', flags: 0 },
          ...taken.legs,
        ])
        return {
          currency: p.currency,
          legs,
          paymentId: p.payment_id,
          after: () => sql.exec('UPDATE payments SET refunded = refunded + ?, pending_remaining = ?, reserve_remaining = ? WHERE payment_id = ?', op.amountMinor, taken.pendingRemaining, taken.reserveRemaining, p.payment_id),
        }
      }
      case 'chargeback': {
        const p = this.#payment(op.paymentId)
        if (!p) throw new Refusal('payment_not_found', `no sale recorded for payment ${op.paymentId}`)
        if (p.state === 'charged_back') throw new Refusal('payment_charged_back', `payment ${op.paymentId} is already charged back`)
        const parts = reversalParts(p.gross, { processorFeeMinor: p.processor_fee, platformFeeMinor: p.platform_fee }, p.refunded, p.gross)
        if (p.refunded === p.gross && op.feeMinor === 0) throw new Refusal('nothing_to_reverse', `payment ${op.paymentId} is fully refunded`)
        // the reversal first, then the fee, both through the same waterfall into debt
        const reversal = this.#takeFromCreator(p, parts.creatorMinor, 'chargeback.creator_share', 'gateway_receivable')
        const fee = this.#takeFromCreator({ ...p, pending_remaining: reversal.pendingRemaining, reserve_remaining: reversal.reserveRemaining }, op.feeMinor, 'chargeback.fee', 'chargeback_fees', reversal.availableUsed)
        const legs = nonZero([
          { debit: 'processor_fees', credit: 'gateway_receivable', amount: parts.processorMinor, code: 'chargeback.processor_fee', flags: 0 },
          { debit: 'platform_fees', credit: 'gateway_receivable', amount: parts.platformMinor, code: 'chargeback.platform_fee', flags: 0 },
          ...reversal.legs,
          ...fee.legs,
        ])
        return {
          currency: p.currency,
          legs,
          paymentId: p.payment_id,
          after: () =>
            sql.exec(
              `UPDATE payments SET state = 'charged_back', pending_remaining = ?, reserve_remaining = ?, cb_processor = ?, cb_platform = ?, cb_creator = ? WHERE payment_id = ?`,
              fee.pendingRemaining, fee.reserveRemaining, parts.processorMinor, parts.platformMinor, parts.creatorMinor, p.payment_id,
            ),
        }
      }
      case 'disputeWon': {
        const p = this.#payment(op.paymentId)
        if (!p) throw new Refusal('payment_not_found', `no sale recorded for payment ${op.paymentId}`)
        if (p.state !== 'charged_back') throw new Refusal('not_charged_back', `payment ${op.paymentId} is not charged back`)
        // reinstatement nets the creator's debt first (L9); the chargeback fee is not returned
        const debt = this.#peek(p.currency, 'debt')
        const toDebt = Math.min(p.cb_creator, debt.dpo - debt.cpo)
        const legs = nonZero([
          { debit: 'gateway_receivable', credit: 'processor_fees', amount: p.cb_processor, code: 'dispute_won.processor_fee', flags: 0 },
          { debit: 'gateway_receivable', credit: 'platform_fees', amount: p.cb_platform, code: 'dispute_won.platform_fee', flags: 0 },
          { debit: 'gateway_receivable', credit: 'debt', amount: toDebt, code: 'dispute_won.debt_repaid', flags: 0 },
          { debit: 'gateway_receivable', credit: 'creator_available', amount: p.cb_creator - toDebt, code: 'dispute_won.creator_share', flags: 0 },
        ])
        return {
          currency: p.currency,
          legs,
          paymentId: p.payment_id,
          after: () => sql.exec(`UPDATE payments SET state = 'reinstated', cb_processor = 0, cb_platform = 0, cb_creator = 0 WHERE payment_id = ?`, p.payment_id),
        }
      }
      case 'holdForPayout': {
        if (sql.exec('SELECT 1 FROM holds WHERE payout_id = ?', op.payoutId).toArray().length) throw new Refusal('hold_exists', `payout ${op.payoutId} already has a hold`)
        const available = this.#free(this.#peek(op.currency, 'creator_available'))
        if (op.amountMinor > available) throw new Refusal('insufficient_funds', `available ${available} < requested ${op.amountMinor} (${op.currency} minor units)`)
        return {
          currency: op.currency,
          legs: [{ debit: 'creator_available', credit: 'payout_hold', amount: op.amountMinor, code: 'payout.hold', flags: PENDING }],
          paymentId: null,
          after: (ids) => sql.exec(`INSERT INTO holds (hold_id, payout_id, currency, amount, state) VALUES (?, ?, ?, ?, 'pending')`, ids[0]!, op.payoutId, op.currency, op.amountMinor),
        }
      }
      case 'postHold':
      case 'voidHold': {
        const hold = sql.exec<{ currency: string; amount: number; state: string }>('SELECT currency, amount, state FROM holds WHERE hold_id = ?', op.holdId).toArray()[0]
        if (!hold) throw new Refusal('hold_not_found', `no hold ${op.holdId}`)
        if (hold.state === 'posted') throw new Refusal('pending_transfer_already_posted', `hold ${op.holdId} was posted`)
        if (hold.state === 'voided') throw new Refusal('pending_transfer_already_voided', `hold ${op.holdId} was voided`)
        const setState = (state: string, posted: number | null = null) => () => sql.exec('UPDATE holds SET state = ?, posted_amount = ? WHERE hold_id = ?', state, posted, op.holdId)
        if (op.kind === 'voidHold') {
          if (op.amountMinor !== undefined && op.amountMinor !== 0 && op.amountMinor !== hold.amount) throw new Refusal('pending_transfer_has_different_amount', `hold ${op.holdId} is ${hold.amount}`)
          return {
            currency: hold.currency,
            legs: [{ debit: 'creator_available', credit: 'payout_hold', amount: hold.amount, code: 'payout.void', flags: VOID_PENDING, pendingId: op.holdId, pendingAmount: hold.amount }],
            paymentId: null,
            after: setState('voided'),
          }
        }
        const amount = op.amountMinor ?? hold.amount
        if (amount > hold.amount) throw new Refusal('exceeds_pending_transfer_amount', `hold ${op.holdId} is ${hold.amount} < ${amount}`)
        return {
          currency: hold.currency,
          legs: [
            { debit: 'creator_available', credit: 'payout_hold', amount, code: 'payout.post', flags: POST_PENDING, pendingId: op.holdId, pendingAmount: hold.amount },
            { debit: 'payout_hold', credit: 'payouts_in_transit', amount, code: 'payout.sent', flags: 0 },
          ],
          paymentId: null,
          after: setState('posted', amount),
        }
      }
      case 'payoutReturned': {
        const hold = sql.exec<{ currency: string; state: string; posted_amount: number | null; returned_amount: number | null }>('SELECT currency, state, posted_amount, returned_amount FROM holds WHERE hold_id = ?', op.holdId).toArray()[0]
        if (!hold) throw new Refusal('hold_not_found', `no hold ${op.holdId}`)
        if (hold.state !== 'posted' || hold.posted_amount === null) throw new Refusal('hold_not_posted', `hold ${op.holdId} was not paid out (${hold.state})`)
        if (hold.returned_amount !== null) throw new Refusal('payout_already_returned', `hold ${op.holdId} already came back (${hold.returned_amount})`)
        const amount = op.amountMinor ?? hold.posted_amount
        if (amount > hold.posted_amount) throw new Refusal('exceeds_posted_amount', `hold ${op.holdId} sent ${hold.posted_amount} < ${amount}`)
        return {
          currency: hold.currency,
          legs: [{ debit: 'payouts_in_transit', credit: 'creator_available', amount, code: 'payout.returned', flags: 0, note: JSON.stringify({ reason: op.reason }) }],
          paymentId: null,
          after: () => sql.exec('UPDATE holds SET returned_amount = ? WHERE hold_id = ?', amount, op.holdId),
        }
      }
      case 'adjust': {
        const note = JSON.stringify({ reason: op.reason, actor: op.actor })
        if (op.direction === 'credit') {
          return { currency: op.currency, legs: [{ debit: 'adjustments', credit: 'creator_available', amount: op.amountMinor, code: 'adjustment.credit', flags: 0, note }], paymentId: null }
        }
        const available = this.#free(this.#peek(op.currency, 'creator_available'))
        if (op.amountMinor > available) throw new Refusal('insufficient_funds', `available ${available} < adjustment ${op.amountMinor} (${op.currency} minor units)`)
        return { currency: op.currency, legs: [{ debit: 'creator_available', credit: 'adjustments', amount: op.amountMinor, code: 'adjustment.debit', flags: 0, note }], paymentId: null }
      }
    }
  }

  /**
   * Takes `amount` from the creator for payment `p`: its own unreleased pending share first, then its
   * own unreleased reserve, then available (free of holds), and whatever is left becomes debt (L6).
   */
  #takeFromCreator(p: PaymentRow, amount: number, code: string, credit: AccountCode, availableAlreadyUsed = 0) {
    const legs: Leg[] = []
    let left = amount
    const fromPending = Math.min(left, p.pending_remaining)
    left -= fromPending
    const fromReserve = Math.min(left, p.reserve_remaining)
    left -= fromReserve
    const fromAvailable = Math.min(left, Math.max(0, this.#free(this.#peek(p.currency, 'creator_available')) - availableAlreadyUsed))
    left -= fromAvailable
    if (fromPending) legs.push({ debit: 'creator_pending', credit, amount: fromPending, code, flags: 0 })
    if (fromReserve) legs.push({ debit: 'reserve', credit, amount: fromReserve, code, flags: 0 })
    if (fromAvailable) legs.push({ debit: 'creator_available', credit, amount: fromAvailable, code, flags: 0 })
    if (left) legs.push({ debit: 'debt', credit, amount: left, code: `${code}.debt`, flags: 0 })
    return { legs, pendingRemaining: p.pending_remaining - fromPending, reserveRemaining: p.reserve_remaining - fromReserve, availableUsed: availableAlreadyUsed + fromAvailable }
  }

  #releaseDue(nowMs: number): number {
    const sql = this.ctx.storage.sql
    const atMs = (this.#lastAtMs = Math.max(this.#lastAtMs, Math.trunc(nowMs)))
    const opId = `release:${this.#seq + 1}`
    const byCurrency = new Map<string, { legs: Leg[]; released: number; payments: Array<{ id: string; pending: boolean; reserve: boolean }> }>()
    const add = (currency: string) => {
      let entry = byCurrency.get(currency)
      if (!entry) byCurrency.set(currency, (entry = { legs: [], released: 0, payments: [] }))
      return entry
    }
    this.#flushWrites()
    const due = sql
      .exec<PaymentRow>('SELECT * FROM payments WHERE (pending_remaining > 0 AND pending_due_ms <= ?) OR (reserve_remaining > 0 AND reserve_due_ms <= ?) ORDER BY at_ms', atMs, atMs)
      .toArray()
    for (const p of due) {
      const entry = add(p.currency)
      const pending = p.pending_remaining > 0 && p.pending_due_ms <= atMs
      const reserve = p.reserve_remaining > 0 && p.reserve_due_ms <= atMs
      if (pending) entry.legs.push({ debit: 'creator_pending', credit: 'creator_available', amount: p.pending_remaining, code: 'release.pending', flags: 0, note: p.payment_id })
      if (reserve) entry.legs.push({ debit: 'reserve', credit: 'creator_available', amount: p.reserve_remaining, code: 'release.reserve', flags: 0, note: p.payment_id })
      entry.released += (pending ? p.pending_remaining : 0) + (reserve ? p.reserve_remaining : 0)
      entry.payments.push({ id: p.payment_id, pending, reserve })
    }
    // debt is paid back from available as soon as there is some (L10: it shows in the next cycle)
    for (const a of this.#accounts.values()) if (a.code === 'debt' && a.dpo > a.cpo) add(a.currency)
    let released = 0
    for (const [currency, entry] of byCurrency) {
      const debt = this.#peek(currency, 'debt')
      const owed = debt.dpo - debt.cpo
      const free = this.#free(this.#peek(currency, 'creator_available')) + entry.released
      const repay = Math.min(owed, free)
      if (repay > 0) entry.legs.push({ debit: 'creator_available', credit: 'debt', amount: repay, code: 'debt.repaid', flags: 0 })
      if (!entry.legs.length) continue
      this.#write(opId, currency, entry.legs, null, atMs)
      for (const p of entry.payments) {
        if (p.pending) sql.exec('UPDATE payments SET pending_remaining = 0 WHERE payment_id = ?', p.id)
        if (p.reserve) sql.exec('UPDATE payments SET reserve_remaining = 0 WHERE payment_id = ?', p.id)
      }
      released += entry.released
    }
    return released
  }

  /**
   * Applies and stores the legs of one operation as one linked chain: every leg is checked against
   * the account rules first (a violation here is a bug in the planning above, so it throws and the
   * whole transaction rolls back), then written.
   */
  #write(opId: string, currency: string, legs: Leg[], paymentId: string | null, atMs: number): string[] {
    const ids: string[] = []
    for (let i = 0; i < legs.length; i++) {
      const leg = legs[i]!
      if (!(Number.isSafeInteger(leg.amount) && leg.amount > 0)) throw new Error(`ledger bug: leg ${leg.code} amount ${leg.amount}`)
      const debit = this.#account(currency, leg.debit)
      const credit = this.#account(currency, leg.credit)
      if (debit === credit) throw new Error(`ledger bug: leg ${leg.code} joins ${leg.debit} to itself`)
      if (leg.flags & (POST_PENDING | VOID_PENDING)) {
        const pendingAmount = leg.pendingAmount!
        debit.dp -= pendingAmount
        credit.cp -= pendingAmount
        if (leg.flags & POST_PENDING) {
          debit.dpo += leg.amount
          credit.cpo += leg.amount
        }
      } else if (leg.flags & PENDING) {
        debit.dp += leg.amount
        credit.cp += leg.amount
      } else {
        debit.dpo += leg.amount
        credit.cpo += leg.amount
      }
      if (violatesFlags(debit) || violatesFlags(credit)) throw new Error(`ledger bug: leg ${leg.code} of ${opId} breaks the limits of ${debit.code} or ${credit.code}`)
      this.#touched.add(debit)
      this.#touched.add(credit)
      const id = newId('ledgerTransfer', atMs)
      const flags = leg.flags | (i < legs.length - 1 ? LINKED : 0)
      // the seq is set here, not by SQLite, so an operation's record names its rows whenever they are written
      this.#queueRow('transfers', [this.#seq + 1 + i, id, opId, debit.id, credit.id, leg.amount, currency, leg.code, flags, leg.pendingId ?? null, paymentId, atMs, leg.note ?? null])
      ids.push(id)
    }
    this.#seq += legs.length
    return ids
  }

  // ---------------------------------------------------------------- invariants

  #assertInvariants(startSeq: number, before: Map<number, Account>): void {
    const lastSeq = this.ctx.storage.sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM transfers').one().seq ?? 0
    if (lastSeq !== this.#seq) throw new Error(`ledger invariant: sequence ${lastSeq} != ${this.#seq}`)
    if (startSeq === this.#seq) return
    const after = this.#storedAccounts()
    const { effects, count } = this.#transferEffects(startSeq)
    if (count !== this.#seq - startSeq) throw new Error(`ledger invariant: ${count} transfers stored for ${this.#seq - startSeq} written`)
    for (const a of after.values()) {
      const b = before.get(a.id) ?? { dp: 0, dpo: 0, cp: 0, cpo: 0 }
      const e = effects.get(a.id) ?? { dp: 0, dpo: 0, cp: 0, cpo: 0 }
      if (a.dp - b.dp !== e.dp || a.dpo - b.dpo !== e.dpo || a.cp - b.cp !== e.cp || a.cpo - b.cpo !== e.cpo) {
        throw new Error(`ledger invariant: ${a.currency}:${a.code} changed by other than the sum of its new transfers`)
      }
      if (violatesFlags(a)) throw new Error(`ledger invariant: ${a.currency}:${a.code} violates its flags`)
    }
    const l1 = l1Problems(after.values())
    if (l1.length) throw new Error(`ledger invariant L1: ${l1.join('; ')}`)
  }

  /**
   * The balance changes the stored transfers after `afterSeq` stand for, per account id, and how many
   * transfers that is. SQLite sums them per (debit, credit, kind) so a batch of thousands of
   * transfers comes back as a handful of rows; the sums are the same as adding transfer by transfer.
   */
  #transferEffects(afterSeq: number): { effects: Map<number, { dp: number; dpo: number; cp: number; cpo: number }>; count: number } {
    const effects = new Map<number, { dp: number; dpo: number; cp: number; cpo: number }>()
    const of = (id: number) => {
      let e = effects.get(id)
      if (!e) effects.set(id, (e = { dp: 0, dpo: 0, cp: 0, cpo: 0 }))
      return e
    }
    const groups = this.ctx.storage.sql.exec<{ debit_account: number; credit_account: number; kind: number; amount: number; pending_amount: number | null; n: number; matched: number }>(
      `SELECT t.debit_account, t.credit_account, t.flags & ${PENDING | POST_PENDING | VOID_PENDING} AS kind, SUM(t.amount) AS amount,
              SUM(p.amount) AS pending_amount, COUNT(*) AS n, COUNT(p.seq) AS matched
       FROM transfers t LEFT JOIN transfers p ON t.pending_id IS NOT NULL AND p.id = t.pending_id AND (p.flags & 1) = 1
       WHERE t.seq > ? GROUP BY 1, 2, 3`,
      afterSeq,
    )
    let count = 0
    for (const t of groups) {
      count += t.n
      const d = of(t.debit_account)
      const c = of(t.credit_account)
      if (t.kind & (POST_PENDING | VOID_PENDING)) {
        if (t.matched !== t.n || t.pending_amount === null) throw new Error('ledger invariant: a post/void transfer names no pending transfer')
        d.dp -= t.pending_amount
        c.cp -= t.pending_amount
        if (t.kind & POST_PENDING) {
          d.dpo += t.amount
          c.cpo += t.amount
        }
      } else if (t.kind & PENDING) {
        d.dp += t.amount
        c.cp += t.amount
      } else {
        d.dpo += t.amount
        c.cpo += t.amount
      }
    }
    return { effects, count }
  }

  // ---------------------------------------------------------------- state

  #load(): void {
    this.#accounts.clear()
    this.#accountsById.clear()
    for (const a of this.#storedAccounts().values()) {
      this.#accounts.set(`${a.currency}:${a.code}`, a)
      this.#accountsById.set(a.id, a)
    }
    const row = this.ctx.storage.sql.exec<{ seq: number | null; at: number | null }>('SELECT MAX(seq) AS seq, MAX(at_ms) AS at FROM transfers').one()
    this.#seq = row.seq ?? 0
    this.#lastAtMs = row.at ?? 0
  }

  #storedAccounts(): Map<number, Account> {
    const map = new Map<number, Account>()
    for (const r of this.ctx.storage.sql.exec<{ id: number; currency: string; code: AccountCode; flags: number; debits_pending: number; debits_posted: number; credits_pending: number; credits_posted: number }>('SELECT * FROM accounts')) {
      map.set(r.id, { id: r.id, currency: r.currency, code: r.code, flags: r.flags, dp: r.debits_pending, dpo: r.debits_posted, cp: r.credits_pending, cpo: r.credits_posted })
    }
    return map
  }

  /** The account, created (with zero balances) on first use. */
  #account(currency: string, code: AccountCode): Account {
    const key = `${currency}:${code}`
    let a = this.#accounts.get(key)
    if (!a) {
      const flags = accountFlags(code)
      const id = this.ctx.storage.sql.exec<{ id: number }>('INSERT INTO accounts (currency, code, flags) VALUES (?, ?, ?) RETURNING id', currency, code, flags).one().id
      a = { id, currency, code, flags, dp: 0, dpo: 0, cp: 0, cpo: 0 }
      this.#accounts.set(key, a)
      this.#accountsById.set(id, a)
    }
    return a
  }

  /** Writes the touched accounts' balances once per transaction (not once per leg). */
  #flushAccounts(): void {
    for (const a of this.#touched) {
      this.ctx.storage.sql.exec('UPDATE accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, credits_posted = ? WHERE id = ?', a.dp, a.dpo, a.cp, a.cpo, a.id)
    }
  }

  /** What a debit may still take from a creator account: posted credits minus posted and pending debits. */
  #free(a: Pick<Account, 'dp' | 'dpo' | 'cpo'>): number {
    return a.cpo - a.dpo - a.dp
  }

  /** Balances of an account without creating it (a refused operation must write nothing). */
  #peek(currency: string, code: AccountCode): Pick<Account, 'dp' | 'dpo' | 'cp' | 'cpo'> {
    return this.#accounts.get(`${currency}:${code}`) ?? { dp: 0, dpo: 0, cp: 0, cpo: 0 }
  }

  #payment(paymentId: string): PaymentRow | undefined {
    this.#flushWrites() // its row, and the transfers its update must follow, may still be queued
    return this.ctx.storage.sql.exec<PaymentRow>('SELECT * FROM payments WHERE payment_id = ?', paymentId).toArray()[0]
  }

  #due(atMs: number): void {
    this.#pendingAlarm = this.#pendingAlarm === null ? atMs : Math.min(this.#pendingAlarm, atMs)
  }
  #pendingAlarm: number | null = null

  #nextDueMs(): number | null {
    const row = this.ctx.storage.sql
      .exec<{ due: number | null }>(
        'SELECT MIN(due) AS due FROM (SELECT MIN(pending_due_ms) AS due FROM payments WHERE pending_remaining > 0 UNION ALL SELECT MIN(reserve_due_ms) FROM payments WHERE reserve_remaining > 0)',
      )
      .one()
    return row.due
  }

  /** After a commit: move the alarm earlier if a new due date needs it, then project the touched balances. */
  async #afterCommit(): Promise<void> {
    const due = this.#pendingAlarm
    this.#pendingAlarm = null
    if (due !== null && (this.#alarmAtMs === null || due < this.#alarmAtMs)) {
      this.#alarmAtMs = due
      void this.ctx.storage.setAlarm(due)
    }
    if (!this.#touched.size) return
    for (const a of this.#touched) {
      const v = viewAccount(a)
      this.#projectionQueue.set(`${a.currency}:${a.code}`, { currency: a.currency, account: a.code, postedMinor: v.postedMinor, pendingMinor: v.pendingMinor, ledgerSeq: this.#seq })
    }
    this.#touched.clear()
    // one D1 write in flight at a time; writes queued meanwhile are merged (newest per account) and
    // go in the next round, so a burst of operations costs a few D1 round trips, not one each. Not
    // awaited by the operation: a D1 round trip costs more than the ledger write itself (bench), and
    // the projection is a read model that may lag; `projectionSettled()` waits for it when needed.
    if (!this.#projection) {
      this.#projection = this.#drainProjection().finally(() => (this.#projection = null))
      this.ctx.waitUntil(this.#projection)
    }
  }

  /** Resolves once every balance written so far is in the D1 projection (tests, read-your-write callers). */
  async projectionSettled(): Promise<void> {
    while (this.#projection) await this.#projection
  }

  async #drainProjection(): Promise<void> {
    const creatorId = this.#creatorId()
    while (this.#projectionQueue.size) {
      const rows = [...this.#projectionQueue.values()]
      this.#projectionQueue.clear()
      if (!creatorId) continue
      try {
        await projectBalances(this.env.DB, creatorId, rows, Date.now())
      } catch (err) {
        // the ledger stays the truth: a failed projection is logged; the next write of these
        // accounts, or `reproject()`, brings D1 level again
        log('error', 'debug', 'ledger_projection_failed', { creator_id: creatorId, error: err instanceof Error ? err.message : String(err) })
      }
    }
  }

  #creatorId(): string | null {
    const name = this.ctx.id.name
    return name?.startsWith('creator:') ? name.slice('creator:'.length) : null
  }

  #viewTransfer(r: TransferRow): TransferView {
    return {
      seq: r.seq,
      id: r.id,
      opId: r.op_id,
      debitAccount: this.#accountsById.get(r.debit_account)!.code,
      creditAccount: this.#accountsById.get(r.credit_account)!.code,
      amountMinor: r.amount,
      currency: r.currency,
      code: r.code,
      flags: flagNames(r.flags),
      pendingId: r.pending_id,
      paymentId: r.payment_id,
      atMs: r.at_ms,
      note: r.note,
    }
  }
}

function viewAccount(a: Account): AccountBalance {
  const credit = isCreditNormal(a.code)
  return {
    currency: a.currency,
    account: a.code,
    normal: credit ? 'credit' : 'debit',
    debitsPending: a.dp,
    debitsPosted: a.dpo,
    creditsPending: a.cp,
    creditsPosted: a.cpo,
    postedMinor: credit ? a.cpo - a.dpo : a.dpo - a.cpo,
    pendingMinor: credit ? a.cp - a.dp : a.dp - a.cp,
  }
}

function violatesFlags(a: Pick<Account, 'flags' | 'dp' | 'dpo' | 'cp' | 'cpo'>): boolean {
  if (a.dp < 0 || a.cp < 0) return true
  if (a.flags & ACCOUNT_FLAGS.DEBITS_MUST_NOT_EXCEED_CREDITS && a.dp + a.dpo > a.cpo) return true
  if (a.flags & ACCOUNT_FLAGS.CREDITS_MUST_NOT_EXCEED_DEBITS && a.cp + a.cpo > a.dpo) return true
  return false
}

/** L1: per currency, debits = credits, posted and pending separately. */
function l1Problems(accounts: Iterable<Account>): string[] {
  const sums = new Map<string, { dp: number; dpo: number; cp: number; cpo: number }>()
  for (const a of accounts) {
    const s = sums.get(a.currency) ?? { dp: 0, dpo: 0, cp: 0, cpo: 0 }
    s.dp += a.dp
    s.dpo += a.dpo
    s.cp += a.cp
    s.cpo += a.cpo
    sums.set(a.currency, s)
  }
  const problems: string[] = []
  for (const [currency, s] of sums) {
    if (s.dpo !== s.cpo) problems.push(`${currency}: posted debits ${s.dpo} != posted credits ${s.cpo}`)
    if (s.dp !== s.cp) problems.push(`${currency}: pending debits ${s.dp} != pending credits ${s.cp}`)
  }
  return problems
}

function nonZero(legs: Leg[]): Leg[] {
  return legs.filter((l) => l.amount !== 0)
}

function zeroes(): Record<CreatorAccount, number> {
  return { creator_pending: 0, creator_available: 0, reserve: 0, payout_hold: 0, debt: 0 }
}

function total(b: Record<CreatorAccount, number>): number {
  return b.creator_pending + b.creator_available + b.reserve + b.payout_hold - b.debt
}

function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string {
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key
  }
  return 'body'
}

function snake(field: string): string {
  return field.replace(/Minor$/, '').replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)
}
