/**
 * The platform's own bank settings for the bank files: who originates the NACHA file (ODFI, company
 * id), which account the SEPA transfers are debited from, and what the wire and check registers
 * name as the paying account. Read from the optional JSON secret `PAYOUT_BANK_ACCOUNTS`:
 *
 * ```json
 * {
 *   "nacha": {
 *     "immediateDestination": "231380104",      // the ODFI's (or its operator's) routing number, 9 digits
 *     "immediateDestinationName": "CITADEL BANK",
 *     "immediateOrigin": "1234567890",          // as the ODFI assigned it: 10 digits (1 + EIN) or 9
 *     "immediateOriginName": "FANZ PAYMENTS INC",
 *     "companyName": "FANZ PAYMENTS",           // max 16
 *     "companyIdentification": "1234567890",    // max 10, usually 1 + EIN
 *     "originatingDfi": "23138010",             // 8 digits: trace numbers start with it
 *     "ccdEntryDescription": "PAYOUTS",         // max 10; PPD batches always say PAYROLL (Nacha 2026)
 *     "lineEnding": "\n"                        // or "\r\n" when the ODFI asks for it
 *   },
 *   "sepa": {
 *     "initiatingPartyName": "FANZ Payments GmbH",
 *     "debtorName": "FANZ Payments GmbH",
 *     "iban": "DE89370400440532013000",
 *     "bic": "COBADEFFXXX",
 *     "postalAddress": { "streetName": "...", "buildingNumber": "1", "postCode": "10117", "townName": "Berlin", "country": "DE" },
 *     "batchBooking": true
 *   },
 *   "wire":  { "accountName": "FANZ Payments Inc", "bankName": "...", "accountNumber": "...", "bic": "..." },
 *   "check": { "payerName": "FANZ Payments Inc", "bankName": "...", "routingNumber": "...", "accountNumber": "..." }
 * }
 * ```
 * Every part is optional. A part that is absent falls back to SANDBOX values outside production
 * (test routing numbers with valid ABA check digits, the ISO 13616 example IBAN): files written with
 * them are for dev and tests and no bank would accept them. In production an absent part refuses
 * the file (the batch stays approved until finance configures it).
 * @module
 */
import { z } from 'zod'
import { getConfig } from '../../config'
import { isValidBic, isValidIban, isValidRoutingNumber, compactIban } from '../../payments/bank/iban'
import { ProblemError } from '../../edge/problem'
import { PostalAddress } from '../methods/postal-address'

const Nacha = z.object({
  immediateDestination: z.string().refine(isValidRoutingNumber, 'a 9-digit ABA routing number'),
  immediateDestinationName: z.string().max(23),
  immediateOrigin: z.string().regex(/^[0-9]{9,10}$/),
  immediateOriginName: z.string().max(23),
  companyName: z.string().min(1).max(16),
  companyIdentification: z.string().min(1).max(10),
  originatingDfi: z.string().regex(/^[0-9]{8}$/),
  ccdEntryDescription: z.string().min(1).max(10).default('PAYOUTS'),
  lineEnding: z.enum(['\n', '\r\n']).default('\n'),
})

const Sepa = z.object({
  initiatingPartyName: z.string().min(1).max(70),
  debtorName: z.string().min(1).max(70),
  iban: z.string().transform(compactIban).refine(isValidIban, 'a valid IBAN'),
  bic: z.string().refine(isValidBic, 'a valid BIC'),
  postalAddress: PostalAddress.optional(),
  batchBooking: z.boolean().default(true),
})

const Wire = z.object({ accountName: z.string().min(1).max(70), bankName: z.string().min(1).max(140), accountNumber: z.string().min(1).max(34), bic: z.string().refine(isValidBic, 'a valid BIC') })
const Check = z.object({ payerName: z.string().min(1).max(70), bankName: z.string().min(1).max(140), routingNumber: z.string().refine(isValidRoutingNumber, 'a 9-digit ABA routing number'), accountNumber: z.string().min(1).max(17) })

const Settings = z.object({ nacha: Nacha.optional(), sepa: Sepa.optional(), wire: Wire.optional(), check: Check.optional() }).strict()

export type NachaOriginator = z.output<typeof Nacha>
export type SepaDebtor = z.output<typeof Sepa>
export type WirePayer = z.output<typeof Wire>
export type CheckPayer = z.output<typeof Check>
export interface BankAccounts {
  nacha: NachaOriginator
  sepa: SepaDebtor
  wire: WirePayer
  check: CheckPayer
  /** parts that are sandbox stand-ins (never in production) */
  sandbox: ReadonlyArray<'nacha' | 'sepa' | 'wire' | 'check'>
}

/**
 * SANDBOX values, never a real account: 231380104 and 121042882 are the routing numbers of the
 * moov-io/ach sample files (valid ABA check digits), DE89 3704 0044 0532 0130 00 is the IBAN
 * registry's example, COBADEFFXXX its BIC's shape.
 */
export const SANDBOX_BANK_ACCOUNTS = {
  nacha: Nacha.parse({
    immediateDestination: '231380104',
    immediateDestinationName: 'SANDBOX ODFI',
    immediateOrigin: '121042882',
    immediateOriginName: 'FANZ SANDBOX',
    companyName: 'FANZ SANDBOX',
    companyIdentification: '1121042882',
    originatingDfi: '12104288',
  }),
  sepa: Sepa.parse({
    initiatingPartyName: 'FANZ Payments Sandbox',
    debtorName: 'FANZ Payments Sandbox',
    iban: 'DE89370400440532013000',
    bic: 'COBADEFFXXX',
    postalAddress: { streetName: 'Friedrichstrasse', buildingNumber: '100', postCode: '10117', townName: 'Berlin', country: 'DE' },
  }),
  wire: Wire.parse({ accountName: 'FANZ Payments Sandbox', bankName: 'Sandbox Bank (not a real account)', accountNumber: '000123456789', bic: 'COBADEFFXXX' }),
  check: Check.parse({ payerName: 'FANZ Payments Sandbox', bankName: 'Sandbox Bank (not a real account)', routingNumber: '231380104', accountNumber: '000123456789' }),
} as const

export function bankAccounts(env: Env): BankAccounts {
  const raw = (env as unknown as Record<string, unknown>).PAYOUT_BANK_ACCOUNTS
  let configured: z.output<typeof Settings> = {}
  if (typeof raw === 'string' && raw.trim() !== '') {
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      throw new ProblemError('INTERNAL_ERROR', { detail: 'PAYOUT_BANK_ACCOUNTS is not JSON' })
    }
    const parsed = Settings.safeParse(json)
    if (!parsed.success) throw new ProblemError('INTERNAL_ERROR', { detail: `PAYOUT_BANK_ACCOUNTS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` })
    configured = parsed.data
  }
  const sandbox = (['nacha', 'sepa', 'wire', 'check'] as const).filter((k) => configured[k] === undefined)
  return {
    nacha: configured.nacha ?? SANDBOX_BANK_ACCOUNTS.nacha,
    sepa: configured.sepa ?? SANDBOX_BANK_ACCOUNTS.sepa,
    wire: configured.wire ?? SANDBOX_BANK_ACCOUNTS.wire,
    check: configured.check ?? SANDBOX_BANK_ACCOUNTS.check,
    sandbox,
  }
}

/** The settings for one rail; in production a rail without configured settings refuses the file. */
export function accountsFor<K extends 'nacha' | 'sepa' | 'wire' | 'check'>(env: Env, rail: K): BankAccounts[K] {
  const all = bankAccounts(env)
  if (all.sandbox.includes(rail) && getConfig(env).isProduction) {
    throw new ProblemError('CONFLICT', { detail: `PAYOUT_BANK_ACCOUNTS has no "${rail}" settings: the ${rail} file cannot be written in production with sandbox accounts` })
  }
  return all[rail]
}
