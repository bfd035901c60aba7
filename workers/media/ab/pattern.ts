/**
 * A/B watermark patterns (ETSI TS 104 002 "DASH-IF forensic A/B watermarking"): the edge serves
 * variant A (bit 0) or B (bit 1) of segment `position` from the viewer's pattern, so the sequence of
 * variants in a leaked copy spells the pattern of the account it was delivered to.
 *
 *   serial (32 bits, media_marks.serial, kind 'ab')
 *     -> mixed = an invertible 32-bit bijection of the serial (serials are small consecutive
 *        integers; unmixed, their high nibbles would be equal and a short clip could not tell
 *        viewers apart, because a clip only shows the pattern's first bits)
 *     -> 8 nibbles, most significant first -> RS(15,8) over GF(16) codeword (reed-solomon.ts)
 *     -> 60 bits, symbol i at bits 4i..4i+3, most significant bit first (ETSI big-endian addressing)
 *   bit at segment position p = pattern bit (p mod 60): the code repeats cyclically, positions are absolute.
 *
 * Decoding a leak: observations (position, variant or null when unknown) are folded onto the 60
 * pattern bits by majority vote (a tie is an erasure), a nibble with any unknown bit is an erased
 * symbol, then errors-and-erasures RS decoding (2·errors + erasures <= 7 symbols). Clips shorter than
 * a codeword (or damaged beyond the bound) fall back to maximum likelihood over the serials actually
 * issued for the item: the candidate with the fewest disagreements on the observed positions.
 * @module
 */
import { rsDecode, rsEncode, RS_K, RS_N } from './reed-solomon'

export const PATTERN_BITS = RS_N * 4

/** Probability of a false accusation we accept before calling an attribution confident (ETSI/Tardos sizing uses 10^-3). */
export const FALSE_ACCUSATION_BOUND = 1e-3
/** The winner must beat the runner-up by at least this many disagreements. */
export const MIN_MARGIN = 2
/**
 * At most this share of the observed segments may disagree with the winner. A genuine copy
 * disagrees only where the tracer misread a segment; a copy spliced from two viewers' segments
 * disagrees with each of them on about a quarter of the positions (collusion: name nobody with confidence).
 */
export const MAX_DISAGREEMENT = 0.125

export type Variant = 'a' | 'b'
export interface Observation {
  index: number
  variant: Variant | null
}

// murmur3's 32-bit finaliser constants; each step (xor-shift, multiply by an odd number mod 2^32) is invertible
const C1 = 0x85ebca6b
const C2 = 0xc2b2ae35
const C1_INV = modInverse32(C1)
const C2_INV = modInverse32(C2)

function modInverse32(odd: number): number {
  // Newton iteration for the inverse of an odd number mod 2^32
  let x = odd
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x))
  return x >>> 0
}
const unXorShift = (y: number, shift: number): number => {
  let x = y
  for (let s = shift; s < 32; s += shift) x = y ^ (x >>> shift)
  return x >>> 0
}

export function mixSerial(serial: number): number {
  let h = serial >>> 0
  h ^= h >>> 16
  h = Math.imul(h, C1) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, C2) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

export function unmixSerial(mixed: number): number {
  let h = unXorShift(mixed >>> 0, 16)
  h = Math.imul(h, C2_INV) >>> 0
  h = unXorShift(h, 13)
  h = Math.imul(h, C1_INV) >>> 0
  return unXorShift(h, 16)
}

function assertSerial(serial: number): void {
  if (!Number.isInteger(serial) || serial < 1 || serial > 0xffff_ffff) throw new RangeError(`a mark serial is an integer 1..2^32-1: got ${serial}`)
}

const patterns = new Map<number, Uint8Array>()

/** The 60-bit pattern of a serial, one bit per array element (0 = A, 1 = B). */
export function patternBits(serial: number): Uint8Array {
  assertSerial(serial)
  const cached = patterns.get(serial)
  if (cached) return cached
  const mixed = mixSerial(serial)
  const message = Array.from({ length: RS_K }, (_, i) => (mixed >>> (28 - 4 * i)) & 0xf)
  const bits = new Uint8Array(PATTERN_BITS)
  rsEncode(message).forEach((symbol, i) => {
    for (let b = 0; b < 4; b++) bits[4 * i + b] = (symbol >>> (3 - b)) & 1
  })
  if (patterns.size > 10_000) patterns.clear()
  patterns.set(serial, bits)
  return bits
}

/** Which variant segment `position` (0-based, absolute) carries for this serial. */
export function variantAt(serial: number, position: number): Variant {
  if (!Number.isInteger(position) || position < 0) throw new RangeError(`segment position must be a non-negative integer: got ${position}`)
  return patternBits(serial)[position % PATTERN_BITS] === 1 ? 'b' : 'a'
}

export type PatternDecode =
  | { ok: true; serial: number; correctedSymbols: number; erasedSymbols: number }
  | { ok: false; reason: 'too_many_erasures' | 'uncorrectable'; erasedSymbols: number }

/** RS decoding of observations folded onto the pattern (majority per pattern bit). */
export function decodePattern(observations: readonly Observation[]): PatternDecode {
  const votes = new Int32Array(PATTERN_BITS)
  const seen = new Uint8Array(PATTERN_BITS)
  for (const o of observations) {
    if (o.variant === null) continue
    const j = o.index % PATTERN_BITS
    seen[j] = 1
    votes[j]! += o.variant === 'b' ? 1 : -1
  }
  const symbols: (number | null)[] = []
  for (let i = 0; i < RS_N; i++) {
    let symbol: number | null = 0
    for (let b = 0; b < 4; b++) {
      const v = votes[4 * i + b]!
      if (!seen[4 * i + b] || v === 0) {
        symbol = null
        break
      }
      symbol = (symbol << 1) | (v > 0 ? 1 : 0)
    }
    symbols.push(symbol)
  }
  const erasedSymbols = symbols.filter((s) => s === null).length
  const result = rsDecode(symbols)
  if (!result.ok) return { ok: false, reason: result.reason, erasedSymbols }
  const mixed = result.message.reduce((acc, s) => ((acc << 4) | s) >>> 0, 0)
  const serial = unmixSerial(mixed)
  if (serial === 0) return { ok: false, reason: 'uncorrectable', erasedSymbols }
  return { ok: true, serial, correctedSymbols: result.corrected, erasedSymbols }
}

/** Disagreements between a serial's pattern and the observed variants (unknowns do not count). */
export function patternDistance(serial: number, observations: readonly Observation[]): number {
  const bits = patternBits(serial)
  let d = 0
  for (const o of observations) if (o.variant !== null && (bits[o.index % PATTERN_BITS] === 1) !== (o.variant === 'b')) d++
  return d
}

/** P[Binomial(n, 1/2) <= d]: the chance that an unrelated copy agrees at least this well. */
export function chanceAgreement(n: number, d: number): number {
  if (d >= n) return 1
  let logTerm = -n * Math.LN2 // log C(n,0) / 2^n
  let sum = Math.exp(logTerm)
  for (let i = 1; i <= d; i++) {
    logTerm += Math.log((n - i + 1) / i)
    sum += Math.exp(logTerm)
  }
  return Math.min(1, sum)
}

export interface Attribution {
  serial: number
  distance: number
  /** runner-up's distance minus the winner's; with a single candidate, half the observed bits minus the winner's (what an unrelated copy shows on average) */
  margin: number
  observed: number
  /** candidates x P[an unrelated pattern agrees this well] */
  falseAccusationProbability: number
  confident: boolean
  /** whether RS decoding alone named the same serial */
  decodedBy: 'reed-solomon+likelihood' | 'likelihood'
}

/**
 * The issued serial that best explains the observations. `candidates` are the serials issued for
 * the item (media_marks, kind 'ab'). Null when nothing was observed or there are no candidates.
 */
export function attribute(observations: readonly Observation[], candidates: readonly number[]): Attribution | null {
  const observed = observations.filter((o) => o.variant !== null).length
  const unique = [...new Set(candidates)]
  if (observed === 0 || unique.length === 0) return null
  const scored = unique.map((serial) => ({ serial, distance: patternDistance(serial, observations) })).sort((x, y) => x.distance - y.distance || x.serial - y.serial)
  const best = scored[0]!
  const runnerUp = scored[1]?.distance ?? Math.floor(observed / 2)
  const margin = runnerUp - best.distance
  const falseAccusationProbability = Math.min(1, unique.length * chanceAgreement(observed, best.distance))
  const decoded = decodePattern(observations)
  const agrees = decoded.ok && decoded.serial === best.serial
  const disagrees = decoded.ok && decoded.serial !== best.serial
  return {
    serial: best.serial,
    distance: best.distance,
    margin,
    observed,
    falseAccusationProbability,
    confident: !disagrees && margin >= MIN_MARGIN && best.distance <= MAX_DISAGREEMENT * observed && falseAccusationProbability <= FALSE_ACCUSATION_BOUND,
    decodedBy: agrees ? 'reed-solomon+likelihood' : 'likelihood',
  }
}
