import { describe, expect, it } from 'vitest'
import { mulberry32, seedFromText } from './prng'

describe('mulberry32', () => {
  // expected values from an independent Python implementation of the same algorithm (64-bit ints masked to 32)
  it('reproduces known sequences', () => {
    const a = mulberry32(42)
    expect([a(), a(), a()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099])
    const b = mulberry32(0)
    expect([b(), b(), b()]).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197])
    const c = mulberry32(123456789)
    expect([c(), c(), c()]).toEqual([0.2577907438389957, 0.9707721115555614, 0.7853280142880976])
  })

  it('reduces seeds modulo 2^32', () => {
    expect(mulberry32(42 + 2 ** 32)()).toBe(mulberry32(42)())
    expect(mulberry32(-1)()).toBe(mulberry32(0xffffffff)())
  })

  it('spreads draws evenly over [0, 1)', () => {
    const rng = mulberry32(7)
    const buckets = Array<number>(10).fill(0)
    let outside = 0
    for (let i = 0; i < 100_000; i++) {
      const x = rng()
      if (x < 0 || x >= 1) outside++
      else buckets[Math.floor(x * 10)]!++
    }
    expect(outside).toBe(0)
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(300)
  })
})

describe('seedFromText', () => {
  it('is FNV-1a 32 (published test vectors)', () => {
    expect(seedFromText('')).toBe(0x811c9dc5)
    expect(seedFromText('a')).toBe(0xe40c292c)
    expect(seedFromText('foobar')).toBe(0xbf9cf968)
  })
})
