/**
 * What a SEPA credit-transfer file is made from, checked with zod before any XML is written: the
 * EPC 2025 usage rules the pain.001.001.09 XSD leaves to the sender (EUR only, 0.01 .. 999 999 999.99,
 * the SEPA character set, unique ids, TwnNm + Ctry in every postal address, at most 2 AdrLine) and
 * account checks the XSD cannot do (IBAN mod-97 and length, BIC shape, via payments/bank/iban.ts).
 * Free text comes out converted to the SEPA set (sepa-text.ts), IBANs compact, BICs upper case.
 * @module
 */
import { z } from 'zod'
import { compactIban, isValidBic, isValidIban } from '../../../payments/bank/iban'
import { MAX_AMOUNT_MINOR, MIN_AMOUNT_MINOR } from './euro-amount'
import { sepaIdentifierProblem, toSepaText } from './sepa-text'

/** Free text converted to the SEPA set, then held to the field's EPC maximum length. */
function sepaText(max: number) {
  return z.string().transform((value, ctx) => {
    const converted = toSepaText(value)
    if (!converted.ok) {
      const code = converted.character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')
      ctx.addIssue({ code: 'custom', message: `character '${converted.character}' (U+${code}) has no SEPA Latin equivalent` })
      return z.NEVER
    }
    if (converted.text.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must not be empty' })
      return z.NEVER
    }
    if (converted.text.length > max) {
      ctx.addIssue({ code: 'custom', message: `is ${converted.text.length} characters in the SEPA character set; at most ${max}` })
      return z.NEVER
    }
    return converted.text
  })
}

const identifier = z.string().superRefine((value, ctx) => {
  const problem = sepaIdentifierProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

const iban = z.string().transform((value, ctx) => {
  if (!isValidIban(value)) {
    ctx.addIssue({ code: 'custom', message: 'is not a valid IBAN (format, length for the country, or mod-97 check digits)' })
    return z.NEVER
  }
  return compactIban(value)
})

const bic = z.string().transform((value, ctx) => {
  const upper = value.trim().toUpperCase()
  if (!isValidBic(upper)) {
    ctx.addIssue({ code: 'custom', message: 'is not a valid BIC (ISO 9362: 8 or 11 characters: party prefix 4, country 2 letters, location 2, branch 3)' })
    return z.NEVER
  }
  return upper
})

/**
 * PostalAddress24 as EPC 2025 allows it: structured (no AdrLine) or hybrid (1-2 AdrLine beside the
 * structured fields); TwnNm and Ctry are required in both. Unstructured addresses (AdrLine only)
 * are not accepted: they are forbidden from November 2026. Lengths are the XSD's.
 */
export const postalAddressSchema = z.strictObject({
  department: sepaText(70).optional(),
  subDepartment: sepaText(70).optional(),
  streetName: sepaText(70).optional(),
  buildingNumber: sepaText(16).optional(),
  buildingName: sepaText(35).optional(),
  floor: sepaText(70).optional(),
  postBox: sepaText(16).optional(),
  room: sepaText(70).optional(),
  postCode: sepaText(16).optional(),
  townName: sepaText(35),
  townLocationName: sepaText(35).optional(),
  districtName: sepaText(35).optional(),
  countrySubDivision: sepaText(35).optional(),
  /** ISO 3166-1 alpha-2, upper case */
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in upper case'),
  /** hybrid address: up to 2 lines */
  addressLines: z.array(sepaText(70)).min(1).max(2, 'at most 2 address lines (EPC)').optional(),
})

const paymentSchema = z.strictObject({
  /** the originator's reference, unique in the file; the creditor's bank shows it back */
  endToEndId: identifier,
  amountMinor: z
    .number()
    .int('must be an integer number of cents')
    .min(MIN_AMOUNT_MINOR, 'must be at least 1 cent (0.01 EUR)')
    .max(MAX_AMOUNT_MINOR, 'must be at most 99999999999 cents (999999999.99 EUR)'),
  currency: z.string().refine((c) => c === 'EUR', 'SEPA credit transfers are in EUR only'),
  creditor: z.strictObject({
    name: sepaText(70),
    iban,
    /** optional in SEPA (IBAN-only); when absent no CdtrAgt is written */
    bic: bic.optional(),
    postalAddress: postalAddressSchema.optional(),
  }),
  /** unstructured remittance information (RmtInf/Ustrd) */
  remittance: sepaText(140).optional(),
})

const instructionSchema = z.strictObject({
  /** PmtInfId, unique in the file */
  id: identifier,
  /** ReqdExctnDt/Dt: the EPC 09 restriction allows only a date here (no DtTm) */
  requestedExecutionDate: z.iso.date('must be a date YYYY-MM-DD'),
  /** BtchBookg; left out when undefined (then the bank's agreed default applies) */
  batchBooking: z.boolean().optional(),
  debtor: z.strictObject({
    name: sepaText(70),
    iban,
    bic,
    postalAddress: postalAddressSchema.optional(),
  }),
  payments: z.array(paymentSchema).min(1, 'at least one payment'),
})

export const pain001InputSchema = z
  .strictObject({
    /** MsgId, unique per sender (kept by the caller: this writer has no memory of earlier files) */
    messageId: identifier,
    /** CreDtTm, written as UTC to the second */
    createdAtMs: z.number().int().min(0).max(253_402_300_799_000, 'must be before year 10000'),
    initiatingParty: z.strictObject({ name: sepaText(70) }),
    instructions: z.array(instructionSchema).min(1, 'at least one payment instruction'),
  })
  .superRefine((input, ctx) => {
    const pmtInfIds = new Set<string>()
    const endToEndIds = new Set<string>()
    input.instructions.forEach((instruction, i) => {
      if (pmtInfIds.has(instruction.id)) ctx.addIssue({ code: 'custom', path: ['instructions', i, 'id'], message: `duplicate payment instruction id ${instruction.id}` })
      pmtInfIds.add(instruction.id)
      instruction.payments.forEach((payment, p) => {
        if (endToEndIds.has(payment.endToEndId)) {
          ctx.addIssue({ code: 'custom', path: ['instructions', i, 'payments', p, 'endToEndId'], message: `duplicate EndToEndId ${payment.endToEndId}` })
        }
        endToEndIds.add(payment.endToEndId)
      })
    })
  })

/** What callers pass (raw text, any case BIC, IBAN with spaces). */
export type Pain001Input = z.input<typeof pain001InputSchema>
/** After checks and conversion: what the writer prints. */
export type Pain001Checked = z.output<typeof pain001InputSchema>
export type PostalAddress = z.output<typeof postalAddressSchema>

export interface Pain001Issue {
  /** dotted path into the input, e.g. `instructions.0.payments.2.creditor.iban` */
  path: string
  message: string
}

/** Refused input; `issues` name every offending field (the project's `errors: [{ path, message }]` shape). */
export class Pain001InputError extends Error {
  readonly issues: readonly Pain001Issue[]
  constructor(issues: Pain001Issue[]) {
    super(`invalid pain.001 input: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`)
    this.name = 'Pain001InputError'
    this.issues = issues
  }
}

export function checkPain001Input(input: unknown): Pain001Checked {
  const parsed = pain001InputSchema.safeParse(input)
  if (parsed.success) return parsed.data
  throw new Pain001InputError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })))
}
