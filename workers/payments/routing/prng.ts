/**
 * Seeded pseudo-random numbers for routing: volume splits and exploration draw from a generator the
 * caller seeds, so a decision can be replayed from its log line and tests are reproducible.
 *
 * Why mulberry32 (Tommy Ettinger, 2017): one 32-bit word of state, a Weyl step plus a
 * MurmurHash3-style mix, a handful of integer operations through `Math.imul`, so every JavaScript
 * engine produces the same sequence bit for bit. Its period (2^32) and its known gaps (not every
 * 32-bit value is reachable) are irrelevant at routing scale: we need evenly spread draws in [0, 1)
 * for weighted picks, not cryptographic or long-period randomness. It must never be used for
 * secrets or ids (those come from WebCrypto).
 * @module
 */

/** A source of uniformly distributed numbers in [0, 1). */
export type Rng = () => number

/**
 * The mulberry32 generator for a 32-bit seed (other numbers are reduced modulo 2^32).
 * @param seed any integer; the same seed always yields the same sequence
 * @returns a function returning the next number in [0, 1) on each call
 * @example
 * const rng = mulberry32(42)
 * rng() // 0.6011037519201636, always
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A 32-bit seed derived from text (FNV-1a over UTF-8), so a decision can be seeded by its payment id
 * and replayed later from nothing but that id and the logged inputs.
 * @param text e.g. a payment id `pay_01J...`
 * @returns an unsigned 32-bit integer
 * @example
 * const rng = mulberry32(seedFromText('pay_01JABC'))
 */
export function seedFromText(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
