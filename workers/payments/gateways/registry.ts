/** One place to look an adapter up by gateway id, with its settings type attached. */
import { bankTransfer, type BankTransferSettings } from './bank-transfer'
import { ccbill, type CcbillSettings } from './ccbill'
import { commercegate, type CommercegateSettings } from './commercegate'
import { nowpayments, type NowpaymentsSettings } from './crypto'
import { epoch, type EpochSettings } from './epoch'
import { netbilling, type NetbillingSettings } from './netbilling'
import { sandbox, type SandboxSettings } from './sandbox'
import { segpay, type SegpaySettings } from './segpay'
import type { GatewayAdapter, GatewayId } from './types'
import { vendo, type VendoSettings } from './vendo'
import { verotel, type VerotelSettings } from './verotel'

export interface GatewaySettings {
  ccbill: CcbillSettings
  segpay: SegpaySettings
  epoch: EpochSettings
  vendo: VendoSettings
  verotel: VerotelSettings
  netbilling: NetbillingSettings
  commercegate: CommercegateSettings
  sandbox: SandboxSettings
  nowpayments: NowpaymentsSettings
  bank_transfer: BankTransferSettings
}

export const ADAPTERS: { [K in GatewayId]: GatewayAdapter<GatewaySettings[K]> } = {
  ccbill,
  segpay,
  epoch,
  vendo,
  verotel,
  netbilling,
  commercegate,
  sandbox,
  nowpayments,
  bank_transfer: bankTransfer,
}

export const GATEWAY_IDS = Object.keys(ADAPTERS) as GatewayId[]

export function isGatewayId(value: string): value is GatewayId {
  return Object.hasOwn(ADAPTERS, value)
}

export function adapterFor<K extends GatewayId>(id: K): GatewayAdapter<GatewaySettings[K]> {
  return ADAPTERS[id]
}
