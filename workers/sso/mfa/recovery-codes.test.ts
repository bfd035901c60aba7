import { describe, expect, it } from 'vitest'
import { consumeRecoveryCode, hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from './recovery-codes'

describe('recovery codes', () => {
  it('generates ten distinct xxxxx-xxxxx codes and stores only their hashes', () => {
    const { codes, hashes } = newRecoveryCodes()
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/)
    expect(hashes).toEqual(codes.map(hashRecoveryCode))
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/)
    for (const code of codes) expect(hashes.join()).not.toContain(code.replace('-', ''))
    // a second batch is different
    expect(newRecoveryCodes().codes.some((c) => codes.includes(c))).toBe(false)
  })

  it('hashes the normalised code: SHA-256 of "fanz/recovery-code/v1:" + code', () => {
    expect(hashRecoveryCode('abcde-fghjk')).toBe('b7901991997b321d23c31b408d1a1fe1527a9a73084ec35ed45a67874485f50f')
    expect(hashRecoveryCode('OI234-S6789')).toBe(hashRecoveryCode('01234-s6789'))
    expect(hashRecoveryCode('01234-56789')).toBe('2a2fc93fa61a1f105b39d6b97d08cc79d7cfc7712b6ffcce0f7cc4845acf4dc6')
    expect(() => hashRecoveryCode('abcd!')).toThrow(TypeError)
  })

  it('normalises case, spaces, dashes and Crockford look-alikes', () => {
    expect(normaliseRecoveryCode(' ABCDE - FGHJK ')).toBe('abcdefghjk')
    expect(normaliseRecoveryCode('o1I2l-34567')).toBe('0112134567')
    expect(normaliseRecoveryCode('abcde_fghjk')).toBe('abcdefghjk')
    expect(normaliseRecoveryCode('abcde-fghju')).toBeUndefined() // u is not in the alphabet
    expect(normaliseRecoveryCode('abcdé-fghjk')).toBeUndefined()
    expect(normaliseRecoveryCode(' - ')).toBeUndefined()
  })

  it('consumes a code once it is presented in any normalised form, and reports which', () => {
    const { codes, hashes } = newRecoveryCodes()
    const third = codes[2]!
    const messy = ` ${third.toUpperCase().replace('-', ' -  ')} `
    expect(consumeRecoveryCode(hashes, messy)).toEqual({ ok: true, index: 2, hash: hashes[2] })
    expect(consumeRecoveryCode(hashes, third.replace('-', ''))).toEqual({ ok: true, index: 2, hash: hashes[2] })
    // the caller drops the used hash: the same code no longer matches
    const remaining = hashes.filter((h) => h !== hashes[2])
    expect(consumeRecoveryCode(remaining, third)).toEqual({ ok: false })
    expect(consumeRecoveryCode(remaining, codes[9]!)).toEqual({ ok: true, index: 8, hash: hashes[9] })
  })

  it('refuses unknown, malformed and empty input, and an empty table', () => {
    const { hashes } = newRecoveryCodes()
    for (const presented of ['', '-', 'abcde-fghjk', 'abcde', '!!!!!-!!!!!', 'x'.repeat(10_000)]) {
      expect(consumeRecoveryCode(hashes, presented)).toEqual({ ok: false })
    }
    expect(consumeRecoveryCode([], 'abcde-fghjk')).toEqual({ ok: false })
    expect(consumeRecoveryCode(['abcde-fghjk', ''], 'abcde-fghjk')).toEqual({ ok: false }) // plaintext in the table never matches
  })
})
