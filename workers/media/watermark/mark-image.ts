/**
 * Marked copies of images, the contract the delivery and leak-tracing parts use: a delivered copy
 * carries the visible brand/creator mark (visible.ts, configurable per brand and creator,
 * settings.ts) and the invisible mark serial (invisible.ts) naming item, creator and viewer
 * (media_marks). Copies are JPEG at quality 88: close to the original, and the invisible mark is
 * measured to survive a further JPEG at quality 75 and a 50% downscale on top of it.
 *
 * Sizes: pictures with a shorter side below MIN_MARK_SIDE (128 px) get the visible mark only;
 * from ROBUST_MARK_SIDE (256 px) up the invisible mark also survives a 50% downscale.
 * @module
 */
import { decodeImage, encodeJpeg, type ImageMime, type Pixels } from '../codecs'
import { embedSerial, extractSerial, type MarkLayout } from './invisible'
import { resolveVisibleMark } from './settings'
import { drawVisibleMark } from './visible'

export interface VisibleMark {
  text: string
  position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left' | 'center'
  /** 0-100 */
  opacity: number
}

/** JPEG quality of delivered copies. */
export const COPY_QUALITY = 88

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  // the decoders take a whole ArrayBuffer: copy when `bytes` is a view into a larger one
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : bytes.slice().buffer
}

/** `pixels` over white: JPEG has no alpha, and the colour under a transparent pixel is arbitrary. */
function flatten(pixels: Pixels): Pixels {
  const { data } = pixels
  let opaque = true
  for (let p = 3; p < data.length && opaque; p += 4) opaque = data[p] === 255
  if (opaque) return pixels
  const out = new Uint8ClampedArray(data.length)
  for (let p = 0; p < data.length; p += 4) {
    const a = data[p + 3]! / 255
    for (let c = 0; c < 3; c++) out[p + c] = data[p + c]! * a + 255 * (1 - a)
    out[p + 3] = 255
  }
  return { width: pixels.width, height: pixels.height, data: out }
}

/** A delivered copy: decoded, visibly marked (when `visible` is given), invisibly marked with `serial`, encoded as JPEG. */
export async function markImageCopy(bytes: Uint8Array, mime: ImageMime, mark: { serial: number; visible: VisibleMark | null }, layout: MarkLayout): Promise<Uint8Array> {
  let pixels = flatten(await decodeImage(arrayBufferOf(bytes), mime))
  if (mark.visible) pixels = drawVisibleMark(pixels, mark.visible).pixels
  // the invisible mark goes on last, so the visible one cannot disturb it
  return encodeJpeg(embedSerial(pixels, mark.serial, layout), COPY_QUALITY)
}

/** The serial an image carries, or null when no mark is found with confidence. */
export async function traceImage(bytes: Uint8Array, mime: ImageMime, layout: MarkLayout): Promise<{ serial: number; confidence: number } | null> {
  const found = extractSerial(await decodeImage(arrayBufferOf(bytes), mime), layout)
  return found ? { serial: found.serial, confidence: Math.round(found.confidence * 1000) / 1000 } : null
}

/** The visible mark for an item of `creatorId` on `brandId` (creator settings over brand settings over the default), or null when switched off. */
export async function visibleMarkFor(env: Env, brandId: string, creatorId: string): Promise<VisibleMark | null> {
  return resolveVisibleMark(env, brandId, creatorId)
}
