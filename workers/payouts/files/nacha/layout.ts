/**
 * NACHA record layout (payouts.md §1): field positions shared by the writer and the parser, so the
 * two cannot drift apart, plus the fixed-width formatting rules. Hand-written: no installed package
 * reads or writes NACHA files (moov-io/ach, the reference, is Go).
 * @module
 */

export const RECORD_LENGTH = 94
export const BLOCKING_FACTOR = 10
/** The spec allows only characters above 0x1F; 0x7F (DEL) is a control character too, so it is excluded. */
export const PRINTABLE = /^[\x20-\x7E]*$/

/** 1-based inclusive positions, as printed in the Nacha tables. */
export interface Field {
  readonly name: string
  readonly from: number
  readonly to: number
}

function fields<const T extends Record<string, readonly [number, number]>>(spec: T): { readonly [K in keyof T]: Field } {
  const out: Record<string, Field> = {}
  for (const [name, [from, to]] of Object.entries(spec)) out[name] = { name, from, to }
  return out as { readonly [K in keyof T]: Field }
}

export const FILE_HEADER = fields({
  recordType: [1, 1],
  priorityCode: [2, 3],
  immediateDestination: [4, 13],
  immediateOrigin: [14, 23],
  fileCreationDate: [24, 29],
  fileCreationTime: [30, 33],
  fileIdModifier: [34, 34],
  recordSize: [35, 37],
  blockingFactor: [38, 39],
  formatCode: [40, 40],
  immediateDestinationName: [41, 63],
  immediateOriginName: [64, 86],
  referenceCode: [87, 94],
})

export const BATCH_HEADER = fields({
  recordType: [1, 1],
  serviceClassCode: [2, 4],
  companyName: [5, 20],
  companyDiscretionaryData: [21, 40],
  companyIdentification: [41, 50],
  standardEntryClassCode: [51, 53],
  companyEntryDescription: [54, 63],
  companyDescriptiveDate: [64, 69],
  effectiveEntryDate: [70, 75],
  settlementDate: [76, 78],
  originatorStatusCode: [79, 79],
  originatingDfi: [80, 87],
  batchNumber: [88, 94],
})

export const ENTRY_DETAIL = fields({
  recordType: [1, 1],
  transactionCode: [2, 3],
  receivingDfi: [4, 11],
  checkDigit: [12, 12],
  dfiAccountNumber: [13, 29],
  amount: [30, 39],
  individualId: [40, 54],
  individualName: [55, 76],
  discretionaryData: [77, 78],
  addendaIndicator: [79, 79],
  traceNumber: [80, 94],
})

export const ADDENDA_05 = fields({
  recordType: [1, 1],
  addendaTypeCode: [2, 3],
  paymentRelatedInformation: [4, 83],
  addendaSequenceNumber: [84, 87],
  entryDetailSequenceNumber: [88, 94],
})

/**
 * Return addenda (an entry sent back by the RDFI), after moov-io/ach addenda99.go and the Nacha
 * return-entry format: return reason code (R01 ..), the trace number of the entry we sent, date of
 * death (R14/R15 only, else blank), the original RDFI (8 digits), free addenda information, and the
 * trace number of the return entry itself.
 */
export const ADDENDA_99 = fields({
  recordType: [1, 1],
  addendaTypeCode: [2, 3],
  returnReasonCode: [4, 6],
  originalEntryTraceNumber: [7, 21],
  dateOfDeath: [22, 27],
  originalReceivingDfi: [28, 35],
  addendaInformation: [36, 79],
  traceNumber: [80, 94],
})

/**
 * Notification-of-change addenda (SEC code COR: the RDFI posted the entry but tells the originator to
 * correct the receiver's details before the next one), after moov-io/ach addenda98.go (Parse/String)
 * and its docs/changes.md: change code (C01 ..), the trace number of the entry we sent, 6 reserved
 * blanks, the original RDFI (8 digits), 29 characters of corrected data (laid out per change code:
 * returns/noc.ts), 15 reserved blanks, and the trace number of the COR entry itself.
 */
export const ADDENDA_98 = fields({
  recordType: [1, 1],
  addendaTypeCode: [2, 3],
  changeCode: [4, 6],
  originalEntryTraceNumber: [7, 21],
  reserved: [22, 27],
  originalReceivingDfi: [28, 35],
  correctedData: [36, 64],
  reservedAfterCorrectedData: [65, 79],
  traceNumber: [80, 94],
})

export const BATCH_CONTROL = fields({
  recordType: [1, 1],
  serviceClassCode: [2, 4],
  entryAddendaCount: [5, 10],
  entryHash: [11, 20],
  totalDebit: [21, 32],
  totalCredit: [33, 44],
  companyIdentification: [45, 54],
  messageAuthenticationCode: [55, 73],
  reserved: [74, 79],
  originatingDfi: [80, 87],
  batchNumber: [88, 94],
})

export const FILE_CONTROL = fields({
  recordType: [1, 1],
  batchCount: [2, 7],
  blockCount: [8, 13],
  entryAddendaCount: [14, 21],
  entryHash: [22, 31],
  totalDebit: [32, 43],
  totalCredit: [44, 55],
  reserved: [56, 94],
})

export function width(field: Field): number {
  return field.to - field.from + 1
}

export function slice(record: string, field: Field): string {
  return record.slice(field.from - 1, field.to)
}

/** Numeric: right-justified, zero-filled, unsigned. Throws when the value does not fit (never truncates money). */
export function numeric(value: number | bigint | string, field: Field): string {
  const digits = typeof value === 'string' ? value : value.toString()
  if (!/^[0-9]+$/.test(digits)) throw new RangeError(`${field.name}: ${digits} is not an unsigned integer`)
  if (digits.length > width(field)) throw new RangeError(`${field.name}: ${digits} does not fit in ${width(field)} digits`)
  return digits.padStart(width(field), '0')
}

/** Alphanumeric: left-justified, space-filled. Throws when the text is too long or not printable ASCII. */
export function alpha(value: string, field: Field): string {
  if (!PRINTABLE.test(value)) throw new RangeError(`${field.name}: only printable ASCII (0x20-0x7E) is allowed`)
  if (value.length > width(field)) throw new RangeError(`${field.name}: "${value}" is longer than ${width(field)} characters`)
  return value.padEnd(width(field), ' ')
}

/** Lays fields out into one 94-character record; each value must already be exactly its field's width. */
export function record(layout: Readonly<Record<string, Field>>, values: Readonly<Record<string, string>>): string {
  let out = ''
  for (const field of Object.values(layout)) {
    const value = values[field.name]
    if (value === undefined || value.length !== width(field)) {
      throw new Error(`internal: ${field.name} must be ${width(field)} characters, got ${JSON.stringify(value)}`)
    }
    out += value
  }
  if (out.length !== RECORD_LENGTH) throw new Error(`internal: record is ${out.length} characters`)
  return out
}

/**
 * Transaction codes: first digit = account kind (2 checking, 3 savings, 4 general ledger, 5 loan),
 * second digit = 1-4 credit (return/NOC, live, prenote, zero-dollar), 5-9 debit (5 only as loan
 * reversal 55; return/NOC, live, prenote, zero-dollar).
 */
export type EntryDirection = 'credit' | 'debit'

export function directionOf(transactionCode: string): EntryDirection | undefined {
  if (!/^[2-5][1-9]$/.test(transactionCode)) return undefined
  const second = Number(transactionCode[1])
  if (second === 5) return transactionCode === '55' ? 'debit' : undefined
  return second <= 4 ? 'credit' : 'debit'
}

/** Entry hash: the 8-digit RDFI identifications summed, rightmost 10 digits kept. */
export function entryHash(receivingDfis: readonly string[]): number {
  let sum = 0
  for (const dfi of receivingDfis) sum = (sum + Number(dfi)) % 10_000_000_000
  return sum
}

/** YYMMDD -> ISO date, or undefined when it is not a calendar date. Two-digit years are 20YY. */
export function isoFromYymmdd(yymmdd: string): string | undefined {
  if (!/^[0-9]{6}$/.test(yymmdd)) return undefined
  const iso = `20${yymmdd.slice(0, 2)}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`
  return isCalendarDate(iso) ? iso : undefined
}

export function isCalendarDate(iso: string): boolean {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(iso)) return false
  const date = new Date(`${iso}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso
}

/** `yyyy-mm-dd` -> the `YYMMDD` NACHA dates carry */
export const yymmdd = (iso: string) => iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10)

/** The file header (record 1): the same for an originated file and a return file. */
export function fileHeaderRecord(h: {
  immediateDestination: string
  immediateOrigin: string
  fileCreationDate: string
  fileCreationTime: string
  fileIdModifier: string
  immediateDestinationName: string
  immediateOriginName: string
  referenceCode: string
}): string {
  return record(FILE_HEADER, {
    recordType: '1',
    priorityCode: '01',
    immediateDestination: h.immediateDestination,
    immediateOrigin: h.immediateOrigin,
    fileCreationDate: yymmdd(h.fileCreationDate),
    fileCreationTime: h.fileCreationTime.replace(':', ''),
    fileIdModifier: h.fileIdModifier,
    recordSize: numeric(RECORD_LENGTH, FILE_HEADER.recordSize),
    blockingFactor: numeric(BLOCKING_FACTOR, FILE_HEADER.blockingFactor),
    formatCode: '1',
    immediateDestinationName: alpha(h.immediateDestinationName, FILE_HEADER.immediateDestinationName),
    immediateOriginName: alpha(h.immediateOriginName, FILE_HEADER.immediateOriginName),
    referenceCode: alpha(h.referenceCode, FILE_HEADER.referenceCode),
  })
}

/**
 * Appends the file control (record 9) to `lines` (every record so far) and pads with all-9 records
 * to a multiple of the blocking factor; the block count includes the control and the padding.
 */
export function closeFile(lines: string[], totals: { batchCount: number; entryAddendaCount: number; entryHash: number; totalCredit: number | bigint }): void {
  lines.push(
    record(FILE_CONTROL, {
      recordType: '9',
      batchCount: numeric(totals.batchCount, FILE_CONTROL.batchCount),
      blockCount: numeric(Math.ceil((lines.length + 1) / BLOCKING_FACTOR), FILE_CONTROL.blockCount),
      entryAddendaCount: numeric(totals.entryAddendaCount, FILE_CONTROL.entryAddendaCount),
      entryHash: numeric(totals.entryHash, FILE_CONTROL.entryHash),
      totalDebit: numeric(0, FILE_CONTROL.totalDebit),
      totalCredit: numeric(totals.totalCredit, FILE_CONTROL.totalCredit),
      reserved: ' '.repeat(39),
    }),
  )
  while (lines.length % BLOCKING_FACTOR !== 0) lines.push('9'.repeat(RECORD_LENGTH))
}
