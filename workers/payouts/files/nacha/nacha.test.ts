/**
 * NACHA writer and parser: generated PPD (PAYROLL) and CCD files round-trip with exact totals, hashes
 * and blocking; a CCD file is compared with a record written out by hand from the payouts.md §1
 * table; the Nacha 2026 PAYROLL rule and field widths are enforced; the moov-io/ach samples in
 * shared/data are read (valid) and rejected with the offending line named (invalid).
 */
import { describe, expect, it } from 'vitest'
import ccdDebit from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/ccd-debit.ach?raw'
import ppdCredit from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/ppd-credit.ach?raw'
import ppdDebit from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/ppd-debit.ach?raw'
import ppdMixed from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/ppd-mixedDebitCredit.ach?raw'
import sameDay from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/same-day-ach-ppd-credit.ach?raw'
import webCredit from '../../../../../shared/data/payments/nacha/moov-io-ach/valid/web-credit.ach?raw'
import bad2011 from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/20110729A-invalid.ach?raw'
import longLine from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/long-line.ach?raw'
import oneLine from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/ppd-debit-fixedLengthInvalid.ach?raw'
import badCheckDigit from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/ppd-debit-invalid-entryDetail-checkDigit.ach?raw'
import badOrigin from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/ppd-mixedDebitCredit-invalid.ach?raw'
import shortLine from '../../../../../shared/data/payments/nacha/moov-io-ach/invalid/short-line.ach?raw'
import { type NachaFile, type NachaParseError, parseNachaFile } from './parser'
import { type NachaBatchInput, type NachaFileInput, NachaWriteError, writeNachaFile } from './writer'

/** 1-based inclusive positions, as in the Nacha tables. */
const at = (record: string, from: number, to: number) => record.slice(from - 1, to)

function parsed(text: string): NachaFile {
  const result = parseNachaFile(text)
  if (!result.ok) throw new Error(`expected a valid file, got ${JSON.stringify(result.errors)}`)
  return result.file
}

function rejected(text: string): NachaParseError[] {
  const result = parseNachaFile(text)
  if (result.ok) throw new Error('expected the file to be rejected')
  return result.errors
}

function refused(input: NachaFileInput): NachaWriteError {
  try {
    writeNachaFile(input)
  } catch (error) {
    if (error instanceof NachaWriteError) return error
    throw error
  }
  throw new Error('expected the writer to refuse the input')
}

const ODFI = '02100002' // JPMorgan Chase NY 021000021, first 8 digits

function ppdPayroll(overrides: Partial<NachaBatchInput> = {}): NachaBatchInput {
  return {
    secCode: 'PPD',
    compensation: true,
    companyName: 'FANZ CREATORS',
    companyIdentification: '1234567890',
    companyEntryDescription: 'PAYROLL',
    companyDescriptiveDate: 'MAR 26',
    effectiveEntryDate: '2026-04-01',
    originatingDfi: ODFI,
    entries: [
      { transactionCode: '22', receivingDfi: '011000015', accountNumber: '12345678901', amountMinor: 125_000, individualId: 'crt_0001', individualName: 'ALICE EXAMPLE' },
      { transactionCode: '32', receivingDfi: '231380104', accountNumber: '987654321', amountMinor: 9_999, individualId: 'crt_0002', individualName: 'BOB EXAMPLE', paymentInformation: 'FANZ PAYOUT MARCH 2026' },
      { transactionCode: '22', receivingDfi: '121042882', accountNumber: '555', amountMinor: 1, individualId: 'crt_0003', individualName: 'CAROL EXAMPLE' },
    ],
    ...overrides,
  }
}

function fileWith(batches: NachaBatchInput[], overrides: Partial<NachaFileInput> = {}): NachaFileInput {
  return {
    immediateDestination: '021000021',
    immediateOrigin: '1234567890',
    immediateDestinationName: 'JPMORGAN CHASE',
    immediateOriginName: 'FANZ PLATFORM INC',
    fileCreationDate: '2026-03-30',
    fileCreationTime: '09:30',
    fileIdModifier: 'A',
    batches,
    ...overrides,
  }
}

describe('writeNachaFile + parseNachaFile', () => {
  it('round-trips a PPD PAYROLL file with exact totals, hash and blocking', () => {
    const text = writeNachaFile(fileWith([ppdPayroll()]))
    const lines = text.split('\n')
    expect(lines.pop()).toBe('') // every record ends with LF, the last one too
    expect(text.includes('\r')).toBe(false)
    // 1 + 5 + 3 entries + 1 addenda + 8 + 9 = 8 records, padded to 10
    expect(lines).toHaveLength(10)
    for (const line of lines) expect(line).toHaveLength(94)
    expect(lines.slice(8)).toEqual(['9'.repeat(94), '9'.repeat(94)])
    expect(lines.map((l) => l[0]).join('')).toBe('1566768999')

    const batchHeader = lines[1]!
    expect(at(batchHeader, 2, 4)).toBe('220')
    expect(at(batchHeader, 5, 20)).toBe('FANZ CREATORS   ')
    expect(at(batchHeader, 41, 50)).toBe('1234567890')
    expect(at(batchHeader, 51, 53)).toBe('PPD')
    expect(at(batchHeader, 54, 63)).toBe('PAYROLL   ')
    expect(at(batchHeader, 64, 69)).toBe('MAR 26')
    expect(at(batchHeader, 70, 75)).toBe('260401')
    expect(at(batchHeader, 76, 78)).toBe('   ')
    expect(at(batchHeader, 80, 87)).toBe(ODFI)
    expect(at(batchHeader, 88, 94)).toBe('0000001')

    const second = lines[3]!
    expect(at(second, 2, 3)).toBe('32')
    expect(at(second, 4, 11)).toBe('23138010')
    expect(at(second, 12, 12)).toBe('4')
    expect(at(second, 13, 29)).toBe('987654321        ')
    expect(at(second, 30, 39)).toBe('0000009999')
    expect(at(second, 79, 79)).toBe('1')
    expect(at(second, 80, 94)).toBe('021000020000002')
    expect(at(lines[4]!, 1, 3)).toBe('705')
    expect(at(lines[4]!, 84, 94)).toBe('00010000002')

    // hash: 01100001 + 23138010 + 12104288 = 36342299; credits 125000 + 9999 + 1 = 135000
    const control = lines[6]!
    expect(at(control, 2, 4)).toBe('220')
    expect(at(control, 5, 10)).toBe('000004')
    expect(at(control, 11, 20)).toBe('0036342299')
    expect(at(control, 21, 32)).toBe('000000000000')
    expect(at(control, 33, 44)).toBe('000000135000')
    expect(at(control, 88, 94)).toBe('0000001')
    const fileControl = lines[7]!
    expect(at(fileControl, 2, 7)).toBe('000001')
    expect(at(fileControl, 8, 13)).toBe('000001')
    expect(at(fileControl, 14, 21)).toBe('00000004')
    expect(at(fileControl, 22, 31)).toBe('0036342299')
    expect(at(fileControl, 44, 55)).toBe('000000135000')

    const file = parsed(text)
    expect(file.recordCount).toBe(10)
    expect(file.control).toEqual({ batchCount: 1, blockCount: 1, entryAddendaCount: 4, entryHash: 36342299, totalDebitMinor: 0, totalCreditMinor: 135_000 })
    const [batch] = file.batches
    expect(batch?.companyEntryDescription).toBe('PAYROLL')
    expect(batch?.effectiveEntryDate).toBe('2026-04-01')
    expect(batch?.entries.map((e) => [e.transactionCode, e.receivingDfi, e.accountNumber, e.amountMinor, e.individualName, e.traceNumber])).toEqual([
      ['22', '011000015', '12345678901', 125_000, 'ALICE EXAMPLE', '021000020000001'],
      ['32', '231380104', '987654321', 9_999, 'BOB EXAMPLE', '021000020000002'],
      ['22', '121042882', '555', 1, 'CAROL EXAMPLE', '021000020000003'],
    ])
    expect(batch?.entries[1]?.addenda[0]?.paymentRelatedInformation).toBe('FANZ PAYOUT MARCH 2026')
    expect(file.header).toMatchObject({ immediateDestination: '021000021', immediateOrigin: '1234567890', fileCreationDate: '2026-03-30', fileCreationTime: '09:30', fileIdModifier: 'A' })
  })

  it('writes a CCD file record for record as laid out by hand from the spec table', () => {
    const text = writeNachaFile(
      fileWith(
        [
          {
            secCode: 'CCD',
            compensation: false,
            companyName: 'FANZ PLATFORM',
            companyIdentification: '1234567890',
            companyEntryDescription: 'VENDOR PAY',
            effectiveEntryDate: '2026-04-15',
            originatingDfi: ODFI,
            entries: [{ transactionCode: '22', receivingDfi: '011000015', accountNumber: 'ACME-001', amountMinor: 2_500_000, individualId: 'crt_0042', individualName: 'ACME STUDIOS LLC' }],
          },
        ],
        { immediateOrigin: '123456789', referenceCode: 'REF1', fileCreationDate: '2026-04-14', fileCreationTime: '17:05', fileIdModifier: 'B' },
      ),
    )
    const expected = [
      ['1', '01', ' 021000021', ' 123456789', '260414', '1705', 'B', '094', '10', '1', 'JPMORGAN CHASE         ', 'FANZ PLATFORM INC      ', 'REF1    '],
      ['5', '220', 'FANZ PLATFORM   ', ' '.repeat(20), '1234567890', 'CCD', 'VENDOR PAY', '      ', '260415', '   ', '1', '02100002', '0000001'],
      ['6', '22', '01100001', '5', 'ACME-001         ', '0002500000', 'crt_0042       ', 'ACME STUDIOS LLC      ', '  ', '0', '021000020000001'],
      ['8', '220', '000001', '0001100001', '000000000000', '000002500000', '1234567890', ' '.repeat(19), ' '.repeat(6), '02100002', '0000001'],
      ['9', '000001', '000001', '00000001', '0001100001', '000000000000', '000002500000', ' '.repeat(39)],
    ].map((parts) => parts.join(''))
    expect(text).toBe([...expected, ...Array<string>(5).fill('9'.repeat(94))].join('\n') + '\n')
    const file = parsed(text)
    expect(file.batches[0]?.secCode).toBe('CCD')
    expect(file.control.totalCreditMinor).toBe(2_500_000)
  })

  it('blocks to 10: exactly 10 records need no padding, 11 need nine padding records', () => {
    const entries = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ transactionCode: '22' as const, receivingDfi: '011000015', accountNumber: `ACC${i}`, amountMinor: 100 + i, individualName: `CREATOR ${i}` }))
    const ten = writeNachaFile(fileWith([ppdPayroll({ entries: entries(6) })]))
    expect(ten.split('\n').filter(Boolean)).toHaveLength(10)
    expect(ten.includes('9'.repeat(94))).toBe(false)
    expect(parsed(ten).control.blockCount).toBe(1)
    const twenty = writeNachaFile(fileWith([ppdPayroll({ entries: entries(7) })]))
    const lines = twenty.split('\n').filter(Boolean)
    expect(lines).toHaveLength(20)
    expect(lines.filter((l) => l === '9'.repeat(94))).toHaveLength(9)
    const file = parsed(twenty)
    expect(file.control).toMatchObject({ blockCount: 2, entryAddendaCount: 7, entryHash: 7 * 1100001, totalCreditMinor: 7 * 100 + 21 })
  })

  it('numbers batches and trace sequences through a two-batch file, and writes CRLF on request', () => {
    const ccd: NachaBatchInput = { ...ppdPayroll(), secCode: 'CCD', compensation: false, companyEntryDescription: 'VENDOR PAY' }
    const text = writeNachaFile(fileWith([ppdPayroll(), ccd], { lineEnding: '\r\n' }))
    expect(text.split('\r\n').slice(0, -1).every((l) => l.length === 94)).toBe(true)
    const file = parsed(text)
    expect(file.batches.map((b) => [b.batchNumber, b.secCode])).toEqual([[1, 'PPD'], [2, 'CCD']])
    expect(file.batches[1]?.entries.map((e) => e.traceNumber)).toEqual(['021000020000004', '021000020000005', '021000020000006'])
    expect(file.control).toMatchObject({ batchCount: 2, entryAddendaCount: 8, entryHash: 2 * 36342299, totalCreditMinor: 270_000 })
  })
})

describe('Nacha 2026 PAYROLL rule (PPD compensation credits)', () => {
  it('refuses a non-PAYROLL description effective on or after 2026-03-20', () => {
    const error = refused(fileWith([ppdPayroll({ companyEntryDescription: 'CREATORPAY', effectiveEntryDate: '2026-03-20' })], { fileCreationDate: '2026-03-19' }))
    expect(error.errors).toEqual([{ path: 'batches.0.companyEntryDescription', message: expect.stringContaining('PAYROLL') }])
    // case matters: the leftmost 7 characters must be PAYROLL
    expect(refused(fileWith([ppdPayroll({ companyEntryDescription: 'payroll' })])).errors[0]?.path).toBe('batches.0.companyEntryDescription')
    // a file created on the date binds even an earlier-dated batch
    expect(() => writeNachaFile(fileWith([ppdPayroll({ companyEntryDescription: 'CREATORPAY', effectiveEntryDate: '2026-03-19' })], { fileCreationDate: '2026-03-20' }))).toThrow(NachaWriteError)
  })

  it('allows it before the date, for non-compensation PPD, and for CCD', () => {
    const before = writeNachaFile(fileWith([ppdPayroll({ companyEntryDescription: 'CREATORPAY', effectiveEntryDate: '2026-03-19' })], { fileCreationDate: '2026-03-18' }))
    expect(at(before.split('\n')[1]!, 54, 63)).toBe('CREATORPAY')
    expect(() => writeNachaFile(fileWith([ppdPayroll({ companyEntryDescription: 'REFUND', compensation: false })]))).not.toThrow()
    expect(() => writeNachaFile(fileWith([ppdPayroll({ secCode: 'CCD', companyEntryDescription: 'VENDOR PAY' })]))).not.toThrow()
    expect(() => writeNachaFile(fileWith([ppdPayroll({ companyEntryDescription: 'PAYROLL MA' })]))).not.toThrow()
  })
})

describe('writer refusals', () => {
  const oneEntry = (entry: Partial<NachaBatchInput['entries'][number]>) =>
    fileWith([ppdPayroll({ entries: [{ transactionCode: '22', receivingDfi: '011000015', accountNumber: '1', amountMinor: 1, individualName: 'A', ...entry }] })])

  it('refuses amounts wider than the 10-digit field, and batch totals wider than 12 digits', () => {
    expect(refused(oneEntry({ amountMinor: 10_000_000_000 })).errors[0]?.path).toBe('batches.0.entries.0.amountMinor')
    const max = writeNachaFile(oneEntry({ amountMinor: 9_999_999_999 }))
    expect(at(max.split('\n')[2]!, 30, 39)).toBe('9999999999')
    expect(refused(oneEntry({ amountMinor: 12.5 })).errors[0]?.path).toBe('batches.0.entries.0.amountMinor')
    expect(refused(oneEntry({ amountMinor: 0 })).errors[0]?.path).toBe('batches.0.entries.0.amountMinor')
    const entries = Array.from({ length: 101 }, () => ({ transactionCode: '22' as const, receivingDfi: '011000015', accountNumber: '1', amountMinor: 9_999_999_999, individualName: 'A' }))
    const error = refused(fileWith([ppdPayroll({ entries })]))
    expect(error.errors[0]).toEqual({ path: 'file', message: expect.stringContaining('totalCredit') })
  })

  it('refuses bad routing numbers, over-long or non-ASCII text, debits and descending traces', () => {
    expect(refused(oneEntry({ receivingDfi: '011000016' })).errors[0]?.message).toMatch(/check digit/)
    expect(refused(oneEntry({ individualName: 'A'.repeat(23) })).errors[0]?.path).toBe('batches.0.entries.0.individualName')
    expect(refused(oneEntry({ individualName: 'ZOË' })).errors[0]?.message).toMatch(/ASCII/)
    expect(refused(oneEntry({ transactionCode: '27' as '22' })).errors[0]?.path).toBe('batches.0.entries.0.transactionCode')
    expect(refused(fileWith([ppdPayroll()], { immediateDestination: '021000022' })).errors[0]?.path).toBe('immediateDestination')
    expect(refused(fileWith([ppdPayroll()], { fileIdModifier: 'a' })).errors[0]?.path).toBe('fileIdModifier')
    const batch = ppdPayroll()
    const [first, second] = batch.entries
    const descending = { ...batch, entries: [{ ...first!, traceSequence: 5 }, { ...second!, traceSequence: 5 }] }
    expect(refused(fileWith([descending])).errors[0]?.path).toBe('batches.0.entries.1.traceSequence')
  })
})

describe('parseNachaFile on tampered generated files', () => {
  const good = writeNachaFile(fileWith([ppdPayroll()]))
  const lines = good.split('\n').slice(0, -1)
  const replace = (n: number, from: number, value: string) => {
    const copy = [...lines]
    const line = copy[n - 1]!
    copy[n - 1] = line.slice(0, from - 1) + value + line.slice(from - 1 + value.length)
    return copy.join('\n') + '\n'
  }

  it('names the batch control and file control fields that no longer add up', () => {
    // entry on line 3: amount 0000125000 -> 0000125001
    const errors = rejected(replace(3, 30, '0000125001'))
    expect(errors).toEqual([
      { line: 7, field: 'totalCredit', message: 'states 135000, the records add up to 135001' },
    ])
    expect(rejected(replace(7, 11, '0036342298'))).toEqual([
      { line: 7, field: 'entryHash', message: 'states 36342298, the records add up to 36342299' },
      { line: 8, field: 'entryHash', message: 'states 36342299, the records add up to 36342298' },
    ])
    expect(rejected(replace(8, 8, '000002'))).toEqual([{ line: 8, field: 'blockCount', message: 'states 2, the records add up to 1' }])
  })

  it('rejects a wrong check digit, broken order, missing padding and stray records', () => {
    expect(rejected(replace(3, 12, '6'))).toEqual([{ line: 3, field: 'checkDigit', message: 'check digit 6 is wrong for RDFI 01100001' }])
    const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')
    expect(rejected(swapped)[0]).toMatchObject({ line: 2, field: 'recordType' })
    expect(rejected(lines.slice(0, 9).join('\n'))).toEqual([{ line: 9, field: 'file', message: '9 records is not a multiple of the blocking factor 10' }])
    expect(rejected(replace(10, 1, '8'))[0]).toMatchObject({ line: 10, field: 'record' })
    expect(rejected(replace(2, 2, '225'))).toContainEqual({ line: 3, field: 'transactionCode', message: 'credit 22 in a debits-only (225) batch' })
    expect(rejected(replace(3, 79, '1'))).toContainEqual({ line: 3, field: 'addendaIndicator', message: 'addenda indicator is 1 but no addenda record follows' })
    expect(rejected('')).toEqual([{ line: 1, field: 'file', message: 'file is empty' }])
    expect(rejected(replace(3, 55, 'A\tB'))).toEqual([{ line: 3, field: 'record', message: 'character 0x9 at position 56 is not printable ASCII' }])
    expect(rejected(replace(10, 1, '9'.repeat(94)) + '9'.repeat(94) + '\n').at(-1)).toMatchObject({ field: 'file', message: '11 records is not a multiple of the blocking factor 10' })
  })
})

describe('moov-io/ach samples', () => {
  it('reads every valid sample with its stated totals', () => {
    const ccd = parsed(ccdDebit)
    // README: ccd-debit file control entry hash 0046276020, total debits 000000500125
    expect(ccd.control).toEqual({ batchCount: 1, blockCount: 1, entryAddendaCount: 2, entryHash: 46276020, totalDebitMinor: 500_125, totalCreditMinor: 0 })
    expect(ccd.batches[0]).toMatchObject({ secCode: 'CCD', companyEntryDescription: 'Vndr Pay', serviceClassCode: '225', effectiveEntryDate: '2019-08-16' })
    expect(ccd.batches[0]?.entries.map((e) => [e.accountNumber, e.amountMinor])).toEqual([['744-5678-99', 500_000], ['744-5678-99', 125]])

    // the parser takes CRLF as well as the samples' LF
    expect(parsed(ppdCredit.replaceAll('\n', '\r\n')).control.totalCreditMinor).toBe(100_000_000)
    const credit = parsed(ppdCredit)
    expect(credit.batches[0]).toMatchObject({ secCode: 'PPD', companyEntryDescription: 'REG.SALARY' })
    expect(credit.control).toMatchObject({ entryHash: 23138010, totalCreditMinor: 100_000_000, totalDebitMinor: 0 })
    expect(parsed(ppdDebit).control).toMatchObject({ totalDebitMinor: 200_000_000, totalCreditMinor: 0 })
    expect(parsed(ppdMixed).control).toMatchObject({ entryAddendaCount: 3, entryHash: 69414030, totalDebitMinor: 200_000_000, totalCreditMinor: 200_000_000 })
    const sameDayFile = parsed(sameDay)
    expect(sameDayFile.header.immediateOrigin).toBe('121042882')
    expect(sameDayFile.batches[0]?.companyDescriptiveDate).toBe('SD1300')
    const web = parsed(webCredit)
    expect(web.batches[0]?.entries[0]?.addenda).toEqual([
      { line: 4, addendaTypeCode: '05', paymentRelatedInformation: 'PAY-GATE payment\\', addendaSequenceNumber: 1, entryDetailSequenceNumber: '0000001' },
    ])
    expect(web.control).toMatchObject({ entryAddendaCount: 2, totalCreditMinor: 10_000 })
  })

  it('rejects every invalid sample and names the line', () => {
    expect(rejected(bad2011)).toContainEqual({ line: 1, field: 'record', message: 'record is 93 characters, expected 94' })
    expect(rejected(longLine).filter((e) => e.field === 'record').map((e) => [e.line, e.message])).toEqual([
      [3, 'record is 98 characters, expected 94'],
      [5, 'record is 101 characters, expected 94'],
      [6, 'record is 98 characters, expected 94'],
    ])
    expect(rejected(oneLine)).toContainEqual({ line: 1, field: 'record', message: 'record is 471 characters, expected 94' })
    const checkDigit = rejected(badCheckDigit)
    expect(checkDigit).toContainEqual({ line: 1, field: 'record', message: 'record is 75 characters, expected 94' })
    expect(checkDigit).toContainEqual({ line: 3, field: 'checkDigit', message: 'check digit 5 is wrong for RDFI 23138010' })
    expect(checkDigit).toContainEqual({ line: 5, field: 'record', message: 'record is 55 characters, expected 94' })
    // positions 14-23 hold " 000TESTER" (the README's `000TESTER1` runs into the creation date)
    expect(rejected(badOrigin)).toEqual([{ line: 1, field: 'immediateOrigin', message: '" 000TESTER" must be 10 digits or a blank and 9 digits' }])
    expect(rejected(shortLine)).toEqual([{ line: 5, field: 'record', message: 'record is 74 characters, expected 94' }])
  })
})
