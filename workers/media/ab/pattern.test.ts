import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { attribute, chanceAgreement, decodePattern, mixSerial, PATTERN_BITS, patternBits, unmixSerial, variantAt, type Observation } from './pattern'
import { rsDecode, rsEncode, RS_PARITY } from './reed-solomon'

const serialArb = fc.integer({ min: 1, max: 0xffff_ffff })

/** The observations a full viewing of `segments` segments of a copy marked with `serial` produces. */
const viewing = (serial: number, segments: number): Observation[] => Array.from({ length: segments }, (_, index) => ({ index, variant: variantAt(serial, index) }))

describe('RS(15,8) over GF(16)', () => {
  it('corrects any e errors and E erasures with 2e + E <= 7', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 8, maxLength: 8 }),
        fc.shuffledSubarray([...Array(15).keys()], { minLength: 0, maxLength: 7 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 3, maxLength: 3 }),
        (message, positions, errorCount, flips) => {
          const e = Math.min(errorCount, Math.floor((RS_PARITY - 0) / 2), positions.length)
          const erasures = Math.min(positions.length - e, RS_PARITY - 2 * e)
          const word: (number | null)[] = rsEncode(message)
          positions.slice(0, e).forEach((p, i) => (word[p] = (word[p] as number) ^ flips[i]!))
          positions.slice(e, e + erasures).forEach((p) => (word[p] = null))
          const result = rsDecode(word)
          expect(result.ok).toBe(true)
          if (result.ok) expect(result.message).toEqual(message)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('refuses more than 7 erasures and never returns a non-codeword', () => {
    const word: (number | null)[] = rsEncode([1, 2, 3, 4, 5, 6, 7, 8])
    for (let i = 0; i < 8; i++) word[i] = null
    expect(rsDecode(word)).toEqual({ ok: false, reason: 'too_many_erasures' })
    // 4 errors exceed the bound: decoding either fails or lands on another valid codeword, never garbage
    const noisy = rsEncode([1, 2, 3, 4, 5, 6, 7, 8]).map((s, i) => (i < 4 ? s ^ 9 : s))
    const result = rsDecode(noisy)
    if (result.ok) expect(rsEncode(result.message)).toEqual(result.codeword)
  })
})

describe('A/B patterns', () => {
  it('mixes serials with an exact inverse', () => {
    fc.assert(fc.property(serialArb, (serial) => unmixSerial(mixSerial(serial)) === serial))
    expect(mixSerial(1)).not.toBe(mixSerial(2))
  })

  it('addresses bits big-endian and repeats the 60-bit code cyclically', () => {
    const bits = patternBits(12345)
    expect(bits.length).toBe(PATTERN_BITS)
    expect(variantAt(12345, 0)).toBe(bits[0] ? 'b' : 'a')
    for (const p of [0, 7, 59]) expect(variantAt(12345, p + 60)).toBe(variantAt(12345, p))
    // the first nibble of the pattern is the top nibble of the mixed serial, most significant bit first
    const top = mixSerial(12345) >>> 28
    expect([...bits.slice(0, 4)]).toEqual([(top >> 3) & 1, (top >> 2) & 1, (top >> 1) & 1, top & 1])
  })

  it('small consecutive serials differ within the first 10 segments (a 20-second clip)', () => {
    const firstTen = new Set(Array.from({ length: 50 }, (_, i) => viewing(i + 1, 10).map((o) => o.variant).join('')))
    expect(firstTen.size).toBeGreaterThan(45)
  })

  it('any serial survives erased and wrong segments within the bound (2·wrong symbols + erased symbols <= 7)', () => {
    fc.assert(
      fc.property(serialArb, fc.shuffledSubarray([...Array(15).keys()], { minLength: 7, maxLength: 7 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (serial, symbols, errors, bitInSymbol) => {
        const erasures = RS_PARITY - 2 * errors
        const obs = viewing(serial, PATTERN_BITS)
        // errors: flip one bit of each of `errors` symbols; erasures: drop one segment of each erased symbol (unknown variant)
        symbols.slice(0, errors).forEach((s) => {
          const o = obs[4 * s + bitInSymbol]!
          o.variant = o.variant === 'a' ? 'b' : 'a'
        })
        symbols.slice(errors, errors + erasures).forEach((s) => (obs[4 * s + ((bitInSymbol + 1) % 4)]!.variant = null))
        const decoded = decodePattern(obs)
        expect(decoded).toMatchObject({ ok: true, serial })
      }),
      { numRuns: 300 },
    )
  })

  it('majority over repetitions outvotes scattered errors in a long leak', () => {
    const serial = 0x00c0ffee
    const obs = viewing(serial, 5 * PATTERN_BITS)
    // 40 wrong segments spread over 10 minutes, no pattern bit wrong in a majority of its 5 repetitions
    for (let k = 0; k < 40; k++) obs[(k * 7) % 60 + 60 * (k % 2)]!.variant = obs[(k * 7) % 60 + 60 * (k % 2)]!.variant === 'a' ? 'b' : 'a'
    expect(decodePattern(obs)).toMatchObject({ ok: true, serial })
  })

  it('attributes a short clip by likelihood over the issued serials, with margin and confidence', () => {
    const issued = [1, 2, 3, 4, 5, 6, 7, 8]
    const clip = viewing(5, 10) // 20 s: too short for RS
    const result = attribute(clip, issued)!
    expect(result).toMatchObject({ serial: 5, distance: 0, observed: 10, decodedBy: 'likelihood' })
    expect(result.margin).toBeGreaterThanOrEqual(1)
    // 8 candidates, 10 agreeing bits: 8/1024 chance for an unrelated copy -> not confident
    expect(result.falseAccusationProbability).toBeCloseTo(8 / 1024, 6)
    expect(result.confident).toBe(false)
    // 2 minutes with 5 segments missing (5 erased symbols) and 2 wrong (one in an erased symbol): 2·1 + 5 = 7, RS agrees
    const long = viewing(5, 60).map((o, i) => (i % 12 === 3 ? { ...o, variant: null } : i === 12 || i === 16 ? { ...o, variant: o.variant === 'a' ? ('b' as const) : ('a' as const) } : o))
    const strong = attribute(long, issued)!
    expect(strong).toMatchObject({ serial: 5, distance: 2, observed: 55, confident: true, decodedBy: 'reed-solomon+likelihood' })
    expect(strong.margin).toBeGreaterThanOrEqual(10)
  })

  it('a copy mixed from two viewers is not a confident attribution', () => {
    const a = viewing(11, 60)
    const b = viewing(12, 60)
    const mixed = a.map((o, i) => (i % 2 ? b[i]! : o))
    const result = attribute(mixed, [11, 12, 13])!
    expect([11, 12]).toContain(result.serial)
    expect(result.confident).toBe(false)
  })

  it('binomial tail', () => {
    expect(chanceAgreement(10, 0)).toBeCloseTo(1 / 1024, 10)
    expect(chanceAgreement(4, 1)).toBeCloseTo(5 / 16, 10)
    expect(chanceAgreement(4, 4)).toBe(1)
  })
})
