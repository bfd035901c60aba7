/**
 * Hash arithmetic for the hash lists: PDQ (256 bits, 64 hex) and MD5 (128 bits, 32 hex) parsing,
 * Hamming distance, and the multi-index slots and probes of media.md §1.1 (16 slots x 16 bits; a
 * pair within distance d shares some slot within floor(d / 16) bits, so probing every slot value
 * and its neighbours within r = floor(d / 16) bits finds every such pair, then the full distance is
 * verified). Hand-written because it is a few lines of bit twiddling and no installed library has
 * a Hamming distance or multi-index for 256-bit keys.
 * @module
 */

export const PDQ_HEX = /^[0-9a-f]{64}$/
export const MD5_HEX = /^[0-9a-f]{32}$/
export const PDQ_BYTES = 32
export const MD5_BYTES = 16
/** 256 bits = 16 slots of 16 bits */
export const SLOTS = 16
/** With a probe radius of at most 2 bits per slot (d <= 47) the multi-index answers; beyond, a scan does. */
export const MAX_PROBE_RADIUS = 2

export type HashKind = 'pdq' | 'md5'

/** Lower-case hex of a PDQ or MD5, or null when it is neither (length and alphabet decide the kind). */
export function normalizeHash(value: string): { kind: HashKind; hex: string } | null {
  const hex = value.trim().toLowerCase()
  if (PDQ_HEX.test(hex)) return { kind: 'pdq', hex }
  if (MD5_HEX.test(hex)) return { kind: 'md5', hex }
  return null
}

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function bytesToHex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]
  return s
}

/** Bits set in a 32-bit word (SWAR: no loop, no table lookups). */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/**
 * A PDQ as eight 32-bit words read big-endian from its bytes. Any fixed word order works for
 * Hamming distance; big-endian keeps it independent of the platform's byte order.
 */
export function pdqWords(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const words = new Uint32Array(8)
  for (let i = 0; i < 8; i++) words[i] = view.getUint32(i * 4)
  return words
}

/** Hamming distance between two PDQs as words (pdqWords). */
export function wordsDistance(a: Uint32Array, b: Uint32Array): number {
  let d = 0
  for (let i = 0; i < 8; i++) d += popcount32((a[i]! ^ b[i]!) >>> 0)
  return d
}

/** Hamming distance between a PDQ as words and a stored 32-byte PDQ, without allocating. */
export function bytesDistance(words: Uint32Array, bytes: Uint8Array): number {
  let d = 0
  for (let i = 0, o = 0; i < 8; i++, o += 4) {
    const w = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0
    d += popcount32((words[i]! ^ w) >>> 0)
  }
  return d
}

/** Hamming distance between two PDQ hex strings. */
export function pdqDistance(a: string, b: string): number {
  return wordsDistance(pdqWords(hexToBytes(a)), pdqWords(hexToBytes(b)))
}

/**
 * The 16 multi-index keys of a PDQ: key = slot << 16 | the slot's 16 bits (bytes 2i, 2i+1), so one
 * integer column and one B-tree hold every slot.
 */
export function slotKeys(bytes: Uint8Array): number[] {
  const keys = new Array<number>(SLOTS)
  for (let i = 0; i < SLOTS; i++) keys[i] = (i << 16) | (bytes[2 * i]! << 8) | bytes[2 * i + 1]!
  return keys
}

/** floor(d / 16): how many bits each slot probe may differ in so that no pair within d is missed. */
export function probeRadius(maxDistance: number): number {
  return Math.floor(maxDistance / SLOTS)
}

/**
 * Every key to look up for a PDQ at radius r: each slot value and all values within r bits of it
 * (r = 1: 16 x 17 = 272 keys; r = 2: 16 x 137 = 2,192).
 */
export function probeKeys(bytes: Uint8Array, radius: number, into: Set<number> = new Set()): Set<number> {
  for (let slot = 0; slot < SLOTS; slot++) {
    const value = (bytes[2 * slot]! << 8) | bytes[2 * slot + 1]!
    const base = slot << 16
    into.add(base | value)
    if (radius >= 1) {
      for (let i = 0; i < 16; i++) {
        const one = value ^ (1 << i)
        into.add(base | one)
        if (radius >= 2) for (let j = i + 1; j < 16; j++) into.add(base | (one ^ (1 << j)))
      }
    }
  }
  return into
}
