import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../workers/lib/encoding'
import { isId, newId } from '../workers/lib/ids'
import { userSessions } from '../workers/sso/sessions'
import { PURGE_AFTER_MS, SESSION_DEFAULTS, type CreateSessionInput, type UserSessions } from './user-sessions'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

/** A fresh user per test: storage is isolated per file, not per test. */
function freshUser() {
  return userSessions(env, newId('user'))
}

function input(overrides: Partial<CreateSessionInput> = {}): CreateSessionInput {
  return { clientId: 'boyfanz', device: 'Firefox on macOS', ip: '203.0.113.7', country: 'US', amr: ['pwd'], authTimeS: Math.floor(T0 / 1000), nowMs: T0, ...overrides }
}

async function open(stub: ReturnType<typeof freshUser>, overrides: Partial<CreateSessionInput> = {}) {
  const created = await stub.createSession(input(overrides))
  if (!created.ok) throw new Error(`createSession failed: ${created.message}`)
  return created
}

async function rotateOk(stub: ReturnType<typeof freshUser>, token: string, nowMs: number) {
  const result = await stub.rotate(token, { nowMs })
  if (!result.ok) throw new Error(`rotate failed: ${result.code}`)
  return result
}

function rows<T>(stub: ReturnType<typeof freshUser>, query: string, ...args: SqlStorageValue[]) {
  return runInDurableObject(stub as unknown as DurableObjectStub<UserSessions>, (_instance, state) => state.storage.sql.exec(query, ...args).toArray() as T[])
}

describe('user sessions', () => {
  it('creates a session whose refresh token is stored only as a hash', async () => {
    const stub = freshUser()
    const created = await open(stub, { amr: ['pwd', 'otp', 'mfa'] })
    expect(isId('session', created.sessionId)).toBe(true)
    expect(isId('refreshFamily', created.familyId)).toBe(true)
    expect(created.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/)
    expect(created.expiresAtMs).toBe(T0 + SESSION_DEFAULTS.absoluteTtlMs)

    const stored = await rows<{ token_hash: string; generation: number }>(stub, 'SELECT token_hash, generation FROM refresh_tokens')
    expect(stored).toEqual([{ token_hash: sha256Hex(created.refreshToken), generation: 1 }])
    const dump = JSON.stringify(await rows(stub, 'SELECT * FROM sessions')) + JSON.stringify(await rows(stub, 'SELECT * FROM refresh_tokens'))
    expect(dump).not.toContain(created.refreshToken.slice(3))

    const [listed, ...rest] = await stub.listSessions({ nowMs: T0 + 1000 })
    expect(rest).toEqual([])
    expect(listed).toEqual({
      sessionId: created.sessionId, clientId: 'boyfanz', parentId: null, device: 'Firefox on macOS', ip: '203.0.113.7', country: 'US',
      amr: ['pwd', 'otp', 'mfa'], authTimeS: Math.floor(T0 / 1000), createdAtMs: T0, lastSeenAtMs: T0,
      expiresAtMs: T0 + 30 * DAY, idleExpiresAtMs: T0 + 14 * DAY,
    })
    expect(JSON.stringify(listed)).not.toContain('rt_')
  })

  it('touches, lists newest first, and revokes one session', async () => {
    const stub = freshUser()
    const a = await open(stub, { clientId: 'boyfanz' })
    const b = await open(stub, { clientId: 'girlfanz', nowMs: T0 + 1000 })

    const touched = await stub.touch(a.sessionId, { nowMs: T0 + 5 * DAY })
    expect(touched).toEqual({ ok: true, sessionId: a.sessionId, lastSeenAtMs: T0 + 5 * DAY, idleExpiresAtMs: T0 + 19 * DAY })
    expect((await stub.listSessions({ nowMs: T0 + 5 * DAY })).map((s) => [s.sessionId, s.lastSeenAtMs])).toEqual([
      [b.sessionId, T0 + 1000],
      [a.sessionId, T0 + 5 * DAY],
    ])

    expect(await stub.revokeSession(a.sessionId, 'user_logout', { nowMs: T0 + 6 * DAY })).toEqual({ ok: true, sessionId: a.sessionId, clientId: 'boyfanz', alreadyRevoked: false, revoked: [{ sessionId: a.sessionId, clientId: 'boyfanz', parentId: null }] })
    expect(await stub.revokeSession(a.sessionId, 'admin', { nowMs: T0 + 7 * DAY })).toEqual({ ok: true, sessionId: a.sessionId, clientId: 'boyfanz', alreadyRevoked: true, revoked: [] })
    expect((await stub.listSessions({ nowMs: T0 + 6 * DAY })).map((s) => s.sessionId)).toEqual([b.sessionId])
    expect(await stub.touch(a.sessionId, { nowMs: T0 + 6 * DAY })).toEqual({ ok: false, code: 'session_revoked' })
    expect(await stub.rotate(a.refreshToken, { nowMs: T0 + 6 * DAY })).toEqual({ ok: false, code: 'session_revoked' })
    expect(await stub.introspect(a.refreshToken, { nowMs: T0 + 6 * DAY })).toEqual({ active: false })
    expect(await rows(stub, 'SELECT revoked_at_ms, revoke_reason FROM sessions WHERE id = ?', a.sessionId)).toEqual([{ revoked_at_ms: T0 + 6 * DAY, revoke_reason: 'user_logout' }])

    expect(await stub.revokeSession(newId('session'), 'user_logout')).toEqual({ ok: false, code: 'not_found' })
    expect(await stub.touch(newId('session'))).toEqual({ ok: false, code: 'not_found' })
  })

  it('signs out everywhere and names each revoked session with its client', async () => {
    const stub = freshUser()
    const a = await open(stub, { clientId: 'boyfanz' })
    const b = await open(stub, { clientId: 'pupfanz', nowMs: T0 + 1 })
    const c = await open(stub, { clientId: 'transfanz', nowMs: T0 + 2 })
    await stub.revokeSession(c.sessionId, 'user_logout', { nowMs: T0 + 3 })

    const result = await stub.revokeAll('sign_out_everywhere', { nowMs: T0 + 10 })
    expect(result).toEqual({ ok: true, revoked: [{ sessionId: a.sessionId, clientId: 'boyfanz', parentId: null }, { sessionId: b.sessionId, clientId: 'pupfanz', parentId: null }] })
    expect(await stub.listSessions({ nowMs: T0 + 10 })).toEqual([])
    for (const s of [a, b]) expect(await stub.rotate(s.refreshToken, { nowMs: T0 + 11 })).toEqual({ ok: false, code: 'session_revoked' })
    expect(await stub.revokeAll('sign_out_everywhere', { nowMs: T0 + 12 })).toEqual({ ok: true, revoked: [] })
  })

  it('rotates through 5 generations, each token single-use', async () => {
    const stub = freshUser()
    const created = await open(stub)
    const tokens = [created.refreshToken]
    for (let i = 1; i <= 5; i++) {
      const next = await rotateOk(stub, tokens.at(-1)!, T0 + i * 60_000)
      expect(next).toMatchObject({ generation: i + 1, replayed: false, sessionId: created.sessionId, clientId: 'boyfanz', amr: ['pwd'], expiresAtMs: T0 + 30 * DAY })
      tokens.push(next.refreshToken)
    }
    expect(new Set(tokens).size).toBe(6)

    const chain = await rows<{ generation: number; used_at_ms: number | null; token_hash: string }>(stub, 'SELECT generation, used_at_ms, token_hash FROM refresh_tokens ORDER BY generation')
    expect(chain.map((r) => r.generation)).toEqual([1, 2, 3, 4, 5, 6])
    expect(chain.map((r) => r.used_at_ms)).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000, T0 + 240_000, T0 + 300_000, null])
    expect(chain.map((r) => r.token_hash)).toEqual(tokens.map((t) => sha256Hex(t)))
    // only the newest used token still wraps its successor; older wraps are cleared
    expect((await rows<{ generation: number }>(stub, 'SELECT generation FROM refresh_tokens WHERE successor_wrapped IS NOT NULL')).map((r) => r.generation)).toEqual([5])
    expect((await stub.listSessions({ nowMs: T0 + 300_000 }))[0]!.lastSeenAtMs).toBe(T0 + 300_000)

    expect(await stub.introspect(tokens[5]!, { nowMs: T0 + 300_001 })).toEqual({
      active: true, sessionId: created.sessionId, familyId: created.familyId, clientId: 'boyfanz', parentId: null, scope: null, generation: 6,
      issuedAtMs: T0 + 300_000, expiresAtMs: T0 + 30 * DAY, amr: ['pwd'], authTimeS: Math.floor(T0 / 1000),
    })
    expect(await stub.introspect(tokens[4]!, { nowMs: T0 + 300_001 })).toEqual({ active: false })
    expect(await stub.introspect(`rt_${'A'.repeat(43)}`)).toEqual({ active: false })
  })

  it('treats replay of an older generation as reuse: revokes the family and the session', async () => {
    const stub = freshUser()
    const created = await open(stub, { clientId: 'girlfanz' })
    const other = await open(stub, { clientId: 'boyfanz' })
    const g2 = await rotateOk(stub, created.refreshToken, T0 + 1000)
    const g3 = await rotateOk(stub, g2.refreshToken, T0 + 2000)

    // generation 1 is two behind: reuse, even inside the grace window
    expect(await stub.rotate(created.refreshToken, { nowMs: T0 + 2001 })).toEqual({
      ok: false, code: 'refresh_token_reused', revoked: { sessionId: created.sessionId, clientId: 'girlfanz', parentId: null },
    })
    // the newest token (held by whoever stole or kept the family) is dead too
    expect(await stub.rotate(g3.refreshToken, { nowMs: T0 + 2002 })).toEqual({ ok: false, code: 'session_revoked' })
    expect(await stub.introspect(g3.refreshToken, { nowMs: T0 + 2002 })).toEqual({ active: false })
    expect(await rows(stub, 'SELECT revoke_reason FROM sessions WHERE id = ?', created.sessionId)).toEqual([{ revoke_reason: 'refresh_token_reused' }])
    expect(await rows(stub, 'SELECT revoked_at_ms, revoke_reason FROM refresh_families WHERE session_id = ?', created.sessionId)).toEqual([{ revoked_at_ms: T0 + 2001, revoke_reason: 'refresh_token_reused' }])
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE successor_wrapped IS NOT NULL')).toEqual([{ n: 0 }])
    // other sessions of the user are untouched
    expect((await stub.listSessions({ nowMs: T0 + 2002 })).map((s) => s.sessionId)).toEqual([other.sessionId])
    expect((await stub.rotate(other.refreshToken, { nowMs: T0 + 2003 })).ok).toBe(true)
  })

  it('honours the previous generation inside the grace window with the same successor', async () => {
    const stub = freshUser()
    const created = await open(stub)
    const g2 = await rotateOk(stub, created.refreshToken, T0 + 1000)

    const replay = await rotateOk(stub, created.refreshToken, T0 + 1000 + SESSION_DEFAULTS.refreshGraceMs)
    expect(replay).toMatchObject({ refreshToken: g2.refreshToken, generation: 2, replayed: true, sessionId: created.sessionId })
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM refresh_tokens')).toEqual([{ n: 2 }])

    // the successor is still live and rotates normally
    const g3 = await rotateOk(stub, g2.refreshToken, T0 + 3000)
    expect(g3.generation).toBe(3)
  })

  it('treats the previous generation after the grace window as reuse', async () => {
    const stub = freshUser()
    const created = await open(stub, { refreshGraceMs: 5000 })
    const g2 = await rotateOk(stub, created.refreshToken, T0 + 1000)

    expect(await stub.rotate(created.refreshToken, { nowMs: T0 + 1000 + 5001 })).toEqual({
      ok: false, code: 'refresh_token_reused', revoked: { sessionId: created.sessionId, clientId: 'boyfanz', parentId: null },
    })
    expect(await stub.rotate(g2.refreshToken, { nowMs: T0 + 7000 })).toEqual({ ok: false, code: 'session_revoked' })
  })

  it('without a grace window any second use is reuse', async () => {
    const stub = freshUser()
    const created = await open(stub, { refreshGraceMs: 0 })
    await rotateOk(stub, created.refreshToken, T0 + 1000)
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE successor_wrapped IS NOT NULL')).toEqual([{ n: 0 }])
    expect((await stub.rotate(created.refreshToken, { nowMs: T0 + 1000 })).ok).toBe(false)
  })

  it('serialises concurrent rotations of one token: never two different live tokens', async () => {
    const stub = freshUser()
    const created = await open(stub, { nowMs: Date.now() })
    const results = await Promise.all(Array.from({ length: 4 }, () => stub.rotate(created.refreshToken)))
    const successors = results.map((r) => (r.ok ? r.refreshToken : r.code))
    expect(new Set(successors).size).toBe(1)
    expect(successors[0]).toMatch(/^rt_/)
    expect(results.map((r) => r.ok && r.replayed).filter(Boolean)).toHaveLength(3)
    expect(await rows(stub, 'SELECT generation FROM refresh_tokens ORDER BY generation')).toEqual([{ generation: 1 }, { generation: 2 }])

    // the one successor is live and rotates normally
    expect(await stub.rotate(successors[0]!)).toMatchObject({ ok: true, generation: 3, replayed: false })
  })

  it('expires sessions after the idle timeout and at the absolute lifetime', async () => {
    const stub = freshUser()
    const idle = await open(stub)
    expect(await stub.rotate(idle.refreshToken, { nowMs: T0 + 14 * DAY })).toEqual({ ok: false, code: 'session_expired' })
    expect(await stub.touch(idle.sessionId, { nowMs: T0 + 14 * DAY })).toEqual({ ok: false, code: 'session_expired' })
    expect(await stub.introspect(idle.refreshToken, { nowMs: T0 + 14 * DAY })).toEqual({ active: false })

    // kept alive by activity, it still ends at the absolute lifetime
    const busy = await open(stub)
    let token = busy.refreshToken
    for (let day = 10; day < 30; day += 10) token = (await rotateOk(stub, token, T0 + day * DAY)).refreshToken
    expect((await stub.touch(busy.sessionId, { nowMs: T0 + 29 * DAY })).ok).toBe(true)
    expect((await stub.introspect(token, { nowMs: T0 + 30 * DAY - 1 })).active).toBe(true)
    expect(await stub.rotate(token, { nowMs: T0 + 30 * DAY })).toEqual({ ok: false, code: 'session_expired' })
    expect(await stub.listSessions({ nowMs: T0 + 30 * DAY })).toEqual([])
    expect((await stub.listSessions({ nowMs: T0 + 30 * DAY - 1 })).map((s) => s.sessionId)).toEqual([busy.sessionId])

    // expired sessions are not active, so signing out everywhere has nothing left to revoke
    expect(await stub.revokeAll('sign_out_everywhere', { nowMs: T0 + 31 * DAY })).toEqual({ ok: true, revoked: [] })
  })

  it('refuses a token presented by another client', async () => {
    const stub = freshUser()
    const created = await open(stub, { clientId: 'taboofanz' })
    expect(await stub.rotate(created.refreshToken, { clientId: 'boyfanz', nowMs: T0 + 1 })).toEqual({ ok: false, code: 'invalid_grant' })
    expect(await stub.rotate(created.refreshToken, { clientId: 'taboofanz', nowMs: T0 + 2 })).toMatchObject({ ok: true, generation: 2 })
  })

  it('purges sessions expired or revoked more than 30 days ago from its alarm', async () => {
    const stub = freshUser()
    const now = Date.now()
    const long = await open(stub, { nowMs: now - 100 * DAY, authTimeS: Math.floor((now - 100 * DAY) / 1000) })
    const revokedOld = await open(stub, { nowMs: now - 40 * DAY, authTimeS: Math.floor((now - 40 * DAY) / 1000) })
    await stub.revokeSession(revokedOld.sessionId, 'user_logout', { nowMs: now - 31 * DAY })
    const revokedRecent = await open(stub, { nowMs: now - 40 * DAY, authTimeS: Math.floor((now - 40 * DAY) / 1000) })
    await stub.revokeSession(revokedRecent.sessionId, 'user_logout', { nowMs: now - 29 * DAY })
    const live = await open(stub, { nowMs: now, authTimeS: Math.floor(now / 1000) })
    await rotateOk(stub, live.refreshToken, now)

    const scheduled = await runInDurableObject(stub as unknown as DurableObjectStub<UserSessions>, (_i, state) => state.storage.getAlarm())
    expect(scheduled).not.toBeNull()
    expect(scheduled!).toBeGreaterThan(now)

    expect(await runDurableObjectAlarm(stub)).toBe(true)
    const left = await rows<{ id: string }>(stub, 'SELECT id FROM sessions ORDER BY id')
    expect(left.map((r) => r.id).sort()).toEqual([revokedRecent.sessionId, live.sessionId].sort())
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM refresh_families')).toEqual([{ n: 2 }])
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM refresh_tokens')).toEqual([{ n: 3 }])
    expect(await stub.rotate(long.refreshToken)).toEqual({ ok: false, code: 'invalid_grant' })

    // rescheduled for the next purgeable session (the recently revoked one: revoked + 30 days)
    const next = await runInDurableObject(stub as unknown as DurableObjectStub<UserSessions>, (_i, state) => state.storage.getAlarm())
    expect(next).toBe(now - 29 * DAY + PURGE_AFTER_MS)

    // once every session is gone the alarm is cleared
    await runInDurableObject(stub as unknown as DurableObjectStub<UserSessions>, (_i, state) => {
      state.storage.sql.exec('UPDATE sessions SET revoked_at_ms = ?', now - 31 * DAY)
    })
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM sessions')).toEqual([{ n: 0 }])
    expect(await runInDurableObject(stub as unknown as DurableObjectStub<UserSessions>, (_i, state) => state.storage.getAlarm())).toBeNull()
    expect(await runDurableObjectAlarm(stub)).toBe(false)
  })

  it('returns error results for invalid input instead of throwing', async () => {
    const stub = freshUser()
    const bad = (message: RegExp) => ({ ok: false, code: 'invalid_request', message: expect.stringMatching(message) })
    expect(await stub.createSession(input({ clientId: '' }))).toEqual(bad(/clientId/))
    expect(await stub.createSession(input({ clientId: 'a b' }))).toEqual(bad(/clientId/))
    expect(await stub.createSession(input({ device: 'x'.repeat(257) }))).toEqual(bad(/device/))
    expect(await stub.createSession(input({ country: 'usa' }))).toEqual(bad(/country/))
    expect(await stub.createSession(input({ ip: '' }))).toEqual(bad(/ip/))
    expect(await stub.createSession(input({ amr: [] }))).toEqual(bad(/amr/))
    expect(await stub.createSession(input({ amr: ['PWD!'] }))).toEqual(bad(/amr/))
    expect(await stub.createSession(input({ authTimeS: 1.5 }))).toEqual(bad(/authTimeS/))
    expect(await stub.createSession(input({ authTimeS: Math.floor(T0 / 1000) + 3600 }))).toEqual(bad(/authTimeS/))
    expect(await stub.createSession(input({ refreshGraceMs: 120_000 }))).toEqual(bad(/refreshGraceMs/))
    expect(await stub.createSession(input({ idleTimeoutMs: -1 }))).toEqual(bad(/idleTimeoutMs/))
    expect(await stub.createSession(input({ nowMs: Number.NaN }))).toEqual(bad(/nowMs/))
    expect(await stub.createSession(null as unknown as CreateSessionInput)).toEqual(bad(/object/))

    expect(await stub.rotate(42 as unknown as string)).toEqual(bad(/refreshToken/))
    expect(await stub.rotate('not-a-token')).toEqual({ ok: false, code: 'invalid_grant' })
    expect(await stub.rotate(`rt_${'A'.repeat(43)}`)).toEqual({ ok: false, code: 'invalid_grant' })
    expect(await stub.touch('ses_nope')).toEqual(bad(/sessionId/))
    expect(await stub.revokeSession(newId('session'), 'Not A Reason')).toEqual(bad(/reason/))
    expect(await stub.revokeSession('usr_123', 'user_logout')).toEqual(bad(/sessionId/))
    expect(await stub.revokeAll('')).toEqual(bad(/reason/))
    expect(await stub.introspect(undefined as unknown as string)).toEqual({ active: false })
    expect(await stub.listSessions()).toEqual([])
    expect(await rows(stub, 'SELECT COUNT(*) AS n FROM sessions')).toEqual([{ n: 0 }])
  })
})
