/**
 * TARGET2 / T2 closing days: the days the Eurosystem's settlement system is closed, so SEPA credit
 * transfers are not settled and a pain.001 `ReqdExctnDt` should not fall on them. Besides Saturdays
 * and Sundays: New Year's Day, Good Friday, Easter Monday, 1 May (Labour Day), Christmas Day and
 * 26 December. Unlike the Fed's schedule, a closing day on a weekend is not moved to a weekday.
 * National bank holidays of the debtor's country are its bank's to roll; T2 is what every SEPA
 * bank shares. The set assumed is the current one (unchanged since 2002), as files are dated now.
 * @module
 */
import { addDays, dayLookup, isoDate } from './civil-date'
import type { Holiday } from './us-federal-reserve'

/**
 * Easter Sunday (`yyyy-mm-dd`) by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). Written
 * out rather than taken from a package: it is a dozen lines of integer arithmetic, exact for every
 * Gregorian year, and a dependency for it would be more to audit than the formula.
 */
export function easterSunday(year: number): string {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return isoDate(year, month - 1, day)
}

/** T2's closing days in `year` other than weekends (some may fall on one), in date order. */
export function target2ClosingDays(year: number): Holiday[] {
  const easter = easterSunday(year)
  return [
    { date: isoDate(year, 0, 1), name: "New Year's Day" },
    { date: addDays(easter, -2), name: 'Good Friday' },
    { date: addDays(easter, 1), name: 'Easter Monday' },
    { date: isoDate(year, 4, 1), name: 'Labour Day' },
    { date: isoDate(year, 11, 25), name: 'Christmas Day' },
    { date: isoDate(year, 11, 26), name: '26 December' },
  ]
}

/** True when `date` is one of T2's closing days (weekends are not listed here). */
export const isTarget2ClosingDay: (date: string) => boolean = dayLookup(target2ClosingDays)
