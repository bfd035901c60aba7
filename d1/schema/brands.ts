import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** A creator brand (BoyFanz, GirlFanz, ...): its look, its legal contacts, its money split. */
export const brands = sqliteTable('brands', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  /** apex hostname that www and aliases redirect to */
  primaryDomain: text('primary_domain').notNull(),
  status: text('status', { enum: ['active', 'suspended'] }).notNull().default('active'),
  /** JSON: { primary, accent, background, text } colours, checked for contrast on write */
  themeJson: text('theme_json').notNull(),
  tagline: text('tagline').notNull().default(''),
  /** JSON: 18 USC 2257 custodian of records { name, title, address, email } */
  custodianJson: text('custodian_json').notNull(),
  /** JSON: DMCA designated agent { name, address, email, phone, registration } */
  dmcaAgentJson: text('dmca_agent_json').notNull(),
  /** the split of a sale (after processor fees): platform share in basis points */
  platformFeeBps: integer('platform_fee_bps').notNull().default(2000),
  /** rolling reserve held back from the creator share, basis points, released after reserve_days */
  reserveBps: integer('reserve_bps').notNull().default(500),
  reserveDays: integer('reserve_days').notNull().default(90),
  /** the creator share stays pending this many days before it is available for payout */
  pendingDays: integer('pending_days').notNull().default(7),
  createdAtMs: integer('created_at_ms').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

/** Every hostname the Worker answers for a brand; the edge resolves Host -> brand from this table. */
export const domains = sqliteTable(
  'domains',
  {
    hostname: text('hostname').primaryKey(),
    brandId: text('brand_id')
      .notNull()
      .references(() => brands.id),
    /** apex: canonical; www: 301 to the apex; alias: served as is (dev hosts, vanity domains) */
    kind: text('kind', { enum: ['apex', 'www', 'alias'] }).notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('domains_brand_idx').on(t.brandId)],
)

/** The minimum of a creator the foundation needs: a public page per brand. Later issues extend it. */
export const creators = sqliteTable(
  'creators',
  {
    id: text('id').primaryKey(),
    brandId: text('brand_id')
      .notNull()
      .references(() => brands.id),
    handle: text('handle').notNull(),
    displayName: text('display_name').notNull(),
    bio: text('bio').notNull().default(''),
    /** the FanzSSO account that owns this creator profile (null for seed profiles without one) */
    userId: text('user_id'),
    /** platform share of a sale in basis points (2000 = 20%); the brand's split unless set */
    platformFeeBps: integer('platform_fee_bps'),
    /** the creator's own monthly subscription price (minor units of subscription_currency); null = the platform default */
    subscriptionPriceMinor: integer('subscription_price_minor'),
    subscriptionCurrency: text('subscription_currency'),
    /** days one subscription charge covers */
    subscriptionPeriodDays: integer('subscription_period_days').notNull().default(30),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [uniqueIndex('creators_brand_handle_uq').on(t.brandId, t.handle), index('creators_user_idx').on(t.userId)],
)
