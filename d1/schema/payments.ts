import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Projection of every creator's ledger balances (the `CreatorLedger` object is the truth): written
 * after each ledger write, read by queries and FanzDash. Amounts in integer minor units.
 */
export const ledgerBalances = sqliteTable(
  'ledger_balances',
  {
    creatorId: text('creator_id').notNull(),
    /** ISO 4217 */
    currency: text('currency').notNull(),
    /** account code, e.g. `creator_pending`, `creator_available`, `reserve`, `payout_hold`, `debt` */
    account: text('account').notNull(),
    postedMinor: integer('posted_minor').notNull(),
    pendingMinor: integer('pending_minor').notNull(),
    /** the ledger's own sequence number of the write that produced this row (projections apply in order) */
    ledgerSeq: integer('ledger_seq').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.creatorId, t.currency, t.account] }), index('ledger_balances_account_idx').on(t.account, t.currency)],
)

/** Merchant IDs ("HMS"): the accounts the platform takes cards through. */
export const merchantIds = sqliteTable(
  'merchant_ids',
  {
    /** `mid_` + ULID */
    id: text('id').primaryKey(),
    gateway: text('gateway').notNull(),
    descriptor: text('descriptor').notNull(),
    acquirer: text('acquirer').notNull(),
    /** JSON array of ISO 4217 codes */
    currenciesJson: text('currencies_json').notNull(),
    /** JSON array of brand ids */
    brandsJson: text('brands_json').notNull(),
    /** monthly volume cap in minor units of cap_currency, null = none */
    monthlyCapMinor: integer('monthly_cap_minor'),
    capCurrency: text('cap_currency'),
    /** MENA merchants have other VAMP floors (payments.md §3) */
    region: text('region', { enum: ['global', 'mena'] }).notNull().default('global'),
    status: text('status', { enum: ['active', 'draining', 'disabled'] }).notNull().default('active'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [index('merchant_ids_gateway_idx').on(t.gateway, t.status)],
)

/**
 * A fan's payment attempt and its life: one row per checkout (subscription start, rebill, tip,
 * pay-per-view, message unlock). `reference` is what we send the gateway and get back in postbacks.
 */
export const payments = sqliteTable(
  'payments',
  {
    /** `pay_` + ULID; also the reference sent to the gateway */
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['subscription', 'rebill', 'tip', 'ppv', 'message_unlock'] }).notNull(),
    brandId: text('brand_id').notNull(),
    creatorId: text('creator_id').notNull(),
    fanUserId: text('fan_user_id').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    currency: text('currency').notNull(),
    gateway: text('gateway').notNull(),
    midId: text('mid_id'),
    status: text('status', { enum: ['pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'charged_back'] }).notNull(),
    gatewayTransactionId: text('gateway_transaction_id'),
    subscriptionId: text('subscription_id'),
    refundedMinor: integer('refunded_minor').notNull().default(0),
    /** the routing decision's reasons (JSON), kept with the payment */
    routingJson: text('routing_json'),
    /** how the fan pays (routing's PAYMENT_METHODS): card through a gateway, crypto through a crypto processor, ach/sepa/wire by bank transfer with a reference */
    method: text('method', { enum: ['card', 'crypto', 'ach', 'sepa', 'wire'] }).notNull().default('card'),
    /** the fan's country at checkout (ISO 3166-1 alpha-2, XX unknown): routing and analytics */
    country: text('country').notNull().default('XX'),
    /** the failed attempt this payment retries on another gateway (technical declines only) */
    retryOf: text('retry_of'),
    /** the gateway's decline code, and whether it was technical (worth a retry elsewhere) */
    failureCode: text('failure_code'),
    failureTechnical: integer('failure_technical', { mode: 'boolean' }),
    /** bank transfers: the structured creditor reference (ISO 11649 `RF..`) the fan quotes */
    bankReference: text('bank_reference'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [
    index('payments_creator_idx').on(t.creatorId, t.createdAtMs),
    index('payments_fan_idx').on(t.fanUserId, t.createdAtMs),
    index('payments_gateway_tx_idx').on(t.gateway, t.gatewayTransactionId),
    index('payments_created_idx').on(t.createdAtMs),
    uniqueIndex('payments_bank_reference_uq').on(t.bankReference),
  ],
)

/**
 * Every verified gateway postback event, deduplicated on (gateway, event id): a duplicate insert
 * changes nothing and is answered 2xx. `status` tracks application to the ledger: an event whose
 * payment is not known yet (a refund before its sale) waits and is applied when the sale lands.
 */
export const gatewayEvents = sqliteTable(
  'gateway_events',
  {
    gateway: text('gateway').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    /** our payment id when the event carried our reference (or it was matched later) */
    paymentId: text('payment_id'),
    gatewayTransactionId: text('gateway_transaction_id'),
    originalTransactionId: text('original_transaction_id'),
    /** the gateway's subscription id, when the event belongs to one */
    subscriptionId: text('subscription_id'),
    amountMinor: integer('amount_minor'),
    currency: text('currency'),
    /** the gateway's failure code/reason or refund reason as sent (retry decisions read it) */
    reason: text('reason'),
    occurredAtMs: integer('occurred_at_ms').notNull(),
    /** R2 key of the raw request, kept as evidence */
    evidenceKey: text('evidence_key').notNull(),
    status: text('status', { enum: ['received', 'applied', 'waiting', 'ignored', 'failed'] }).notNull(),
    detail: text('detail'),
    receivedAtMs: integer('received_at_ms').notNull(),
    appliedAtMs: integer('applied_at_ms'),
  },
  (t) => [primaryKey({ columns: [t.gateway, t.eventId] }), index('gateway_events_status_idx').on(t.status, t.receivedAtMs), index('gateway_events_payment_idx').on(t.paymentId)],
)

/**
 * Contract terms and switches per gateway (credentials stay in the `PAYMENT_GATEWAYS` secret):
 * whether checkout may offer it, for which methods, and what it keeps of a sale and charges per
 * dispute. The ledger posts these fees; finance edits them through `/api/payments/gateways`.
 */
export const gatewayConfigs = sqliteTable('gateway_configs', {
  gateway: text('gateway').primaryKey(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(false),
  /** JSON array of routing PAYMENT_METHODS: `card`, `crypto`, `ach`, `sepa`, `wire` */
  methodsJson: text('methods_json').notNull(),
  /** percentage fee on the gross, basis points */
  processorFeeBps: integer('processor_fee_bps').notNull(),
  /** fixed fee per sale, minor units of fee_currency (charged only on sales in that currency) */
  fixedFeeMinor: integer('fixed_fee_minor').notNull().default(0),
  /** fee per chargeback, minor units of fee_currency */
  chargebackFeeMinor: integer('chargeback_fee_minor').notNull(),
  feeCurrency: text('fee_currency').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
  updatedBy: text('updated_by'),
})

/**
 * The smart router's configuration (rules, default order, volume splits, success-rate and
 * elimination settings), versioned: one version is active at a time; edits add a version.
 */
export const routingConfigs = sqliteTable(
  'routing_configs',
  {
    version: integer('version').primaryKey(),
    /** a `RoutingConfig` (workers/payments/routing/types.ts), validated on write */
    configJson: text('config_json').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull().default(false),
    note: text('note').notNull().default(''),
    createdBy: text('created_by'),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('routing_configs_active_idx').on(t.active)],
)

/**
 * A fan's subscription to a creator, driven by the gateway: started by the first sale, extended by
 * rebills, cancelled (runs to the end of the paid period) and expired by postbacks or the sweep.
 */
export const subscriptions = sqliteTable(
  'subscriptions',
  {
    /** `sub_` + ULID */
    id: text('id').primaryKey(),
    brandId: text('brand_id').notNull(),
    creatorId: text('creator_id').notNull(),
    fanUserId: text('fan_user_id').notNull(),
    gateway: text('gateway').notNull(),
    /** the gateway's subscription id, once it told us */
    gatewaySubscriptionId: text('gateway_subscription_id'),
    /** the checkout payment that started it */
    initialPaymentId: text('initial_payment_id').notNull(),
    priceMinor: integer('price_minor').notNull(),
    currency: text('currency').notNull(),
    periodDays: integer('period_days').notNull(),
    status: text('status', { enum: ['pending', 'active', 'past_due', 'cancelled', 'expired'] }).notNull(),
    currentPeriodEndMs: integer('current_period_end_ms'),
    rebills: integer('rebills').notNull().default(0),
    cancelledAtMs: integer('cancelled_at_ms'),
    cancelReason: text('cancel_reason'),
    expiredAtMs: integer('expired_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [
    index('subscriptions_fan_idx').on(t.fanUserId, t.createdAtMs),
    index('subscriptions_creator_idx').on(t.creatorId, t.status),
    index('subscriptions_period_idx').on(t.status, t.currentPeriodEndMs),
    index('subscriptions_gateway_idx').on(t.gateway, t.gatewaySubscriptionId),
  ],
)

/**
 * A card dispute on a payment: opened by the gateway's chargeback postback (the money is reversed
 * then), answered with evidence (representment, kept in R2), closed won (money reinstated) or lost.
 */
export const disputes = sqliteTable(
  'disputes',
  {
    /** `dsp_` + ULID */
    id: text('id').primaryKey(),
    paymentId: text('payment_id').notNull(),
    brandId: text('brand_id').notNull(),
    creatorId: text('creator_id').notNull(),
    gateway: text('gateway').notNull(),
    midId: text('mid_id'),
    /** the chargeback event that opened it (`gateway_events`) */
    openedByEventId: text('opened_by_event_id').notNull(),
    network: text('network'),
    reasonCode: text('reason_code'),
    amountMinor: integer('amount_minor').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['open', 'evidence_submitted', 'won', 'lost'] }).notNull(),
    /** deadline for evidence */
    respondByMs: integer('respond_by_ms'),
    /** R2 key of the submitted evidence bundle */
    evidenceKey: text('evidence_key'),
    evidenceSubmittedAtMs: integer('evidence_submitted_at_ms'),
    resolvedAtMs: integer('resolved_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [uniqueIndex('disputes_payment_uq').on(t.paymentId, t.openedByEventId), index('disputes_status_idx').on(t.status, t.createdAtMs)],
)

/** An imported bank statement (camt.053 or CSV): its file in R2, and how many entries matched. */
export const bankStatements = sqliteTable(
  'bank_statements',
  {
    /** `bst_` + ULID */
    id: text('id').primaryKey(),
    format: text('format', { enum: ['camt053', 'csv'] }).notNull(),
    /** the bank's statement id (camt `Stmt/Id`), or the file's SHA-256 for CSV: a statement imports once */
    statementRef: text('statement_ref').notNull(),
    accountIban: text('account_iban'),
    r2Key: text('r2_key').notNull(),
    entries: integer('entries').notNull(),
    matched: integer('matched').notNull(),
    importedBy: text('imported_by'),
    importedAtMs: integer('imported_at_ms').notNull(),
  },
  (t) => [uniqueIndex('bank_statements_ref_uq').on(t.statementRef)],
)

/** One credit line of an imported statement and what it was matched to (or why not). */
export const bankStatementEntries = sqliteTable(
  'bank_statement_entries',
  {
    statementId: text('statement_id').notNull(),
    /** the bank's own entry reference (camt `AcctSvcrRef`/`NtryRef`, or the CSV row's id): dedup across statements */
    entryRef: text('entry_ref').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    currency: text('currency').notNull(),
    bookedAtMs: integer('booked_at_ms').notNull(),
    /** remittance information as sent (structured reference or free text) */
    remittance: text('remittance').notNull(),
    debtorName: text('debtor_name'),
    status: text('status', { enum: ['matched', 'unmatched', 'amount_mismatch', 'duplicate', 'manual'] }).notNull(),
    paymentId: text('payment_id'),
    detail: text('detail'),
  },
  (t) => [primaryKey({ columns: [t.statementId, t.entryRef] }), index('bank_statement_entries_status_idx').on(t.status), // an entry seen again in a later statement keeps its own `duplicate` row
    uniqueIndex('bank_statement_entries_ref_uq').on(t.entryRef, t.currency, t.amountMinor, t.bookedAtMs).where(sql`status != 'duplicate'`)],
)
