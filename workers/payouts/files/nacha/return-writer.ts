/**
 * Writes a NACHA return file: what an ODFI hands back when RDFIs return entries we originated. Each
 * return entry copies the original's amount, account and names, carries a return transaction code
 * (21 checking / 31 savings: "return or NOC of a credit"), a trace number of the returning bank and
 * one addenda 99 (layout.ts ADDENDA_99) naming the R-code and the original entry's trace number.
 * Notifications of change (the entry was posted, but the receiver's details must be corrected) go
 * in COR batches of zero-amount entries, each with one addenda 98 (layout.ts ADDENDA_98) carrying
 * the change code, the original trace number and the corrected data (`correctedDataOf`).
 * Used by the dev sandbox and the tests to produce the files the returns import reads (our parser
 * reads them back); a real bank's file goes through the same parser.
 * @module
 */
import { z } from 'zod'
import {
  ADDENDA_98,
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

export const NachaCorrectionEntrySchema = z.object({
  /** the original entry's trace number (15 digits) */
  originalTraceNumber: z.string().regex(/^[0-9]{15}$/),
  /** the original entry's RDFI routing number (9 digits): the bank that sends the correction */
  originalReceivingDfi: z.string().regex(/^[0-9]{9}$/),
  changeCode: z.string().regex(/^C[0-9]{2}$/),
  /** at most 29 characters, laid out as the change code requires (`correctedDataOf`) */
  correctedData: text(29).refine((v) => v.trim() !== '', 'corrected data must not be blank'),
  /** the original entry's transaction code: 22 (checking credit) or 32 (savings credit) */
  originalTransactionCode: z.enum(['22', '32']),
  /** the original entry's account number, as it was sent */
  accountNumber: text(17).min(1),
  individualId: text(15).default(''),
  individualName: text(22).min(1),
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
  entries: z.array(NachaReturnEntrySchema).default([]),
  /** notifications of change (COR batches) */
  corrections: z.array(NachaCorrectionEntrySchema).default([]),
}).refine((f) => f.entries.length + f.corrections.length > 0, { message: 'a return file holds at least one return or correction', path: ['entries'] })

export type NachaReturnFileInput = z.input<typeof NachaReturnFileSchema>


/** The 9th digit that makes `eight` a valid ABA routing number (3-7-1 weights, mod 10). */
export function routingCheckDigit(eight: string): string {
  const d = [...eight].map(Number)
  const sum = 3 * (d[0]! + d[3]! + d[6]!) + 7 * (d[1]! + d[4]! + d[7]!) + (d[2]! + d[5]!)
  return String((10 - (sum % 10)) % 10)
}

/** What goes into the corrected data of one change code (only the fields that code corrects are read). */
export interface CorrectedValues {
  routingNumber?: string
  accountNumber?: string
  /** 22/32 (checking/savings credit), as the corrected transaction code */
  transactionCode?: string
  name?: string
  individualId?: string
  /** any other code: the corrected data as it is to appear */
  text?: string
}

/**
 * The 29-character corrected data of a notification of change, at the positions of the Nacha change
 * code table (Operating Rules appendix 5; moov-io/ach docs/changes.md): C01 account 1-17; C02 routing
 * 1-9; C03 routing 1-9, blanks 10-12, account 13-29; C04 name 1-22; C05 transaction code 1-2; C06
 * account 1-17, blanks 18-20, transaction code 21-22; C07 routing 1-9, account 10-26, transaction
 * code 27-28; C09 individual id 1-22. Values are written as given, so a test can write a bad one.
 */
export function correctedDataOf(changeCode: string, v: CorrectedValues): string {
  const need = (value: string | undefined, what: string): string => {
    if (value === undefined) throw new Error(`correctedDataOf ${changeCode}: ${what} is required`)
    return value
  }
  const left = (value: string, n: number) => {
    if (value.length > n) throw new RangeError(`correctedDataOf ${changeCode}: "${value}" is longer than ${n} characters`)
    return value.padEnd(n, ' ')
  }
  let data: string
  switch (changeCode) {
    case 'C01':
      data = left(need(v.accountNumber, 'accountNumber'), 17)
      break
    case 'C02':
      data = left(need(v.routingNumber, 'routingNumber'), 9)
      break
    case 'C03':
      data = left(need(v.routingNumber, 'routingNumber'), 9) + '   ' + left(need(v.accountNumber, 'accountNumber'), 17)
      break
    case 'C04':
      data = left(need(v.name, 'name'), 22)
      break
    case 'C05':
      data = left(need(v.transactionCode, 'transactionCode'), 2)
      break
    case 'C06':
      data = left(need(v.accountNumber, 'accountNumber'), 17) + '   ' + left(need(v.transactionCode, 'transactionCode'), 2)
      break
    case 'C07':
      data = left(need(v.routingNumber, 'routingNumber'), 9) + left(need(v.accountNumber, 'accountNumber'), 17) + left(need(v.transactionCode, 'transactionCode'), 2)
      break
    case 'C09':
      data = left(need(v.individualId, 'individualId'), 22)
      break
    default:
      data = left(v.text ?? '', 29)
  }
  return data.padEnd(29, ' ')
}

type ReturnFile = z.output<typeof NachaReturnFileSchema>

/** One batch: its entries (each an entry detail + its addenda) and what they add up to. */
interface BatchRows {
  bank: string
  secCode: string
  records: Array<{ entry: string; addenda: string; amountMinor: number }>
}

/**
 * One batch per returning bank and kind (returns in the file's SEC code, corrections in COR; the
 * batch's ODFI field is the returning RDFI), traces ascending.
 */
export function writeNachaReturnFile(input: NachaReturnFileInput): string {
  const file = NachaReturnFileSchema.parse(input)
  const odfi8 = file.odfiRouting.slice(0, 8)
  const odfiCheck = file.odfiRouting.slice(8)
  const entryRecord = (e: { originalTransactionCode: '22' | '32'; accountNumber: string; individualId: string; individualName: string }, amountMinor: number, trace: string) =>
    record(ENTRY_DETAIL, {
      recordType: '6',
      transactionCode: e.originalTransactionCode === '22' ? '21' : '31',
      receivingDfi: odfi8,
      checkDigit: odfiCheck,
      dfiAccountNumber: alpha(e.accountNumber, ENTRY_DETAIL.dfiAccountNumber),
      amount: numeric(amountMinor, ENTRY_DETAIL.amount),
      individualId: alpha(e.individualId, ENTRY_DETAIL.individualId),
      individualName: alpha(e.individualName, ENTRY_DETAIL.individualName),
      discretionaryData: '  ',
      addendaIndicator: '1',
      traceNumber: trace,
    })
  const traceOf = (bank: string, i: number) => bank + numeric(i + 1, ADDENDA_99.traceNumber).slice(8)

  const batches: BatchRows[] = []
  for (const [bank, entries] of groupByBank(file.entries)) {
    batches.push({
      bank,
      secCode: file.secCode,
      records: entries.map((e, i) => {
        const trace = traceOf(bank, i)
        return {
          entry: entryRecord(e, e.amountMinor, trace),
          addenda: record(ADDENDA_99, {
            recordType: '7',
            addendaTypeCode: '99',
            returnReasonCode: e.returnReasonCode,
            originalEntryTraceNumber: e.originalTraceNumber,
            dateOfDeath: e.dateOfDeath ? yymmdd(e.dateOfDeath) : '      ',
            originalReceivingDfi: bank,
            addendaInformation: alpha(e.addendaInformation, ADDENDA_99.addendaInformation),
            traceNumber: trace,
          }),
          amountMinor: e.amountMinor,
        }
      }),
    })
  }
  for (const [bank, entries] of groupByBank(file.corrections)) {
    // traces continue after the bank's returns, so one bank never repeats a trace number in the file
    const offset = file.entries.filter((e) => e.originalReceivingDfi.slice(0, 8) === bank).length
    batches.push({
      bank,
      secCode: 'COR',
      records: entries.map((e, i) => {
        const trace = traceOf(bank, offset + i)
        return {
          // a notification of change moves no money: its entry is for zero
          entry: entryRecord(e, 0, trace),
          addenda: record(ADDENDA_98, {
            recordType: '7',
            addendaTypeCode: '98',
            changeCode: e.changeCode,
            originalEntryTraceNumber: e.originalTraceNumber,
            reserved: ' '.repeat(6),
            originalReceivingDfi: bank,
            correctedData: alpha(e.correctedData, ADDENDA_98.correctedData),
            reservedAfterCorrectedData: ' '.repeat(15),
            traceNumber: trace,
          }),
          amountMinor: 0,
        }
      }),
    })
  }
  return writeBatches(file, batches)
}

function groupByBank<T extends { originalReceivingDfi: string }>(entries: readonly T[]): Map<string, T[]> {
  const byBank = new Map<string, T[]>()
  for (const e of entries) {
    const bank = e.originalReceivingDfi.slice(0, 8)
    byBank.set(bank, [...(byBank.get(bank) ?? []), e])
  }
  return byBank
}

function writeBatches(file: ReturnFile, batches: BatchRows[]): string {
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
  let batchNo = 0
  let fileCount = 0
  let fileHash = 0
  let fileCredit = 0
  for (const { bank, secCode, records } of batches) {
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
        standardEntryClassCode: secCode,
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
    for (const r of records) {
      credit += r.amountMinor
      lines.push(r.entry, r.addenda)
    }
    const count = records.length * 2
    const hash = entryHash(records.map(() => odfi8))
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
