/**
 * The invisible forensic mark: a 32-bit mark serial (media_marks.serial) hidden in the luminance of
 * a delivered image, recoverable after JPEG re-compression (quality 75), a 50% downscale, or both.
 *
 * Hand-written: no maintained JS/WASM library embeds a watermark that survives resizing (the
 * Python `invisible-watermark` is documented as not robust to a 50% resize; the npm packages are
 * unmaintained or steganographic, not robust; media.md §3).
 *
 * Why it survives both attacks:
 * - Geometry independent of resolution: luminance is box-averaged onto a fixed 64x64 grid
 *   stretched over the whole picture. A uniform downscale that leaves >= 2 pixels per cell changes
 *   what each cell averages over by a fraction of a pixel, so the grid, and every coefficient
 *   measured on it, is nearly the same before and after.
 * - Low frequencies only: the payload lives in the five lowest AC coefficients of the grid's 8x8
 *   blocks (periods of 8-16 cells, i.e. 1/8-1/4 of the picture's width). Downscaling keeps them
 *   (far below the new Nyquist frequency); JPEG quality 75 quantises each 8x8 pixel block with
 *   steps of 5-7 levels, and the box average over each cell (>= 2x2 pixels) shrinks that noise.
 *   What a resize does change, the gain of each frequency (a triangle filter's 50% downscale
 *   attenuates them by 2-5%), the detector estimates and divides out (softDecisions).
 * - Quantisation index modulation (dithered QIM, step STEP) rather than additive spread spectrum:
 *   the picture itself does not interfere with the decision (informed embedding), so small steps
 *   suffice and the mark stays invisible (PSNR 38.4-39 dB on the test photos).
 * - 32 bits + CRC-16 = 48 bits, each repeated 6-7 times over 320 slots scattered by a fixed
 *   permutation; soft decisions (cosine of the QIM phase) are summed per bit, weighted down in busy
 *   blocks (which leak more under resampling), so saturated, busy or damaged regions only weaken
 *   the vote. The CRC plus a minimum mean agreement keep unmarked pictures from yielding a serial
 *   (unmarked pictures agree at about 0.2 on average, marked and attacked ones at 0.79-0.999).
 * - Closed-loop embedding: the grid change is spread back to full resolution by bilinear
 *   interpolation (smooth), added to R, G and B alike, clamped, rounded, and re-measured on the
 *   grid; what interpolation, clamping at 0/255 and rounding took away is asked for again, up to
 *   three passes. The change is smoothed across block edges first (smoothKeepingSlots): no seams.
 *
 * Limits: no robustness to crops, rotations or flips (the grid is the whole frame); below
 * MIN_MARK_SIDE nothing is embedded, and from MIN_MARK_SIDE to ROBUST_MARK_SIDE a 50% downscale
 * may erase the mark. Which payload bit each slot carries and each slot's QIM dither come from
 * the platform's secret MEDIA_MARK_KEY (watermark/key.ts): without it, someone who has read this code
 * knows where the mark lives but not the lattice to flatten, and cannot forge another viewer's serial.
 * @module
 */
import type { Pixels } from '../codecs'

/**
 * The grid luminance is measured on (cells per side). 64 rather than 128: on a 256-pixel picture
 * halved to 128 pixels, a 128-cell grid averages single pixels and the resize filter's blur of the
 * picture's own texture leaks into the payload coefficients (q2821, a busy photo, lost its mark);
 * with two pixels per cell the leak is averaged away (weighted slot agreement after halving and
 * JPEG q75: 0.79-0.81 on q2821, 0.81-0.97 on the other 256-pixel photos, 0.99 on larger ones).
 */
export const GRID = 64
/** Pictures with a shorter side than this are not marked invisibly (visible mark only). */
export const MIN_MARK_SIDE = 2 * GRID
/** From this shorter side up a mark survives a 50% downscale (the result keeps two pixels per cell). */
export const ROBUST_MARK_SIDE = 4 * GRID
/** Traced pictures need at least this many pixels on their shorter side. */
export const MIN_TRACE_SIDE = 64
/** Below this mean agreement a decoded word is not trusted even when its CRC holds. */
export const MIN_CONFIDENCE = 0.45

const BLOCK = 8
const BLOCKS = GRID / BLOCK
/** QIM step in orthonormal DCT units of the grid. */
const STEP = 32
/** The coefficients (row frequency, column frequency) of each 8x8 block that carry the payload. */
const COEFFS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [1, 0],
  [1, 1],
  [0, 2],
  [2, 0],
]
const SLOTS = BLOCKS * BLOCKS * COEFFS.length
const PAYLOAD_BITS = 48
const PASSES = 3
/** Random bytes a layout is drawn from: 4 per shuffle step and 4 per dither. */
export const LAYOUT_RANDOM_BYTES = 8 * SLOTS

/** Per-slot layout: which payload bit each slot carries and its QIM dither (from the secret key). */
export interface MarkLayout {
  readonly bitOf: Uint8Array
  readonly dither: Float32Array
}

/**
 * The layout drawn from `random` (LAYOUT_RANDOM_BYTES of a keyed stream, watermark/key.ts): a
 * Fisher-Yates shuffle spreads each payload bit over SLOTS / PAYLOAD_BITS slots, then one dither per slot.
 */
export function layoutFrom(random: Uint8Array): MarkLayout {
  if (random.byteLength < LAYOUT_RANDOM_BYTES) throw new RangeError(`a mark layout needs ${LAYOUT_RANDOM_BYTES} random bytes, got ${random.byteLength}`)
  const view = new DataView(random.buffer, random.byteOffset, random.byteLength)
  let at = 0
  const next = () => view.getUint32((at++) * 4) / 4294967296
  const order = new Uint32Array(SLOTS)
  for (let i = 0; i < SLOTS; i++) order[i] = i
  for (let i = SLOTS - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  at = SLOTS
  const bitOf = new Uint8Array(SLOTS)
  for (let k = 0; k < SLOTS; k++) bitOf[order[k]!] = k % PAYLOAD_BITS
  const dither = new Float32Array(SLOTS)
  for (let s = 0; s < SLOTS; s++) dither[s] = next() * STEP
  return { bitOf, dither }
}

/** CRC-16/CCITT-FALSE of the serial's four bytes, big-endian (hand-written: sixteen bits need no library). */
export function crc16(serial: number): number {
  let crc = 0xffff
  for (let shift = 24; shift >= 0; shift -= 8) {
    crc ^= ((serial >>> shift) & 0xff) << 8
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

function payloadBits(serial: number): Uint8Array {
  const bits = new Uint8Array(PAYLOAD_BITS)
  for (let i = 0; i < 32; i++) bits[i] = (serial >>> (31 - i)) & 1
  const crc = crc16(serial)
  for (let i = 0; i < 16; i++) bits[32 + i] = (crc >>> (15 - i)) & 1
  return bits
}

// orthonormal 8-point DCT-II basis: BASIS[k * 8 + n]
const BASIS = (() => {
  const b = new Float32Array(BLOCK * BLOCK)
  for (let k = 0; k < BLOCK; k++) {
    const c = k === 0 ? Math.sqrt(1 / BLOCK) : Math.sqrt(2 / BLOCK)
    for (let n = 0; n < BLOCK; n++) b[k * BLOCK + n] = c * Math.cos(((2 * n + 1) * k * Math.PI) / (2 * BLOCK))
  }
  return b
})()

/** Box-filter weights resampling `source` samples onto `target` cells (each cell averages the span it covers). */
interface AxisWeights {
  start: Int32Array
  count: Int32Array
  offset: Int32Array
  weight: Float32Array
}

function boxWeights(source: number, target: number): AxisWeights {
  const span = source / target
  const start = new Int32Array(target)
  const count = new Int32Array(target)
  const offset = new Int32Array(target)
  const weights: number[] = []
  for (let i = 0; i < target; i++) {
    const lo = i * span
    const hi = (i + 1) * span
    const first = Math.floor(lo)
    const last = Math.min(source - 1, Math.ceil(hi) - 1)
    start[i] = first
    count[i] = last - first + 1
    offset[i] = weights.length
    for (let j = first; j <= last; j++) weights.push((Math.min(hi, j + 1) - Math.max(lo, j)) / span)
  }
  return { start, count, offset, weight: Float32Array.from(weights) }
}

/**
 * The Rec. 601 luminance of RGBA `data`, box-averaged onto the GRID x GRID grid (the weights sum to
 * 1, so adding d to R, G and B adds d to a cell). Computed row by row so no full-size luminance
 * plane is allocated.
 */
function toGrid(data: Uint8ClampedArray, width: number, height: number, wx: AxisWeights, wy: AxisWeights): Float32Array {
  const line = new Float32Array(width)
  const rows = new Float32Array(height * GRID)
  for (let r = 0; r < height; r++) {
    for (let x = 0, p = r * width * 4; x < width; x++, p += 4) line[x] = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!
    for (let i = 0; i < GRID; i++) {
      let sum = 0
      const s = wx.start[i]!
      const o = wx.offset[i]!
      for (let k = 0; k < wx.count[i]!; k++) sum += line[s + k]! * wx.weight[o + k]!
      rows[r * GRID + i] = sum
    }
  }
  const grid = new Float32Array(GRID * GRID)
  for (let j = 0; j < GRID; j++) {
    const s = wy.start[j]!
    const o = wy.offset[j]!
    for (let k = 0; k < wy.count[j]!; k++) {
      const w = wy.weight[o + k]!
      const row = (s + k) * GRID
      for (let i = 0; i < GRID; i++) grid[j * GRID + i]! += rows[row + i]! * w
    }
  }
  return grid
}

/** The DCT coefficient of every slot (block-major, COEFFS order within a block). */
function slotValues(grid: Float32Array): Float32Array {
  const values = new Float32Array(SLOTS)
  for (let by = 0; by < BLOCKS; by++) {
    for (let bx = 0; bx < BLOCKS; bx++) {
      const block = by * BLOCKS + bx
      for (let c = 0; c < COEFFS.length; c++) {
        const [u, v] = COEFFS[c]!
        let sum = 0
        for (let y = 0; y < BLOCK; y++) {
          const row = (by * BLOCK + y) * GRID + bx * BLOCK
          const bu = BASIS[u * BLOCK + y]!
          for (let x = 0; x < BLOCK; x++) sum += grid[row + x]! * bu * BASIS[v * BLOCK + x]!
        }
        values[block * COEFFS.length + c] = sum
      }
    }
  }
  return values
}

/** Adds `amount` of slot `slot`'s basis image to `grid`. */
function addSlot(grid: Float32Array, slot: number, amount: number): void {
  const block = Math.floor(slot / COEFFS.length)
  const [u, v] = COEFFS[slot % COEFFS.length]!
  const by = Math.floor(block / BLOCKS)
  const bx = block % BLOCKS
  for (let y = 0; y < BLOCK; y++) {
    const row = (by * BLOCK + y) * GRID + bx * BLOCK
    const bu = BASIS[u * BLOCK + y]! * amount
    for (let x = 0; x < BLOCK; x++) grid[row + x]! += bu * BASIS[v * BLOCK + x]!
  }
}

/** Bilinear interpolation positions of `target` samples between the `source` cell centres. */
function bilinear(source: number, target: number): { index: Int32Array; frac: Float32Array } {
  const index = new Int32Array(target)
  const frac = new Float32Array(target)
  for (let t = 0; t < target; t++) {
    const g = Math.min(source - 1, Math.max(0, ((t + 0.5) * source) / target - 0.5))
    const i = Math.min(source - 2, Math.floor(g))
    index[t] = i
    frac[t] = g - i
  }
  return { index, frac }
}

/** out = clamp(original + bilinear(delta)) on R, G and B; alpha untouched. */
function applyDelta(original: Uint8ClampedArray, out: Uint8ClampedArray, width: number, height: number, delta: Float32Array): void {
  const bx = bilinear(GRID, width)
  const by = bilinear(GRID, height)
  const wide = new Float32Array(GRID * width)
  for (let j = 0; j < GRID; j++) {
    for (let x = 0; x < width; x++) {
      const i = bx.index[x]!
      const f = bx.frac[x]!
      wide[j * width + x] = delta[j * GRID + i]! * (1 - f) + delta[j * GRID + i + 1]! * f
    }
  }
  for (let y = 0; y < height; y++) {
    const j = by.index[y]!
    const f = by.frac[y]!
    const r0 = j * width
    const r1 = (j + 1) * width
    for (let x = 0, p = y * width * 4; x < width; x++, p += 4) {
      const d = wide[r0 + x]! * (1 - f) + wide[r1 + x]! * f
      out[p] = original[p]! + d
      out[p + 1] = original[p + 1]! + d
      out[p + 2] = original[p + 2]! + d
    }
  }
}

/** Rounds of smoothing in smoothKeepingSlots. */
const SMOOTHING_ROUNDS = 2

/**
 * Block DCT bases end abruptly at block edges, so a change made of them has straight seams every
 * 8 cells, the one thing an eye finds in a smooth sky. The detector reads only the payload
 * coefficients, so the rest of each block is free: alternately blur the change (3x3 binomial) and
 * put the payload coefficients back to what they must be; the seams melt into the free
 * coefficients while what the detector reads stays exact.
 */
function smoothKeepingSlots(delta: Float32Array, wanted: Float32Array): void {
  const tmp = new Float32Array(GRID * GRID)
  for (let round = 0; round < SMOOTHING_ROUNDS; round++) {
    for (let y = 0; y < GRID; y++) {
      for (let x = 0; x < GRID; x++) {
        const l = delta[y * GRID + Math.max(0, x - 1)]!
        const r = delta[y * GRID + Math.min(GRID - 1, x + 1)]!
        tmp[y * GRID + x] = (l + 2 * delta[y * GRID + x]! + r) / 4
      }
    }
    for (let y = 0; y < GRID; y++) {
      const up = Math.max(0, y - 1) * GRID
      const down = Math.min(GRID - 1, y + 1) * GRID
      for (let x = 0; x < GRID; x++) delta[y * GRID + x] = (tmp[up + x]! + 2 * tmp[y * GRID + x]! + tmp[down + x]!) / 4
    }
    const now = slotValues(delta)
    for (let s = 0; s < SLOTS; s++) addSlot(delta, s, wanted[s]! - now[s]!)
  }
}

function checkSerial(serial: number): void {
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw new RangeError(`mark serial must be a 32-bit unsigned integer, got ${serial}`)
}

/**
 * A copy of `pixels` carrying `serial` invisibly; pictures with a side shorter than MIN_MARK_SIDE
 * come back unchanged (too few pixels to hold the grid).
 */
export function embedSerial(pixels: Pixels, serial: number, layout: MarkLayout): Pixels {
  checkSerial(serial)
  const { width, height, data } = pixels
  const out = new Uint8ClampedArray(data)
  if (Math.min(width, height) < MIN_MARK_SIDE) return { width, height, data: out }
  const { bitOf, dither } = layout
  const bits = payloadBits(serial)
  const wx = boxWeights(width, GRID)
  const wy = boxWeights(height, GRID)
  const start = slotValues(toGrid(data, width, height, wx, wy))
  // the nearest lattice point of the slot's bit: dither + bit * STEP/2 + m * STEP
  const target = new Float32Array(SLOTS)
  for (let s = 0; s < SLOTS; s++) {
    const base = dither[s]! + bits[bitOf[s]!]! * (STEP / 2)
    target[s] = base + Math.round((start[s]! - base) / STEP) * STEP
  }
  const applied = new Float32Array(SLOTS)
  const delta = new Float32Array(GRID * GRID)
  let measured = start
  for (let pass = 0; pass < PASSES; pass++) {
    for (let s = 0; s < SLOTS; s++) {
      // what the previous pass did not achieve (interpolation, clamping, rounding) is asked for
      // again, but never more than one step in total: a clipped highlight must not turn into a blotch
      const wanted = Math.max(-STEP, Math.min(STEP, applied[s]! + target[s]! - measured[s]!))
      const extra = wanted - applied[s]!
      if (extra !== 0) addSlot(delta, s, extra)
      applied[s] = wanted
    }
    smoothKeepingSlots(delta, applied)
    applyDelta(data, out, width, height, delta)
    if (pass < PASSES - 1) measured = slotValues(toGrid(out, width, height, wx, wy))
  }
  return { width, height, data: out }
}

export interface TraceResult {
  serial: number
  /** weighted mean agreement of every slot with the decoded word: 1 = every slot exactly on its lattice */
  confidence: number
  /** slots whose own hard decision disagrees with the decoded word (errors before the vote) */
  slotErrors: number
  slots: number
}

/** Gains tried per frequency: resampling filters attenuate each frequency by a few per cent. */
const GAINS = Array.from({ length: 61 }, (_, i) => 0.85 + i * 0.005)
/** Block variance (grid units) at which a slot's vote counts half: busy blocks leak more under resampling. */
const BUSY_VARIANCE = 400

interface Soft {
  soft: Float32Array
  weight: Float32Array
}

/**
 * Soft decisions per slot (+1 on a bit-0 lattice point, -1 on a bit-1 point) and their weights.
 * A resize attenuates each frequency by an unknown gain (a triangle filter's 50% downscale: 2-5%),
 * which moves large coefficients off their lattice; the gain of each frequency is estimated as the
 * one that puts its slots closest to the union of both lattices (period STEP/2), whatever the bits.
 */
function softDecisions(pixels: Pixels, layout: MarkLayout): Soft {
  const { width, height, data } = pixels
  const { dither } = layout
  const grid = toGrid(data, width, height, boxWeights(width, GRID), boxWeights(height, GRID))
  const values = slotValues(grid)
  const weight = new Float32Array(SLOTS)
  for (let b = 0; b < BLOCKS * BLOCKS; b++) {
    const by = Math.floor(b / BLOCKS)
    const bx = b % BLOCKS
    let sum = 0
    let squares = 0
    for (let y = 0; y < BLOCK; y++) {
      for (let x = 0; x < BLOCK; x++) {
        const v = grid[(by * BLOCK + y) * GRID + bx * BLOCK + x]!
        sum += v
        squares += v * v
      }
    }
    const n = BLOCK * BLOCK
    const variance = squares / n - (sum / n) ** 2
    for (let c = 0; c < COEFFS.length; c++) weight[b * COEFFS.length + c] = 1 / (1 + variance / BUSY_VARIANCE)
  }
  const soft = new Float32Array(SLOTS)
  for (let c = 0; c < COEFFS.length; c++) {
    let best = 1
    let bestFit = -Infinity
    for (const gain of GAINS) {
      let fit = 0
      for (let s = c; s < SLOTS; s += COEFFS.length) fit += weight[s]! * Math.cos((4 * Math.PI * (values[s]! / gain - dither[s]!)) / STEP)
      if (fit > bestFit) {
        bestFit = fit
        best = gain
      }
    }
    for (let s = c; s < SLOTS; s += COEFFS.length) soft[s] = Math.cos((2 * Math.PI * (values[s]! / best - dither[s]!)) / STEP)
  }
  return { soft, weight }
}

/** The serial `pixels` carry, or null when there is none to be trusted. */
export function extractSerial(pixels: Pixels, layout: MarkLayout): TraceResult | null {
  if (Math.min(pixels.width, pixels.height) < MIN_TRACE_SIDE) return null
  const { bitOf } = layout
  const { soft, weight } = softDecisions(pixels, layout)
  const votes = new Float64Array(PAYLOAD_BITS)
  for (let s = 0; s < SLOTS; s++) votes[bitOf[s]!]! += weight[s]! * soft[s]!
  const bits = new Uint8Array(PAYLOAD_BITS)
  for (let b = 0; b < PAYLOAD_BITS; b++) bits[b] = votes[b]! < 0 ? 1 : 0
  let serial = 0
  for (let i = 0; i < 32; i++) serial = ((serial << 1) | bits[i]!) >>> 0
  let crc = 0
  for (let i = 0; i < 16; i++) crc = (crc << 1) | bits[32 + i]!
  const { agreement, slotErrors } = agreementWith(bits, soft, weight, layout)
  if (crc !== crc16(serial) || agreement < MIN_CONFIDENCE) return null
  return { serial, confidence: agreement, slotErrors, slots: SLOTS }
}

function agreementWith(bits: Uint8Array, soft: Float32Array, weight: Float32Array, layout: MarkLayout): { agreement: number; slotErrors: number } {
  const { bitOf } = layout
  let agreement = 0
  let total = 0
  let slotErrors = 0
  for (let s = 0; s < SLOTS; s++) {
    const signed = bits[bitOf[s]!] ? -soft[s]! : soft[s]!
    agreement += weight[s]! * signed
    total += weight[s]!
    if (signed < 0) slotErrors++
  }
  return { agreement: agreement / total, slotErrors }
}

/** Diagnostics for tests and reports: how well `pixels` agree with `serial`'s word, without the CRC and confidence gates. */
export function measureSlots(pixels: Pixels, serial: number, layout: MarkLayout): { slotErrors: number; slots: number; agreement: number } {
  checkSerial(serial)
  const { soft, weight } = softDecisions(pixels, layout)
  return { ...agreementWith(payloadBits(serial), soft, weight, layout), slots: SLOTS }
}
