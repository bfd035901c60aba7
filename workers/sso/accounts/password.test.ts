import { describe, expect, it } from 'vitest'
import { base64url, fromBase64url, utf8 } from '../../lib/encoding'
import {
  HASH_BYTES,
  PBKDF2_ITERATIONS,
  PBKDF2_MAX_ITERATIONS_ON_WORKERS,
  SALT_BYTES,
  hashPassword,
  verifyPassword,
} from './password'

const PASSWORD = 'correct horse battery staple'

/** An encoding made independently of hashPassword, with chosen parameters. */
async function encodeWith(password: string, iterations: number, saltBytes = SALT_BYTES, hashBytes = HASH_BYTES): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(saltBytes))
  const key = await crypto.subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, hashBytes * 8)
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(new Uint8Array(bits))}`
}

describe('password hashing', () => {
  it('never exceeds the production Workers PBKDF2 cap of 100,000 iterations', async () => {
    // local workerd accepts any count; production refuses > 100,000 ("iteration counts above 100000 are not supported")
    expect(PBKDF2_MAX_ITERATIONS_ON_WORKERS).toBe(100_000)
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000)
    expect(PBKDF2_ITERATIONS).toBe(100_000)
    const [, iterations] = (await hashPassword(PASSWORD)).split('$')
    expect(Number(iterations)).toBeLessThanOrEqual(100_000)
  })

  it('encodes algorithm, iterations, a 16-byte salt and a 32-byte hash', async () => {
    const encoded = await hashPassword(PASSWORD)
    expect(encoded).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    const [algorithm, iterations, salt, hash] = encoded.split('$')
    expect(algorithm).toBe('pbkdf2-sha256')
    expect(iterations).toBe('100000')
    expect(fromBase64url(salt!)).toHaveLength(16)
    expect(fromBase64url(hash!)).toHaveLength(32)
  })

  it('matches an independent PBKDF2-SHA-256 computation with the stored salt', async () => {
    const encoded = await hashPassword(PASSWORD)
    const [, , salt, hash] = encoded.split('$')
    const key = await crypto.subtle.importKey('raw', utf8(PASSWORD), 'PBKDF2', false, ['deriveBits'])
    const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: fromBase64url(salt!), iterations: 100_000 }, key, 256)
    expect(base64url(new Uint8Array(bits))).toBe(hash)
  })

  it('salts every hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)])
    expect(a).not.toBe(b)
    expect(a.split('$')[2]).not.toBe(b.split('$')[2])
  })

  it('round-trips and refuses a wrong password', async () => {
    const encoded = await hashPassword(PASSWORD)
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, needsRehash: false })
    expect(await verifyPassword('correct horse battery stapler', encoded)).toEqual({ ok: false, needsRehash: false })
    expect(await verifyPassword('Correct horse battery staple', encoded)).toEqual({ ok: false, needsRehash: false })
    expect(await verifyPassword('', encoded)).toEqual({ ok: false, needsRehash: false })
  })

  it('hashes the NFKC form, so equivalent spellings verify the same', async () => {
    // U+FB01 LATIN SMALL LIGATURE FI and fullwidth letters normalise to plain ASCII
    const encoded = await hashPassword('the ﬁnal ｃｏｕｎｔｄｏｗｎ begins')
    expect(await verifyPassword('the final countdown begins', encoded)).toEqual({ ok: true, needsRehash: false })
    // NFC-composed and decomposed é are the same password
    expect(await verifyPassword('caf\u00e9 au lait for breakfast', await hashPassword('cafe\u0301 au lait for breakfast'))).toEqual({ ok: true, needsRehash: false })
  })

  it('answers false, without throwing, for tampered or malformed encodings', async () => {
    const encoded = await hashPassword(PASSWORD)
    const [algorithm, iterations, salt, hash] = encoded.split('$') as [string, string, string, string]
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1)
    const tampered = [
      [algorithm, iterations, salt, flip(hash)].join('$'),
      [algorithm, iterations, flip(salt), hash].join('$'),
      [algorithm, '99999', salt, hash].join('$'),
      ['pbkdf2-sha512', iterations, salt, hash].join('$'),
      ['argon2id', iterations, salt, hash].join('$'),
      [algorithm, '600000', salt, hash].join('$'), // production would refuse to derive it
      [algorithm, '0', salt, hash].join('$'),
      [algorithm, '-5', salt, hash].join('$'),
      [algorithm, '1e5', salt, hash].join('$'),
      [algorithm, iterations, salt].join('$'),
      [algorithm, iterations, salt, hash, 'extra'].join('$'),
      [algorithm, iterations, salt, hash.slice(0, 20)].join('$'),
      [algorithm, iterations, 'AAAAA', hash].join('$'), // base64 of invalid length
      [algorithm, iterations, salt, `${hash.slice(0, -1)}+`].join('$'),
      '',
      'not a hash',
      '$$$',
    ]
    for (const stored of tampered) expect(await verifyPassword(PASSWORD, stored), stored).toEqual({ ok: false, needsRehash: false })
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, needsRehash: false })
  })

  it('reports needsRehash for a matching hash with weaker stored parameters', async () => {
    expect(await verifyPassword(PASSWORD, await encodeWith(PASSWORD, 50_000))).toEqual({ ok: true, needsRehash: true })
    expect(await verifyPassword(PASSWORD, await encodeWith(PASSWORD, 100_000, 8))).toEqual({ ok: true, needsRehash: true })
    expect(await verifyPassword(PASSWORD, await encodeWith(PASSWORD, 100_000, 16, 16))).toEqual({ ok: true, needsRehash: true })
    expect(await verifyPassword(PASSWORD, await encodeWith(PASSWORD, 100_000))).toEqual({ ok: true, needsRehash: false })
    // a wrong password never asks for a rehash
    expect(await verifyPassword('wrong', await encodeWith(PASSWORD, 50_000))).toEqual({ ok: false, needsRehash: false })
  })
})
