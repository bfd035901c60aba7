/**
 * Sealing small secrets at rest: AES-256-GCM under a key derived (HKDF-SHA-256) from a master
 * secret, so the database never holds a usable secret and the master secret itself never encrypts.
 *
 * Each use names its own `salt`/`info` pair: the derived keys are independent, and a ciphertext of
 * one purpose cannot be opened under another. The additional data (the owner of the secret: a kid,
 * a user id) is authenticated, so a ciphertext copied to another row fails to open.
 *
 * Format: base64url(iv(12) || ciphertext || tag(16)), without a version prefix; the version lives
 * in `info` (e.g. `private-jwk-wrap/v1`). Existing signing keys depend on this exact layout.
 * @module
 */
import { base64url, fromBase64url, utf8 } from './encoding'

const IV_BYTES = 12

export interface SecretBoxPurpose {
  /** HKDF salt: the subsystem, e.g. `fanz/signing-keys` */
  salt: string
  /** HKDF info: the purpose and its version, e.g. `totp-secret/v1` */
  info: string
}

const derivedKeys = new Map<string, Promise<CryptoKey>>()

/** The AES-256-GCM key for one purpose, derived once per isolate. */
export function secretBoxKey(masterKey: string, purpose: SecretBoxPurpose): Promise<CryptoKey> {
  const cacheKey = JSON.stringify([masterKey, purpose.salt, purpose.info])
  let key = derivedKeys.get(cacheKey)
  if (!key) {
    key = crypto.subtle
      .importKey('raw', utf8(masterKey), 'HKDF', false, ['deriveKey'])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: 'HKDF', hash: 'SHA-256', salt: utf8(purpose.salt), info: utf8(purpose.info) },
          base,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        ),
      )
    // a failed derivation must not stay cached
    key.catch(() => derivedKeys.delete(cacheKey))
    derivedKeys.set(cacheKey, key)
  }
  return key
}

/** Encrypts `plain` with a fresh random IV; `additionalData` is authenticated, not encrypted. */
export async function sealSecret(masterKey: string, purpose: SecretBoxPurpose, additionalData: string, plain: Uint8Array): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(additionalData) }, await secretBoxKey(masterKey, purpose), plain)
  const out = new Uint8Array(IV_BYTES + sealed.byteLength)
  out.set(iv)
  out.set(new Uint8Array(sealed), IV_BYTES)
  return base64url(out)
}

/** Decrypts a value of `sealSecret`; rejects (OperationError) on a wrong key, purpose, additional data or any altered byte. */
export async function unsealSecret(masterKey: string, purpose: SecretBoxPurpose, additionalData: string, sealed: string): Promise<Uint8Array> {
  const bytes = fromBase64url(sealed)
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.slice(0, IV_BYTES), additionalData: utf8(additionalData) },
    await secretBoxKey(masterKey, purpose),
    bytes.slice(IV_BYTES),
  )
  return new Uint8Array(plain)
}

/**
 * A secret derived from the master key for one labelled use (a first-party OAuth client's secret,
 * the sandbox gateway's signing secret): base64url(HMAC-SHA256(master key, label)). Both sides of
 * this Worker compute it, nothing stores it, and rotating the master key rotates it.
 */
export async function derivedSecret(masterKey: string, label: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(masterKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(label))))
}
