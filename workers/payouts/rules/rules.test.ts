/**
 * Payout rules over HTTP: the platform default, each kind stored and read back, validation errors
 * naming the body field (weekday, threshold below the rail minimum, a foreign method, a currency
 * the method's rail does not pay), operators read but cannot write, audit entry; and when each
 * kind is due.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { ACH, API, method, mint, newCreator, SEPA, type TestCreator } from '../runs/test-kit'
import { ruleDue, ruleOf } from './rules'

let creator: TestCreator
let other: TestCreator
let achId: string
let sepaId: string
let otherMethod: string

beforeAll(async () => {
  creator = await newCreator()
  other = await newCreator()
  achId = await method(creator.creatorId, ACH, 'USD')
  sepaId = await method(creator.creatorId, SEPA, 'EUR')
  otherMethod = await method(other.creatorId, ACH, 'USD')
})

const put = (body: unknown, token = creator.token, id = creator.creatorId) => call(API, `/api/payouts/creators/${id}/rule`, { method: 'PUT', token, body })
const fieldsOf = async (res: Response) => ((await res.json()) as { errors?: { path: string }[] }).errors?.map((e) => e.path)

describe('payout rule API', () => {
  it('shows the platform default (weekly on Tuesday, the default method’s currency) before any rule', async () => {
    const res = await call(API, `/api/payouts/creators/${creator.creatorId}/rule`, { token: creator.token })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ kind: 'weekly', weekday: 2, currency: 'USD', method_id: null, is_default: true, updated_at: null })
  })

  it('stores each kind and reads it back; operators read it at /rules/{id}', async () => {
    const bodies = [
      { kind: 'weekly', weekday: 5, currency: 'USD' },
      { kind: 'threshold', threshold_minor: 25_000, currency: 'USD', method_id: achId },
      { kind: 'scheduled', dates: ['2026-12-24', '2026-12-24'], days_of_month: [31, 1], currency: 'EUR', method_id: sepaId },
      { kind: 'manual', currency: 'USD' },
    ]
    for (const body of bodies) {
      const res = await put(body)
      expect(res.status, JSON.stringify(body)).toBe(200)
      const view = (await res.json()) as Record<string, unknown>
      expect(view).toMatchObject({ kind: body.kind, currency: body.currency, is_default: false })
      const read = (await (await call(API, `/api/payouts/creators/${creator.creatorId}/rule`, { token: creator.token })).json()) as Record<string, unknown>
      expect(read).toEqual(view)
    }
    const res = await put(bodies[2])
    expect(await res.json()).toMatchObject({ dates: ['2026-12-24'], days_of_month: [1, 31], weekday: null, threshold_minor: null })
    const finance = await mint({ roles: ['finance'] })
    const op = await call(API, `/api/payouts/rules/${creator.creatorId}`, { token: finance })
    expect(op.status).toBe(200)
    expect(await op.json()).toMatchObject({ kind: 'scheduled', method_id: sepaId })
    // finance may read (also on the creator path), not set a creator's rule
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/rule`, { token: finance })).status).toBe(200)
    expect([403, 404]).toContain((await put({ kind: 'manual', currency: 'USD' }, finance)).status)
    const entries = await auditLog(env).list({ action: 'payouts.rule.set', subject: `creator:${creator.creatorId}`, limit: 10 })
    expect(entries.map((e) => JSON.parse(e.details).kind)).toEqual(['weekly', 'threshold', 'scheduled', 'manual', 'scheduled'])
  })

  it('answers 422 naming the body field', async () => {
    expect(await fieldsOf(await put({ kind: 'weekly', weekday: 7, currency: 'USD' }))).toEqual(['body.weekday'])
    const below = await put({ kind: 'threshold', threshold_minor: 1_999, currency: 'USD', method_id: achId })
    expect(below.status).toBe(422)
    expect(await fieldsOf(below)).toEqual(['body.threshold_minor'])
    expect((await put({ kind: 'threshold', threshold_minor: 2_000, currency: 'USD', method_id: achId })).status).toBe(200)
    expect(await fieldsOf(await put({ kind: 'weekly', weekday: 1, currency: 'USD', method_id: otherMethod }))).toEqual(['body.method_id'])
    // the SEPA method's rail does not pay USD
    expect(await fieldsOf(await put({ kind: 'weekly', weekday: 1, currency: 'USD', method_id: sepaId }))).toEqual(['body.method_id'])
    expect(await fieldsOf(await put({ kind: 'weekly', weekday: 1, currency: 'XYZ' }))).toEqual(['body.currency'])
    expect((await put({ kind: 'scheduled', currency: 'USD' })).status).toBe(422)
    expect(await fieldsOf(await put({ kind: 'monthly', currency: 'USD' }))).toEqual(['body.kind'])
  })

  it('is the creator’s own: someone else’s creator answers 404', async () => {
    expect((await put({ kind: 'manual', currency: 'USD' }, other.token)).status).toBe(404)
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/rule`, { token: other.token })).status).toBe(404)
  })
})

describe('when a rule is due', () => {
  const rule = (over: Partial<Parameters<typeof ruleOf>[0] & object>) => ruleOf({ kind: 'weekly', weekday: null, threshold_minor: null, dates_json: null, currency: 'USD', method_id: null, ...over }, null)
  it('weekly on its weekday, the default on Tuesdays', () => {
    expect(ruleDue(ruleOf(null, null), '2026-12-01', 0)).toEqual({ due: true })
    expect(ruleDue(ruleOf(null, null), '2026-12-02', 0)).toEqual({ due: false, reason: 'not_due' })
    expect(ruleDue(rule({ kind: 'weekly', weekday: 0 }), '2026-12-06', 0)).toEqual({ due: true })
  })
  it('threshold by amount, scheduled by date and day of month (31 = last day), manual never', () => {
    expect(ruleDue(rule({ kind: 'threshold', threshold_minor: 5000 }), '2026-12-01', 4999)).toEqual({ due: false, reason: 'below_threshold' })
    expect(ruleDue(rule({ kind: 'threshold', threshold_minor: 5000 }), '2026-12-01', 5000)).toEqual({ due: true })
    const sched = rule({ kind: 'scheduled', dates_json: JSON.stringify(['2026-12-24', 15, 31]) })
    expect(['2026-12-24', '2026-12-15', '2026-12-31', '2027-02-28', '2026-11-30', '2026-12-30', '2027-02-27'].map((d) => ruleDue(sched, d, 0).due)).toEqual([true, true, true, true, true, false, false])
    expect(ruleDue(rule({ kind: 'manual' }), '2026-12-01', 10 ** 9)).toEqual({ due: false, reason: 'not_due' })
  })
})
