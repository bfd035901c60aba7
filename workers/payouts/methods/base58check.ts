/**
 * Base58check decoding (Bitcoin alphabet; last 4 bytes = first 4 bytes of SHA-256(SHA-256(payload))),
 * used by BTC legacy and TRON addresses. Hand-written because no base58 package is installed here;
 * hashing comes from @noble/hashes.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Base58 to bytes; each leading '1' is a leading zero byte. Null on a character outside the alphabet. */
export function decodeBase58(value: string): Uint8Array | null {
  const bytes: number[] = [] // little-endian big number
  for (const ch of value) {
    let carry = ALPHABET.indexOf(ch)
    if (carry === -1) return null
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58
      bytes[i] = carry & 0xff
      carry >>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>= 8
    }
  }
  let zeros = 0
  while (zeros < value.length && value[zeros] === '1') zeros++
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...bytes.reverse()])
}

export type Base58CheckDecoded = { ok: true; payload: Uint8Array } | { ok: false; reason: string }

/** The payload (version byte included) of a base58check string whose checksum is right. */
export function decodeBase58Check(value: string): Base58CheckDecoded {
  const raw = decodeBase58(value)
  if (raw === null) return { ok: false, reason: 'character outside the base58 alphabet (0, O, I and l are not used)' }
  if (raw.length < 5) return { ok: false, reason: 'too short for base58check' }
  const payload = raw.slice(0, -4)
  const checksum = sha256(sha256(payload)).slice(0, 4)
  for (let i = 0; i < 4; i++) if (checksum[i] !== raw[raw.length - 4 + i]) return { ok: false, reason: 'base58check checksum does not match' }
  return { ok: true, payload }
}
