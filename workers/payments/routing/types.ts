/**
 * The routing engine's inputs and outputs, each a zod schema (for the admin API, the Durable Object
 * that will hold the state, and tests) with its TypeScript type inferred from it.
 * @module
 */
import { z } from 'zod'

export const PAYMENT_METHODS = ['card', 'crypto', 'ach', 'sepa', 'wire'] as const
export type PaymentMethod = (typeof PAYMENT_METHODS)[number]

export const CARD_NETWORKS = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro'] as const
export type CardNetwork = (typeof CARD_NETWORKS)[number]

// `constructor`, `toString` etc. would pass a looser pattern and collide with Object.prototype when
// used as record keys in the serialised state; lookups use Object.hasOwn as well, this is the first line
const gatewayIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, _ and -')
const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 alphabetic code')
const countrySchema = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code')
/** The part of an ISO 3166-2 code after the country and hyphen: `CA` in `US-CA`, `BY` in `DE-BY`. */
const regionSchema = z.string().regex(/^[A-Z0-9]{1,3}$/, 'ISO 3166-2 subdivision suffix')
const binSchema = z.string().regex(/^[0-9]{6,8}$/, '6 to 8 digits')
const binPrefixSchema = z.string().regex(/^[0-9]{1,8}$/, '1 to 8 digits')
const brandIdSchema = z.string().min(1).max(64)

/** What the engine knows about one payment attempt. */
export const paymentContextSchema = z.strictObject({
  brand: brandIdSchema,
  country: countrySchema,
  /** absent when the edge could not place the payer in a subdivision */
  region: regionSchema.optional(),
  currency: currencySchema,
  amountMinor: z.number().int().safe().positive(),
  method: z.enum(PAYMENT_METHODS),
  /** known for cards once the PAN's BIN is resolved; absent otherwise */
  cardNetwork: z.enum(CARD_NETWORKS).optional(),
  bin: binSchema.optional(),
})
export type PaymentContext = z.infer<typeof paymentContextSchema>

const STRING_FIELDS = ['brand', 'country', 'region', 'currency', 'method', 'cardNetwork', 'bin'] as const
export type StringField = (typeof STRING_FIELDS)[number]

/**
 * One test over one dimension of the payment. A condition on a dimension the payment does not have
 * (no card network on a crypto payment, no region) never matches, whatever the operator, so `ne`
 * and `not_in` do not catch payments they know nothing about.
 */
export const conditionSchema = z.union([
  z.strictObject({ field: z.enum(STRING_FIELDS), op: z.enum(['eq', 'ne']), value: z.string().min(1) }),
  z.strictObject({ field: z.enum(STRING_FIELDS), op: z.enum(['in', 'not_in']), value: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ field: z.literal('amountMinor'), op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']), value: z.number().int().safe().nonnegative() }),
  z.strictObject({ field: z.literal('amountMinor'), op: z.enum(['in', 'not_in']), value: z.array(z.number().int().safe().nonnegative()).min(1) }),
  /** BIN ranges: any listed prefix of the card's BIN matches */
  z.strictObject({ field: z.literal('bin'), op: z.literal('prefix'), value: z.array(binPrefixSchema).min(1) }),
])
export type Condition = z.infer<typeof conditionSchema>

const distinct = (ids: readonly string[]): boolean => new Set(ids).size === ids.length

/** A gateway order. `ranking` overrides `successRate.enabled` for this list only. */
export const priorityOutputSchema = z.strictObject({
  type: z.literal('priority'),
  gateways: z.array(gatewayIdSchema).min(1).refine(distinct, 'gateways must be distinct'),
  ranking: z.enum(['static', 'success_rate']).optional(),
})

/** Percent shares (Hyperswitch `volume_split`): one gateway drawn by weight goes first, the others follow by weight. */
export const volumeSplitOutputSchema = z.strictObject({
  type: z.literal('volume_split'),
  splits: z
    .array(z.strictObject({ gateway: gatewayIdSchema, percent: z.number().int().min(1).max(100) }))
    .min(1)
    .refine((s) => distinct(s.map((x) => x.gateway)), 'gateways must be distinct')
    .refine((s) => s.reduce((sum, x) => sum + x.percent, 0) === 100, 'percentages must add up to 100'),
})

export const ruleOutputSchema = z.discriminatedUnion('type', [priorityOutputSchema, volumeSplitOutputSchema])
export type RuleOutput = z.infer<typeof ruleOutputSchema>

/** All conditions must hold (AND); OR is written as several rules with the same output. No conditions = catch-all. */
export const ruleSchema = z
  .strictObject({
    id: z.string().min(1).max(64),
    description: z.string().max(500).optional(),
    conditions: z.array(conditionSchema).max(32),
    output: ruleOutputSchema,
  })
  .refine(
    // minor units differ per currency (JPY 0 decimals, KWD 3): an amount only means something next to its currency
    (rule) => !rule.conditions.some((c) => c.field === 'amountMinor') || rule.conditions.some((c) => c.field === 'currency' && (c.op === 'eq' || c.op === 'in')),
    { message: 'an amountMinor condition needs a currency eq/in condition in the same rule', path: ['conditions'] },
  )
export type Rule = z.infer<typeof ruleSchema>

export const SEGMENT_DIMENSIONS = ['method', 'cardNetwork', 'currency', 'country', 'brand'] as const
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number]

export const successRateConfigSchema = z
  .strictObject({
    /** re-rank `priority` lists by observed success unless the list says `ranking: 'static'` */
    enabled: z.boolean(),
    /** outcomes kept per (gateway, segment): the sliding window (Juspay bucket size, e.g. 200 for cards) */
    windowSize: z.number().int().min(1).max(1000),
    /** share of success-rate-ranked decisions that put another eligible gateway first, in basis points */
    explorationBps: z.number().int().min(0).max(10_000),
    /** outcomes a gateway needs in the segment before its rate is trusted */
    minSamples: z.number().int().min(1),
    /** which payment dimensions make a segment, in this order */
    segmentBy: z.array(z.enum(SEGMENT_DIMENSIONS)).refine(distinct, 'dimensions must be distinct'),
  })
  .refine((c) => c.minSamples <= c.windowSize, { message: 'minSamples cannot exceed windowSize', path: ['minSamples'] })
export type SuccessRateConfig = z.infer<typeof successRateConfigSchema>

/** Circuit breaker per gateway: `failures` consecutive technical errors within `withinMs` take it out for `cooldownMs`. */
export const eliminationConfigSchema = z.strictObject({
  failures: z.number().int().min(1).max(100),
  withinMs: z.number().int().positive(),
  cooldownMs: z.number().int().positive(),
})
export type EliminationConfig = z.infer<typeof eliminationConfigSchema>

export const routingConfigSchema = z
  .strictObject({
    /** evaluated top to bottom; the first match decides */
    rules: z.array(ruleSchema).max(500),
    /** the order when no rule matches (or a matching rule leaves nothing eligible) */
    defaultOrder: z.array(gatewayIdSchema).min(1).refine(distinct, 'gateways must be distinct'),
    successRate: successRateConfigSchema,
    elimination: eliminationConfigSchema,
  })
  .refine((c) => distinct(c.rules.map((r) => r.id)), { message: 'rule ids must be distinct', path: ['rules'] })
export type RoutingConfig = z.infer<typeof routingConfigSchema>

/** `'*'` in a list of brands means every brand. */
export const ANY_BRAND = '*'

/** A gateway as routing sees it: what it can take. */
export const gatewayInfoSchema = z.strictObject({
  id: gatewayIdSchema,
  enabled: z.boolean(),
  methods: z.array(z.enum(PAYMENT_METHODS)).min(1),
  currencies: z.array(currencySchema).min(1),
  brands: z.array(z.union([brandIdSchema, z.literal(ANY_BRAND)])).min(1),
  /** card networks it accepts; absent = every network */
  cardNetworks: z.array(z.enum(CARD_NETWORKS)).optional(),
})
export type GatewayInfo = z.infer<typeof gatewayInfoSchema>

/** A merchant ID under a gateway (mirror of a `merchant_ids` row). */
export const midInfoSchema = z.strictObject({
  midId: z.string().min(1),
  gateway: gatewayIdSchema,
  status: z.enum(['active', 'draining', 'disabled']),
  currencies: z.array(currencySchema).min(1),
  brands: z.array(z.union([brandIdSchema, z.literal(ANY_BRAND)])).min(1),
  /** lower first among the MIDs of one gateway */
  priority: z.number().int(),
  /** currency of the monthly cap; null = no cap */
  capCurrency: currencySchema.nullable(),
})
export type MidInfo = z.infer<typeof midInfoSchema>

/** What `MerchantHealth` says about a MID right now. */
export const midHealthSchema = z.strictObject({
  midId: z.string().min(1),
  /** near or over a card-network threshold: take no new traffic */
  drain: z.boolean(),
  /** cap left this month in the MID's cap currency; null = no cap */
  capRemainingMinor: z.number().int().safe().nullable(),
  /** e.g. "VAMP 1.41% within margin of 1.50%": copied into the decision's reasons */
  drainReason: z.string().max(200).optional(),
})
export type MidHealth = z.infer<typeof midHealthSchema>

/** The outcome of one attempt, as fed back to the engine. */
export const OUTCOMES = ['approved', 'declined', 'technical_error'] as const
export type Outcome = (typeof OUTCOMES)[number]

/** One place to send the payment, in the order to try. */
export interface Candidate {
  gateway: string
  midId: string
  /** why this candidate is here and at this position */
  reasons: string[]
}

/** A gateway or MID left out, and why. `midId` null = the whole gateway. */
export interface Exclusion {
  gateway: string
  midId: string | null
  reason: string
}

export interface Decision {
  /** try in this order; empty = nowhere to send this payment */
  candidates: Candidate[]
  /** the whole explanation in order, one line each: log it with the payment id */
  reasons: string[]
  /** the rule whose output was used; null = default order */
  ruleId: string | null
  /** the success-rate segment of this payment (feed it back to `recordOutcome`) */
  segment: string
  /** true when exploration put a gateway first that the success rate would not have */
  explored: boolean
  excluded: Exclusion[]
}
