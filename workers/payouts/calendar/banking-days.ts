/**
 * Banking days per settlement calendar, and which calendar a payout rail settles on: a date we
 * write into a bank file (NACHA effective entry date, pain.001 ReqdExctnDt) or tell a creator must
 * be a day the rail settles, or the bank rolls it and the date we showed is wrong.
 *
 * - `us_federal_reserve`: FedACH, for `nacha` (us-federal-reserve.ts)
 * - `target2`: T2 closing days, for `sepa` (target2.ts)
 * - `weekdays`: Monday to Friday, for every other rail: wires and checks are worked by hand and API
 *   processors keep their own calendars, so no holiday list of ours would be more right than none
 *
 * All dates are `yyyy-mm-dd` UTC days, as the files carry them.
 * @module
 */
import type { PayoutRail } from '../../../d1/schema/payouts'
import { addDays, isoDayOf, isWeekend, utcMidnight } from './civil-date'
import { isTarget2ClosingDay } from './target2'
import { isFederalReserveHoliday } from './us-federal-reserve'

export const BANK_CALENDARS = ['us_federal_reserve', 'target2', 'weekdays'] as const
export type BankCalendar = (typeof BANK_CALENDARS)[number]

/** The settlement calendar a rail's dates follow. */
export function calendarOfRail(rail: PayoutRail): BankCalendar {
  switch (rail) {
    case 'nacha':
      return 'us_federal_reserve'
    case 'sepa':
      return 'target2'
    default:
      return 'weekdays'
  }
}

/** True when `calendar` settles on `isoDate` (`yyyy-mm-dd`). */
export function isBankingDay(calendar: BankCalendar, isoDate: string): boolean {
  utcMidnight(isoDate) // a malformed date throws rather than reads as a banking day
  if (isWeekend(isoDate)) return false
  switch (calendar) {
    case 'us_federal_reserve':
      return !isFederalReserveHoliday(isoDate)
    case 'target2':
      return !isTarget2ClosingDay(isoDate)
    case 'weekdays':
      return true
  }
}

/**
 * No calendar here closes for more than a few days in a row (T2 at Easter: Fri-Mon, at Christmas
 * Sat-Mon at most); a search running this long means a broken calendar, not a long holiday.
 */
const MAX_CLOSED_RUN = 14

/** The first banking day strictly after `isoDate`. */
function following(calendar: BankCalendar, isoDate: string): string {
  let day = isoDate
  for (let i = 0; i < MAX_CLOSED_RUN; i += 1) {
    day = addDays(day, 1)
    if (isBankingDay(calendar, day)) return day
  }
  throw new Error(`no ${calendar} banking day within ${MAX_CLOSED_RUN} days after ${isoDate}`)
}

/** The last banking day strictly before `isoDate`. */
function preceding(calendar: BankCalendar, isoDate: string): string {
  let day = isoDate
  for (let i = 0; i < MAX_CLOSED_RUN; i += 1) {
    day = addDays(day, -1)
    if (isBankingDay(calendar, day)) return day
  }
  throw new Error(`no ${calendar} banking day within ${MAX_CLOSED_RUN} days before ${isoDate}`)
}

/**
 * The first banking day after the UTC day holding `afterMs`, never that day itself: a file created
 * on a banking day still asks for the next one, as the bank's cut-off for today may have passed.
 */
export function nextBankingDay(calendar: BankCalendar, afterMs: number): string {
  return following(calendar, isoDayOf(afterMs))
}

/**
 * `n` banking days from `isoDate`: n > 0 counts forward (the n-th banking day after it), n < 0
 * backward, and n = 0 is `isoDate` itself when it is a banking day, else the following one (the
 * "following" convention banks apply to a date that falls on a closed day).
 */
export function addBankingDays(calendar: BankCalendar, isoDate: string, n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a whole number of banking days: ${n}`)
  if (n === 0) return isBankingDay(calendar, isoDate) ? isoDate : following(calendar, isoDate)
  let day = isoDate
  for (let i = 0; i < Math.abs(n); i += 1) day = n > 0 ? following(calendar, day) : preceding(calendar, day)
  return day
}
