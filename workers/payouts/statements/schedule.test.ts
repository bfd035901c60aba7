/**
 * The next payout date a rule implies, against the calendar (the daily run is at 09:00 UTC).
 * 2026-11-26 is a Thursday; 2026-12-01 a Tuesday.
 */
import { describe, expect, it } from 'vitest'
import { ruleOf } from '../rules/rules'
import { describeRule, nextPayout } from './schedule'

const THU_2000 = Date.UTC(2026, 10, 26, 20)
const TUE_0859 = Date.UTC(2026, 11, 1, 8, 59)
const TUE_0900 = Date.UTC(2026, 11, 1, 9, 0)
const rule = (row: { kind: 'weekly' | 'threshold' | 'scheduled' | 'manual'; weekday?: number; threshold_minor?: number; dates_json?: string }) =>
  ruleOf({ kind: row.kind, weekday: row.weekday ?? null, threshold_minor: row.threshold_minor ?? null, dates_json: row.dates_json ?? null, currency: 'USD', method_id: null }, null)

describe('nextPayout', () => {
  it('the platform default pays the next Tuesday run, today if it has not run yet', () => {
    const def = ruleOf(null, null)
    expect(describeRule(def)).toBe('Every Tuesday (platform default)')
    expect(nextPayout(def, THU_2000, 0)).toEqual({ kind: 'date', date: '2026-12-01', at: '2026-12-01T09:00:00.000Z' })
    expect(nextPayout(def, TUE_0859, 0)).toEqual({ kind: 'date', date: '2026-12-01', at: '2026-12-01T09:00:00.000Z' })
    expect(nextPayout(def, TUE_0900, 0)).toEqual({ kind: 'date', date: '2026-12-08', at: '2026-12-08T09:00:00.000Z' })
  })

  it('weekly on Friday from a Thursday evening: the next day', () => {
    expect(nextPayout(rule({ kind: 'weekly', weekday: 5 }), THU_2000, 0)).toMatchObject({ date: '2026-11-27' })
    expect(describeRule(rule({ kind: 'weekly', weekday: 5 }))).toBe('Every Friday')
  })

  it('scheduled: the 31st falls on the 30th in November; explicit dates; none left', () => {
    expect(nextPayout(rule({ kind: 'scheduled', dates_json: '[31]' }), THU_2000, 0)).toMatchObject({ date: '2026-11-30' })
    expect(nextPayout(rule({ kind: 'scheduled', dates_json: '["2027-01-04", 15]' }), THU_2000, 0)).toMatchObject({ date: '2026-12-15' })
    expect(nextPayout(rule({ kind: 'scheduled', dates_json: '["2026-11-01"]' }), THU_2000, 0)).toEqual({ kind: 'none', reason: 'no_scheduled_date_left' })
    expect(describeRule(rule({ kind: 'scheduled', dates_json: '["2027-01-04", 1, 15]' }))).toBe('Scheduled on day 1, 15 of each month and on 2027-01-04')
  })

  it('threshold: the next run once reached, else no date; manual never', () => {
    const t = rule({ kind: 'threshold', threshold_minor: 10_000 })
    expect(nextPayout(t, THU_2000, 10_000)).toMatchObject({ date: '2026-11-27' })
    expect(nextPayout(t, THU_2000, 9_999)).toEqual({ kind: 'threshold_not_reached', threshold_minor: 10_000 })
    expect(nextPayout(rule({ kind: 'manual' }), THU_2000, 1_000_000)).toEqual({ kind: 'none', reason: 'manual' })
  })
})
