/**
 * What a gateway keeps, from its contract terms in `gateway_configs` (finance edits them through
 * `/api/payments/gateways`): a percentage of every sale, plus fixed fees per sale and per
 * chargeback in the contract's currency. A fixed fee is posted to the creator's ledger only on
 * money in that currency: converting it would need a rate the ledger does not have (payments.md
 * L7), so on other currencies it stays a platform cost.
 * @module
 */
import { eq } from 'drizzle-orm'
import { gatewayConfigs } from '../../d1/schema'
import { db } from '../lib/db'

export interface GatewayFees {
  processorFeeBps: number
  fixedFeeMinor: number
  chargebackFeeMinor: number
  feeCurrency: string
}

/** Terms for a gateway with no row: none. A gateway only takes money once finance entered its terms. */
const NO_TERMS: GatewayFees = { processorFeeBps: 0, fixedFeeMinor: 0, chargebackFeeMinor: 0, feeCurrency: 'USD' }

export async function gatewayFees(d1: D1Database, gateway: string): Promise<GatewayFees> {
  const row = await db(d1).select().from(gatewayConfigs).where(eq(gatewayConfigs.gateway, gateway)).get()
  return row ? { processorFeeBps: row.processorFeeBps, fixedFeeMinor: row.fixedFeeMinor, chargebackFeeMinor: row.chargebackFeeMinor, feeCurrency: row.feeCurrency } : NO_TERMS
}

/** The processor's fee on a sale of `grossMinor` `currency`, never more than the sale itself. */
export function saleFeeMinor(fees: GatewayFees, grossMinor: number, currency: string): number {
  const percentage = Math.floor((grossMinor * fees.processorFeeBps) / 10_000)
  const fixed = currency === fees.feeCurrency ? fees.fixedFeeMinor : 0
  return Math.min(grossMinor, percentage + fixed)
}

export function chargebackFeeMinor(fees: GatewayFees, currency: string): number {
  return currency === fees.feeCurrency ? fees.chargebackFeeMinor : 0
}
