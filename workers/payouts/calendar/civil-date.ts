/**
 * Calendar days as `yyyy-mm-dd` strings and their UTC midnights: the banking calendars reason in
 * whole days, and bank files carry dates, so a day never passes through a local time zone.
 * @module
 */

export const DAY_MS = 86_400_000

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** `yyyy-mm-dd` of the UTC day holding `ms`. */
export function isoDayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * UTC midnight of a `yyyy-mm-dd` date. A malformed or impossible date (2026-02-30) is a caller's
 * bug, not input from outside (callers pass dates they computed), hence a RangeError.
 */
export function utcMidnight(isoDate: string): number {
  const m = ISO_DATE.exec(isoDate)
  if (!m) throw new RangeError(`not a yyyy-mm-dd date: ${JSON.stringify(isoDate)}`)
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  if (isoDayOf(ms) !== isoDate) throw new RangeError(`no such date: ${isoDate}`)
  return ms
}

/** `yyyy-mm-dd` from a year, a 0-based month and a day of the month. */
export function isoDate(year: number, month0: number, day: number): string {
  return isoDayOf(Date.UTC(year, month0, day))
}

/** 0 = Sunday .. 6 = Saturday */
export function weekdayOf(isoDate: string): number {
  return new Date(utcMidnight(isoDate)).getUTCDay()
}

export function isWeekend(isoDate: string): boolean {
  const w = weekdayOf(isoDate)
  return w === 0 || w === 6
}

/** The `n`-th (1-based) `weekday` of a month, e.g. the 4th Thursday of November. */
export function nthWeekdayOf(year: number, month0: number, weekday: number, n: number): string {
  const first = new Date(Date.UTC(year, month0, 1)).getUTCDay()
  return isoDate(year, month0, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7)
}

/** The last `weekday` of a month, e.g. the last Monday of May. */
export function lastWeekdayOf(year: number, month0: number, weekday: number): string {
  const lastDay = new Date(Date.UTC(year, month0 + 1, 0))
  return isoDate(year, month0, lastDay.getUTCDate() - ((lastDay.getUTCDay() - weekday + 7) % 7))
}

export function addDays(isoDate: string, days: number): string {
  return isoDayOf(utcMidnight(isoDate) + days * DAY_MS)
}

/** A membership test over a year-by-year list of dated days, each year's list built once. */
export function dayLookup(daysOf: (year: number) => ReadonlyArray<{ date: string }>): (date: string) => boolean {
  const byYear = new Map<number, ReadonlySet<string>>()
  return (date) => {
    const year = Number(date.slice(0, 4))
    let days = byYear.get(year)
    if (!days) {
      days = new Set(daysOf(year).map((d) => d.date))
      byYear.set(year, days)
    }
    return days.has(date)
  }
}
