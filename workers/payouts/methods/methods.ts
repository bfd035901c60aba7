/**
 * A creator's payout method, validated on entry: one zod discriminated union on `type`, each
 * member holding only what its rail needs, with errors that name the field path. IBAN, BIC and ABA
 * checks are the ones in payments/bank/iban.ts; crypto addresses go through crypto.ts; postal
 * addresses are structured per the EPC 2025 rules (postal-address.ts).
 * @module
 */
import { z } from 'zod'
import { compactIban, isValidBic, isValidIban, isValidRoutingNumber } from '../../payments/bank/iban'
import { CRYPTO_ASSETS, CRYPTO_NETWORKS, validateCryptoAddress } from './crypto'
import { maxText, PostalAddress } from './postal-address'

const Email = z.string().trim().max(254, 'at most 254 characters').pipe(z.email('not a valid email address'))

/** IBAN: spaces allowed on entry, stored compact and uppercase; mod-97 and length per country. */
const Iban = z
  .string()
  .transform(compactIban)
  .refine(isValidIban, 'not a valid IBAN (length for its country or mod-97 check digits wrong)')

/** BIC (ISO 9362): 8 or 11 characters, uppercase only, as the pain.001 XSD patterns require. */
const Bic = z.string().trim().refine(isValidBic, 'not a valid BIC: 8 or 11 uppercase characters (bank, country, location, optional branch)')

const RoutingNumber = z.string().trim().refine(isValidRoutingNumber, 'not a valid ABA routing number (9 digits, 3-7-1 checksum)')

/** Digits only once spaces and hyphens, which people type for readability, are removed. */
const digits = (min: number, max: number, what: string) =>
  z
    .string()
    .transform((value) => value.replace(/[\s-]/g, ''))
    .pipe(z.string().regex(new RegExp(`^[0-9]{${min},${max}}$`), min === max ? `${what}: ${min} digits` : `${what}: ${min}-${max} digits`))

const AccountType = z.enum(['checking', 'savings'])

export const PaxumMethod = z.object({
  type: z.literal('paxum'),
  /** Paxum pays to the account's email (`toEmail` in its transfer API, payouts.md §4) */
  email: Email,
})

export const EpayserviceMethod = z
  .object({
    type: z.literal('epayservice'),
    // payouts.md gives no ePayService id format: only its shape is checked, and either id is enough
    accountId: z.string().trim().regex(/^[A-Za-z0-9-]{3,32}$/, 'letters, digits and hyphens, 3-32 characters').optional(),
    email: Email.optional(),
  })
  .superRefine((method, ctx) => {
    if (method.accountId === undefined && method.email === undefined) {
      ctx.addIssue({ code: 'custom', path: ['accountId'], message: 'give the ePayService account id or its email' })
    }
  })

export const PayoneerMethod = z.object({
  type: z.literal('payoneer'),
  // the payee id is chosen by the program when the payee registers (unverified format, payouts.md §4)
  payeeId: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, underscore or hyphen, 1-64 characters'),
})

/** Wise recipient details; which kinds a currency may use is in WISE_DETAILS_BY_CURRENCY. */
const WiseDetails = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sort_code'), sortCode: digits(6, 6, 'UK sort code'), accountNumber: digits(8, 8, 'UK account number') }),
  z.object({ kind: z.literal('iban'), iban: Iban }),
  z.object({ kind: z.literal('aba'), routingNumber: RoutingNumber, accountNumber: digits(4, 17, 'US account number'), accountType: AccountType }),
  z.object({ kind: z.literal('swift'), bic: Bic, accountNumber: z.string().trim().regex(/^[A-Za-z0-9]{1,34}$/, 'letters and digits, 1-34 characters') }),
])

/** Local rails per currency: GBP by sort code or IBAN, EUR by IBAN, USD by ACH routing or SWIFT. */
export const WISE_DETAILS_BY_CURRENCY = {
  GBP: ['sort_code', 'iban'],
  EUR: ['iban'],
  USD: ['aba', 'swift'],
} as const satisfies Record<string, readonly z.infer<typeof WiseDetails>['kind'][]>

export const WiseMethod = z
  .object({
    type: z.literal('wise'),
    currency: z.enum(['GBP', 'EUR', 'USD']),
    accountHolderName: maxText(70),
    details: WiseDetails,
    /** the recipient's address: Wise requires one for USD recipients */
    address: PostalAddress.optional(),
  })
  .superRefine((method, ctx) => {
    const allowed: readonly string[] = WISE_DETAILS_BY_CURRENCY[method.currency]
    if (!allowed.includes(method.details.kind)) {
      ctx.addIssue({ code: 'custom', path: ['details', 'kind'], message: `${method.currency} recipients take ${allowed.join(' or ')} details, not ${method.details.kind}` })
    }
    if (method.currency === 'USD' && !method.address) ctx.addIssue({ code: 'custom', path: ['address'], message: 'USD recipients need their postal address (Wise requires it)' })
  })

export const CryptoMethod = z
  .object({
    type: z.literal('crypto'),
    asset: z.enum(CRYPTO_ASSETS),
    network: z.enum(CRYPTO_NETWORKS),
    address: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
  })
  .superRefine((method, ctx) => {
    const result = validateCryptoAddress({ ...method, mainnet: true })
    if (!result.ok) ctx.addIssue({ code: 'custom', path: [/is not paid out on/.test(result.reason) ? 'network' : 'address'], message: result.reason })
  })

export const AchMethod = z.object({
  type: z.literal('ach'),
  routingNumber: RoutingNumber,
  accountNumber: digits(4, 17, 'account number'),
  accountType: AccountType,
  // The NACHA entry carries the name in 22 printable-ASCII characters (positions 55-76), so a longer or
  // non-ASCII name is refused here rather than cut or mangled when the file is written.
  accountHolderName: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(22, 'at most 22 characters (NACHA individual name field)')
    .regex(/^[\x20-\x7e]+$/, 'ASCII letters, digits and punctuation only (NACHA)'),
  /** PPD entries for individuals, CCD for businesses */
  holderType: z.enum(['individual', 'business']).default('individual'),
})

export const SepaMethod = z.object({
  type: z.literal('sepa'),
  iban: Iban,
  bic: Bic,
  /** Cdtr/Nm (Max70Text) */
  name: maxText(70),
  address: PostalAddress,
})

export const WireMethod = z
  .object({
    type: z.literal('wire'),
    beneficiaryName: maxText(70),
    bic: Bic,
    iban: Iban.optional(),
    accountNumber: z.string().trim().regex(/^[A-Za-z0-9]{1,34}$/, 'letters and digits, 1-34 characters').optional(),
    bankName: maxText(140),
    bankAddress: PostalAddress,
    intermediaryBic: Bic.optional(),
  })
  .superRefine((method, ctx) => {
    if ((method.iban === undefined) === (method.accountNumber === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['iban'], message: 'give either an IBAN or an account number, not both or neither' })
    }
  })

export const CheckMethod = z
  .object({
    type: z.literal('check'),
    payeeName: maxText(70),
    address: PostalAddress,
  })
  .superRefine((method, ctx) => {
    // US mail needs the state and ZIP code to be delivered at all
    if (method.address.country !== 'US') return
    if (!/^[A-Z]{2}$/.test(method.address.countrySubDivision ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['address', 'countrySubDivision'], message: 'US addresses need the two-letter state code' })
    }
    if (!/^[0-9]{5}(-[0-9]{4})?$/.test(method.address.postCode ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['address', 'postCode'], message: 'US addresses need a ZIP code (12345 or 12345-6789)' })
    }
  })

export const PayoutMethodInput = z.discriminatedUnion('type', [
  PaxumMethod,
  EpayserviceMethod,
  WiseMethod,
  PayoneerMethod,
  CryptoMethod,
  AchMethod,
  SepaMethod,
  WireMethod,
  CheckMethod,
])
export type PayoutMethod = z.infer<typeof PayoutMethodInput>
export type PayoutMethodType = PayoutMethod['type']

export interface PayoutMethodError {
  /** dotted path of the offending field, e.g. `address.townName` or `details.iban` */
  path: string
  message: string
}

export type ParsedPayoutMethod = { ok: true; method: PayoutMethod } | { ok: false; errors: PayoutMethodError[] }

/** Validates a payout method as entered; crypto addresses come back in their canonical stored form. */
export function parsePayoutMethod(input: unknown): ParsedPayoutMethod {
  const parsed = PayoutMethodInput.safeParse(input)
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    }
  }
  const method = parsed.data
  if (method.type === 'crypto') {
    const result = validateCryptoAddress({ ...method, mainnet: true })
    if (result.ok) return { ok: true, method: { ...method, address: result.address } }
  }
  return { ok: true, method }
}
