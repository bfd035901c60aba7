/**
 * Reed-Solomon RS(15, 8) over GF(2^4): eight 4-bit message symbols (one 32-bit serial), seven parity
 * symbols, decoded from errors and erasures together (2·errors + erasures <= 7).
 *
 * Hand-written because nothing installed does it and this is small: the Reed-Solomon packages
 * commonly used from JavaScript are QR-code encoders over GF(2^8), whose byte symbols would make a
 * 32-bit serial's codeword 64+ segments long before any protection starts; GF(2^4) gives 4-bit
 * symbols, a 60-segment codeword, and erasures (segments missing from a leak, the common case) cost
 * half what errors do.
 *
 * Conventions: primitive polynomial x^4 + x + 1; generator g(x) = (x - a^1)...(x - a^7) (first
 * consecutive root 1); a codeword array `c[0..14]` is the polynomial sum c[j]·x^(14-j), message
 * first (systematic).
 * @module
 */

export const RS_N = 15
export const RS_K = 8
export const RS_PARITY = RS_N - RS_K

const EXP = new Uint8Array(30)
const LOG = new Uint8Array(16)
{
  let x = 1
  for (let i = 0; i < 15; i++) {
    EXP[i] = x
    EXP[i + 15] = x
    LOG[x] = i
    x <<= 1
    if (x & 0x10) x ^= 0x13
  }
}

const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!)
const div = (a: number, b: number): number => {
  if (b === 0) throw new RangeError('GF(16) division by zero')
  return a === 0 ? 0 : EXP[(LOG[a]! + 15 - LOG[b]!) % 15]!
}
const pow = (e: number): number => EXP[((e % 15) + 15) % 15]!

/** Polynomials below are coefficient arrays, lowest degree first. */
function evalLow(p: number[], x: number): number {
  let y = 0
  for (let i = p.length - 1; i >= 0; i--) y = mul(y, x) ^ p[i]!
  return y
}

function polyMul(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0)
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j]! ^= mul(a[i]!, b[j]!)
  return out
}

/** g(x), highest degree first for the division in `encode`. */
const GENERATOR_HIGH: number[] = (() => {
  let g = [1]
  for (let i = 1; i <= RS_PARITY; i++) g = polyMul(g, [pow(i), 1])
  return g.reverse()
})()

/** The 15-symbol codeword of 8 message symbols (each 0-15). */
export function rsEncode(message: readonly number[]): number[] {
  if (message.length !== RS_K || message.some((s) => !Number.isInteger(s) || s < 0 || s > 15)) throw new RangeError('RS(15,8) takes eight 4-bit symbols')
  const work = [...message, ...new Array<number>(RS_PARITY).fill(0)]
  for (let i = 0; i < RS_K; i++) {
    const coef = work[i]!
    if (coef === 0) continue
    for (let j = 1; j < GENERATOR_HIGH.length; j++) work[i + j]! ^= mul(GENERATOR_HIGH[j]!, coef)
  }
  return [...message, ...work.slice(RS_K)]
}

function syndromes(received: readonly number[]): number[] {
  // S_i = r(a^i), i = 1..7; r's coefficient of x^(14-j) is received[j]
  const out: number[] = []
  for (let i = 1; i <= RS_PARITY; i++) {
    let s = 0
    for (let j = 0; j < RS_N; j++) s = mul(s, pow(i)) ^ received[j]!
    out.push(s)
  }
  return out
}

export type RsResult = { ok: true; codeword: number[]; message: number[]; corrected: number } | { ok: false; reason: 'too_many_erasures' | 'uncorrectable' }

/**
 * Errors-and-erasures decoding (Berlekamp-Massey started from the erasure locator, Chien search,
 * Forney). `received[j]` is null where the symbol is unknown. Never returns a word that is not a
 * codeword: the result's syndromes are re-checked.
 */
export function rsDecode(received: readonly (number | null)[]): RsResult {
  if (received.length !== RS_N) throw new RangeError('RS(15,8) decodes 15 symbols')
  const erasures = received.flatMap((s, j) => (s === null ? [j] : []))
  if (erasures.length > RS_PARITY) return { ok: false, reason: 'too_many_erasures' }
  const r = received.map((s) => s ?? 0)
  const S = syndromes(r)
  if (S.every((s) => s === 0)) return { ok: true, codeword: r, message: r.slice(0, RS_K), corrected: 0 }

  // erasure locator Gamma(x) = prod (1 - X_k x), X_k = a^(14 - j_k)
  let gamma = [1]
  for (const j of erasures) gamma = polyMul(gamma, [1, pow(RS_N - 1 - j)])
  let lambda = [...gamma]
  let b = [...gamma]
  const e = erasures.length
  let l = e
  for (let step = e + 1; step <= RS_PARITY; step++) {
    let delta = 0
    for (let j = 0; j <= l && j < lambda.length; j++) if (step - 1 - j >= 0) delta ^= mul(lambda[j]!, S[step - 1 - j]!)
    const shifted = [0, ...b]
    if (delta === 0) {
      b = shifted
      continue
    }
    const next = new Array<number>(Math.max(lambda.length, shifted.length)).fill(0)
    for (let i = 0; i < next.length; i++) next[i] = (lambda[i] ?? 0) ^ mul(delta, shifted[i] ?? 0)
    if (2 * l <= step + e - 1) {
      l = step + e - l
      b = lambda.map((c) => div(c, delta))
    } else b = shifted
    lambda = next
  }
  while (lambda.length > 1 && lambda[lambda.length - 1] === 0) lambda.pop()
  const degree = lambda.length - 1
  if (degree !== l || 2 * (l - e) + e > RS_PARITY) return { ok: false, reason: 'uncorrectable' }

  // Chien search: position j is in error when Lambda(X_j^-1) = 0
  const positions: number[] = []
  for (let j = 0; j < RS_N; j++) if (evalLow(lambda, pow(-(RS_N - 1 - j))) === 0) positions.push(j)
  if (positions.length !== degree) return { ok: false, reason: 'uncorrectable' }

  // Omega(x) = S(x)·Lambda(x) mod x^7; Forney with first root a^1: e = Omega(X^-1) / Lambda'(X^-1)
  const omega = polyMul(S, lambda).slice(0, RS_PARITY)
  const derivative = lambda.map((c, i) => (i % 2 === 1 ? c : 0)).slice(1)
  const fixed = [...r]
  for (const j of positions) {
    const xInv = pow(-(RS_N - 1 - j))
    const den = evalLow(derivative, xInv)
    if (den === 0) return { ok: false, reason: 'uncorrectable' }
    fixed[j]! ^= div(evalLow(omega, xInv), den)
  }
  if (syndromes(fixed).some((s) => s !== 0)) return { ok: false, reason: 'uncorrectable' }
  return { ok: true, codeword: fixed, message: fixed.slice(0, RS_K), corrected: positions.length }
}
