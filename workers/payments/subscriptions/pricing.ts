/**
 * What a subscription to a creator costs: the creator's own price when they set one, else the
 * platform default. The server decides the price; a client never names it.
 * @module
 */
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
