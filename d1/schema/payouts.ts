import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Creator payouts (workers/payouts). Money moves only through the creator's `CreatorLedger`
 * (hold at batching, post on settlement, void on failure, `payoutReturned` on a bank return); these
 * tables are the workflow around it: where to pay, when, in which batch, and what happened.
 */

/** The rails a payout travels: an API processor, or a file finance hands to a bank. */
export const PAYOUT_RAILS = ['paxum', 'epayservice', 'wise', 'payoneer', 'crypto_custodian', 'sandbox', 'nacha', 'sepa', 'wire', 'check'] as const
export type PayoutRail = (typeof PAYOUT_RAILS)[number]

/**
 * A creator's payout method. The account details are sealed (secret box, additional data = the
 * method id): the database alone never yields an IBAN or an account number. `summary` is the masked
 * form shown in lists ("SEPA •••• 3000, DE").
 */
export const payoutMethods = sqliteTable(
  'payout_methods',
  {
    /** `pm_` + ULID */
    id: text('id').primaryKey(),
    creatorId: text('creator_id').notNull(),
    /** the method type (workers/payouts/methods/methods.ts): paxum, epayservice, wise, payoneer, crypto, ach, sepa, wire, check */
    type: text('type').notNull(),
    /** the rail it is paid through (a type may have more than one; the sandbox stands in for API rails in dev) */
    rail: text('rail', { enum: PAYOUT_RAILS }).notNull(),
    currency: text('currency').notNull(),
    summary: text('summary').notNull(),
    detailsSealed: text('details_sealed').notNull(),
    /** first instant a payout may go to it (the cool-off after adding or changing a method) */
    usableFromMs: integer('usable_from_ms').notNull(),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    /** set when removed or replaced; kept for the payouts that went to it */
    removedAtMs: integer('removed_at_ms'),
  },
  (t) => [index('payout_methods_creator_idx').on(t.creatorId, t.removedAtMs)],
)

/** When a creator is paid: one rule per creator. */
export const payoutRules = sqliteTable('payout_rules', {
  creatorId: text('creator_id').primaryKey(),
  /** weekly (on `weekday`), threshold (available >= `threshold_minor`), scheduled (`dates_json`), manual (only on request) */
  kind: text('kind', { enum: ['weekly', 'threshold', 'scheduled', 'manual'] }).notNull(),
  /** 0 = Sunday .. 6 = Saturday (UTC) */
  weekday: integer('weekday'),
  thresholdMinor: integer('threshold_minor'),
  /** JSON array of `yyyy-mm-dd` (UTC) for `scheduled`; or days of month `[1, 15]` */
  datesJson: text('dates_json'),
  /** the currency the rule pays (the ledger keeps one balance per currency) */
  currency: text('currency').notNull(),
  /** null = the creator's default method */
  methodId: text('method_id'),
  updatedBy: text('updated_by').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

/**
 * Fees per rail and currency: fixed + percentage of the amount + FX spread when the payout currency
 * differs from the rail's funding currency; `instant_*` for on-demand payouts where the rail allows.
 * Minimums and maximums per rail and currency.
 */
export const payoutFeeSchedules = sqliteTable(
  'payout_fee_schedules',
  {
    rail: text('rail', { enum: PAYOUT_RAILS }).notNull(),
    currency: text('currency').notNull(),
    fixedMinor: integer('fixed_minor').notNull(),
    percentBps: integer('percent_bps').notNull(),
    fxSpreadBps: integer('fx_spread_bps').notNull().default(0),
    /** the rail pays instantly on demand (null = not offered) */
    instantFixedMinor: integer('instant_fixed_minor'),
    instantPercentBps: integer('instant_percent_bps'),
    minPayoutMinor: integer('min_payout_minor').notNull(),
    maxPayoutMinor: integer('max_payout_minor'),
    /** fee charged once per batch by the rail (e.g. a bank file fee), shared by its payouts */
    perBatchFixedMinor: integer('per_batch_fixed_minor').notNull().default(0),
    updatedBy: text('updated_by').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.rail, t.currency] })],
)

/** An operator's hold on a creator's payouts (compliance, fraud, legal); open while `released_at_ms` is null. */
export const payoutComplianceHolds = sqliteTable(
  'payout_compliance_holds',
  {
    /** `poh_` + ULID */
    id: text('id').primaryKey(),
    creatorId: text('creator_id').notNull(),
    reason: text('reason').notNull(),
    placedBy: text('placed_by').notNull(),
    placedAtMs: integer('placed_at_ms').notNull(),
    releasedBy: text('released_by'),
    releasedAtMs: integer('released_at_ms'),
  },
  (t) => [index('payout_compliance_holds_open_idx').on(t.creatorId, t.releasedAtMs)],
)

/** One evaluation of the rules (cron, or an operator), with its counts. */
export const payoutRuns = sqliteTable('payout_runs', {
  /** `prn_` + ULID */
  id: text('id').primaryKey(),
  /** the UTC day the run is for: a cron firing twice on one day finds the run and stops */
  runDate: text('run_date').notNull(),
  trigger: text('trigger', { enum: ['cron', 'operator', 'instant'] }).notNull(),
  /** running -> done inline; large runs: running -> holding (chunks on the queue) -> batching -> done */
  state: text('state', { enum: ['running', 'holding', 'batching', 'done', 'failed'] }).notNull(),
  evaluated: integer('evaluated').notNull().default(0),
  created: integer('created').notNull().default(0),
  refused: integer('refused').notNull().default(0),
  startedBy: text('started_by').notNull(),
  startedAtMs: integer('started_at_ms').notNull(),
  finishedAtMs: integer('finished_at_ms'),
})

/**
 * Why a creator was not paid in a run (or on request): kept for the creator and operators.
 * Codes: kyc_not_verified, kyc_expired, age_not_verified, compliance_hold, no_method, method_cooling_off,
 * below_minimum, below_threshold, not_scheduled, insufficient_available, reserve_held, ...
 */
export const payoutRefusals = sqliteTable(
  'payout_refusals',
  {
    id: text('id').primaryKey(),
    runId: text('run_id'),
    creatorId: text('creator_id').notNull(),
    code: text('code').notNull(),
    detail: text('detail').notNull(),
    atMs: integer('at_ms').notNull(),
  },
  (t) => [index('payout_refusals_creator_idx').on(t.creatorId, t.atMs), index('payout_refusals_run_idx').on(t.runId, t.creatorId)],
)

export const BATCH_STATES = ['draft', 'approved', 'submitted', 'settled', 'partially_failed', 'failed', 'cancelled'] as const
export type BatchState = (typeof BATCH_STATES)[number]

/** Payouts of one rail and currency, approved and submitted together. */
export const payoutBatches = sqliteTable(
  'payout_batches',
  {
    /** `pob_` + ULID */
    id: text('id').primaryKey(),
    runId: text('run_id'),
    rail: text('rail', { enum: PAYOUT_RAILS }).notNull(),
    currency: text('currency').notNull(),
    state: text('state', { enum: BATCH_STATES }).notNull(),
    count: integer('count').notNull(),
    totalMinor: integer('total_minor').notNull(),
    feeMinor: integer('fee_minor').notNull(),
    /** approvals needed: 1, or 2 (distinct people, the second a finance role) above the configured amount */
    approvalsRequired: integer('approvals_required').notNull(),
    /** the processor's batch (Wise batch group id) or the bank file id */
    externalRef: text('external_ref'),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    submittedAtMs: integer('submitted_at_ms'),
    finishedAtMs: integer('finished_at_ms'),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [index('payout_batches_state_idx').on(t.state, t.createdAtMs), index('payout_batches_run_idx').on(t.runId)],
)

export const payoutBatchApprovals = sqliteTable(
  'payout_batch_approvals',
  {
    batchId: text('batch_id').notNull(),
    userId: text('user_id').notNull(),
    roles: text('roles').notNull(),
    atMs: integer('at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.userId] })],
)

export const PAYOUT_STATES = ['pending', 'queued', 'submitted', 'settled', 'failed', 'cancelled', 'returned'] as const
export type PayoutState = (typeof PAYOUT_STATES)[number]

/**
 * One payout to one creator. `pending` (hold placed, batch in draft) -> `queued` (batch submitted) ->
 * `submitted` (processor accepted / in a bank file) -> `settled` (hold posted); `failed` and
 * `cancelled` void the hold; `returned` (a bank return after settlement) credits the creator again.
 */
export const payouts = sqliteTable(
  'payouts',
  {
    /** `po_` + ULID */
    id: text('id').primaryKey(),
    creatorId: text('creator_id').notNull(),
    batchId: text('batch_id'),
    runId: text('run_id'),
    methodId: text('method_id').notNull(),
    rail: text('rail', { enum: PAYOUT_RAILS }).notNull(),
    kind: text('kind', { enum: ['scheduled', 'instant', 'manual'] }).notNull(),
    currency: text('currency').notNull(),
    /** taken from the creator's balance */
    amountMinor: integer('amount_minor').notNull(),
    feeMinor: integer('fee_minor').notNull(),
    /** what the creator receives: amount - fee */
    netMinor: integer('net_minor').notNull(),
    state: text('state', { enum: PAYOUT_STATES }).notNull(),
    /** the ledger's pending transfer (CreatorLedger.holdForPayout) */
    holdId: text('hold_id'),
    /** sent to the processor on every attempt (Wise customerTransactionId, Paxum reference, ...) */
    idempotencyKey: text('idempotency_key').notNull(),
    processorRef: text('processor_ref'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAtMs: integer('next_attempt_at_ms'),
    failureCode: text('failure_code'),
    failureReason: text('failure_reason'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
    settledAtMs: integer('settled_at_ms'),
  },
  (t) => [
    index('payouts_creator_idx').on(t.creatorId, t.createdAtMs),
    index('payouts_batch_idx').on(t.batchId),
    index('payouts_run_idx').on(t.runId, t.state),
    // a queued run's "anything left to hold?" after every chunk: one probe, not a walk over the held rows
    index('payouts_run_unheld_idx').on(t.runId).where(sql`\`state\` = 'pending' AND \`hold_id\` IS NULL`),
    index('payouts_state_idx').on(t.state, t.nextAttemptAtMs),
    uniqueIndex('payouts_idempotency_key_uq').on(t.idempotencyKey),
  ],
)

/** Every attempt at a processor: what was sent (by key) and what came back. */
export const payoutAttempts = sqliteTable(
  'payout_attempts',
  {
    payoutId: text('payout_id').notNull(),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome').notNull(),
    code: text('code'),
    detail: text('detail'),
    atMs: integer('at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.payoutId, t.attempt] })],
)

/** Bank files (NACHA, pain.001, wire and check registers) written for a batch to the exports bucket. */
export const payoutFiles = sqliteTable(
  'payout_files',
  {
    /** `pof_` + ULID */
    id: text('id').primaryKey(),
    batchId: text('batch_id').notNull(),
    format: text('format', { enum: ['nacha', 'pain.001.001.09', 'wire_csv', 'check_csv'] }).notNull(),
    r2Key: text('r2_key').notNull(),
    sha256Hex: text('sha256_hex').notNull(),
    byteLength: integer('byte_length').notNull(),
    entryCount: integer('entry_count').notNull(),
    totalMinor: integer('total_minor').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [uniqueIndex('payout_files_batch_uq').on(t.batchId)],
)

/** A return (ACH R-code) or rejection (pain.002 / bank) of a payout that had left: the creator is credited again once. */
export const payoutReturns = sqliteTable(
  'payout_returns',
  {
    id: text('id').primaryKey(),
    payoutId: text('payout_id').notNull(),
    source: text('source', { enum: ['ach_return', 'sepa_reject', 'processor', 'manual'] }).notNull(),
    code: text('code').notNull(),
    reason: text('reason').notNull(),
    recordedBy: text('recorded_by').notNull(),
    atMs: integer('at_ms').notNull(),
  },
  (t) => [uniqueIndex('payout_returns_payout_uq').on(t.payoutId)],
)

/** The sandbox processor's memory (workers/payouts/processors/sandbox.ts `SandboxStore`), per idempotency key. */
export const sandboxPayoutTransfers = sqliteTable('sandbox_payout_transfers', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  json: text('json').notNull(),
})
