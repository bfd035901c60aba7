/**
 * Writes a NACHA return file: what an ODFI hands back when RDFIs return entries we originated. Each
 * return entry copies the original's amount, account and names, carries a return transaction code
 * (21 checking / 31 savings: "return or NOC of a credit"), a trace number of the returning bank and
 * one addenda 99 (layout.ts ADDENDA_99) naming the R-code and the original entry's trace number.
 * Used by the dev sandbox and the tests to produce the files the returns import reads (our parser
 * reads them back); a real bank's file goes through the same parser.
 * @module
 */
import { z } from 'zod'
import {
  ADDENDA_99,
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

const text = (max: number) => z.string().max(max).regex(PRINTABLE, 'only printable ASCII (0x20-0x7E) is allowed')
const isoDate = z.string().refine(isCalendarDate, 'must be a YYYY-MM-DD calendar date')

export const NachaReturnEntrySchema = z.object({
  /** the original entry's trace number (15 digits) */
  originalTraceNumber: z.string().regex(/^[0-9]{15}$/),
  /** the original entry's RDFI routing number (9 digits): the bank that returns it */
  originalReceivingDfi: z.string().regex(/^[0-9]{9}$/),
  returnReasonCode: z.string().regex(/^R[0-9A-Z]{2}$/),
  /** the original entry's transaction code: 22 (checking credit) or 32 (savings credit) */
  originalTransactionCode: z.enum(['22', '32']),
  amountMinor: z.number().int().min(1).max(9_999_999_999),
  accountNumber: text(17).min(1),
  individualId: text(15).default(''),
  individualName: text(22).min(1),
  dateOfDeath: isoDate.optional(),
  addendaInformation: text(44).default(''),
})

export const NachaReturnFileSchema = z.object({
  /** our ODFI's routing number (9 digits): returns travel back to it */
  odfiRouting: z.string().regex(/^[0-9]{9}$/),
  /** the ACH operator / bank sending the file (immediate origin, 9 digits) */
  immediateOrigin: z.string().regex(/^[0-9]{9}$/),
  immediateDestinationName: text(23).default(''),
  immediateOriginName: text(23).default(''),
  fileCreationDate: isoDate,
  fileCreationTime: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/),
  /** copied from the original batch header */
  companyName: text(16).min(1),
  companyIdentification: text(10).min(1),
  secCode: z.enum(['PPD', 'CCD']),
  companyEntryDescription: text(10).min(1),
  entries: z.array(NachaReturnEntrySchema).min(1),
})

export type NachaReturnFileInput = z.input<typeof NachaReturnFileSchema>


/** The 9th digit that makes `eight` a valid ABA routing number (3-7-1 weights, mod 10). */
export function routingCheckDigit(eight: string): string {
  const d = [...eight].map(Number)
  const sum = 3 * (d[0]! + d[3]! + d[6]!) + 7 * (d[1]! + d[4]! + d[7]!) + (d[2]! + d[5]!)
  return String((10 - (sum % 10)) % 10)
}

/** One batch per returning bank (the batch's ODFI field is the returning RDFI), traces ascending. */
export function writeNachaReturnFile(input: NachaReturnFileInput): string {
  const file = NachaReturnFileSchema.parse(input)
  const byBank = new Map<string, typeof file.entries>()
  for (const e of file.entries) {
    const bank = e.originalReceivingDfi.slice(0, 8)
    byBank.set(bank, [...(byBank.get(bank) ?? []), e])
  }
  const lines: string[] = [
    fileHeaderRecord({
      immediateDestination: ` ${file.odfiRouting}`,
      immediateOrigin: ` ${file.immediateOrigin}`,
      fileCreationDate: file.fileCreationDate,
      fileCreationTime: file.fileCreationTime,
      fileIdModifier: 'A',
      immediateDestinationName: file.immediateDestinationName,
      immediateOriginName: file.immediateOriginName,
      referenceCode: '',
    }),
  ]
  const odfi8 = file.odfiRouting.slice(0, 8)
  const odfiCheck = file.odfiRouting.slice(8)
  let batchNo = 0
  let fileCount = 0
  let fileHash = 0
  let fileCredit = 0
  for (const [bank, entries] of byBank) {
    batchNo += 1
    const batchNumber = numeric(batchNo, BATCH_HEADER.batchNumber)
    const companyIdentification = alpha(file.companyIdentification, BATCH_HEADER.companyIdentification)
    lines.push(
      record(BATCH_HEADER, {
        recordType: '5',
        serviceClassCode: '220',
        companyName: alpha(file.companyName, BATCH_HEADER.companyName),
        companyDiscretionaryData: alpha('', BATCH_HEADER.companyDiscretionaryData),
        companyIdentification,
        standardEntryClassCode: file.secCode,
        companyEntryDescription: alpha(file.companyEntryDescription, BATCH_HEADER.companyEntryDescription),
        companyDescriptiveDate: alpha('', BATCH_HEADER.companyDescriptiveDate),
        effectiveEntryDate: yymmdd(file.fileCreationDate),
        settlementDate: '   ',
        originatorStatusCode: '1',
        originatingDfi: bank,
        batchNumber,
      }),
    )
    let credit = 0
    entries.forEach((e, i) => {
      const trace = bank + numeric(i + 1, ADDENDA_99.traceNumber).slice(8)
      credit += e.amountMinor
      lines.push(
        record(ENTRY_DETAIL, {
          recordType: '6',
          transactionCode: e.originalTransactionCode === '22' ? '21' : '31',
          receivingDfi: odfi8,
          checkDigit: odfiCheck,
          dfiAccountNumber: alpha(e.accountNumber, ENTRY_DETAIL.dfiAccountNumber),
          amount: numeric(e.amountMinor, ENTRY_DETAIL.amount),
          individualId: alpha(e.individualId, ENTRY_DETAIL.individualId),
          individualName: alpha(e.individualName, ENTRY_DETAIL.individualName),
          discretionaryData: '  ',
          addendaIndicator: '1',
          traceNumber: trace,
        }),
        record(ADDENDA_99, {
          recordType: '7',
          addendaTypeCode: '99',
          returnReasonCode: e.returnReasonCode,
          originalEntryTraceNumber: e.originalTraceNumber,
          dateOfDeath: e.dateOfDeath ? yymmdd(e.dateOfDeath) : '      ',
          originalReceivingDfi: bank,
          addendaInformation: alpha(e.addendaInformation, ADDENDA_99.addendaInformation),
          traceNumber: trace,
        }),
      )
    })
    const count = entries.length * 2
    const hash = entryHash(entries.map(() => odfi8))
    lines.push(
      record(BATCH_CONTROL, {
        recordType: '8',
        serviceClassCode: '220',
        entryAddendaCount: numeric(count, BATCH_CONTROL.entryAddendaCount),
        entryHash: numeric(hash, BATCH_CONTROL.entryHash),
        totalDebit: numeric(0, BATCH_CONTROL.totalDebit),
        totalCredit: numeric(credit, BATCH_CONTROL.totalCredit),
        companyIdentification,
        messageAuthenticationCode: ' '.repeat(19),
        reserved: ' '.repeat(6),
        originatingDfi: bank,
        batchNumber,
      }),
    )
    fileCount += count
    fileHash = (fileHash + hash) % 10_000_000_000
    fileCredit += credit
  }
  closeFile(lines, { batchCount: batchNo, entryAddendaCount: fileCount, entryHash: fileHash, totalCredit: fileCredit })
  return `${lines.join('\n')}\n`
}
