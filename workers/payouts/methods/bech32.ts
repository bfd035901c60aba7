/**
 * Bech32 (BIP-173) and bech32m (BIP-350) decoding and the segwit address rules on top of them.
 * Hand-written because no bech32 package is installed here and the decoder is small; the BIPs'
 * own test vectors are in crypto.test.ts.
 * @module
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const

/** The value the checksum polymod must end on: 1 for bech32 (BIP-173), 0x2bc830a3 for bech32m (BIP-350). */
export const BECH32_CONST = 1
export const BECH32M_CONST = 0x2bc830a3

export type Bech32Encoding = 'bech32' | 'bech32m'

function polymod(values: readonly number[]): number {
  let chk = 1
  for (const value of values) {
    const top = chk >>> 25
    chk = (((chk & 0x1ffffff) << 5) ^ value) >>> 0
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ GENERATORS[i]!) >>> 0
  }
  return chk
}

function hrpExpand(hrp: string): number[] {
  const high: number[] = []
  const low: number[] = []
  for (const ch of hrp) {
    high.push(ch.charCodeAt(0) >> 5)
    low.push(ch.charCodeAt(0) & 31)
  }
  return [...high, 0, ...low]
}

export type Bech32Decoded =
  | { ok: true; hrp: string; data: number[]; encoding: Bech32Encoding }
  | { ok: false; reason: string }

/** Decodes a bech32 or bech32m string; `data` excludes the 6 checksum characters. */
export function decodeBech32(value: string): Bech32Decoded {
  if (value.length > 90) return { ok: false, reason: 'longer than 90 characters' }
  for (const ch of value) {
    const code = ch.charCodeAt(0)
    if (code < 33 || code > 126) return { ok: false, reason: 'character outside the printable ASCII range' }
  }
  const lower = value.toLowerCase()
  if (value !== lower && value !== value.toUpperCase()) return { ok: false, reason: 'mixed upper and lower case' }
  const separator = lower.lastIndexOf('1')
  if (separator < 1) return { ok: false, reason: 'empty human-readable part' }
  if (separator + 7 > lower.length) return { ok: false, reason: 'data part shorter than the 6-character checksum' }
  const hrp = lower.slice(0, separator)
  const data: number[] = []
  for (const ch of lower.slice(separator + 1)) {
    const index = CHARSET.indexOf(ch)
    if (index === -1) return { ok: false, reason: `character '${ch}' is not in the bech32 alphabet` }
    data.push(index)
  }
  const residue = polymod([...hrpExpand(hrp), ...data])
  const encoding: Bech32Encoding | null = residue === BECH32_CONST ? 'bech32' : residue === BECH32M_CONST ? 'bech32m' : null
  if (encoding === null) return { ok: false, reason: 'checksum does not match' }
  return { ok: true, hrp, data: data.slice(0, -6), encoding }
}

/** 5-bit groups to bytes; refuses more than 4 bits of padding or non-zero padding (BIP-173 decoding rules). */
function fiveToEight(groups: readonly number[]): Uint8Array | null {
  let acc = 0
  let bits = 0
  const out: number[] = []
  for (const group of groups) {
    acc = ((acc << 5) | group) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
  }
  if (bits >= 5) return null
  if ((acc << (8 - bits)) & 0xff) return null
  return Uint8Array.from(out)
}

export type SegwitDecoded =
  | { ok: true; hrp: string; version: number; program: Uint8Array }
  | { ok: false; reason: string }

/**
 * A segwit address for one of `hrps`: witness version 0-16, program 2-40 bytes, v0 exactly 20 or 32
 * bytes with the bech32 constant, v1+ with the bech32m constant (BIP-350 closes the BIP-173 mutation
 * weakness this way, so the wrong constant for the version is a refusal, not a fallback).
 */
export function decodeSegwitAddress(value: string, hrps: readonly string[]): SegwitDecoded {
  const decoded = decodeBech32(value)
  if (!decoded.ok) return decoded
  if (!hrps.includes(decoded.hrp)) return { ok: false, reason: `human-readable part '${decoded.hrp}' is not ${hrps.join(' or ')}` }
  const [version, ...rest] = decoded.data
  if (version === undefined) return { ok: false, reason: 'no witness version' }
  if (version > 16) return { ok: false, reason: `witness version ${version} is above 16` }
  const program = fiveToEight(rest)
  if (program === null) return { ok: false, reason: 'invalid padding in the witness program' }
  if (program.length < 2 || program.length > 40) return { ok: false, reason: `witness program of ${program.length} bytes (2-40 allowed)` }
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    return { ok: false, reason: `witness v0 program of ${program.length} bytes (20 or 32 allowed)` }
  }
  const expected: Bech32Encoding = version === 0 ? 'bech32' : 'bech32m'
  if (decoded.encoding !== expected) {
    return { ok: false, reason: `witness v${version} must use the ${expected} checksum, not ${decoded.encoding}` }
  }
  return { ok: true, hrp: decoded.hrp, version, program }
}
