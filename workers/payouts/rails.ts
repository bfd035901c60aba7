/**
 * Which rail pays which method type. API rails call a processor (workers/payouts/processors); file
 * rails end in a bank file finance hands to the bank (NACHA, pain.001) or a register it works
 * through by hand (wires, checks). Outside production every API rail is paid by the sandbox
 * processor unless `PAYOUT_PROCESSORS` configures the real one (config.ts), so the whole flow runs
 * locally with the same states and failures.
 * @module
 */
import type { PayoutRail } from '../../d1/schema/payouts'
import type { PayoutMethodType } from './methods/methods'

export const RAIL_OF_METHOD: { readonly [T in PayoutMethodType]: PayoutRail } = {
  paxum: 'paxum',
  epayservice: 'epayservice',
  wise: 'wise',
  payoneer: 'payoneer',
  crypto: 'crypto_custodian',
  ach: 'nacha',
  sepa: 'sepa',
  wire: 'wire',
  check: 'check',
}

export const FILE_RAILS = ['nacha', 'sepa', 'wire', 'check'] as const satisfies readonly PayoutRail[]
export type FileRail = (typeof FILE_RAILS)[number]
export type ApiRail = Exclude<PayoutRail, FileRail>

export function isFileRail(rail: PayoutRail): rail is FileRail {
  return (FILE_RAILS as readonly string[]).includes(rail)
}

/** the rail a method type is paid through */
export function railOf(type: PayoutMethodType): PayoutRail {
  return RAIL_OF_METHOD[type]
}
