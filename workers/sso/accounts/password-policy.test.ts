import { describe, expect, it } from 'vitest'
import { MAX_LENGTH, MIN_LENGTH_SINGLE_FACTOR, MIN_LENGTH_WITH_MFA, checkPassword } from './password-policy'

const path = 'body.password'
const problem = (message: string) => ({ ok: false, errors: [{ path, message }] })

describe('password policy (NIST SP 800-63B rev 4)', () => {
  it('exports the NIST minimum lengths', () => {
    expect(MIN_LENGTH_SINGLE_FACTOR).toBe(15)
    expect(MIN_LENGTH_WITH_MFA).toBe(8)
    expect(MAX_LENGTH).toBeGreaterThanOrEqual(64)
  })

  it('accepts long passphrases with spaces, punctuation, emoji and any script, without composition rules', () => {
    for (const password of ['correct horse battery staple', 'all lowercase letters only', 'ünïcödé påsswörd fräse', '日本語のパスワードは十分に長い', 'sunset 🌅 over the 🏔️ peaks', '   leading and trailing   ']) {
      expect(checkPassword(password)).toEqual({ ok: true, normalized: password.normalize('NFKC') })
    }
  })

  it('accepts 64 and up to the maximum length', () => {
    const sixtyFour = 'the quick brown fox jumps over the lazy dog while it sleeps 1234'
    expect([...sixtyFour]).toHaveLength(64)
    expect(checkPassword(sixtyFour)).toMatchObject({ ok: true })
    expect(checkPassword('xq7 '.repeat(64))).toMatchObject({ ok: true })
    expect(checkPassword(`${'xq7 '.repeat(64)}!`)).toEqual(problem('must be at most 256 characters'))
  })

  it('needs 15 characters as the only factor and 8 within MFA', () => {
    expect(checkPassword('fourteen chars')).toEqual(problem('must be at least 15 characters'))
    expect(checkPassword('fifteen chars!!')).toMatchObject({ ok: true })
    expect(checkPassword('zebra#kettle', { withMfa: true })).toMatchObject({ ok: true })
    expect(checkPassword('zebra#k', { withMfa: true })).toEqual(problem('must be at least 8 characters'))
    expect(checkPassword('zebra#kettle')).toEqual(problem('must be at least 15 characters'))
  })

  it('counts code points after NFKC, not UTF-16 units', () => {
    // 8 emoji are 16 UTF-16 units but 8 code points
    expect(checkPassword('🐶🐱🐭🐹🐰🦊🐻🐼')).toEqual(problem('must be at least 15 characters'))
    expect(checkPassword('🐶🐱🐭🐹🐰🦊🐻🐼', { withMfa: true })).toMatchObject({ ok: true })
    // U+FDFA (one code point) expands to 18 under NFKC
    expect(checkPassword('\uFDFA')).toMatchObject({ ok: true })
  })

  it('refuses passwords on the bundled common-password list, case-insensitively', () => {
    expect(checkPassword('passwordpassword')).toEqual(problem('is too common: choose a less predictable password'))
    expect(checkPassword('PassWordPassWord')).toEqual(problem('is too common: choose a less predictable password'))
    expect(checkPassword('password1234', { withMfa: true })).toEqual(problem('is too common: choose a less predictable password'))
    expect(checkPassword('trustno1', { withMfa: true })).toEqual(problem('is too common: choose a less predictable password'))
  })

  it('checks the NFKC form: a fullwidth spelling of a listed password is refused', () => {
    expect(checkPassword('ｐａｓｓｗｏｒｄｐａｓｓｗｏｒｄ')).toEqual(problem('is too common: choose a less predictable password'))
    expect(checkPassword('ｑｗｅｒｔｙｕｉｏｐ１２３', { withMfa: true })).toEqual(problem('is too common: choose a less predictable password'))
  })

  it('reports every problem at once', () => {
    expect(checkPassword('iloveyou')).toEqual({
      ok: false,
      errors: [
        { path, message: 'must be at least 15 characters' },
        // 8 characters could pass within MFA, so the list applies too
        { path, message: 'is too common: choose a less predictable password' },
      ],
    })
  })

  it('refuses brand names, the platform name and the email local part', () => {
    const context = problem('must not contain the site name or your email address')
    expect(checkPassword('I really love BoyFanz')).toEqual(context)
    expect(checkPassword('girl fanz forever and ever')).toEqual(context)
    expect(checkPassword('Pup-Fanz 2024 is great')).toEqual(context)
    expect(checkPassword('my transfanz passphrase')).toEqual(context)
    expect(checkPassword('TABOOFANZ!!!!!!!!')).toEqual(context)
    expect(checkPassword('ＦＡＮＺ and more words')).toEqual(context)
    expect(checkPassword('alice.smith rocks the house', { email: 'Alice.Smith@example.com' })).toEqual(context)
    expect(checkPassword('ALICESMITH-1990-05-17', { email: 'alice.smith@example.com' })).toEqual(context)
    // short local parts are not context words; other people's names are fine
    expect(checkPassword('joking around all day', { email: 'jo@example.com' })).toMatchObject({ ok: true })
    expect(checkPassword('alice.smith rocks the house', { email: 'bob@example.com' })).toMatchObject({ ok: true })
  })

  it('refuses control characters and unpaired surrogates, allows spaces', () => {
    expect(checkPassword('correct horse\u0000battery staple')).toEqual(problem('must contain only printable characters'))
    expect(checkPassword('correct horse\nbattery staple')).toEqual(problem('must contain only printable characters'))
    expect(checkPassword('correct horse \uD800 battery staple')).toEqual(problem('must contain only printable characters'))
    expect(checkPassword('correct horse\u00A0battery staple')).toMatchObject({ ok: true })
  })

  it('reports under another field path when asked', () => {
    expect(checkPassword('short', { path: 'body.new_password', withMfa: true })).toEqual({
      ok: false,
      errors: [{ path: 'body.new_password', message: 'must be at least 8 characters' }],
    })
  })
})
