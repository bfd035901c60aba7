/**
 * The vault's key-encryption keys (KEKs), versioned, from the `VAULT_KEKS` secret:
 *   `2:<base64url of 32 random bytes>,1:<base64url ...>`  (comma-separated, the ACTIVE version first)
 * New data keys are wrapped under the active version; older versions stay listed until every data
 * key has been re-wrapped (rotation), then they can be removed from the secret. The KEKs live only
 * in the secret (never in D1 or R2), imported non-extractable, once per isolate.
 * @module
 */
import { fromBase64url } from '../lib/encoding'

export interface Keyring {
  active: string
  versions: string[]
  kek(version: string): Promise<CryptoKey>
}

const cache = new Map<string, Keyring>()

/** Parses the secret; the error never echoes key material. */
function parse(secret: string): Map<string, string> {
  const keys = new Map<string, string>()
  for (const [i, entry] of secret.trim().split(',').entries()) {
    const match = /^\s*([0-9]{1,6}):([A-Za-z0-9_-]{43})\s*$/.exec(entry)
    if (!match) throw new Error(`VAULT_KEKS is not a valid keyring: entry ${i + 1} is not <version>:<base64url of 32 bytes>`)
    if (keys.has(match[1]!)) throw new Error(`VAULT_KEKS is not a valid keyring: version ${match[1]} appears twice`)
    keys.set(match[1]!, match[2]!)
  }
  return keys
}

export function keyringFrom(secret: string): Keyring {
  const cached = cache.get(secret)
  if (cached) return cached
  const material = parse(secret)
  const imported = new Map<string, Promise<CryptoKey>>()
  const keyring: Keyring = {
    active: [...material.keys()][0]!,
    versions: [...material.keys()].sort((a, b) => Number(a) - Number(b)),
    kek(version) {
      const raw = material.get(version)
      if (!raw) return Promise.reject(new Error(`KEK version ${version} is not in VAULT_KEKS`))
      let key = imported.get(version)
      if (!key) {
        key = crypto.subtle.importKey('raw', fromBase64url(raw), 'AES-GCM', false, ['encrypt', 'decrypt'])
        imported.set(version, key)
      }
      return key
    },
  }
  cache.set(secret, keyring)
  return keyring
}
