/**
 * Banking-day calendars against published dates: the Federal Reserve Banks' 2026 and 2027 holiday
 * schedule (frbservices.org / richmondfed.org, Saturday holidays not observed), T2 closing days,
 * Easter by the computus against known dates, the rolling functions, and the real file builders
 * writing the rolled dates into NACHA batch headers and pain.001 ReqdExctnDt.
 */
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { PAYOUT_RAILS } from '../../../d1/schema/payouts'
import { SANDBOX_BANK_ACCOUNTS } from '../files/bank-accounts'
import { buildNachaFile, buildSepaFile, type FilePayout } from '../files/build'
import { parseNachaFile } from '../files/nacha/parser'
import { ACH_BUSINESS, ACH_INDIVIDUAL, SEPA_ANNA, SEPA_JEAN } from '../files/test-kit'
import { parsePayoutMethod, type PayoutMethod } from '../methods/methods'
import { addBankingDays, calendarOfRail, isBankingDay, nextBankingDay, type BankCalendar } from './banking-days'
import { easterSunday, target2ClosingDays } from './target2'
import { federalReserveHolidays } from './us-federal-reserve'

/** The Reserve Banks' published schedule: the days they are closed, in date order. */
const FED_CLOSED: Record<number, string[]> = {
  // Jul 4 is a Saturday: the Fed is open Fri Jul 3
  2026: ['2026-01-01', '2026-01-19', '2026-02-16', '2026-05-25', '2026-06-19', '2026-09-07', '2026-10-12', '2026-11-11', '2026-11-26', '2026-12-25'],
  // Jun 19 and Dec 25 are Saturdays (open the Friday before); Jul 4 a Sunday (closed Mon Jul 5)
  2027: ['2027-01-01', '2027-01-18', '2027-02-15', '2027-05-31', '2027-07-05', '2027-09-06', '2027-10-11', '2027-11-11', '2027-11-25'],
}

/** T2 closing days other than weekends, as dates (some fall on a weekend and stay there). */
const T2_CLOSED: Record<number, string[]> = {
  // Easter Sunday 2026-04-05
  2026: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-12-25', '2026-12-26'],
  // Easter Sunday 2027-03-28; 1 May, 25 and 26 Dec fall on a weekend
  2027: ['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-01', '2027-12-25', '2027-12-26'],
}

/** Every Monday-Friday of `year` the calendar does not settle on. */
function closedWeekdays(calendar: BankCalendar, year: number): string[] {
  const closed: string[] = []
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
    const day = new Date(t)
    const date = day.toISOString().slice(0, 10)
    if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6 && !isBankingDay(calendar, date)) closed.push(date)
  }
  return closed
}

const at = (date: string, time = '12:00:00') => Date.parse(`${date}T${time}Z`)

describe('Federal Reserve holidays', () => {
  it.each([2026, 2027])('%i: exactly the published schedule', (year) => {
    expect(federalReserveHolidays(year).map((h) => h.date)).toEqual(FED_CLOSED[year])
    expect(closedWeekdays('us_federal_reserve', year)).toEqual(FED_CLOSED[year])
  })

  it('names the holidays; a Sunday holiday is observed on Monday', () => {
    expect(federalReserveHolidays(2026).find((h) => h.date === '2026-11-26')?.name).toBe('Thanksgiving Day')
    expect(federalReserveHolidays(2027).find((h) => h.date === '2027-07-05')?.name).toBe('Independence Day')
    expect(isBankingDay('us_federal_reserve', '2027-07-05')).toBe(false)
  })

  it('a Saturday holiday leaves the Friday before open (the federal-government rule would close it)', () => {
    expect(isBankingDay('us_federal_reserve', '2026-07-03')).toBe(true)
    expect(isBankingDay('us_federal_reserve', '2027-06-18')).toBe(true)
    expect(isBankingDay('us_federal_reserve', '2027-12-24')).toBe(true)
    // New Year's Day 2028 is a Saturday: the last day of 2027 settles
    expect(isBankingDay('us_federal_reserve', '2027-12-31')).toBe(true)
    expect(federalReserveHolidays(2028).map((h) => h.date)).not.toContain('2027-12-31')
    expect(federalReserveHolidays(2028)).toHaveLength(9)
  })

  it('Good Friday is not a Fed holiday', () => {
    expect(isBankingDay('us_federal_reserve', '2026-04-03')).toBe(true)
  })
})

describe('T2 closing days and Easter', () => {
  it.each([
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2016, '2016-03-27'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2038, '2038-04-25'],
    [1818, '1818-03-22'],
    [1943, '1943-04-25'],
    [2285, '2285-03-22'],
  ])('Easter Sunday %i is %s', (year, date) => {
    expect(easterSunday(year)).toBe(date)
  })

  it.each([2026, 2027])('%i: exactly New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December', (year) => {
    expect(target2ClosingDays(year).map((h) => h.date)).toEqual(T2_CLOSED[year])
    expect(closedWeekdays('target2', year)).toEqual(T2_CLOSED[year]!.filter((d) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay())))
  })

  it('US holidays are T2 banking days, and T2 holidays need not be Fed ones', () => {
    expect(isBankingDay('target2', '2026-11-26')).toBe(true)
    expect(isBankingDay('target2', '2026-07-03')).toBe(true)
    expect(isBankingDay('us_federal_reserve', '2026-04-06')).toBe(true)
    expect(isBankingDay('us_federal_reserve', '2026-12-26')).toBe(false) // a Saturday
  })
})

describe('nextBankingDay: strictly after the creation day (UTC)', () => {
  it.each([
    // Thanksgiving: Wed -> Fri on the Fed calendar, Thu everywhere else
    ['us_federal_reserve', '2026-11-25', '2026-11-27'],
    ['weekdays', '2026-11-25', '2026-11-26'],
    ['target2', '2026-11-25', '2026-11-26'],
    // created on the holiday itself: the next day
    ['us_federal_reserve', '2026-11-26', '2026-11-27'],
    // Christmas and New Year
    ['us_federal_reserve', '2026-12-24', '2026-12-28'],
    ['target2', '2026-12-24', '2026-12-28'],
    ['us_federal_reserve', '2026-12-31', '2027-01-04'],
    ['target2', '2026-12-31', '2027-01-04'],
    ['us_federal_reserve', '2027-12-23', '2027-12-24'],
    ['target2', '2027-12-23', '2027-12-24'],
    ['target2', '2027-12-24', '2027-12-27'],
    // Good Friday and Easter Monday close T2, not the Fed
    ['target2', '2026-04-02', '2026-04-07'],
    ['us_federal_reserve', '2026-04-02', '2026-04-03'],
    ['target2', '2027-03-25', '2027-03-30'],
    // Independence Day: Saturday 2026 (Friday open), Sunday 2027 (Monday closed)
    ['us_federal_reserve', '2026-07-02', '2026-07-03'],
    ['us_federal_reserve', '2027-07-02', '2027-07-06'],
    // weekends
    ['us_federal_reserve', '2026-11-27', '2026-11-30'],
    ['target2', '2026-11-28', '2026-11-30'],
    ['weekdays', '2026-11-29', '2026-11-30'],
  ] as const)('%s: created %s -> %s', (calendar, created, expected) => {
    expect(nextBankingDay(calendar, at(created))).toBe(expected)
  })

  it('the creation day is the UTC day, to the millisecond', () => {
    expect(nextBankingDay('us_federal_reserve', Date.parse('2026-11-25T23:59:59.999Z'))).toBe('2026-11-27')
    expect(nextBankingDay('us_federal_reserve', Date.parse('2026-11-26T00:00:00.000Z'))).toBe('2026-11-27')
    expect(nextBankingDay('us_federal_reserve', Date.parse('2026-11-24T23:59:59.999Z'))).toBe('2026-11-25')
  })
})

describe('addBankingDays', () => {
  it('counts banking days forward and backward across holidays and weekends', () => {
    expect(addBankingDays('us_federal_reserve', '2026-11-25', 1)).toBe('2026-11-27')
    expect(addBankingDays('us_federal_reserve', '2026-11-25', 3)).toBe('2026-12-01')
    expect(addBankingDays('us_federal_reserve', '2026-11-27', -1)).toBe('2026-11-25')
    expect(addBankingDays('target2', '2026-04-02', 2)).toBe('2026-04-08')
    expect(addBankingDays('target2', '2026-04-07', -1)).toBe('2026-04-02')
    expect(addBankingDays('weekdays', '2026-11-25', 3)).toBe('2026-11-30')
  })

  it('0 keeps a banking day and rolls a closed day to the following banking day', () => {
    expect(addBankingDays('us_federal_reserve', '2026-11-25', 0)).toBe('2026-11-25')
    expect(addBankingDays('us_federal_reserve', '2026-11-26', 0)).toBe('2026-11-27')
    expect(addBankingDays('target2', '2026-04-03', 0)).toBe('2026-04-07')
    expect(addBankingDays('weekdays', '2026-11-28', 0)).toBe('2026-11-30')
  })

  it('refuses a malformed date or a fractional count', () => {
    expect(() => addBankingDays('target2', '2026-02-30', 1)).toThrow(RangeError)
    expect(() => isBankingDay('target2', '26-11-25')).toThrow(RangeError)
    expect(() => addBankingDays('target2', '2026-11-25', 1.5)).toThrow(RangeError)
  })
})

describe('calendarOfRail', () => {
  it('NACHA settles on FedACH, SEPA on T2, every other rail on weekdays', () => {
    expect(Object.fromEntries(PAYOUT_RAILS.map((r) => [r, calendarOfRail(r)]))).toEqual({
      paxum: 'weekdays',
      epayservice: 'weekdays',
      wise: 'weekdays',
      payoneer: 'weekdays',
      crypto_custodian: 'weekdays',
      sandbox: 'weekdays',
      nacha: 'us_federal_reserve',
      sepa: 'target2',
      wire: 'weekdays',
      check: 'weekdays',
    })
  })
})

describe('the bank files carry the rolled dates', () => {
  function method(input: unknown): PayoutMethod {
    const parsed = parsePayoutMethod(input)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    return parsed.method
  }
  const payout = (i: number, currency: string, m: PayoutMethod): FilePayout => ({ id: `po_01JPAYOUT${String(i).padStart(16, '0')}`, creatorId: `crt_01JCREATOR${String(i).padStart(15, '0')}`, currency, amountMinor: 10_000 + i, netMinor: 9_975 + i, method: m })

  it('a NACHA file built the day before Thanksgiving 2026 is effective Friday 261127 in every batch header', () => {
    const payouts = [payout(1, 'USD', method(ACH_INDIVIDUAL)), payout(2, 'USD', method(ACH_BUSINESS))]
    const file = buildNachaFile(SANDBOX_BANK_ACCOUNTS.nacha, payouts as never, { fileId: 'pof_01JFILE0000000000000000001', createdAtMs: Date.parse('2026-11-25T18:00:00Z'), dailyIndex: 0, traceBase: 0 })
    const batchHeaders = file.text.split(/\r?\n/).filter((l) => l.startsWith('5'))
    // PPD for the individual, CCD for the business
    expect(batchHeaders).toHaveLength(2)
    // effective entry date: positions 70-75
    expect(batchHeaders.map((l) => l.slice(69, 75))).toEqual(['261127', '261127'])
    const parsed = parseNachaFile(file.text)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    expect(parsed.file.header.fileCreationDate).toBe('2026-11-25')
    expect(parsed.file.batches.map((b) => b.effectiveEntryDate)).toEqual(['2026-11-27', '2026-11-27'])
  })

  it('a pain.001 built on Thursday 2026-04-02 asks for execution on Tuesday 2026-04-07, after Easter', () => {
    const payouts = [payout(1, 'EUR', method(SEPA_ANNA)), payout(2, 'EUR', method(SEPA_JEAN))]
    const file = buildSepaFile(SANDBOX_BANK_ACCOUNTS.sepa, payouts as never, { fileId: 'pof_01JFILE0000000000000000002', createdAtMs: Date.parse('2026-04-02T09:00:00Z') })
    const doc = new XMLParser({ parseTagValue: false }).parse(file.text)
    expect(doc.Document.CstmrCdtTrfInitn.PmtInf.ReqdExctnDt.Dt).toBe('2026-04-07')
  })
})
