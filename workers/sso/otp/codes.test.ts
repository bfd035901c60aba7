import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { CODE_TTL_MS, generateCode, hashCode, issueCode, MAX_ATTEMPTS, revokeCodes, verifyCode } from './codes'
import { createUser } from './test-fixtures'

const T0 = 1_800_000_000_000

type Row = { code_hash: string; attempts: number; max_attempts: number; expires_at_ms: number; consumed_at_ms: number | null; destination: string }
const row = (id: string) => env.DB.prepare('SELECT code_hash, attempts, max_attempts, expires_at_ms, consumed_at_ms, destination FROM otp_challenges WHERE id = ?').bind(id).first<Row>()

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

describe('generateCode', () => {
  /** A RandomReader that hands out the given 3-byte draws in order (20 bits are kept: 0xF_FFFF = 1048575). */
  const draws = (...values: number[][]) => ({
    read(bytes: Uint8Array) {
      bytes.set(values.shift()!)
    },
    left: () => values.length,
  })

  it('is 6 digits, keeps leading zeros, and redraws values past 999999 instead of folding them', () => {
    const reader = draws([0x0f, 0xff, 0xff], [0xff, 0x42, 0x40], [0x0f, 0x42, 0x3f])
    // 1048575 and 1000000 (high bits masked) are redrawn; 0xF423F = 999999 is taken
    expect(generateCode(reader)).toBe('999999')
    expect(reader.left()).toBe(0)
    expect(generateCode(draws([0, 0, 42]))).toBe('000042')
    for (let i = 0; i < 200; i++) expect(generateCode()).toMatch(/^[0-9]{6}$/)
  })

  it('spreads over the whole space (CSPRNG, not a constant)', () => {
    const codes = new Set(Array.from({ length: 500 }, () => generateCode()))
    expect(codes.size).toBeGreaterThan(490)
  })
})

describe('issueCode / verifyCode', () => {
  it('stores only a keyed hash bound to the challenge id, and verifies once', async () => {
    const user = await createUser()
    const issued = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552671', purpose: 'sign_in', nowMs: T0 })
    expect(issued.challengeId).toMatch(/^otp_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(issued.expiresAtMs).toBe(T0 + 10 * 60_000)
    const stored = (await row(issued.challengeId))!
    expect(stored.code_hash).toBe(hashCode(env.SIGNING_MASTER_KEY, issued.challengeId, issued.code))
    expect(stored.code_hash).not.toContain(issued.code)
    expect(stored.max_attempts).toBe(MAX_ATTEMPTS)
    // the same code under another challenge id hashes differently
    expect(hashCode(env.SIGNING_MASTER_KEY, 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', issued.code)).not.toBe(stored.code_hash)

    const first = await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 + 1_000 })
    expect(first).toEqual({ ok: true, channel: 'sms', destination: '+14155552671', purpose: 'sign_in' })
    expect((await row(issued.challengeId))!.consumed_at_ms).toBe(T0 + 1_000)
    const second = await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 + 2_000 })
    expect(second).toEqual({ ok: false, reason: 'used', attemptsLeft: 0, spent: false })
  })

  it('expires after 10 minutes (the clock is injectable)', async () => {
    const user = await createUser()
    const issued = await issueCode(env, { userId: user.id, channel: 'email', destination: user.email, purpose: 'sign_in', nowMs: T0 })
    const late = await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 + CODE_TTL_MS })
    expect(late).toEqual({ ok: false, reason: 'expired', attemptsLeft: 0, spent: false })
    expect((await row(issued.challengeId))!.attempts).toBe(0)
    const justInTime = await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 + CODE_TTL_MS - 1 })
    expect(justInTime.ok).toBe(true)
  })

  it('counts wrong guesses down and exhausts after 5, even with the right code afterwards', async () => {
    const user = await createUser()
    const issued = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552672', purpose: 'sign_in', nowMs: T0 })
    const left: number[] = []
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const result = await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: wrong(issued.code), nowMs: T0 })
      expect(result.ok).toBe(false)
      if (!result.ok) left.push(result.attemptsLeft)
    }
    expect(left).toEqual([4, 3, 2, 1, 0])
    expect(await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 })).toEqual({ ok: false, reason: 'exhausted', attemptsLeft: 0, spent: false })
  })

  it('never compares more than 5 guesses when they arrive concurrently', async () => {
    const user = await createUser()
    const issued = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552673', purpose: 'sign_in', nowMs: T0 })
    const guesses = Array.from({ length: 12 }, () => verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: wrong(issued.code), nowMs: T0 }))
    const results = await Promise.all(guesses)
    const compared = results.filter((r) => !r.ok && r.reason === 'invalid')
    expect(compared).toHaveLength(MAX_ATTEMPTS)
    expect(compared.map((r) => (r.ok ? -1 : r.attemptsLeft)).sort()).toEqual([0, 1, 2, 3, 4])
    expect(results.filter((r) => !r.ok && r.reason === 'exhausted')).toHaveLength(12 - MAX_ATTEMPTS)
    expect((await row(issued.challengeId))!.attempts).toBe(MAX_ATTEMPTS)
    expect((await verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 })).ok).toBe(false)
  })

  it('lets only one of two concurrent right answers succeed', async () => {
    const user = await createUser()
    const issued = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552674', purpose: 'sign_in', nowMs: T0 })
    const results = await Promise.all([1, 2, 3].map(() => verifyCode(env, { challengeId: issued.challengeId, userId: user.id, code: issued.code, nowMs: T0 })))
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    expect(results.filter((r) => !r.ok && r.reason === 'used')).toHaveLength(2)
  })

  it('a new code for the same user, purpose and channel ends the old one; other purposes and channels are untouched', async () => {
    const user = await createUser()
    const old = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552675', purpose: 'sign_in', nowMs: T0 })
    const phoneCheck = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552676', purpose: 'verify_phone', nowMs: T0 })
    const byEmail = await issueCode(env, { userId: user.id, channel: 'email', destination: user.email, purpose: 'sign_in', nowMs: T0 })
    const fresh = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552675', purpose: 'sign_in', nowMs: T0 + 5_000 })
    expect(await verifyCode(env, { challengeId: old.challengeId, userId: user.id, code: old.code, nowMs: T0 + 6_000 })).toEqual({ ok: false, reason: 'expired', attemptsLeft: 0, spent: false })
    expect((await verifyCode(env, { challengeId: fresh.challengeId, userId: user.id, code: fresh.code, nowMs: T0 + 6_000 })).ok).toBe(true)
    expect((await verifyCode(env, { challengeId: phoneCheck.challengeId, userId: user.id, code: phoneCheck.code, nowMs: T0 + 6_000 })).ok).toBe(true)
    expect((await verifyCode(env, { challengeId: byEmail.challengeId, userId: user.id, code: byEmail.code, nowMs: T0 + 6_000 })).ok).toBe(true)
  })

  it('answers another user, another purpose or an unknown id like a wrong code, without spending attempts', async () => {
    const owner = await createUser()
    const other = await createUser()
    const issued = await issueCode(env, { userId: owner.id, channel: 'sms', destination: '+14155552677', purpose: 'verify_phone', nowMs: T0 })
    const unknown = { ok: false, reason: 'invalid', attemptsLeft: 0, spent: false }
    expect(await verifyCode(env, { challengeId: issued.challengeId, userId: other.id, code: issued.code, nowMs: T0 })).toEqual(unknown)
    expect(await verifyCode(env, { challengeId: issued.challengeId, userId: owner.id, code: issued.code, purpose: 'sign_in', nowMs: T0 })).toEqual(unknown)
    expect(await verifyCode(env, { challengeId: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', userId: owner.id, code: issued.code, nowMs: T0 })).toEqual(unknown)
    expect(await verifyCode(env, { challengeId: 'not-an-id', userId: owner.id, code: issued.code, nowMs: T0 })).toEqual(unknown)
    expect((await row(issued.challengeId))!.attempts).toBe(0)
    // a malformed guess is a spent attempt, never a free one
    expect(await verifyCode(env, { challengeId: issued.challengeId, userId: owner.id, code: 'abc', nowMs: T0 })).toEqual({ ok: false, reason: 'invalid', attemptsLeft: 4, spent: true })
    expect((await verifyCode(env, { challengeId: issued.challengeId, userId: owner.id, code: issued.code, purpose: 'verify_phone', nowMs: T0 })).ok).toBe(true)
  })

  it('revokeCodes ends the live codes of one channel', async () => {
    const user = await createUser()
    const sms = await issueCode(env, { userId: user.id, channel: 'sms', destination: '+14155552678', purpose: 'sign_in', nowMs: T0 })
    const mail = await issueCode(env, { userId: user.id, channel: 'email', destination: user.email, purpose: 'sign_in', nowMs: T0 })
    expect(await revokeCodes(env, user.id, 'sms', T0 + 1)).toBe(1)
    expect((await verifyCode(env, { challengeId: sms.challengeId, userId: user.id, code: sms.code, nowMs: T0 + 2 })).ok).toBe(false)
    expect((await verifyCode(env, { challengeId: mail.challengeId, userId: user.id, code: mail.code, nowMs: T0 + 2 })).ok).toBe(true)
  })
})
