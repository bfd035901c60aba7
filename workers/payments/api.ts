/**
 * `/api/payments/*`: gateway postbacks and checkout now; transactions, disputes, subscriptions and
 * analytics grow here. Merchant IDs are their own app (health/api.ts) at `/api/payments/mids`.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { registerCheckout } from './checkout-api'
import { registerTransactions } from './transactions-api'
import { registerWebhooks } from './webhooks/api'

export const paymentsApi = createSurfaceApp()

registerWebhooks(paymentsApi)
registerCheckout(paymentsApi)
registerTransactions(paymentsApi)
