/**
 * NACHA ACH file writer for creator payouts (payouts.md §1-§2): PPD batches pay individuals, CCD
 * batches pay businesses, every entry is a live credit (22 checking, 32 savings). Input is checked
 * with zod at the boundary; nothing is truncated or silently fixed: a value that does not fit its
 * field is refused with a `NachaWriteError`.
 *
 * Line endings: payouts.md fixes the 94-character records but no record separator; the moov-io/ach
 * samples in shared/data and moov's own writer end every record, the last one included, with LF,
 * so LF is the default. Some ODFIs ask for CRLF: `lineEnding: '\r\n'`. The parser reads both.
 * @module
 */
import { z } from 'zod'
import { isValidRoutingNumber } from '../../../payments/bank/iban'
import {
  ADDENDA_05,
  BATCH_CONTROL,
  BATCH_HEADER,
  ENTRY_DETAIL,
  PRINTABLE,
  alpha,
  closeFile,
  entryHash,
  fileHeaderRecord,
  isCalendarDate,
  numeric,
  record,
  yymmdd,
} from './layout'

/** Nacha 2026: PPD compensation credits must say PAYROLL from this date on (payouts.md §2). */
export const PAYROLL_RULE_EFFECTIVE = '2026-03-20'
export const PAYROLL_PREFIX = 'PAYROLL'
/** Largest amount the 10-digit entry amount field holds, in cents. */
export const MAX_ENTRY_AMOUNT_MINOR = 9_999_999_999

const text = (max: number, min = 0) =>
  z.string().min(min).max(max).regex(PRINTABLE, 'only printable ASCII (0x20-0x7E) is allowed')
const routingNumber = z
  .string()
  .regex(/^[0-9]{9}$/, 'must be a 9-digit ABA routing number')
  .refine(isValidRoutingNumber, 'ABA routing number check digit is wrong')
const isoDate = z.string().refine(isCalendarDate, 'must be a YYYY-MM-DD calendar date')

export const NachaEntryInputSchema = z.object({
  /** 22 = credit to checking, 32 = credit to savings. */
  transactionCode: z.enum(['22', '32']),
  /** Receiving DFI routing number, 9 digits (8-digit RDFI id + check digit). */
  receivingDfi: routingNumber,
  accountNumber: text(17, 1).refine((v) => v.trim() === v && v !== '', 'no leading/trailing spaces'),
  /** Integer cents; a live credit carries money, zero-dollar entries use other codes. */
  amountMinor: z.number().int().min(1).max(MAX_ENTRY_AMOUNT_MINOR, `must fit the 10-digit amount field (max ${MAX_ENTRY_AMOUNT_MINOR} cents)`),
  /** PPD: individual id number; CCD: identification number. */
  individualId: text(15).default(''),
  /** PPD: individual name; CCD: receiving company name. */
  individualName: text(22, 1),
  discretionaryData: text(2).default(''),
  /** Optional addenda 05 payment related information. */
  paymentInformation: text(80).optional(),
  /** Trace sequence (last 7 digits of the trace number); assigned ascending across the file when absent. */
  traceSequence: z.number().int().min(1).max(9_999_999).optional(),
})

export const NachaBatchInputSchema = z.object({
  secCode: z.enum(['PPD', 'CCD']),
  /** True when the credits pay wages or similar compensation (creators count, employees or not). */
  compensation: z.boolean(),
  companyName: text(16, 1),
  companyDiscretionaryData: text(20).default(''),
  companyIdentification: text(10, 1),
  companyEntryDescription: text(10, 1),
  companyDescriptiveDate: text(6).default(''),
  effectiveEntryDate: isoDate,
  /** ODFI routing number, first 8 digits. */
  originatingDfi: z.string().regex(/^[0-9]{8}$/, 'must be the 8-digit ODFI identification'),
  entries: z.array(NachaEntryInputSchema).min(1),
})

export const NachaFileInputSchema = z
  .object({
    /** Routing number of the receiving point (the ODFI or its operator). */
    immediateDestination: routingNumber,
    /** 9 digits (written blank + 9) or 10 digits (e.g. `1` + EIN), as the ODFI assigned. */
    immediateOrigin: z.string().regex(/^[0-9]{9,10}$/, 'must be 9 or 10 digits'),
    immediateDestinationName: text(23),
    immediateOriginName: text(23),
    referenceCode: text(8).default(''),
    /** Local date and time at the originator, as the ODFI expects them. */
    fileCreationDate: isoDate,
    fileCreationTime: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be HH:MM'),
    fileIdModifier: z.string().regex(/^[A-Z0-9]$/, 'must be one character A-Z or 0-9'),
    batches: z.array(NachaBatchInputSchema).min(1),
    lineEnding: z.enum(['\n', '\r\n']).default('\n'),
  })
  .superRefine((file, ctx) => {
    file.batches.forEach((batch, index) => {
      if (!payrollRuleApplies(batch, file.fileCreationDate)) return
      if (batch.companyEntryDescription.startsWith(PAYROLL_PREFIX)) return
      ctx.addIssue({
        code: 'custom',
        path: ['batches', index, 'companyEntryDescription'],
        message: `PPD compensation credits effective on or after ${PAYROLL_RULE_EFFECTIVE} must start with ${PAYROLL_PREFIX}`,
      })
    })
    let previous = 0
    file.batches.forEach((batch, b) =>
      batch.entries.forEach((entry, e) => {
        const sequence = entry.traceSequence ?? previous + 1
        if (sequence <= previous) {
          ctx.addIssue({ code: 'custom', path: ['batches', b, 'entries', e, 'traceSequence'], message: 'trace sequences must ascend through the file' })
        }
        previous = Math.max(previous, sequence)
      }),
    )
  })

export type NachaEntryInput = z.input<typeof NachaEntryInputSchema>
export type NachaBatchInput = z.input<typeof NachaBatchInputSchema>
export type NachaFileInput = z.input<typeof NachaFileInputSchema>

/**
 * The rule binds from the date the entries settle; a file written earlier for a later effective date
 * is bound too, and so (conservatively) is a file created on or after the date.
 */
export function payrollRuleApplies(
  batch: { secCode: string; compensation: boolean; effectiveEntryDate: string },
  fileCreationDate: string,
): boolean {
  if (batch.secCode !== 'PPD' || !batch.compensation) return false
  return batch.effectiveEntryDate >= PAYROLL_RULE_EFFECTIVE || fileCreationDate >= PAYROLL_RULE_EFFECTIVE
}

export interface NachaWriteIssue {
  path: string
  message: string
}

export class NachaWriteError extends Error {
  constructor(readonly errors: NachaWriteIssue[]) {
    super(`NACHA file refused: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
    this.name = 'NachaWriteError'
  }
}


/** Builds the file text; throws `NachaWriteError` when the input breaks a rule or a field overflows. */
export function writeNachaFile(input: NachaFileInput): string {
  const parsed = NachaFileInputSchema.safeParse(input)
  if (!parsed.success) {
    throw new NachaWriteError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })))
  }
  try {
    return build(parsed.data)
  } catch (error) {
    // Counts and totals that outgrow their fields surface here (layout.numeric never truncates).
    if (error instanceof RangeError) throw new NachaWriteError([{ path: 'file', message: error.message }])
    throw error
  }
}

function build(file: z.output<typeof NachaFileInputSchema>): string {
  const lines: string[] = []
  lines.push(
    fileHeaderRecord({
      immediateDestination: ` ${file.immediateDestination}`,
      immediateOrigin: file.immediateOrigin.padStart(10, ' '),
      fileCreationDate: file.fileCreationDate,
      fileCreationTime: file.fileCreationTime,
      fileIdModifier: file.fileIdModifier,
      immediateDestinationName: file.immediateDestinationName,
      immediateOriginName: file.immediateOriginName,
      referenceCode: file.referenceCode,
    }),
  )

  let fileCount = 0
  let fileHash = 0
  let fileCredit = 0n
  let trace = 0
  file.batches.forEach((batch, index) => {
    const batchNumber = numeric(index + 1, BATCH_HEADER.batchNumber)
    // Every entry is a credit, so the batch is credits-only.
    const serviceClassCode = '220'
    const companyIdentification = alpha(batch.companyIdentification, BATCH_HEADER.companyIdentification)
    lines.push(
      record(BATCH_HEADER, {
        recordType: '5',
        serviceClassCode,
        companyName: alpha(batch.companyName, BATCH_HEADER.companyName),
        companyDiscretionaryData: alpha(batch.companyDiscretionaryData, BATCH_HEADER.companyDiscretionaryData),
        companyIdentification,
        standardEntryClassCode: batch.secCode,
        companyEntryDescription: alpha(batch.companyEntryDescription, BATCH_HEADER.companyEntryDescription),
        companyDescriptiveDate: alpha(batch.companyDescriptiveDate, BATCH_HEADER.companyDescriptiveDate),
        effectiveEntryDate: yymmdd(batch.effectiveEntryDate),
        settlementDate: '   ', // filled in by the ACH operator
        originatorStatusCode: '1',
        originatingDfi: batch.originatingDfi,
        batchNumber,
      }),
    )
    let count = 0
    let credit = 0n
    const rdfis: string[] = []
    for (const entry of batch.entries) {
      trace = entry.traceSequence ?? trace + 1
      const sequence = numeric(trace, ADDENDA_05.entryDetailSequenceNumber)
      const rdfi = entry.receivingDfi.slice(0, 8)
      rdfis.push(rdfi)
      credit += BigInt(entry.amountMinor)
      count += 1
      lines.push(
        record(ENTRY_DETAIL, {
          recordType: '6',
          transactionCode: entry.transactionCode,
          receivingDfi: rdfi,
          checkDigit: entry.receivingDfi.slice(8),
          dfiAccountNumber: alpha(entry.accountNumber, ENTRY_DETAIL.dfiAccountNumber),
          amount: numeric(entry.amountMinor, ENTRY_DETAIL.amount),
          individualId: alpha(entry.individualId, ENTRY_DETAIL.individualId),
          individualName: alpha(entry.individualName, ENTRY_DETAIL.individualName),
          discretionaryData: alpha(entry.discretionaryData, ENTRY_DETAIL.discretionaryData),
          addendaIndicator: entry.paymentInformation === undefined ? '0' : '1',
          traceNumber: batch.originatingDfi + sequence,
        }),
      )
      if (entry.paymentInformation !== undefined) {
        count += 1
        lines.push(
          record(ADDENDA_05, {
            recordType: '7',
            addendaTypeCode: '05',
            paymentRelatedInformation: alpha(entry.paymentInformation, ADDENDA_05.paymentRelatedInformation),
            addendaSequenceNumber: numeric(1, ADDENDA_05.addendaSequenceNumber),
            entryDetailSequenceNumber: sequence,
          }),
        )
      }
    }
    const hash = entryHash(rdfis)
    lines.push(
      record(BATCH_CONTROL, {
        recordType: '8',
        serviceClassCode,
        entryAddendaCount: numeric(count, BATCH_CONTROL.entryAddendaCount),
        entryHash: numeric(hash, BATCH_CONTROL.entryHash),
        totalDebit: numeric(0, BATCH_CONTROL.totalDebit),
        totalCredit: numeric(credit, BATCH_CONTROL.totalCredit),
        companyIdentification,
        messageAuthenticationCode: ' '.repeat(19),
        reserved: ' '.repeat(6),
        originatingDfi: batch.originatingDfi,
        batchNumber,
      }),
    )
    fileCount += count
    fileHash = (fileHash + hash) % 10_000_000_000
    fileCredit += credit
  })

  closeFile(lines, { batchCount: file.batches.length, entryAddendaCount: fileCount, entryHash: fileHash, totalCredit: fileCredit })
  return lines.join(file.lineEnding) + file.lineEnding
}
