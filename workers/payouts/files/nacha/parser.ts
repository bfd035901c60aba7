/**
 * NACHA ACH file reader and structural check (payouts.md §1): 94-character records, record order
 * 1 (5 (6 7*)+ 8)* 9 then all-9 padding, blocking to 10, batch and file control counts, entry hashes
 * and totals recomputed from the entries, routing check digits; addenda 05, 98 (notification of
 * change, COR batches only) and 99 (return) read into typed records. It collects every error it can name
 * (line, field, message) instead of stopping at the first; fields of a record with the wrong length
 * are not read, and totals that depend on such a record are not compared.
 * Hand-written for the same reason as the writer: no installed package reads NACHA.
 * @module
 */
import { isValidRoutingNumber } from '../../../payments/bank/iban'
import {
  ADDENDA_05,
  ADDENDA_98,
  ADDENDA_99,
  BATCH_CONTROL,
  BATCH_HEADER,
  BLOCKING_FACTOR,
  ENTRY_DETAIL,
  FILE_CONTROL,
  FILE_HEADER,
  RECORD_LENGTH,
  type EntryDirection,
  type Field,
  directionOf,
  entryHash,
  isoFromYymmdd,
  slice,
} from './layout'

export interface NachaParseError {
  /** 1-based line number; the last line for errors about the file as a whole. */
  line: number
  /** Layout field name, or `record` / `file`. */
  field: string
  message: string
}

export interface NachaFileHeader {
  immediateDestination: string
  immediateOrigin: string
  /** ISO date (20YY). */
  fileCreationDate: string
  /** HH:MM, or '' when the optional time is blank. */
  fileCreationTime: string
  fileIdModifier: string
  immediateDestinationName: string
  immediateOriginName: string
  referenceCode: string
}

export interface NachaAddenda {
  line: number
  addendaTypeCode: string
  paymentRelatedInformation: string
  addendaSequenceNumber: number
  entryDetailSequenceNumber: string
  /** addenda type 99 only: the return this entry carries */
  return?: NachaReturnAddenda
  /** addenda type 98 only: the correction this notification of change carries */
  change?: NachaChangeAddenda
}

/** What an addenda 98 (notification of change, SEC code COR) says (layout.ts ADDENDA_98). */
export interface NachaChangeAddenda {
  /** `C01` .. */
  changeCode: string
  /** trace number of the entry we originated: how a notification finds its payout */
  originalEntryTraceNumber: string
  /** RDFI identification (8 digits) of the original entry */
  originalReceivingDfi: string
  /**
   * The 29 characters as written, trailing blanks kept: where each value sits inside depends on the
   * change code (C03 puts the account at positions 13-29, C06 the transaction code at 21-22, ...).
   */
  correctedData: string
  /** trace number of the COR entry (= its entry detail's) */
  traceNumber: string
}

/** What an addenda 99 says about a returned entry (layout.ts ADDENDA_99). */
export interface NachaReturnAddenda {
  /** `R01` .. `R85` */
  returnReasonCode: string
  /** trace number of the entry we originated: how a return finds its payout */
  originalEntryTraceNumber: string
  /** ISO date, R14/R15 only; null when blank */
  dateOfDeath: string | null
  /** RDFI identification (8 digits) of the original entry */
  originalReceivingDfi: string
  addendaInformation: string
  /** trace number of the return entry (= its entry detail's) */
  traceNumber: string
}

export interface NachaEntry {
  line: number
  transactionCode: string
  direction: EntryDirection
  /** 9-digit routing number (RDFI id + check digit). */
  receivingDfi: string
  accountNumber: string
  amountMinor: number
  individualId: string
  individualName: string
  discretionaryData: string
  traceNumber: string
  addendaIndicator: '0' | '1'
  addenda: NachaAddenda[]
}

export interface NachaTotals {
  entryAddendaCount: number
  entryHash: number
  totalDebitMinor: number
  totalCreditMinor: number
}

export interface NachaBatch {
  line: number
  serviceClassCode: string
  companyName: string
  companyDiscretionaryData: string
  companyIdentification: string
  secCode: string
  companyEntryDescription: string
  companyDescriptiveDate: string
  /** ISO date (20YY). */
  effectiveEntryDate: string
  settlementDate: string
  originatorStatusCode: string
  originatingDfi: string
  batchNumber: number
  entries: NachaEntry[]
  control: NachaTotals
}

export interface NachaFile {
  header: NachaFileHeader
  batches: NachaBatch[]
  control: NachaTotals & { batchCount: number; blockCount: number }
  /** Records including padding; a multiple of 10. */
  recordCount: number
}

export type NachaParseResult = { ok: true; file: NachaFile } | { ok: false; errors: NachaParseError[] }

const PADDING = '9'.repeat(RECORD_LENGTH)
const ADDENDA_TYPES = new Set(['05', '98', '99'])

interface OpenBatch {
  batch: NachaBatch | undefined
  /** A record of this batch could not be read, so its totals are not compared. */
  damaged: boolean
  count: number
  rdfis: string[]
  debit: number
  credit: number
  lastTrace: string
}

/** Reads a NACHA file (LF or CRLF separated; a final separator is optional). */
export function parseNachaFile(text: string): NachaParseResult {
  const errors: NachaParseError[] = []
  const fail = (line: number, field: Field | string, message: string) =>
    errors.push({ line, field: typeof field === 'string' ? field : field.name, message })

  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  if (lines.length === 0) return { ok: false, errors: [{ line: 1, field: 'file', message: 'file is empty' }] }

  const readable = lines.map((line, i) => {
    if (line.length !== RECORD_LENGTH) {
      fail(i + 1, 'record', `record is ${line.length} characters, expected ${RECORD_LENGTH}`)
      return false
    }
    const bad = line.search(/[^\x20-\x7E]/)
    if (bad >= 0) {
      fail(i + 1, 'record', `character 0x${line.charCodeAt(bad).toString(16)} at position ${bad + 1} is not printable ASCII`)
      return false
    }
    return true
  })

  // Field readers: each returns the value or undefined after recording an error.
  const digits = (n: number, line: string, field: Field): string | undefined => {
    const value = slice(line, field)
    if (/^[0-9]+$/.test(value)) return value
    fail(n, field, `"${value}" must be ${field.to - field.from + 1} digits`)
    return undefined
  }
  const exactly = (n: number, line: string, field: Field, expected: string) => {
    const value = slice(line, field)
    if (value !== expected) fail(n, field, `"${value}" must be "${expected}"`)
  }
  const date = (n: number, line: string, field: Field): string | undefined => {
    const value = slice(line, field)
    const iso = isoFromYymmdd(value)
    if (iso === undefined) fail(n, field, `"${value}" is not a YYMMDD date`)
    return iso
  }
  const alpha = (line: string, field: Field) => slice(line, field).trimEnd()

  let header: NachaFileHeader | undefined
  let headerSeen = false
  const batches: NachaBatch[] = []
  let open: OpenBatch | undefined
  let lastEntry: NachaEntry | undefined
  let fileControl: NachaFile['control'] | undefined
  let fileControlLine = 0
  let damaged = false
  let lastBatchNumber = 0

  const closeBatchMissingControl = (n: number) => {
    if (open === undefined) return
    fail(n, 'recordType', 'batch has no batch control (8) record before this one')
    open = undefined
    damaged = true
  }

  for (let i = 0; i < lines.length; i++) {
    const n = i + 1
    const line = lines[i]!
    const ok = readable[i]!
    const type = line.charAt(0)

    if (fileControl !== undefined || fileControlLine > 0) {
      // (a padding record of the wrong length has already been named above)
      if (ok && line !== PADDING) fail(n, 'record', 'only all-9 padding records may follow the file control record')
      continue
    }
    if (!headerSeen) {
      headerSeen = true
      if (type === '1') {
        if (ok) header = readFileHeader(n, line)
        if (header === undefined) damaged = true
        continue
      }
      // Read the record by its own type, so a missing header does not hide the errors after it.
      fail(n, FILE_HEADER.recordType, 'file must start with a file header (1) record')
      damaged = true
    }

    switch (type) {
      case '1':
        fail(n, FILE_HEADER.recordType, 'a file has exactly one file header record')
        break
      case '5': {
        closeBatchMissingControl(n)
        lastEntry = undefined
        const batch = ok ? readBatchHeader(n, line) : undefined
        if (batch !== undefined) {
          if (batch.batchNumber <= lastBatchNumber) fail(n, BATCH_HEADER.batchNumber, `batch number ${batch.batchNumber} does not ascend`)
          lastBatchNumber = Math.max(lastBatchNumber, batch.batchNumber)
        }
        open = { batch, damaged: batch === undefined, count: 0, rdfis: [], debit: 0, credit: 0, lastTrace: '' }
        if (batch === undefined) damaged = true
        break
      }
      case '6': {
        if (open === undefined) {
          fail(n, ENTRY_DETAIL.recordType, 'entry detail record outside a batch')
          damaged = true
          break
        }
        if (lastEntry !== undefined && lastEntry.addenda.length === 0 && lastEntry.addendaIndicator === '1') {
          fail(lastEntry.line, ENTRY_DETAIL.addendaIndicator, 'addenda indicator is 1 but no addenda record follows')
        }
        open.count += 1
        const entry = ok ? readEntry(n, line, open) : undefined
        lastEntry = entry
        if (entry === undefined) {
          open.damaged = true
          damaged = true
          break
        }
        open.rdfis.push(entry.receivingDfi.slice(0, 8))
        if (entry.direction === 'debit') open.debit += entry.amountMinor
        else open.credit += entry.amountMinor
        open.batch?.entries.push(entry)
        break
      }
      case '7': {
        if (open === undefined || (lastEntry === undefined && !open.damaged)) {
          fail(n, ADDENDA_05.recordType, 'addenda record without an entry detail record before it')
          damaged = true
          break
        }
        open.count += 1
        if (!ok || lastEntry === undefined) {
          open.damaged = true
          damaged = true
          break
        }
        readAddenda(n, line, lastEntry, open.batch?.secCode)
        break
      }
      case '8': {
        if (open === undefined) {
          fail(n, BATCH_CONTROL.recordType, 'batch control record without a batch header')
          damaged = true
          break
        }
        if (lastEntry !== undefined && lastEntry.addenda.length === 0 && lastEntry.addendaIndicator === '1') {
          fail(lastEntry.line, ENTRY_DETAIL.addendaIndicator, 'addenda indicator is 1 but no addenda record follows')
        }
        if (open.count === 0) fail(n, BATCH_CONTROL.recordType, 'batch has no entry detail records')
        if (ok) readBatchControl(n, line, open)
        else damaged = true
        if (open.batch !== undefined && !open.damaged && ok) batches.push(open.batch)
        else damaged = true
        open = undefined
        lastEntry = undefined
        break
      }
      case '9': {
        closeBatchMissingControl(n)
        fileControlLine = n
        if (line === PADDING) {
          fail(n, FILE_CONTROL.recordType, 'padding record where the file control record belongs')
          damaged = true
        } else {
          fileControl = ok ? readFileControl(n, line) : undefined
          if (fileControl === undefined) damaged = true
        }
        break
      }
      default:
        fail(n, 'recordType', `unknown record type "${type}"`)
        damaged = true
    }
  }

  const last = lines.length
  if (open !== undefined) closeBatchMissingControl(last)
  if (fileControlLine === 0) fail(last, FILE_CONTROL.recordType, 'file has no file control (9) record')
  if (lines.length % BLOCKING_FACTOR !== 0) {
    fail(last, 'file', `${lines.length} records is not a multiple of the blocking factor ${BLOCKING_FACTOR}`)
  }
  if (fileControlLine > 0 && lines.length - fileControlLine >= BLOCKING_FACTOR) {
    fail(last, 'file', 'more padding records than needed to complete the last block')
  }

  if (fileControl !== undefined && !damaged) {
    const n = fileControlLine
    const totals = {
      batchCount: batches.length,
      blockCount: Math.ceil(lines.length / BLOCKING_FACTOR),
      entryAddendaCount: batches.reduce((sum, b) => sum + b.control.entryAddendaCount, 0),
      entryHash: batches.reduce((sum, b) => (sum + b.control.entryHash) % 10_000_000_000, 0),
      totalDebitMinor: batches.reduce((sum, b) => sum + b.control.totalDebitMinor, 0),
      totalCreditMinor: batches.reduce((sum, b) => sum + b.control.totalCreditMinor, 0),
    }
    compare(n, FILE_CONTROL.batchCount, fileControl.batchCount, totals.batchCount)
    compare(n, FILE_CONTROL.blockCount, fileControl.blockCount, totals.blockCount)
    compare(n, FILE_CONTROL.entryAddendaCount, fileControl.entryAddendaCount, totals.entryAddendaCount)
    compare(n, FILE_CONTROL.entryHash, fileControl.entryHash, totals.entryHash)
    compare(n, FILE_CONTROL.totalDebit, fileControl.totalDebitMinor, totals.totalDebitMinor)
    compare(n, FILE_CONTROL.totalCredit, fileControl.totalCreditMinor, totals.totalCreditMinor)
  }

  if (errors.length > 0 || header === undefined || fileControl === undefined) {
    errors.sort((a, b) => a.line - b.line)
    return { ok: false, errors }
  }
  return { ok: true, file: { header, batches, control: fileControl, recordCount: lines.length } }

  function compare(n: number, field: Field, stated: number, computed: number) {
    if (stated !== computed) fail(n, field, `states ${stated}, the records add up to ${computed}`)
  }

  function readFileHeader(n: number, line: string): NachaFileHeader | undefined {
    const before = errors.length
    exactly(n, line, FILE_HEADER.priorityCode, '01')
    const destination = slice(line, FILE_HEADER.immediateDestination)
    if (!/^( [0-9]{9}|[0-9]{10})$/.test(destination)) {
      fail(n, FILE_HEADER.immediateDestination, `"${destination}" must be a blank and a 9-digit routing number`)
    } else if (!isValidRoutingNumber(destination.slice(1))) {
      fail(n, FILE_HEADER.immediateDestination, `routing number ${destination.slice(1)} has a wrong check digit`)
    }
    const origin = slice(line, FILE_HEADER.immediateOrigin)
    if (!/^( [0-9]{9}|[0-9]{10})$/.test(origin)) fail(n, FILE_HEADER.immediateOrigin, `"${origin}" must be 10 digits or a blank and 9 digits`)
    const created = date(n, line, FILE_HEADER.fileCreationDate)
    const time = slice(line, FILE_HEADER.fileCreationTime)
    if (time !== '    ' && !/^([01][0-9]|2[0-3])[0-5][0-9]$/.test(time)) fail(n, FILE_HEADER.fileCreationTime, `"${time}" is not HHMM`)
    const modifier = slice(line, FILE_HEADER.fileIdModifier)
    if (!/^[A-Z0-9]$/.test(modifier)) fail(n, FILE_HEADER.fileIdModifier, `"${modifier}" must be A-Z or 0-9`)
    exactly(n, line, FILE_HEADER.recordSize, '094')
    exactly(n, line, FILE_HEADER.blockingFactor, '10')
    exactly(n, line, FILE_HEADER.formatCode, '1')
    if (errors.length > before || created === undefined) return undefined
    return {
      immediateDestination: destination.trim(),
      immediateOrigin: origin.trim(),
      fileCreationDate: created,
      fileCreationTime: time === '    ' ? '' : `${time.slice(0, 2)}:${time.slice(2)}`,
      fileIdModifier: modifier,
      immediateDestinationName: alpha(line, FILE_HEADER.immediateDestinationName),
      immediateOriginName: alpha(line, FILE_HEADER.immediateOriginName),
      referenceCode: alpha(line, FILE_HEADER.referenceCode),
    }
  }

  function readBatchHeader(n: number, line: string): NachaBatch | undefined {
    const before = errors.length
    const serviceClassCode = slice(line, BATCH_HEADER.serviceClassCode)
    if (!['200', '220', '225'].includes(serviceClassCode)) fail(n, BATCH_HEADER.serviceClassCode, `"${serviceClassCode}" must be 200, 220 or 225`)
    const secCode = slice(line, BATCH_HEADER.standardEntryClassCode)
    if (!/^[A-Z]{3}$/.test(secCode)) fail(n, BATCH_HEADER.standardEntryClassCode, `"${secCode}" is not a standard entry class code`)
    else if (secCode === 'IAT') fail(n, BATCH_HEADER.standardEntryClassCode, 'IAT batches (a different layout) are not supported')
    const effective = date(n, line, BATCH_HEADER.effectiveEntryDate)
    const settlement = slice(line, BATCH_HEADER.settlementDate)
    if (!/^(   |[0-9]{3})$/.test(settlement)) fail(n, BATCH_HEADER.settlementDate, `"${settlement}" must be blank or a Julian day`)
    const status = slice(line, BATCH_HEADER.originatorStatusCode)
    if (!/^[0-2]$/.test(status)) fail(n, BATCH_HEADER.originatorStatusCode, `"${status}" must be 0, 1 or 2`)
    const odfi = digits(n, line, BATCH_HEADER.originatingDfi)
    const batchNumber = digits(n, line, BATCH_HEADER.batchNumber)
    if (errors.length > before || effective === undefined || odfi === undefined || batchNumber === undefined) return undefined
    return {
      line: n,
      serviceClassCode,
      companyName: alpha(line, BATCH_HEADER.companyName),
      companyDiscretionaryData: alpha(line, BATCH_HEADER.companyDiscretionaryData),
      companyIdentification: alpha(line, BATCH_HEADER.companyIdentification),
      secCode,
      companyEntryDescription: alpha(line, BATCH_HEADER.companyEntryDescription),
      companyDescriptiveDate: alpha(line, BATCH_HEADER.companyDescriptiveDate),
      effectiveEntryDate: effective,
      settlementDate: settlement.trim(),
      originatorStatusCode: status,
      originatingDfi: odfi,
      batchNumber: Number(batchNumber),
      entries: [],
      control: { entryAddendaCount: 0, entryHash: 0, totalDebitMinor: 0, totalCreditMinor: 0 },
    }
  }

  function readEntry(n: number, line: string, batch: OpenBatch): NachaEntry | undefined {
    const before = errors.length
    const code = slice(line, ENTRY_DETAIL.transactionCode)
    const direction = directionOf(code)
    if (direction === undefined) fail(n, ENTRY_DETAIL.transactionCode, `"${code}" is not a transaction code`)
    const serviceClass = batch.batch?.serviceClassCode
    if (direction === 'debit' && serviceClass === '220') fail(n, ENTRY_DETAIL.transactionCode, `debit ${code} in a credits-only (220) batch`)
    if (direction === 'credit' && serviceClass === '225') fail(n, ENTRY_DETAIL.transactionCode, `credit ${code} in a debits-only (225) batch`)
    const rdfi = digits(n, line, ENTRY_DETAIL.receivingDfi)
    const check = digits(n, line, ENTRY_DETAIL.checkDigit)
    if (rdfi !== undefined && check !== undefined && !isValidRoutingNumber(rdfi + check)) {
      fail(n, ENTRY_DETAIL.checkDigit, `check digit ${check} is wrong for RDFI ${rdfi}`)
    }
    const account = alpha(line, ENTRY_DETAIL.dfiAccountNumber)
    if (account.trim() === '') fail(n, ENTRY_DETAIL.dfiAccountNumber, 'account number is blank')
    const amount = digits(n, line, ENTRY_DETAIL.amount)
    const indicator = slice(line, ENTRY_DETAIL.addendaIndicator)
    if (indicator !== '0' && indicator !== '1') fail(n, ENTRY_DETAIL.addendaIndicator, `"${indicator}" must be 0 or 1`)
    const trace = digits(n, line, ENTRY_DETAIL.traceNumber)
    if (trace !== undefined && batch.batch !== undefined && trace.slice(0, 8) !== batch.batch.originatingDfi) {
      fail(n, ENTRY_DETAIL.traceNumber, `trace number ${trace} does not start with the ODFI ${batch.batch.originatingDfi}`)
    }
    if (trace !== undefined && batch.lastTrace !== '' && trace <= batch.lastTrace) {
      fail(n, ENTRY_DETAIL.traceNumber, `trace number ${trace} does not ascend within the batch`)
    }
    if (trace !== undefined) batch.lastTrace = trace
    if (errors.length > before || direction === undefined || rdfi === undefined || check === undefined || amount === undefined || trace === undefined) {
      return undefined
    }
    return {
      line: n,
      transactionCode: code,
      direction,
      receivingDfi: rdfi + check,
      accountNumber: account.trim(),
      amountMinor: Number(amount),
      individualId: alpha(line, ENTRY_DETAIL.individualId),
      individualName: alpha(line, ENTRY_DETAIL.individualName),
      discretionaryData: alpha(line, ENTRY_DETAIL.discretionaryData),
      traceNumber: trace,
      addendaIndicator: indicator === '1' ? '1' : '0',
      addenda: [],
    }
  }

  function readAddenda(n: number, line: string, entry: NachaEntry, secCode: string | undefined): void {
    if (entry.addendaIndicator === '0') {
      fail(n, ADDENDA_05.recordType, `addenda record after entry on line ${entry.line}, whose addenda indicator is 0`)
      return
    }
    const type = slice(line, ADDENDA_05.addendaTypeCode)
    if (!ADDENDA_TYPES.has(type)) {
      fail(n, ADDENDA_05.addendaTypeCode, `addenda type "${type}" is not allowed here (05, 98 or 99)`)
      return
    }
    if (type === '99') {
      readReturnAddenda(n, line, entry)
      return
    }
    if (type === '98') {
      readChangeAddenda(n, line, entry, secCode)
      return
    }
    const sequence = digits(n, line, ADDENDA_05.addendaSequenceNumber)
    const entrySequence = digits(n, line, ADDENDA_05.entryDetailSequenceNumber)
    if (sequence !== undefined && Number(sequence) !== entry.addenda.length + 1) {
      fail(n, ADDENDA_05.addendaSequenceNumber, `addenda sequence ${Number(sequence)}, expected ${entry.addenda.length + 1}`)
    }
    if (entrySequence !== undefined && entrySequence !== entry.traceNumber.slice(8)) {
      fail(n, ADDENDA_05.entryDetailSequenceNumber, `${entrySequence} does not match the entry's trace sequence ${entry.traceNumber.slice(8)}`)
    }
    entry.addenda.push({
      line: n,
      addendaTypeCode: type,
      paymentRelatedInformation: alpha(line, ADDENDA_05.paymentRelatedInformation),
      addendaSequenceNumber: Number(sequence ?? 0),
      entryDetailSequenceNumber: entrySequence ?? '',
    })
  }

  function readReturnAddenda(n: number, line: string, entry: NachaEntry): void {
    const before = errors.length
    const code = slice(line, ADDENDA_99.returnReasonCode)
    if (!/^R[0-9A-Z]{2}$/.test(code)) fail(n, ADDENDA_99.returnReasonCode, `"${code}" is not a return reason code (R01 ..)`)
    const original = digits(n, line, ADDENDA_99.originalEntryTraceNumber)
    const death = slice(line, ADDENDA_99.dateOfDeath)
    let dateOfDeath: string | null = null
    if (death.trim() !== '') {
      dateOfDeath = isoFromYymmdd(death) ?? null
      if (dateOfDeath === null) fail(n, ADDENDA_99.dateOfDeath, `"${death}" must be blank or a YYMMDD date`)
    }
    const rdfi = digits(n, line, ADDENDA_99.originalReceivingDfi)
    const trace = digits(n, line, ADDENDA_99.traceNumber)
    if (trace !== undefined && trace !== entry.traceNumber) fail(n, ADDENDA_99.traceNumber, `${trace} does not match the entry's trace number ${entry.traceNumber}`)
    if (entry.addenda.length > 0) fail(n, ADDENDA_99.addendaTypeCode, 'a return entry carries exactly one addenda 99')
    if (errors.length > before || original === undefined || rdfi === undefined || trace === undefined) {
      // present but unreadable: counted as the entry's addenda, so the indicator is not blamed too
      entry.addenda.push({ line: n, addendaTypeCode: '99', paymentRelatedInformation: '', addendaSequenceNumber: 1, entryDetailSequenceNumber: entry.traceNumber.slice(8) })
      return
    }
    entry.addenda.push({
      line: n,
      addendaTypeCode: '99',
      paymentRelatedInformation: '',
      addendaSequenceNumber: 1,
      entryDetailSequenceNumber: trace.slice(8),
      return: {
        returnReasonCode: code,
        originalEntryTraceNumber: original,
        dateOfDeath,
        originalReceivingDfi: rdfi,
        addendaInformation: alpha(line, ADDENDA_99.addendaInformation).trim(),
        traceNumber: trace,
      },
    })
  }

  function readChangeAddenda(n: number, line: string, entry: NachaEntry, secCode: string | undefined): void {
    const before = errors.length
    // Notifications of change travel in COR batches only; a 98 elsewhere means the file is not what it claims.
    if (secCode !== undefined && secCode !== 'COR') fail(n, ADDENDA_98.addendaTypeCode, `addenda 98 (notification of change) in a ${secCode} batch: only COR batches carry them`)
    const code = slice(line, ADDENDA_98.changeCode)
    if (!/^C[0-9]{2}$/.test(code)) fail(n, ADDENDA_98.changeCode, `"${code}" is not a change code (C01 ..)`)
    const original = digits(n, line, ADDENDA_98.originalEntryTraceNumber)
    const rdfi = digits(n, line, ADDENDA_98.originalReceivingDfi)
    const correctedData = slice(line, ADDENDA_98.correctedData)
    if (correctedData.trim() === '') fail(n, ADDENDA_98.correctedData, 'corrected data is blank')
    // The two reserved fields are not checked: nothing is read from them, and a bank that fills them
    // should not stop a correction we are obliged to make.
    const trace = digits(n, line, ADDENDA_98.traceNumber)
    if (trace !== undefined && trace !== entry.traceNumber) fail(n, ADDENDA_98.traceNumber, `${trace} does not match the entry's trace number ${entry.traceNumber}`)
    if (entry.addenda.length > 0) fail(n, ADDENDA_98.addendaTypeCode, 'a notification of change entry carries exactly one addenda 98')
    const base = { line: n, addendaTypeCode: '98', paymentRelatedInformation: '', addendaSequenceNumber: 1, entryDetailSequenceNumber: entry.traceNumber.slice(8) }
    if (errors.length > before || original === undefined || rdfi === undefined || trace === undefined) {
      // present but unreadable: counted as the entry's addenda, so the indicator is not blamed too
      entry.addenda.push(base)
      return
    }
    entry.addenda.push({
      ...base,
      entryDetailSequenceNumber: trace.slice(8),
      change: { changeCode: code, originalEntryTraceNumber: original, originalReceivingDfi: rdfi, correctedData, traceNumber: trace },
    })
  }

  function readBatchControl(n: number, line: string, batch: OpenBatch): void {
    const count = digits(n, line, BATCH_CONTROL.entryAddendaCount)
    const hash = digits(n, line, BATCH_CONTROL.entryHash)
    const debit = digits(n, line, BATCH_CONTROL.totalDebit)
    const credit = digits(n, line, BATCH_CONTROL.totalCredit)
    const header = batch.batch
    if (header !== undefined) {
      exactly(n, line, BATCH_CONTROL.serviceClassCode, header.serviceClassCode)
      exactly(n, line, BATCH_CONTROL.companyIdentification, slice(lines[header.line - 1]!, BATCH_HEADER.companyIdentification))
      exactly(n, line, BATCH_CONTROL.originatingDfi, header.originatingDfi)
      exactly(n, line, BATCH_CONTROL.batchNumber, slice(lines[header.line - 1]!, BATCH_HEADER.batchNumber))
    } else {
      digits(n, line, BATCH_CONTROL.originatingDfi)
      digits(n, line, BATCH_CONTROL.batchNumber)
    }
    if (count === undefined || hash === undefined || debit === undefined || credit === undefined) {
      batch.damaged = true
      return
    }
    if (header === undefined) return
    header.control = {
      entryAddendaCount: Number(count),
      entryHash: Number(hash),
      totalDebitMinor: Number(debit),
      totalCreditMinor: Number(credit),
    }
    if (batch.damaged) return
    compare(n, BATCH_CONTROL.entryAddendaCount, Number(count), batch.count)
    compare(n, BATCH_CONTROL.entryHash, Number(hash), entryHash(batch.rdfis))
    compare(n, BATCH_CONTROL.totalDebit, Number(debit), batch.debit)
    compare(n, BATCH_CONTROL.totalCredit, Number(credit), batch.credit)
  }

  function readFileControl(n: number, line: string): NachaFile['control'] | undefined {
    const values = [
      digits(n, line, FILE_CONTROL.batchCount),
      digits(n, line, FILE_CONTROL.blockCount),
      digits(n, line, FILE_CONTROL.entryAddendaCount),
      digits(n, line, FILE_CONTROL.entryHash),
      digits(n, line, FILE_CONTROL.totalDebit),
      digits(n, line, FILE_CONTROL.totalCredit),
    ]
    if (slice(line, FILE_CONTROL.reserved).trim() !== '') fail(n, FILE_CONTROL.reserved, 'reserved positions 56-94 must be blank')
    if (values.some((v) => v === undefined)) return undefined
    const [batchCount, blockCount, entryAddendaCount, hash, debit, credit] = values.map(Number) as [number, number, number, number, number, number]
    return { batchCount, blockCount, entryAddendaCount, entryHash: hash, totalDebitMinor: debit, totalCreditMinor: credit }
  }
}
