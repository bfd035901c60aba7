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
