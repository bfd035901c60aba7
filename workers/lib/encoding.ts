import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'

const encoder = new TextEncoder()

export function utf8(value: string): Uint8Array {
  return encoder.encode(value)
}

export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

export function fromBase64url(value: string): Uint8Array {
  const base64 = value.replaceAll('-', '+').replaceAll('_', '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

/**
 * Synchronous SHA-256 (noble): lets a Durable Object hash inside `transactionSync`, where an
 * awaited `crypto.subtle.digest` would open the input gate between read and write.
 */
export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === 'string' ? utf8(data) : data))
}

export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** Constant-time comparison of two secrets; unequal lengths compare as different without leaking where. */
export function timingSafeEqualText(a: string, b: string): boolean {
  const left = utf8(a)
  const right = utf8(b)
  if (left.byteLength !== right.byteLength) {
    crypto.subtle.timingSafeEqual(left, left)
    return false
  }
  return crypto.subtle.timingSafeEqual(left, right)
}
