/**
 * `/api/payments/*`: gateway postbacks, checkout, transactions, subscriptions, disputes, gateway and
 * routing administration, bank-transfer reconciliation and analytics. Merchant IDs are their own
 * app (health/api.ts) at `/api/payments/mids`.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { registerGatewaysAdmin } from './admin/gateways-api'
import { registerRoutingAdmin } from './admin/routing-api'
import { registerAnalytics } from './analytics/api'
import { registerBankTransfers } from './bank/api'
import { registerCheckout } from './checkout-api'
import { registerDisputes } from './disputes/api'
import { registerSubscriptions } from './subscriptions/api'
import { registerTransactions } from './transactions-api'
import { registerWebhooks } from './webhooks/api'

export const paymentsApi = createSurfaceApp()

registerWebhooks(paymentsApi)
registerCheckout(paymentsApi)
registerTransactions(paymentsApi)
registerSubscriptions(paymentsApi)
registerDisputes(paymentsApi)
registerGatewaysAdmin(paymentsApi)
registerRoutingAdmin(paymentsApi)
registerBankTransfers(paymentsApi)
registerAnalytics(paymentsApi)
