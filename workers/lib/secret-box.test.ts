import { describe, expect, it } from 'vitest'
import { fromBase64url, utf8 } from './encoding'
import { sealSecret, unsealSecret, type SecretBoxPurpose } from './secret-box'

const MASTER = 'test-master-key-0123456789abcdef0123456789abcdef'
// the purpose workers/sso/keys.ts seals private JWKs with; rows sealed before the extraction must still open
const SIGNING: SecretBoxPurpose = { salt: 'fanz/signing-keys', info: 'private-jwk-wrap/v1' }
// sealed with Node WebCrypto exactly as keys.ts did before the extraction (iv 01..0c, kid "key_test")
const LEGACY = 'AQIDBAUGBwgJCgsMzG12HYa-DzDiTtFVnTagTfco4V1QWmx4dJjPZxu8-D-PnHlY6bNCVGLeIj4tI-8SteA6Apk'
const LEGACY_PLAIN = '{"kty":"OKP","crv":"Ed25519","d":"x"}'

/** the pre-extraction decryption of keys.ts, inline */
async function legacyUnseal(masterKey: string, kid: string, sealed: string): Promise<string> {
  const base = await crypto.subtle.importKey('raw', utf8(masterKey), 'HKDF', false, ['deriveKey'])
  const key = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: utf8(SIGNING.salt), info: utf8(SIGNING.info) }, base, { name: 'AES-GCM', length: 256 }, false, ['decrypt'])
  const bytes = fromBase64url(sealed)
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: utf8(kid) }, key, bytes.slice(12))
  return new TextDecoder().decode(plain)
}

describe('secret box', () => {
  it('keeps the signing-key format: opens legacy values, and legacy code opens new ones', async () => {
    expect(new TextDecoder().decode(await unsealSecret(MASTER, SIGNING, 'key_test', LEGACY))).toBe(LEGACY_PLAIN)
    const sealed = await sealSecret(MASTER, SIGNING, 'key_new', utf8(LEGACY_PLAIN))
    expect(fromBase64url(sealed).byteLength).toBe(12 + LEGACY_PLAIN.length + 16)
    expect(await legacyUnseal(MASTER, 'key_new', sealed)).toBe(LEGACY_PLAIN)
  })

  it('binds the additional data and the purpose', async () => {
    await expect(unsealSecret(MASTER, SIGNING, 'key_other', LEGACY)).rejects.toThrow()
    await expect(unsealSecret(MASTER, { ...SIGNING, salt: 'fanz/other' }, 'key_test', LEGACY)).rejects.toThrow()
    await expect(unsealSecret(MASTER, { ...SIGNING, info: 'private-jwk-wrap/v2' }, 'key_test', LEGACY)).rejects.toThrow()
  })

  it('seals empty and larger values', async () => {
    for (const size of [0, 1, 4096]) {
      const plain = crypto.getRandomValues(new Uint8Array(size))
      expect(await unsealSecret(MASTER, SIGNING, 'aad', await sealSecret(MASTER, SIGNING, 'aad', plain))).toEqual(plain)
    }
  })
})
