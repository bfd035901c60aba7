/**
 * Image leak tracing: a copy found outside the platform is read for the invisible mark it carries,
 * and the mark's serial names the item, its creator and the viewer the copy was delivered to.
 * @module
 */
import { ProblemError } from '../../edge/problem'
import type { ImageMime } from '../codecs'
import { markBySerial, type Mark } from '../marks'
import { markLayout } from '../watermark/key'
import { traceImage } from '../watermark/mark-image'

/** The type of an image from its first bytes (never from a name or a declared type). */
export function imageTypeOf(bytes: Uint8Array): ImageMime | null {
  const starts = (sig: number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b)
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  return null
}

export type ImageTrace =
  | { found: true; serial: number; confidence: number; mark: Mark }
  /** a mark was read but no delivered copy has that serial (another environment, or a false read) */
  | { found: false; serial: number; confidence: number; mark: null }
  | { found: false; serial: null; confidence: null; mark: null }

/**
 * Reads the mark of `bytes`; 415 naming `field` when they are neither JPEG nor PNG, 422 when they
 * do not decode (`onDecodeError` hears why: a decoder failure on a well-typed file is logged).
 */
export async function traceLeakedImage(env: Pick<Env, 'DB' | 'MEDIA_MARK_KEY'>, bytes: Uint8Array, field: string, onDecodeError: (err: unknown) => void = () => {}): Promise<ImageTrace & { mime: ImageMime }> {
  const mime = imageTypeOf(bytes)
  if (!mime) throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'a leaked image is traced from JPEG or PNG bytes', errors: [{ path: field, message: 'is neither a JPEG nor a PNG file' }] })
  let read: { serial: number; confidence: number } | null
  try {
    read = await traceImage(bytes, mime, await markLayout(env))
  } catch (err) {
    // right magic bytes, broken body (truncated, corrupt): the submitter's file, not our bug
    onDecodeError(err)
    throw new ProblemError('VALIDATION_FAILED', { detail: `the ${mime} file could not be decoded`, errors: [{ path: field, message: 'does not decode' }], cause: err })
  }
  if (!read) return { found: false, serial: null, confidence: null, mark: null, mime }
  const mark = await markBySerial(env, read.serial)
  if (!mark) return { found: false, serial: read.serial, confidence: read.confidence, mark: null, mime }
  return { found: true, serial: read.serial, confidence: read.confidence, mark, mime }
}
