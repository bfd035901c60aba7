// SCAFFOLD: contract of the watermark part (helper B replaces the body, keeps the signatures)
import type { ImageMime } from '../codecs'

export interface VisibleMark {
  text: string
  position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left' | 'center'
  /** 0-100 */
  opacity: number
}

/** A delivered copy: decoded, visibly marked (when `visible` is given), invisibly marked with `serial`, encoded as JPEG. */
export async function markImageCopy(_bytes: Uint8Array, _mime: ImageMime, _mark: { serial: number; visible: VisibleMark | null }): Promise<Uint8Array> {
  throw new Error('SCAFFOLD')
}

/** The serial an image carries, or null when no mark is found with confidence. */
export async function traceImage(_bytes: Uint8Array, _mime: ImageMime): Promise<{ serial: number; confidence: number } | null> {
  throw new Error('SCAFFOLD')
}

/** The visible mark for an item of `creatorId` on `brandId` (creator settings over brand settings over the default), or null when switched off. */
export async function visibleMarkFor(_env: Env, _brandId: string, _creatorId: string): Promise<VisibleMark | null> {
  throw new Error('SCAFFOLD')
}
