import { describe, expect, it } from 'vitest'
import { parseNachaFile } from './parser'
import { correctedDataOf, routingCheckDigit, writeNachaReturnFile, type NachaReturnFileInput } from './return-writer'

const INPUT: NachaReturnFileInput = {
  odfiRouting: '231380104',
  immediateOrigin: '121042882',
  fileCreationDate: '2026-12-01',
  fileCreationTime: '05:30',
  companyName: 'FANZ SANDBOX',
  companyIdentification: '1121042882',
  secCode: 'PPD',
  companyEntryDescription: 'PAYROLL',
  entries: [
    { originalTraceNumber: '121042880000007', originalReceivingDfi: '011000015', returnReasonCode: 'R01', originalTransactionCode: '22', amountMinor: 12_500, accountNumber: '123456789', individualName: 'ALEX RIVERS' },
    { originalTraceNumber: '121042880000009', originalReceivingDfi: '011000015', returnReasonCode: 'R15', originalTransactionCode: '32', amountMinor: 99, accountNumber: '55', individualName: 'SAM STONE', dateOfDeath: '2026-11-20', addendaInformation: 'ESTATE OF SAM STONE' },
  ],
}

describe('NACHA return files (addenda 99)', () => {
  it('reads back every field of the addenda 99 at its Nacha position', () => {
    const text = writeNachaReturnFile(INPUT)
    const lines = text.split('\n').slice(0, -1)
    expect(lines.every((l) => l.length === 94)).toBe(true)
    const addenda = lines.find((l) => l.startsWith('799R15'))!
    // 1 '7', 2-3 '99', 4-6 code, 7-21 original trace, 22-27 date of death, 28-35 original RDFI, 36-79 information, 80-94 trace
    expect(addenda.slice(3, 6)).toBe('R15')
    expect(addenda.slice(6, 21)).toBe('121042880000009')
    expect(addenda.slice(21, 27)).toBe('261120')
    expect(addenda.slice(27, 35)).toBe('01100001')
    expect(addenda.slice(35, 79).trimEnd()).toBe('ESTATE OF SAM STONE')
    expect(addenda.slice(79, 94)).toBe('011000010000002')

    const parsed = parseNachaFile(text)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    const entries = parsed.file.batches[0]!.entries
    expect(entries.map((e) => e.transactionCode)).toEqual(['21', '31'])
    expect(entries.map((e) => e.addenda[0]!.return)).toEqual([
      { returnReasonCode: 'R01', originalEntryTraceNumber: '121042880000007', dateOfDeath: null, originalReceivingDfi: '01100001', addendaInformation: '', traceNumber: '011000010000001' },
      { returnReasonCode: 'R15', originalEntryTraceNumber: '121042880000009', dateOfDeath: '2026-11-20', originalReceivingDfi: '01100001', addendaInformation: 'ESTATE OF SAM STONE', traceNumber: '011000010000002' },
    ])
    expect(parsed.file.control).toMatchObject({ entryAddendaCount: 4, totalCreditMinor: 12_599, entryHash: 2 * 23_138_010 })
  })

  it('names the field of a broken addenda 99: a bad return code, a trace that is not the entry\'s', () => {
    const lines = writeNachaReturnFile(INPUT).split('\n')
    const i = lines.findIndex((l) => l.startsWith('799R01'))
    lines[i] = `799X01${lines[i]!.slice(6, 79)}011000010000009`
    const parsed = parseNachaFile(lines.join('\n'))
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.errors.map((e) => [e.line, e.field])).toEqual([
      [i + 1, 'returnReasonCode'],
      [i + 1, 'traceNumber'],
    ])
  })

  it('computes ABA check digits', () => {
    expect(routingCheckDigit('01100001')).toBe('5')
    expect(routingCheckDigit('23138010')).toBe('4')
    expect(routingCheckDigit('12104288')).toBe('2')
  })
})

const NOC_INPUT: NachaReturnFileInput = {
  ...INPUT,
  secCode: 'PPD',
  entries: INPUT.entries!.slice(0, 1),
  corrections: [
    { originalTraceNumber: '121042880000011', originalReceivingDfi: '011000015', changeCode: 'C03', correctedData: correctedDataOf('C03', { routingNumber: '021000021', accountNumber: '12345' }), originalTransactionCode: '22', accountNumber: '123456789', individualName: 'ALEX RIVERS' },
    { originalTraceNumber: '121042880000012', originalReceivingDfi: '231380104', changeCode: 'C06', correctedData: correctedDataOf('C06', { accountNumber: '987', transactionCode: '32' }), originalTransactionCode: '32', accountNumber: '55', individualName: 'SAM STONE' },
  ],
}

describe('NACHA notifications of change (COR, addenda 98)', () => {
  it('writes and reads back every field of the addenda 98 at its Nacha position, in COR batches of zero-amount entries', () => {
    const text = writeNachaReturnFile(NOC_INPUT)
    const lines = text.split('\n').slice(0, -1)
    expect(lines.every((l) => l.length === 94)).toBe(true)
    const addenda = lines.find((l) => l.startsWith('798C03'))!
    // 1 '7', 2-3 '98', 4-6 code, 7-21 original trace, 22-27 reserved, 28-35 original RDFI, 36-64 corrected data, 65-79 reserved, 80-94 trace
    expect(addenda.slice(3, 6)).toBe('C03')
    expect(addenda.slice(6, 21)).toBe('121042880000011')
    expect(addenda.slice(21, 27)).toBe('      ')
    expect(addenda.slice(27, 35)).toBe('01100001')
    // C03: routing in 1-9, blanks 10-12, account from 13
    expect(addenda.slice(35, 64)).toBe(`021000021   ${'12345'.padEnd(17)}`)
    expect(addenda.slice(64, 79)).toBe(' '.repeat(15))
    // the bank's second entry: after its return (trace ...001)
    expect(addenda.slice(79, 94)).toBe('011000010000002')
    const c06 = lines.find((l) => l.startsWith('798C06'))!
    // C06: account 1-17, blanks 18-20, transaction code 21-22
    expect(c06.slice(35, 64)).toBe(`${'987'.padEnd(20)}32${' '.repeat(7)}`)

    const parsed = parseNachaFile(text)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    expect(parsed.file.batches.map((b) => [b.secCode, b.originatingDfi, b.entries.length])).toEqual([
      ['PPD', '01100001', 1],
      ['COR', '01100001', 1],
      ['COR', '23138010', 1],
    ])
    const cor = parsed.file.batches.filter((b) => b.secCode === 'COR').flatMap((b) => b.entries)
    expect(cor.map((e) => [e.transactionCode, e.amountMinor, e.accountNumber])).toEqual([
      ['21', 0, '123456789'],
      ['31', 0, '55'],
    ])
    expect(cor.map((e) => e.addenda[0]!.change)).toEqual([
      { changeCode: 'C03', originalEntryTraceNumber: '121042880000011', originalReceivingDfi: '01100001', correctedData: `021000021   ${'12345'.padEnd(17)}`, traceNumber: '011000010000002' },
      { changeCode: 'C06', originalEntryTraceNumber: '121042880000012', originalReceivingDfi: '23138010', correctedData: `${'987'.padEnd(20)}32${' '.repeat(7)}`, traceNumber: '231380100000001' },
    ])
    expect(cor.every((e) => e.addenda[0]!.return === undefined)).toBe(true)
    expect(parsed.file.batches[0]!.entries[0]!.addenda[0]!.return?.returnReasonCode).toBe('R01')
    expect(parsed.file.control).toMatchObject({ batchCount: 3, entryAddendaCount: 6, totalCreditMinor: 12_500 })
  })

  it('a file of corrections only is a valid file', () => {
    const parsed = parseNachaFile(writeNachaReturnFile({ ...NOC_INPUT, entries: [] }))
    expect(parsed.ok).toBe(true)
  })

  it('names the field of a broken addenda 98: bad change code, blank corrected data, a trace that is not the entry\'s, a 98 outside a COR batch', () => {
    const lines = writeNachaReturnFile(NOC_INPUT).split('\n')
    const i = lines.findIndex((l) => l.startsWith('798C03'))
    lines[i] = `798X03${lines[i]!.slice(6, 35)}${' '.repeat(29)}${lines[i]!.slice(64, 79)}011000010000009`
    const j = lines.findIndex((l) => l.startsWith('798C06'))
    lines[j] = `798C06${lines[j]!.slice(6, 21)}ABCDEF${lines[j]!.slice(27)}`
    const parsed = parseNachaFile(lines.join('\n'))
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    // the reserved positions are not read, so ABCDEF there is no error
    expect(parsed.errors.map((e) => [e.line, e.field])).toEqual([
      [i + 1, 'changeCode'],
      [i + 1, 'correctedData'],
      [i + 1, 'traceNumber'],
    ])

    const ppd = writeNachaReturnFile(NOC_INPUT).split('\n')
    const header = ppd.findIndex((l, k) => l.startsWith('5') && ppd[k + 2]!.startsWith('798C03'))
    ppd[header] = `${ppd[header]!.slice(0, 50)}PPD${ppd[header]!.slice(53)}`
    const wrongBatch = parseNachaFile(ppd.join('\n'))
    expect(wrongBatch.ok).toBe(false)
    if (wrongBatch.ok) return
    expect(wrongBatch.errors).toEqual([{ line: header + 3, field: 'addendaTypeCode', message: 'addenda 98 (notification of change) in a PPD batch: only COR batches carry them' }])
  })
})
