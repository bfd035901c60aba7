/**
 * PDQ perceptual image hash (256 bits), written to match Meta's reference C++ implementation
 * (facebook/ThreatExchange pdq/cpp; algorithm as described in ../shared/specs/media.md §1).
 *
 * Hand-written because no maintained JavaScript or WASM PDQ library exists (Meta ships C++, Java,
 * Python and a browser-only WASM build that needs a canvas). Arithmetic follows the reference's
 * single-precision floats (Float32Array buffers, Math.fround on sums and products) so that the same
 * luminance gives the same bits (the row filtering is reorganised, see pdqFromRows, and tested
 * against the reference's order of work); the remaining differences against the published hashes
 * come from JPEG decoders (the reference tables themselves differ by up to 10 bits between decoders).
 *
 * Pipeline: RGB -> luminance (0.299 R + 0.587 G + 0.114 B); optionally (see PdqOptions.preResize)
 * the C++ tool's nearest-neighbour resize to 512x512 for larger images; two passes of a Jarosz box
 * filter along rows then columns with window ceil(dim / 128); decimation to 64x64 at cell centres; image-domain quality from neighbour gradients; 16x16 DCT (rows 1-16 of
 * the 64-point DCT-II basis, DC dropped); threshold at the Torben median; bits serialized as sixteen
 * 16-bit words printed word 15 first. The eight dihedral hashes come from the same 16x16 DCT by
 * sign flips and transposes, each thresholded at its own median.
 * @module
 */

/** Decoded RGBA pixels (the codecs' output). */
export interface RgbaImage {
  width: number
  height: number
  data: Uint8ClampedArray | Uint8Array
}

/** Orientation of each dihedral hash, in the order `pdqFromRgba` returns them. */
export const DIHEDRAL_ORIENTATIONS = ['original', 'rotate90', 'rotate180', 'rotate270', 'flipX', 'flipY', 'flipPlus1', 'flipMinus1'] as const
export type DihedralOrientation = (typeof DIHEDRAL_ORIENTATIONS)[number]

export interface PdqHash {
  /** 64 lowercase hex characters */
  hash: string
  /** 0-100 image-domain quality (gradient energy of the 64x64 image); 0 for images under 5 px */
  quality: number
  /** the 8 dihedral hashes in DIHEDRAL_ORIENTATIONS order (original first); empty unless asked for */
  dihedral: string[]
}

export interface PdqOptions {
  /** also compute the 7 other orientations (default true) */
  dihedral?: boolean
  /**
   * Resize images larger than 512 px to 512x512 by nearest neighbour first, as the current C++ tool
   * and its WASM build do (default false). Off by default because the published C++ hashes in the
   * reference table were made at full resolution: with the pre-resize two of them are 12 bits away,
   * without it every one is within 8 (and the rotated files match their dihedral hash within 8 bits,
   * against 18 with the pre-resize, whose sampling is not symmetric under rotation). Full resolution
   * costs no memory here (see pdqFromRows).
   */
  preResize?: boolean
}

/** The C++ tool's pre-resize edge and the reference's smallest hashable side. */
export const PDQ_PRE_RESIZE = 512
const MIN_HASHABLE_DIM = 5
const f = Math.fround
// single-precision products coefficient x channel value for every byte value, so the per-pixel
// work is three lookups and two float additions (the same values as multiplying each time)
const lumaTable = (coefficient: number) => Float32Array.from({ length: 256 }, (_, v) => f(f(coefficient) * v))
const LUMA_R = lumaTable(0.299)
const LUMA_G = lumaTable(0.587)
const LUMA_B = lumaTable(0.114)

/** 16x64 DCT-II basis (rows 1..16; row 0, the DC term, is not used), single precision as in the reference. */
const DCT = (() => {
  const d = new Float32Array(16 * 64)
  const scale = Math.sqrt(2 / 64)
  for (let i = 0; i < 16; i++) for (let j = 0; j < 64; j++) d[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1))
  return d
})()

/**
 * PDQ of decoded RGBA pixels (alpha ignored, as the reference reads RGB only).
 * @example
 * const { hash, quality, dihedral } = pdqFromRgba(await decodeImage(buf, 'image/jpeg'))
 */
export function pdqFromRgba(image: RgbaImage, options: PdqOptions = {}): PdqHash {
  const { width, height, data } = image
  if (data.length < width * height * 4) throw new RangeError(`RGBA buffer holds ${data.length} bytes, ${width}x${height} needs ${width * height * 4}`)
  const resize = (options.preResize ?? false) && (width > PDQ_PRE_RESIZE || height > PDQ_PRE_RESIZE)
  const cols = resize ? PDQ_PRE_RESIZE : width
  const rows = resize ? PDQ_PRE_RESIZE : height
  // nearest neighbour: target column x reads source column floor(x * width / 512) (CImg's mapping)
  const srcCol = new Int32Array(cols)
  for (let x = 0; x < cols; x++) srcCol[x] = resize ? Math.floor((x * width) / cols) : x
  const fillRow = (y: number, out: Float32Array) => {
    const rowBase = (resize ? Math.floor((y * height) / rows) : y) * width
    for (let x = 0; x < cols; x++) {
      const p = (rowBase + srcCol[x]!) * 4
      out[x] = f(LUMA_R[data[p]!]! + LUMA_G[data[p + 1]!]!) + LUMA_B[data[p + 2]!]!
    }
  }
  return pdqFromRows(rows, cols, fillRow, options.dihedral ?? true)
}

/** PDQ of a row-major luminance plane (0-255 floats). */
export function pdqFromLuma(luma: Float32Array, rows: number, cols: number, dihedral = true): PdqHash {
  return pdqFromRows(rows, cols, (y, out) => out.set(luma.subarray(y * cols, (y + 1) * cols)), dihedral)
}

/**
 * PDQ of an image given one luminance row at a time.
 *
 * The reference filters the whole plane along rows, then columns, twice, and keeps only 64x64
 * samples. Box filters along rows and along columns are linear maps on different axes, so they
 * commute: rows twice then columns twice gives the same plane (up to float rounding in the last
 * place). Filtering each row as it is read and keeping only the 64 columns that decimation samples
 * needs rows x 64 floats instead of two full-size planes: a full-resolution hash of an 8 MP image
 * takes 2 MB of buffers, not 64 MB, and the column passes run over 64 columns only (the row
 * passes compute only what those 64 columns need: sampledBoxTwice).
 */
export function pdqFromRows(rows: number, cols: number, fillRow: (y: number, out: Float32Array) => void, dihedral = true): PdqHash {
  if (rows < MIN_HASHABLE_DIM || cols < MIN_HASHABLE_DIM) {
    const zero = '0'.repeat(64)
    return { hash: zero, quality: 0, dihedral: dihedral ? DIHEDRAL_ORIENTATIONS.map(() => zero) : [] }
  }
  const windowAlongRows = jaroszWindow(cols)
  const windowAlongCols = jaroszWindow(rows)
  const sampleCol = new Int32Array(64)
  for (let j = 0; j < 64; j++) sampleCol[j] = Math.trunc(((j + 0.5) * cols) / 64)
  // kept[j * rows + y]: row-filtered luminance of sampled column j, column-major so each column is contiguous
  const kept = new Float32Array(64 * rows)
  const row = new Float32Array(cols)
  const rowPlan = sampledBoxPlan(cols, windowAlongRows, sampleCol)
  const prefix = new Float64Array(cols + 1)
  for (let y = 0; y < rows; y++) {
    fillRow(y, row)
    sampledBoxTwice(row, prefix, rowPlan, kept, rows, y)
  }
  const column = new Float32Array(rows)
  const columnScratch = new Float32Array(rows)
  const cells = new Float32Array(64 * 64)
  for (let j = 0; j < 64; j++) {
    column.set(kept.subarray(j * rows, (j + 1) * rows))
    box1d(column, columnScratch, 0, rows, 1, windowAlongCols)
    box1d(columnScratch, column, 0, rows, 1, windowAlongCols)
    for (let i = 0; i < 64; i++) cells[i * 64 + j] = column[Math.trunc(((i + 0.5) * rows) / 64)]!
  }
  const quality = imageDomainQuality(cells)
  const coefficients = dct64To16(cells)
  if (!dihedral) return { hash: bitsAboveMedian(coefficients), quality, dihedral: [] }
  const hashes = dihedralCoefficients(coefficients).map(bitsAboveMedian)
  return { hash: hashes[0]!, quality, dihedral: hashes }
}

/**
 * Along rows only 64 outputs of the second box pass are kept, and each depends on at most `window`
 * outputs of the first pass. So instead of two full passes per row (about 12 operations per pixel)
 * each row gets a running prefix sum (one addition per pixel) and the few first-pass values the 64
 * samples need are read from it. The windows are the reference's exactly, shrinking at the edges:
 * output o averages inputs lo..hi with lo = max(0, o + half - window), hi = min(n - 1, o + half - 1),
 * half = (window + 2) / 2 (see box1d). First-pass values are rounded to single precision as the
 * reference stores them; the prefix sum runs in double precision, so sums differ from the
 * reference's single-precision running sum only in the last place.
 */
interface SampledBoxPlan {
  /** for each of the 64 samples: first and last first-pass index it averages */
  outerLo: Int32Array
  outerHi: Int32Array
  /** for every first-pass index: its input window */
  innerLo: Int32Array
  innerHi: Int32Array
}

function sampledBoxPlan(length: number, window: number, samples: Int32Array): SampledBoxPlan {
  const half = Math.trunc((window + 2) / 2)
  const lo = (o: number) => Math.max(0, o + half - window)
  const hi = (o: number) => Math.min(length - 1, o + half - 1)
  const plan: SampledBoxPlan = { outerLo: new Int32Array(64), outerHi: new Int32Array(64), innerLo: new Int32Array(length), innerHi: new Int32Array(length) }
  for (let j = 0; j < 64; j++) {
    plan.outerLo[j] = lo(samples[j]!)
    plan.outerHi[j] = hi(samples[j]!)
  }
  for (let o = 0; o < length; o++) {
    plan.innerLo[o] = lo(o)
    plan.innerHi[o] = hi(o)
  }
  return plan
}

function sampledBoxTwice(row: Float32Array, prefix: Float64Array, plan: SampledBoxPlan, kept: Float32Array, rows: number, y: number): void {
  const n = row.length
  let running = 0
  for (let x = 0; x < n; x++) {
    running += row[x]!
    prefix[x + 1] = running
  }
  const { outerLo, outerHi, innerLo, innerHi } = plan
  for (let j = 0; j < 64; j++) {
    const a = outerLo[j]!
    const b = outerHi[j]!
    let sum = 0
    for (let o = a; o <= b; o++) {
      const lo = innerLo[o]!
      const hi = innerHi[o]!
      sum += f((prefix[hi + 1]! - prefix[lo]!) / (hi - lo + 1))
    }
    kept[j * rows + y] = sum / (b - a + 1)
  }
}

/** Jarosz box window for decimating to 64: ceil(old / 128), as (old + 2*64 - 1) / (2*64) in integers. */
function jaroszWindow(oldDimension: number): number {
  return Math.trunc((oldDimension + 2 * 64 - 1) / (2 * 64))
}

/**
 * One box-filter pass over a strided vector, with the reference's shrinking window at both edges:
 * accumulate half a window silently, then write with a growing, full, then shrinking window.
 */
function box1d(input: Float32Array, output: Float32Array, start: number, length: number, stride: number, window: number): void {
  const half = Math.trunc((window + 2) / 2)
  const phase1 = half - 1
  const phase2 = window - half + 1
  const phase3 = length - window
  const phase4 = half - 1
  let li = start
  let ri = start
  let oi = start
  let sum = 0
  let size = 0
  for (let i = 0; i < phase1; i++) {
    sum = f(sum + input[ri]!)
    size++
    ri += stride
  }
  for (let i = 0; i < phase2; i++) {
    sum = f(sum + input[ri]!)
    size++
    output[oi] = sum / size
    ri += stride
    oi += stride
  }
  for (let i = 0; i < phase3; i++) {
    sum = f(sum + input[ri]!)
    sum = f(sum - input[li]!)
    output[oi] = sum / size
    li += stride
    ri += stride
    oi += stride
  }
  for (let i = 0; i < phase4; i++) {
    sum = f(sum - input[li]!)
    size--
    output[oi] = sum / size
    li += stride
    oi += stride
  }
}

/** Sum of truncated vertical and horizontal neighbour differences (scaled to 0-100 per step) / 90, capped at 100. */
function imageDomainQuality(cells: Float32Array): number {
  let gradientSum = 0
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) gradientSum += Math.abs(Math.trunc(f(f(f(cells[i * 64 + j]! - cells[(i + 1) * 64 + j]!) * 100) / 255)))
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) gradientSum += Math.abs(Math.trunc(f(f(f(cells[i * 64 + j]! - cells[i * 64 + j + 1]!) * 100) / 255)))
  }
  return Math.min(100, Math.trunc(gradientSum / 90))
}

/** B = D A Dᵀ with D the 16x64 basis: 16x16 coefficients, row-major. */
function dct64To16(cells: Float32Array): Float32Array {
  const t = new Float32Array(16 * 64)
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0
      for (let k = 0; k < 64; k++) sum = f(sum + f(DCT[i * 64 + k]! * cells[k * 64 + j]!))
      t[i * 64 + j] = sum
    }
  }
  const b = new Float32Array(256)
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0
      for (let k = 0; k < 64; k++) sum = f(sum + f(t[i * 64 + k]! * DCT[j * 64 + k]!))
      b[i * 16 + j] = sum
    }
  }
  return b
}

/**
 * The coefficients of the 8 orientations. A DCT basis function of odd index (here even i, since
 * row i holds frequency i + 1) changes sign when its axis is mirrored; a quarter turn or a diagonal
 * flip swaps the axes (transpose).
 */
function dihedralCoefficients(a: Float32Array): Float32Array[] {
  const out = DIHEDRAL_ORIENTATIONS.map(() => new Float32Array(256))
  const [orig, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1] = out as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      const v = a[i * 16 + j]!
      const ij = i * 16 + j
      const ji = j * 16 + i
      orig[ij] = v
      rot90[ji] = j & 1 ? v : -v
      rot180[ij] = (i + j) & 1 ? -v : v
      rot270[ji] = i & 1 ? v : -v
      flipX[ij] = i & 1 ? v : -v
      flipY[ij] = j & 1 ? v : -v
      flipPlus1[ji] = v
      flipMinus1[ji] = (i + j) & 1 ? -v : v
    }
  }
  return out
}

/** Bit k = 16 i + j set iff coefficient (i, j) > the median; hex of words 15..0. */
function bitsAboveMedian(coefficients: Float32Array): string {
  const median = torbenMedian(coefficients)
  const words = new Uint16Array(16)
  for (let k = 0; k < 256; k++) if (coefficients[k]! > median) words[k >> 4]! |= 1 << (k & 15)
  let hex = ''
  for (let w = 15; w >= 0; w--) hex += words[w]!.toString(16).padStart(4, '0')
  return hex
}

/**
 * Torben's median (N. Devillard's write-up): bisects between min and max counting values below and
 * above a guess, so it needs no sorted copy. For even n it yields the lower median, like the reference.
 */
export function torbenMedian(m: ArrayLike<number>): number {
  const n = m.length
  let min = m[0]!
  let max = m[0]!
  for (let i = 1; i < n; i++) {
    if (m[i]! < min) min = m[i]!
    if (m[i]! > max) max = m[i]!
  }
  const half = Math.trunc((n + 1) / 2)
  let less = 0
  let greater = 0
  let equal = 0
  let guess = 0
  let maxBelow = 0
  let minAbove = 0
  for (;;) {
    guess = f((min + max) / 2)
    less = 0
    greater = 0
    equal = 0
    maxBelow = min
    minAbove = max
    for (let i = 0; i < n; i++) {
      const v = m[i]!
      if (v < guess) {
        less++
        if (v > maxBelow) maxBelow = v
      } else if (v > guess) {
        greater++
        if (v < minAbove) minAbove = v
      } else equal++
    }
    if (less <= half && greater <= half) break
    if (less > greater) max = maxBelow
    else min = minAbove
  }
  if (less >= half) return maxBelow
  if (less + equal >= half) return guess
  return minAbove
}

// ---------------------------------------------------------------------------------------------
// Hex form and distance

const PDQ_HEX = /^[0-9a-f]{64}$/

/** True for a 64-character lowercase hex PDQ hash. */
export function isPdqHex(hex: string): boolean {
  return PDQ_HEX.test(hex)
}

/** The hash as eight 32-bit words, most significant hex first (a fixed layout for XOR + popcount). */
export function pdqWords(hex: string): Uint32Array {
  if (!isPdqHex(hex)) throw new TypeError(`not a PDQ hash (64 lowercase hex): ${JSON.stringify(hex.slice(0, 80))}`)
  const words = new Uint32Array(8)
  for (let i = 0; i < 8; i++) words[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16)
  return words
}

/** Number of set bits of a 32-bit integer (SWAR). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/** Hamming distance of two hashes in word form. */
export function hammingWords(a: Uint32Array, b: Uint32Array): number {
  let d = 0
  for (let i = 0; i < 8; i++) d += popcount32((a[i]! ^ b[i]!) >>> 0)
  return d
}

/** Hamming distance (0-256) of two PDQ hashes in hex. */
export function hammingDistance(a: string, b: string): number {
  return hammingWords(pdqWords(a), pdqWords(b))
}
