import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { accountKey, ipKey, throttle } from '../workers/sso/accounts/throttle'
import { ACCOUNT_FAILURE_LIMIT, IDLE_FORGET_MS, LIMIT_FORGET_MS, MAX_DELAY_S, backoffDelayS, type Throttle } from './throttle'

let n = 0
/** A fresh key (and so a fresh object) per test: files share one runtime. */
const freshAccount = () => accountKey(`User${++n}.${crypto.randomUUID()}@Example.com`)
const stubFor = (key: string) => env.THROTTLE.get(env.THROTTLE.idFromName(key)) as DurableObjectStub<Throttle>

describe('throttle backoff', () => {
  it('is free for 5 failures, then 1 s, 2 s, 4 s ... capped at 15 min', () => {
    expect([1, 2, 3, 4, 5].map(backoffDelayS)).toEqual([0, 0, 0, 0, 0])
    expect([6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(backoffDelayS)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    expect([16, 17, 50, 99, 100, 10_000].map(backoffDelayS)).toEqual([900, 900, 900, 900, 900, 900])
    expect(MAX_DELAY_S).toBe(900)
  })
})

describe('Throttle Durable Object', () => {
  it('allows a key it has never seen', async () => {
    expect(await throttle(env, freshAccount()).check()).toEqual({ allowed: true, failures: 0 })
  })

  it('records failures and answers with the backoff sequence and Retry-After seconds', async () => {
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now()
    for (let i = 1; i <= 5; i++) expect(await stub.recordFailure(key, t0)).toEqual({ allowed: true, failures: i })
    expect(await stub.check(t0)).toEqual({ allowed: true, failures: 5 })
    expect(await stub.recordFailure(key, t0)).toEqual({ allowed: false, retryAfterS: 1, failures: 6, requiresReset: false })
    expect(await stub.check(t0 + 999)).toEqual({ allowed: false, retryAfterS: 1, failures: 6, requiresReset: false })
    expect(await stub.check(t0 + 1000)).toEqual({ allowed: true, failures: 6 })
    const t1 = t0 + 1000
    expect(await stub.recordFailure(key, t1)).toMatchObject({ allowed: false, retryAfterS: 2, failures: 7 })
    expect(await stub.check(t1 + 500)).toMatchObject({ allowed: false, retryAfterS: 2 })
    const t2 = t1 + 2000
    expect(await stub.recordFailure(key, t2)).toMatchObject({ allowed: false, retryAfterS: 4, failures: 8 })
    expect(await stub.check(t2 + 4000)).toEqual({ allowed: true, failures: 8 })
  })

  it('resets on success', async () => {
    const key = freshAccount()
    const t = throttle(env, key)
    for (let i = 0; i < 7; i++) await t.recordFailure()
    expect(await t.check()).toMatchObject({ allowed: false, failures: 7 })
    await t.recordSuccess()
    expect(await t.check()).toEqual({ allowed: true, failures: 0 })
    expect(await t.recordFailure()).toEqual({ allowed: true, failures: 1 })
  })

  it('counts each of many concurrent failures exactly once', async () => {
    const t = throttle(env, freshAccount())
    const results = await Promise.all(Array.from({ length: 20 }, () => t.recordFailure()))
    expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(await t.check()).toMatchObject({ allowed: false, failures: 20, requiresReset: false })
  })

  it('never waits more than 15 minutes below the ceiling', async () => {
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now()
    let last
    for (let i = 0; i < 40; i++) last = await stub.recordFailure(key, t0)
    expect(last).toEqual({ allowed: false, retryAfterS: 900, failures: 40, requiresReset: false })
    expect(await stub.check(t0 + 900_000)).toEqual({ allowed: true, failures: 40 })
  })

  it('closes the password path of an account after 100 consecutive failures until a success', async () => {
    expect(ACCOUNT_FAILURE_LIMIT).toBe(100)
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now()
    for (let i = 0; i < 99; i++) await stub.recordFailure(key, t0)
    expect(await stub.check(t0 + 900_000)).toEqual({ allowed: true, failures: 99 })
    expect(await stub.recordFailure(key, t0 + 900_000)).toEqual({ allowed: false, retryAfterS: 900, failures: 100, requiresReset: true })
    // waiting does not reopen it; further failures do not count past the ceiling
    expect(await stub.check(t0 + 86_400_000)).toMatchObject({ allowed: false, failures: 100, requiresReset: true })
    expect(await stub.recordFailure(key, t0 + 900_000)).toMatchObject({ failures: 100, requiresReset: true })
    // another path (a completed reset) reopens it
    await stub.recordSuccess()
    expect(await stub.check()).toEqual({ allowed: true, failures: 0 })
  })

  it('only slows IP keys: no ceiling', async () => {
    const key = ipKey(`203.0.113.${++n % 250}-${crypto.randomUUID()}`)
    const stub = stubFor(key)
    const t0 = Date.now()
    for (let i = 0; i < 120; i++) await stub.recordFailure(key, t0)
    expect(await stub.check(t0)).toEqual({ allowed: false, retryAfterS: 900, failures: 120, requiresReset: false })
    expect(await stub.check(t0 + 900_000)).toEqual({ allowed: true, failures: 120 })
  })

  /** Moves the stored last failure back in time, as if the key had been idle. */
  const age = (stub: DurableObjectStub<Throttle>, atMs: number) =>
    runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE state SET last_failure_at_ms = ?, locked_until_ms = ?', atMs, atMs)
    })
  const alarmOf = (stub: DurableObjectStub<Throttle>) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())

  it('forgets an idle key by alarm, 24 h after its last failure', async () => {
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now()
    for (let i = 0; i < 8; i++) await stub.recordFailure(key, t0)
    expect(await alarmOf(stub)).toBe(t0 + IDLE_FORGET_MS)
    await age(stub, Date.now() - IDLE_FORGET_MS - 1)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.check()).toEqual({ allowed: true, failures: 0 })
    expect(await alarmOf(stub)).toBeNull()
  })

  it('keeps a recently failed key and re-arms the alarm for its due time', async () => {
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now() - 60_000
    await stub.recordFailure(key, t0)
    // an alarm firing early must not forget a recent failure
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.check()).toEqual({ allowed: true, failures: 1 })
    expect(await alarmOf(stub)).toBe(t0 + IDLE_FORGET_MS)
  })

  it('keeps a key at the ceiling for 30 days of silence, not 24 h', async () => {
    const key = freshAccount()
    const stub = stubFor(key)
    const t0 = Date.now()
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await stub.recordFailure(key, t0)
    expect(await alarmOf(stub)).toBe(t0 + LIMIT_FORGET_MS)
    const twoDaysAgo = Date.now() - 2 * IDLE_FORGET_MS
    await age(stub, twoDaysAgo)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.check()).toMatchObject({ allowed: false, failures: 100, requiresReset: true })
    expect(await alarmOf(stub)).toBe(twoDaysAgo + LIMIT_FORGET_MS)
    await age(stub, Date.now() - LIMIT_FORGET_MS - 1)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.check()).toEqual({ allowed: true, failures: 0 })
  })

  it('refuses malformed keys in the helper', () => {
    expect(() => throttle(env, 'user:someone')).toThrow()
    expect(() => throttle(env, 'account:')).toThrow()
    expect(accountKey('  Ann@Example.COM ')).toBe('account:ann@example.com')
  })
})
