import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TTL_MS, IN_FLIGHT_LEASE_MS, idempotencyShard, shardName, type IdempotencyKeys, type StoredResponse } from './idempotency-keys'

let n = 0
/** A fresh scope per test: the file shares one runtime and one set of objects. */
const freshScope = (key = crypto.randomUUID()) => JSON.stringify([`sub:usr_t${++n}`, 'POST', '/api/payments/:id/charges', key])
const fp = (text: string) => [...new Uint8Array(new TextEncoder().encode(text.padEnd(32, '.')).slice(0, 32))].map((b) => b.toString(16).padStart(2, '0')).join('')
const FP_A = fp('request A')
const FP_B = fp('request B')
const CREATED: StoredResponse = {
  status: 201,
  headers: [{ name: 'content-type', value: 'application/json' }, { name: 'location', value: '/api/payments/pay_1' }],
  bodyBase64: btoa('{"id":"pay_1"}'),
}

describe('shards', () => {
  it('names one of 256 objects by the first two hex digits of SHA-256(scope), spread evenly', () => {
    expect(shardName('x')).toBe('idem:2d') // sha256("x") = 2d711642...
    const counts = new Map<string, number>()
    for (let i = 0; i < 4096; i++) {
      const name = shardName(freshScope(`k${i}`))
      expect(name).toMatch(/^idem:[0-9a-f]{2}$/)
      counts.set(name, (counts.get(name) ?? 0) + 1)
    }
    expect(counts.size).toBe(256)
    // 16 per shard on average: no shard takes a visible share of the traffic
    expect(Math.max(...counts.values())).toBeLessThan(40)
  })
})

describe('IdempotencyKeys', () => {
  it('proceeds once, answers in_flight while running, replays once complete', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const t0 = Date.now()
    const first = await shard.begin(scope, FP_A, t0)
    expect(first.kind).toBe('proceed')
    expect(await shard.begin(scope, FP_A, t0 + 10)).toEqual({ kind: 'in_flight', retryAfterS: 5 })
    expect(await shard.complete(scope, (first as { attempt: string }).attempt, CREATED)).toEqual({ ok: true })
    expect(await shard.begin(scope, FP_A, t0 + 20)).toEqual({ kind: 'replay', response: CREATED, createdAtMs: t0 })
    // once done, the attempt cannot complete twice
    expect(await shard.complete(scope, (first as { attempt: string }).attempt, CREATED)).toEqual({ ok: false, code: 'already_done' })
  })

  it('reports a different fingerprint as a mismatch, in flight or done', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const first = await shard.begin(scope, FP_A)
    expect(await shard.begin(scope, FP_B)).toEqual({ kind: 'mismatch' })
    await shard.complete(scope, (first as { attempt: string }).attempt, CREATED)
    expect(await shard.begin(scope, FP_B)).toEqual({ kind: 'mismatch' })
  })

  it('lets exactly one of 20 concurrent begins proceed', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const results = await Promise.all(Array.from({ length: 20 }, () => shard.begin(scope, FP_A)))
    expect(results.filter((r) => r.kind === 'proceed')).toHaveLength(1)
    expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(19)
  })

  it('abandon releases the key for the next attempt; a wrong attempt token changes nothing', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const first = (await shard.begin(scope, FP_A)) as { kind: 'proceed'; attempt: string }
    expect(await shard.abandon(scope, 'AAAAAAAAAAAAAAAAAAAAAA')).toEqual({ ok: false, code: 'superseded' })
    expect((await shard.begin(scope, FP_A)).kind).toBe('in_flight')
    expect(await shard.abandon(scope, first.attempt)).toEqual({ ok: true })
    expect(await shard.abandon(scope, first.attempt)).toEqual({ ok: false, code: 'not_found' })
    // released: a retry (even with another body: nothing was stored) proceeds
    expect((await shard.begin(scope, FP_B)).kind).toBe('proceed')
  })

  it('takes over a key whose lease ran out, and the stale attempt can neither complete nor release it', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const t0 = Date.now()
    const stale = (await shard.begin(scope, FP_A, t0)) as { kind: 'proceed'; attempt: string }
    expect((await shard.begin(scope, FP_A, t0 + IN_FLIGHT_LEASE_MS - 1)).kind).toBe('in_flight')
    const fresh = (await shard.begin(scope, FP_A, t0 + IN_FLIGHT_LEASE_MS)) as { kind: 'proceed'; attempt: string }
    expect(fresh.kind).toBe('proceed')
    expect(fresh.attempt).not.toBe(stale.attempt)
    expect(await shard.complete(scope, stale.attempt, CREATED)).toEqual({ ok: false, code: 'superseded' })
    expect(await shard.abandon(scope, stale.attempt)).toEqual({ ok: false, code: 'superseded' })
    expect(await shard.complete(scope, fresh.attempt, CREATED)).toEqual({ ok: true })
  })

  it('forgets a record 24 h after the first request: the key is new again', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const t0 = Date.now()
    const first = (await shard.begin(scope, FP_A, t0)) as { kind: 'proceed'; attempt: string }
    await shard.complete(scope, first.attempt, CREATED)
    expect((await shard.begin(scope, FP_B, t0 + DEFAULT_TTL_MS - 1)).kind).toBe('mismatch')
    expect((await shard.begin(scope, FP_B, t0 + DEFAULT_TTL_MS)).kind).toBe('proceed')
  })

  it('keeps a stored response without its body when the body is over the limit', async () => {
    const scope = freshScope()
    const shard = idempotencyShard(env, scope)
    const first = (await shard.begin(scope, FP_A)) as { kind: 'proceed'; attempt: string }
    await shard.complete(scope, first.attempt, { ...CREATED, bodyBase64: 'A'.repeat(256 * 1024 + 4) })
    expect(await shard.begin(scope, FP_A)).toMatchObject({ kind: 'replay', response: { status: 201, bodyBase64: null } })
  })

  it('purges expired records by alarm and keeps live ones', async () => {
    // both scopes in one shard: find a second key that lands where the first does
    const expired = freshScope()
    let live = freshScope()
    while (shardName(live) !== shardName(expired)) live = freshScope()
    const shard = idempotencyShard(env, expired)
    const dayAndAHourAgo = Date.now() - DEFAULT_TTL_MS - 3_600_000
    const old = (await shard.begin(expired, FP_A, dayAndAHourAgo)) as { kind: 'proceed'; attempt: string }
    await shard.complete(expired, old.attempt, CREATED)
    expect((await shard.begin(live, FP_A)).kind).toBe('proceed')
    const scopes = () =>
      runInDurableObject(shard, (_instance: IdempotencyKeys, state) =>
        state.storage.sql.exec<{ scope: string }>('SELECT scope FROM records WHERE scope IN (?, ?)', expired, live).toArray().map((r) => r.scope),
      )
    expect((await scopes()).sort()).toEqual([expired, live].sort())
    expect(await runDurableObjectAlarm(shard)).toBe(true)
    expect(await scopes()).toEqual([live])
    // the alarm re-armed itself for the live record
    expect(await runInDurableObject(shard, (_instance: IdempotencyKeys, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now())
  })

  it('refuses malformed arguments (bugs, not outcomes)', async () => {
    const scope = freshScope()
    await runInDurableObject(idempotencyShard(env, scope), (instance: IdempotencyKeys) => {
      expect(() => instance.begin(scope, 'not-hex')).toThrow(/fingerprint/)
      expect(() => instance.begin('', FP_A)).toThrow(/scope/)
      expect(() => instance.abandon(scope, 'x')).toThrow(/attempt/)
    })
  })
})
