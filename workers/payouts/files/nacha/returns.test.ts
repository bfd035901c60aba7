import { describe, expect, it } from 'vitest'
import { parseNachaFile } from './parser'
import { routingCheckDigit, writeNachaReturnFile, type NachaReturnFileInput } from './return-writer'

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
