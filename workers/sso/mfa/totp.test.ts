import { generateHOTP } from '@oslojs/otp'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../lib/encoding'
import { newTotpSecret, totpCode, totpStep, totpUri, verifyTotp } from './totp'

// RFC 6238 Appendix B / RFC 4226 Appendix D seed (SHA-1): ASCII "12345678901234567890"
const SEED = utf8('12345678901234567890')

// RFC 6238 Appendix B, SHA-1 column, 8 digits
const RFC6238: Array<[seconds: number, step: number, code: string]> = [
  [59, 0x1, '94287082'],
  [1111111109, 0x23523ec, '07081804'],
  [1111111111, 0x23523ed, '14050471'],
  [1234567890, 0x273ef07, '89005924'],
  [2000000000, 0x3f940aa, '69279037'],
  [20000000000, 0x27bc86aa, '65353130'],
]

// RFC 4226 Appendix D, counters 0-9, 6 digits
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']

describe('TOTP vectors', () => {
  it('matches RFC 4226 Appendix D (HOTP, counters 0-9)', () => {
    expect(RFC4226.map((_, counter) => generateHOTP(SEED, BigInt(counter), 6))).toEqual(RFC4226)
    expect(RFC4226.map((_, counter) => totpCode(SEED, counter))).toEqual(RFC4226)
  })

  it.each(RFC6238)('matches RFC 6238 Appendix B at T=%i', (seconds, step, code) => {
    expect(totpStep(seconds * 1000)).toBe(step)
    expect(totpCode(SEED, step, 8)).toBe(code)
    expect(totpCode(SEED, step)).toBe(code.slice(-6))
    expect(verifyTotp({ secret: SEED, code, nowMs: seconds * 1000, digits: 8 })).toEqual({ ok: true, step })
    expect(verifyTotp({ secret: SEED, code: code.slice(-6), nowMs: seconds * 1000 })).toEqual({ ok: true, step })
  })
})

describe('verifyTotp', () => {
  const nowMs = 1111111111_000 // step 0x23523ed, code 14050471
  const step = 0x23523ed

  it('accepts one step of drift either side, not two', () => {
    expect(verifyTotp({ secret: SEED, code: '081804', nowMs })).toEqual({ ok: true, step: step - 1 }) // T=1111111109
    expect(verifyTotp({ secret: SEED, code: totpCode(SEED, step + 1), nowMs })).toEqual({ ok: true, step: step + 1 })
    expect(verifyTotp({ secret: SEED, code: totpCode(SEED, step - 2), nowMs })).toEqual({ ok: false, reason: 'invalid' })
    expect(verifyTotp({ secret: SEED, code: totpCode(SEED, step + 2), nowMs })).toEqual({ ok: false, reason: 'invalid' })
  })

  it('refuses a replayed code and any code at or below the last used step', () => {
    const first = verifyTotp({ secret: SEED, code: '050471', nowMs })
    expect(first).toEqual({ ok: true, step })
    expect(verifyTotp({ secret: SEED, code: '050471', nowMs, lastUsedStep: step })).toEqual({ ok: false, reason: 'replayed' })
    // still refused 30 s later, when the code is one step old but otherwise inside the window
    expect(verifyTotp({ secret: SEED, code: '050471', nowMs: nowMs + 30_000, lastUsedStep: step })).toEqual({ ok: false, reason: 'replayed' })
    // an older code after a newer one was used
    expect(verifyTotp({ secret: SEED, code: '081804', nowMs, lastUsedStep: step })).toEqual({ ok: false, reason: 'replayed' })
    // the next step is still fine
    expect(verifyTotp({ secret: SEED, code: totpCode(SEED, step + 1), nowMs, lastUsedStep: step })).toEqual({ ok: true, step: step + 1 })
    expect(verifyTotp({ secret: SEED, code: '050471', nowMs, lastUsedStep: null })).toEqual({ ok: true, step })
  })

  it('refuses malformed input and a wrong secret, ignores spaces', () => {
    for (const code of ['', '05047', '0504711', '05o471', '-50471', '５０４７１１', '050471\n1']) {
      expect(verifyTotp({ secret: SEED, code, nowMs })).toEqual({ ok: false, reason: 'invalid' })
    }
    expect(verifyTotp({ secret: SEED, code: ' 050 471 ', nowMs })).toEqual({ ok: true, step })
    expect(verifyTotp({ secret: utf8('12345678901234567891'), code: '050471', nowMs })).toEqual({ ok: false, reason: 'invalid' })
    expect(verifyTotp({ secret: SEED, code: '14050471', nowMs })).toEqual({ ok: false, reason: 'invalid' }) // 8 digits where 6 expected
  })

  it('round-trips a fresh secret at the current time', () => {
    const secret = newTotpSecret()
    expect(secret.byteLength).toBe(20)
    expect(newTotpSecret()).not.toEqual(secret)
    const now = Date.now()
    expect(verifyTotp({ secret, code: totpCode(secret, totpStep(now)), nowMs: now })).toEqual({ ok: true, step: totpStep(now) })
  })
})

describe('totpUri', () => {
  it('builds the Key URI with a base32 secret, SHA1, 6 digits, 30 s', () => {
    expect(totpUri({ secret: SEED, account: 'fan@example.com', issuer: 'FANZ' })).toBe(
      'otpauth://totp/FANZ:fan%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=FANZ&algorithm=SHA1&digits=6&period=30',
    )
    expect(totpUri({ secret: SEED, account: 'Jo Doe', issuer: 'Boy Fanz' })).toBe(
      'otpauth://totp/Boy%20Fanz:Jo%20Doe?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Boy%20Fanz&algorithm=SHA1&digits=6&period=30',
    )
  })

  it('refuses a colon or an empty label part', () => {
    expect(() => totpUri({ secret: SEED, account: 'a:b', issuer: 'FANZ' })).toThrow(TypeError)
    expect(() => totpUri({ secret: SEED, account: 'fan', issuer: 'FA:NZ' })).toThrow(TypeError)
    expect(() => totpUri({ secret: SEED, account: '', issuer: 'FANZ' })).toThrow(TypeError)
  })
})
