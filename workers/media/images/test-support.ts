/** Test helpers for image bytes. */

/** A copy of a JPEG with its frame header's dimensions rewritten (the pixel data is left as it is). */
export function withJpegDimensions(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice()
  for (let i = 2; i < out.length - 9; i++) {
    if (out[i] === 0xff && out[i + 1]! >= 0xc0 && out[i + 1]! <= 0xc2) {
      out[i + 5] = height >> 8
      out[i + 6] = height & 0xff
      out[i + 7] = width >> 8
      out[i + 8] = width & 0xff
      return out
    }
  }
  throw new Error('no SOF0-2 marker')
}
