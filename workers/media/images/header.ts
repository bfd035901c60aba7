/**
 * Reads what an image file announces about itself (format, dimensions, colour components, whether
 * the file is complete) by walking its structure, without decoding a pixel.
 *
 * Why before decoding: a decode allocates width x height x 4 bytes (plus the codec's own WASM
 * copy), and a 24-megapixel JPEG does not fit a Worker's 128 MB isolate, so the size must be known
 * from the header first. mozjpeg also decodes a truncated JPEG silently (grey fill) and crashes on
 * CMYK/YCCK input, so both are recognised here from the markers. Hand-written because no installed
 * library reads headers without decoding (the codecs only expose a full decode).
 *
 * JPEG (ITU-T T.81 Annex B): markers from SOI, each segment skipped by its length; SOFn gives
 * precision, height, width and component count; after each SOS the entropy-coded data runs until
 * the next marker that is not a stuffed 0xFF00 or a restart marker (RST0-7); the file is complete
 * when EOI follows. Bytes after EOI (camera trailers) are allowed.
 * PNG (RFC 2083 / W3C PNG): 8-byte signature, IHDR first (width, height, bit depth, colour type,
 * interlace), then chunks by length until IEND.
 * @module
 */

export type ImageFormat = 'jpeg' | 'png'

export interface ImageHeader {
  format: ImageFormat
  width: number
  height: number
  /**
   * Colour channels the file decodes to: JPEG 1 (grey), 3 (YCbCr/RGB), 4 (CMYK/YCCK);
   * PNG 1 grey, 2 grey + alpha, 3 RGB or palette, 4 RGBA.
   */
  components: number
  /** bits per sample (JPEG precision, PNG bit depth) */
  bitDepth: number
  /** every byte the structure announces is present: JPEG reaches EOI after its scans, PNG reaches IEND */
  complete: boolean
  /** JPEG only: the SOF marker (0xc0 baseline, 0xc1 extended, 0xc2 progressive, ...) */
  jpegSof?: number
  /** JPEG only: Adobe APP14 colour transform (0 none/CMYK, 1 YCbCr, 2 YCCK) when the segment is present */
  adobeTransform?: number
  /** PNG only: IHDR colour type (0, 2, 3, 4, 6) and whether it is Adam7-interlaced */
  pngColorType?: number
  pngInterlaced?: boolean
}

export type HeaderResult =
  | { ok: true; header: ImageHeader }
  | { ok: false; reason: 'not_an_image' | 'truncated' | 'malformed'; detail: string }

/** JPEG or PNG by magic bytes (never by name or declared type). */
export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png'
  return undefined
}

/**
 * Reads the header of a JPEG or PNG.
 * @returns the header (check `complete`), or why none could be read: not a JPEG/PNG, cut off before
 * the dimensions, or a structure that contradicts the format
 * @example
 * const r = readImageHeader(bytes)
 * if (r.ok && r.header.width * r.header.height > 8_000_000) refuse()
 */
export function readImageHeader(bytes: Uint8Array): HeaderResult {
  const format = imageFormatOf(bytes)
  if (format === 'jpeg') return readJpeg(bytes)
  if (format === 'png') return readPng(bytes)
  return { ok: false, reason: 'not_an_image', detail: 'neither a JPEG (FF D8 FF) nor a PNG signature' }
}

// ---------------------------------------------------------------------------------------------
// JPEG

const SOI = 0xd8
const EOI = 0xd9
const SOS = 0xda
const APP14 = 0xee
const TEM = 0x01
const isRst = (m: number) => m >= 0xd0 && m <= 0xd7
// SOF0-SOF15 except DHT (c4), JPG (c8) and DAC (cc), which share the range
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc

function readJpeg(bytes: Uint8Array): HeaderResult {
  const n = bytes.length
  let pos = 2 // after SOI
  let sof: { marker: number; precision: number; height: number; width: number; components: number } | undefined
  let adobeTransform: number | undefined
  let scans = 0
  for (;;) {
    // libjpeg skips extraneous bytes before a marker (with a warning); do the same
    const ff = bytes.indexOf(0xff, pos)
    if (ff < 0) return endOfData(sof, adobeTransform)
    pos = ff
    while (pos < n && bytes[pos] === 0xff) pos++ // fill bytes
    if (pos >= n) return endOfData(sof, adobeTransform)
    const marker = bytes[pos++]!
    if (marker === EOI) {
      if (!sof) return { ok: false, reason: 'malformed', detail: 'JPEG ends (EOI) before any frame header (SOF)' }
      if (scans === 0) return { ok: false, reason: 'malformed', detail: 'JPEG ends (EOI) before any scan (SOS)' }
      return { ok: true, header: jpegHeader(sof, adobeTransform, true) }
    }
    if (marker === SOI) return { ok: false, reason: 'malformed', detail: 'second SOI marker inside the JPEG' }
    if (isRst(marker) || marker === TEM || marker === 0x00) continue // standalone markers; 0xff00 outside a scan is junk
    if (pos + 2 > n) return endOfData(sof, adobeTransform)
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!
    if (length < 2) return { ok: false, reason: 'malformed', detail: `JPEG segment 0x${marker.toString(16)} has length ${length}` }
    const start = pos + 2
    const end = pos + length
    if (isSof(marker)) {
      if (end > n) return endOfData(sof, adobeTransform)
      if (length < 8) return { ok: false, reason: 'malformed', detail: 'JPEG frame header (SOF) too short' }
      if (sof) return { ok: false, reason: 'malformed', detail: 'JPEG has more than one frame header (SOF)' }
      sof = {
        marker,
        precision: bytes[start]!,
        height: (bytes[start + 1]! << 8) | bytes[start + 2]!,
        width: (bytes[start + 3]! << 8) | bytes[start + 4]!,
        components: bytes[start + 5]!,
      }
    } else if (marker === APP14 && end <= n && length >= 14 && String.fromCharCode(...bytes.subarray(start, start + 5)) === 'Adobe') {
      adobeTransform = bytes[start + 11]
    }
    pos = end
    if (marker === SOS) {
      if (end > n) return endOfData(sof, adobeTransform)
      if (!sof) return { ok: false, reason: 'malformed', detail: 'JPEG scan (SOS) before the frame header (SOF)' }
      scans++
      // entropy-coded data: the next 0xFF that is neither stuffing (0xFF00) nor RSTn ends it
      let i = pos
      for (;;) {
        const at = bytes.indexOf(0xff, i)
        if (at < 0 || at + 1 >= n) return endOfData(sof, adobeTransform)
        const next = bytes[at + 1]!
        if (next === 0x00 || isRst(next) || next === 0xff) {
          i = at + 1
          continue
        }
        pos = at
        break
      }
    }
  }
}

function jpegHeader(
  sof: { marker: number; precision: number; height: number; width: number; components: number },
  adobeTransform: number | undefined,
  complete: boolean,
): ImageHeader {
  return {
    format: 'jpeg',
    width: sof.width,
    height: sof.height,
    components: sof.components,
    bitDepth: sof.precision,
    complete,
    jpegSof: sof.marker,
    ...(adobeTransform === undefined ? {} : { adobeTransform }),
  }
}

// The data ran out: with a frame header the dimensions are known (the caller refuses a too-large
// image before it reports the truncation); without one nothing is known.
function endOfData(
  sof: { marker: number; precision: number; height: number; width: number; components: number } | undefined,
  adobeTransform: number | undefined,
): HeaderResult {
  if (!sof) return { ok: false, reason: 'truncated', detail: 'JPEG data ends before the frame header (SOF)' }
  return { ok: true, header: jpegHeader(sof, adobeTransform, false) }
}

// ---------------------------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 }

function readPng(bytes: Uint8Array): HeaderResult {
  const n = bytes.length
  if (n < 33) return { ok: false, reason: 'truncated', detail: 'PNG data ends before the IHDR chunk' }
  const u32 = (at: number) => ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  const type = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!)
  if (type(12) !== 'IHDR' || u32(8) !== 13) return { ok: false, reason: 'malformed', detail: 'PNG does not start with a 13-byte IHDR chunk' }
  const width = u32(16)
  const height = u32(20)
  const bitDepth = bytes[24]!
  const colorType = bytes[25]!
  const channels = PNG_CHANNELS[colorType]
  if (channels === undefined) return { ok: false, reason: 'malformed', detail: `PNG colour type ${colorType} is not defined` }
  const header: ImageHeader = {
    format: 'png',
    width,
    height,
    components: channels,
    bitDepth,
    complete: false,
    pngColorType: colorType,
    pngInterlaced: bytes[28] === 1,
  }
  // chunks: length (4) + type (4) + data + CRC (4)
  let pos = 33
  let sawData = false
  while (pos + 8 <= n) {
    const length = u32(pos)
    const kind = type(pos + 4)
    const next = pos + 12 + length
    if (next > n) break
    if (kind === 'IDAT') sawData = true
    if (kind === 'IEND') {
      if (!sawData) return { ok: false, reason: 'malformed', detail: 'PNG ends (IEND) without image data (IDAT)' }
      header.complete = true
      break
    }
    pos = next
  }
  return { ok: true, header }
}
