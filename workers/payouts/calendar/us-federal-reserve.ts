/**
 * The Federal Reserve Banks' holiday schedule: the days FedACH (and Fedwire) do not settle, so the
 * days a NACHA effective entry date may not fall on.
 *
 * Weekend rule, as the Reserve Banks state it beside their published schedule (System-wide page:
 * frbservices.org/about/holiday-schedules; checked against the same note and table at
 * richmondfed.org/about_us/holiday_schedule, whose 2026 and 2027 columns calendar.test.ts holds):
 * a holiday on a Sunday closes the Reserve Banks on the following Monday, while a holiday on a
 * Saturday does NOT close them on the preceding Friday.
 * The federal government's own rule moves Saturday holidays to Friday, which is why a generic "US
 * federal holidays" list would be wrong here: on Fri 2026-07-03 FedACH settles.
 *
 * Only the recurring schedule is modelled: a one-off closure the Fed announces (a national day of
 * mourning) is not, and the current holiday set is assumed (Juneteenth from 2022, its first year on
 * the Reserve Banks' schedule); files are dated now, so earlier years are out of scope.
 * @module
 */
import { addDays, dayLookup, isoDate, lastWeekdayOf, nthWeekdayOf, weekdayOf } from './civil-date'

export interface Holiday {
  /** the day the Reserve Banks are closed (`yyyy-mm-dd`) */
  date: string
  name: string
}

const MON = 1
const THU = 4
const JAN = 0
const FEB = 1
const MAY = 4
const JUN = 5
const JUL = 6
const SEP = 8
const OCT = 9
const NOV = 10
const DEC = 11

/** A fixed-date holiday as the Fed observes it: Sunday -> Monday; Saturday -> not observed (null). */
function observed(date: string): string | null {
  const weekday = weekdayOf(date)
  if (weekday === 0) return addDays(date, 1)
  if (weekday === 6) return null
  return date
}

/** The days in `year` the Reserve Banks are closed for a holiday (weekends aside), in date order. */
export function federalReserveHolidays(year: number): Holiday[] {
  const fixed = (month0: number, day: number, name: string): Holiday[] => {
    const date = observed(isoDate(year, month0, day))
    return date ? [{ date, name }] : []
  }
  const holidays: Holiday[] = [
    ...fixed(JAN, 1, "New Year's Day"),
    { date: nthWeekdayOf(year, JAN, MON, 3), name: 'Birthday of Martin Luther King, Jr.' },
    { date: nthWeekdayOf(year, FEB, MON, 3), name: "Washington's Birthday" },
    { date: lastWeekdayOf(year, MAY, MON), name: 'Memorial Day' },
    ...(year >= 2022 ? fixed(JUN, 19, 'Juneteenth National Independence Day') : []),
    ...fixed(JUL, 4, 'Independence Day'),
    { date: nthWeekdayOf(year, SEP, MON, 1), name: 'Labor Day' },
    { date: nthWeekdayOf(year, OCT, MON, 2), name: 'Columbus Day' },
    ...fixed(NOV, 11, 'Veterans Day'),
    { date: nthWeekdayOf(year, NOV, THU, 4), name: 'Thanksgiving Day' },
    ...fixed(DEC, 25, 'Christmas Day'),
  ]
  return holidays.sort((a, b) => (a.date < b.date ? -1 : 1))
}

/** True when the Reserve Banks are closed for a holiday on `date` (weekends are not holidays here). */
export const isFederalReserveHoliday: (date: string) => boolean = dayLookup(federalReserveHolidays)
