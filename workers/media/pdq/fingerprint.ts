// SCAFFOLD: contract of the PDQ part (helper A replaces the body, keeps the signatures)
import type { ImageMime } from '../codecs'

export const PDQ_MATCH_DISTANCE = 31
export const PDQ_MIN_QUALITY = 50

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
export async function fingerprintImage(_bytes: Uint8Array, _mime: ImageMime): Promise<ImageFingerprint> {
  throw new Error('SCAFFOLD')
}

export class ImageRejected extends Error {
  constructor(
    readonly code: 'image_unreadable' | 'image_truncated' | 'image_too_large',
    message: string,
  ) {
    super(message)
  }
}
