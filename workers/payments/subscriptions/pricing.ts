/**
 * What a subscription to a creator costs: the creator's own price when they set one, else the
 * platform default. The server decides the price; a client never names it.
 * @module
 */
import { CURRENCY_EXPONENTS } from '../currencies'

export const DEFAULT_SUBSCRIPTION = { amountMinor: 999, currency: 'USD', periodDays: 30 } as const

export interface SubscriptionPrice {
  amountMinor: number
  currency: string
  periodDays: number
}

export async function subscriptionPrice(d1: D1Database, creatorId: string): Promise<SubscriptionPrice> {
  const row = await d1
    .prepare('SELECT subscription_price_minor, subscription_currency, subscription_period_days FROM creators WHERE id = ?')
    .bind(creatorId)
    .first<{ subscription_price_minor: number | null; subscription_currency: string | null; subscription_period_days: number }>()
  if (!row || row.subscription_price_minor === null || row.subscription_currency === null) return { ...DEFAULT_SUBSCRIPTION }
  return { amountMinor: row.subscription_price_minor, currency: row.subscription_currency, periodDays: row.subscription_period_days }
}

/** What a creator may charge per period, in the major unit of any currency (scaled by its ISO 4217 exponent). */
export const PRICE_BOUNDS_MAJOR = { min: 3, max: 100 } as const

export function priceBounds(currency: string): { minMinor: number; maxMinor: number } {
  const scale = 10 ** (CURRENCY_EXPONENTS[currency] ?? 2)
  return { minMinor: PRICE_BOUNDS_MAJOR.min * scale, maxMinor: PRICE_BOUNDS_MAJOR.max * scale }
}

/** Sets the creator's own price (validated by the caller); running subscriptions keep the price they were sold at. */
export async function setSubscriptionPrice(d1: D1Database, creatorId: string, price: { amountMinor: number; currency: string }): Promise<void> {
  await d1.prepare('UPDATE creators SET subscription_price_minor = ?, subscription_currency = ? WHERE id = ?').bind(price.amountMinor, price.currency, creatorId).run()
}
