import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import { decodeImage, encodeJpeg, resizeImage } from './index'

describe('codecs', () => {
  it('decodes, resizes and re-encodes a JPEG inside workerd', async () => {
    const pixels = await decodeImage(bridge.buffer, 'image/jpeg')
    expect(pixels.width).toBeGreaterThan(100)
    const half = await resizeImage(pixels, pixels.width >> 1, pixels.height >> 1)
    const jpeg = await encodeJpeg(half, 75)
    const back = await decodeImage(jpeg.buffer as ArrayBuffer, 'image/jpeg')
    expect([back.width, back.height]).toEqual([pixels.width >> 1, pixels.height >> 1])
  })
})
