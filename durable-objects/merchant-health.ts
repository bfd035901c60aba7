/**
 * MerchantHealth: one per merchant ID: settled transactions, disputes and fraud reports by network and month, and the MID's standing in the card networks' monitoring programmes (issue 4).
 * @module
 */
import { DurableObject } from 'cloudflare:workers'

export class MerchantHealth extends DurableObject<Env> {}
