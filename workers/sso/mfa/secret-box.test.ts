import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { fromBase64url, utf8 } from '../../lib/encoding'
import { unsealSecret } from '../../lib/secret-box'
import { sealTotpSecret, unsealTotpSecret } from './secret-box'
import { newTotpSecret } from './totp'

const masterKey = env.SIGNING_MASTER_KEY
// sealed outside workerd (Node WebCrypto: HKDF-SHA-256 salt "fanz/mfa", info "totp-secret/v1"; AES-256-GCM,
// iv 01..0c, additional data "usr_alice") over the RFC 6238 seed "12345678901234567890"
const KNOWN = 'AQIDBAUGBwgJCgsMZSrksAVZh6z5n5FfrxJvmQgpp5VMSYht53h46pSqt1Wm23KN'

describe('TOTP secret box', () => {
  it('opens a value sealed by an independent implementation', async () => {
    expect(masterKey).toBe('test-master-key-0123456789abcdef0123456789abcdef')
    expect(await unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed: KNOWN })).toEqual(utf8('12345678901234567890'))
  })

  it('round-trips with a fresh IV each time: iv(12) || ciphertext(20) || tag(16)', async () => {
    const secret = newTotpSecret()
    const a = await sealTotpSecret({ masterKey, ownerId: 'usr_alice', secret })
    const b = await sealTotpSecret({ masterKey, ownerId: 'usr_alice', secret })
    expect(a).not.toBe(b)
    expect(fromBase64url(a).byteLength).toBe(48)
    expect(a).toMatch(/^[A-Za-z0-9_-]{64}$/)
    expect(await unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed: a })).toEqual(secret)
    expect(await unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed: b })).toEqual(secret)
  })

  it('refuses another owner, another master key, another purpose and any altered byte', async () => {
    await expect(unsealTotpSecret({ masterKey, ownerId: 'usr_bob', sealed: KNOWN })).rejects.toThrow()
    await expect(unsealTotpSecret({ masterKey: `${masterKey}x`, ownerId: 'usr_alice', sealed: KNOWN })).rejects.toThrow()
    await expect(unsealSecret(masterKey, { salt: 'fanz/signing-keys', info: 'private-jwk-wrap/v1' }, 'usr_alice', KNOWN)).rejects.toThrow()
    await expect(unsealSecret(masterKey, { salt: 'fanz/mfa', info: 'totp-secret/v2' }, 'usr_alice', KNOWN)).rejects.toThrow()
    const bytes = fromBase64url(KNOWN)
    for (const at of [0, 11, 12, 31, 47]) {
      const altered = bytes.slice()
      altered[at]! ^= 1
      const sealed = btoa(String.fromCharCode(...altered)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
      await expect(unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed })).rejects.toThrow()
    }
    await expect(unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed: KNOWN.slice(0, 20) })).rejects.toThrow()
    await expect(unsealTotpSecret({ masterKey, ownerId: 'usr_alice', sealed: '' })).rejects.toThrow()
  })

  it('requires an owner', async () => {
    expect(() => sealTotpSecret({ masterKey, ownerId: '', secret: newTotpSecret() })).toThrow(TypeError)
    expect(() => unsealTotpSecret({ masterKey, ownerId: '', sealed: KNOWN })).toThrow(TypeError)
  })
})
