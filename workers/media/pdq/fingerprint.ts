/**
 * Image fingerprint for ingest: header checks, decode, PDQ with its eight dihedral hashes.
 *
 * Order matters: the header is read before anything is decoded, so an image too large for the
 * isolate (a 24 MP decode grows memory by 200+ MiB against a 128 MB limit), a truncated JPEG
 * (mozjpeg fills the missing rows with grey and reports success) and a CMYK/YCCK JPEG (crashes
 * @jsquash/jpeg) are refused cleanly with a code instead of crashing or hashing a wrong picture.
 * @module
 */
import { decodeImage, type ImageMime } from '../codecs'
import { readImageHeader, type ImageHeader } from '../images/header'
import { pdqFromRgba } from './pdq'

/** python-threatexchange PDQ_CONFIDENT_MATCH_THRESHOLD: match at Hamming distance <= 31. */
export const PDQ_MATCH_DISTANCE = 31
/** python-threatexchange QUALITY_THRESHOLD: hashes of quality below 50 are stored but never matched. */
export const PDQ_MIN_QUALITY = 50
/** Largest image decoded in a Worker: about 8 MP fits the 128 MB isolate (RGBA + the codec's WASM copy). */
export const MAX_FINGERPRINT_PIXELS = 8_000_000
/**
 * Largest original accepted at all. Above MAX_FINGERPRINT_PIXELS an image is never decoded in a
 * Worker: the packager scales it down (ffmpeg) and ingest fingerprints that display rendition. The
 * bound keeps that job sane: 100 MP covers every phone and most medium-format cameras (a 50 MP RGBA
 * frame is 200 MB in ffmpeg), and 30,000 px a side refuses decompression bombs shaped as strips.
 */
export const MAX_SOURCE_PIXELS = 100_000_000
export const MAX_SOURCE_SIDE = 30_000

export interface ImageFingerprint {
  width: number
  height: number
  /** PDQ of the image as uploaded, 64 lowercase hex */
  pdq: string
  /** 0-100; below PDQ_MIN_QUALITY the hash is stored but never matched */
  quality: number
  /** the 8 dihedral hashes (original first), compared against lists so rotated/flipped copies match */
  dihedral: string[]
}

/** Fingerprint an image's bytes (type already checked by magic bytes). Throws ImageRejected for unreadable, truncated or too-large images. */
export async function fingerprintImage(bytes: Uint8Array, mime: ImageMime): Promise<ImageFingerprint> {
  const header = checkedHeader(bytes, mime)
  let pixels
  try {
    pixels = await decodeImage(ownBuffer(bytes), mime)
  } catch (err) {
    throw new ImageRejected('image_unreadable', `the ${header.format.toUpperCase()} decoder refused the image: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (pixels.width !== header.width || pixels.height !== header.height) {
    throw new ImageRejected('image_unreadable', `decoded ${pixels.width}x${pixels.height}, the header says ${header.width}x${header.height}`)
  }
  const { hash, quality, dihedral } = pdqFromRgba(pixels)
  return { width: header.width, height: header.height, pdq: hash, quality, dihedral }
}

/**
 * The header checks of fingerprintImage without the decode: what the bytes announce, or the
 * ImageRejected that fingerprinting would throw. Size is checked before completeness, so an
 * oversized upload is reported as such even when it is also cut short.
 *
 * `limit: 'source'` is for an original that may go through the packager: up to MAX_SOURCE_PIXELS and
 * MAX_SOURCE_SIDE instead of MAX_FINGERPRINT_PIXELS (see needsDisplayRendition); every other check
 * is the same, so a creator meets the same refusals whatever the size of the photo.
 */
export function checkedHeader(bytes: Uint8Array, mime: ImageMime, limit: 'decode' | 'source' = 'decode'): ImageHeader {
  const read = readImageHeader(bytes)
  if (!read.ok) throw new ImageRejected(read.reason === 'truncated' ? 'image_truncated' : 'image_unreadable', read.detail)
  const header = read.header
  const declared = mime === 'image/jpeg' ? 'jpeg' : 'png'
  if (header.format !== declared) throw new ImageRejected('image_unreadable', `the bytes are a ${header.format.toUpperCase()}, not ${mime}`)
  if (header.width === 0 || header.height === 0) throw new ImageRejected('image_unreadable', `the header gives ${header.width}x${header.height} pixels`)
  if (limit === 'source') {
    if (header.width * header.height > MAX_SOURCE_PIXELS || header.width > MAX_SOURCE_SIDE || header.height > MAX_SOURCE_SIDE) {
      throw new ImageRejected(
        'image_too_large',
        `${header.width}x${header.height} = ${header.width * header.height} pixels; at most ${MAX_SOURCE_PIXELS} pixels and ${MAX_SOURCE_SIDE} px a side are accepted`,
      )
    }
  } else if (header.width * header.height > MAX_FINGERPRINT_PIXELS) {
    throw new ImageRejected('image_too_large', `${header.width}x${header.height} = ${header.width * header.height} pixels; at most ${MAX_FINGERPRINT_PIXELS} are decoded`)
  }
  if (!header.complete) throw new ImageRejected('image_truncated', `the ${header.format.toUpperCase()} data ends before its end marker`)
  if (header.format === 'jpeg') {
    // mozjpeg as built in @jsquash/jpeg aborts on 4-component (CMYK/YCCK) input; 2-component and
    // other counts are not valid JFIF/Adobe colour spaces
    if (header.components !== 1 && header.components !== 3) {
      throw new ImageRejected('image_unreadable', `JPEG with ${header.components} colour components (CMYK/YCCK) is not supported; save it as RGB`)
    }
    if (header.bitDepth !== 8) throw new ImageRejected('image_unreadable', `JPEG with ${header.bitDepth}-bit samples is not supported`)
    // lossless (c3, c7, cb, cf), hierarchical (c5-c7, cd-cf) and arithmetic-coded (c9-cb) JPEGs are
    // outside what the browser-grade decoder is built for; baseline, extended and progressive only
    if (header.jpegSof !== 0xc0 && header.jpegSof !== 0xc1 && header.jpegSof !== 0xc2) {
      throw new ImageRejected('image_unreadable', `JPEG coding process SOF${(header.jpegSof ?? 0) - 0xc0} is not supported`)
    }
  }
  return header
}

/** An image this large is fingerprinted and delivered from the packager's display rendition, never decoded itself. */
export function needsDisplayRendition(header: Pick<ImageHeader, 'width' | 'height'>): boolean {
  return header.width * header.height > MAX_FINGERPRINT_PIXELS
}

// the codecs take an ArrayBuffer: hand over the bytes of the view only (a view may share a larger buffer)
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer
  return bytes.slice().buffer as ArrayBuffer
}

export class ImageRejected extends Error {
  constructor(
    readonly code: 'image_unreadable' | 'image_truncated' | 'image_too_large',
    message: string,
  ) {
    super(message)
    this.name = 'ImageRejected'
  }
}
