import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

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
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [
    index('payments_creator_idx').on(t.creatorId, t.createdAtMs),
    index('payments_fan_idx').on(t.fanUserId, t.createdAtMs),
    index('payments_gateway_tx_idx').on(t.gateway, t.gatewayTransactionId),
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
    amountMinor: integer('amount_minor'),
    currency: text('currency'),
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
