import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-2-rotate-90.jpg?bytes'
import cmyk from '../../../../shared/data/pdq/images/misc-images/modes/CMYK.jpg?bytes'
import gray from '../../../../shared/data/pdq/images/misc-images/modes/L.png?bytes'
import palette from '../../../../shared/data/pdq/images/misc-images/modes/P.png?bytes'
import rgba from '../../../../shared/data/pdq/images/misc-images/modes/RGBA.png?bytes'
import wee from '../../../../shared/data/pdq/images/misc-images/wee.jpg?bytes'
import { decodeImage, encodeJpeg, encodePng } from '../codecs'
import { imageFormatOf, readImageHeader } from './header'

describe('readImageHeader', () => {
  it('reads JPEG dimensions, components and completeness from the markers', () => {
    expect(readImageHeader(bridge)).toEqual({ ok: true, header: { format: 'jpeg', width: 1004, height: 1600, components: 3, bitDepth: 8, complete: true, jpegSof: 0xc2, adobeTransform: 1 } })
    expect(readImageHeader(wee)).toMatchObject({ ok: true, header: { width: 34, height: 42, complete: true } })
    expect(readImageHeader(cmyk)).toMatchObject({ ok: true, header: { width: 1600, height: 1004, components: 4, complete: true, adobeTransform: 0 } })
  })

  it('reads PNG dimensions and channels from IHDR', () => {
    expect(readImageHeader(gray)).toMatchObject({ ok: true, header: { format: 'png', width: 1600, height: 1004, components: 1, bitDepth: 8, pngColorType: 0, complete: true } })
    expect(readImageHeader(palette)).toMatchObject({ ok: true, header: { components: 3, pngColorType: 3, complete: true } })
    expect(readImageHeader(rgba)).toMatchObject({ ok: true, header: { components: 4, pngColorType: 6, pngInterlaced: false, complete: true } })
  })

  it('walks progressive scans of encoder output, and allows bytes after EOI', async () => {
    const pixels = await decodeImage(wee.slice().buffer, 'image/jpeg')
    const jpeg = await encodeJpeg(pixels, 75)
    const read = readImageHeader(jpeg)
    expect(read).toMatchObject({ ok: true, header: { width: 34, height: 42, complete: true } })
    const trailer = new Uint8Array(jpeg.length + 64).fill(0xab)
    trailer.set(jpeg)
    expect(readImageHeader(trailer)).toMatchObject({ ok: true, header: { complete: true } })
    const png = await encodePng(pixels)
    expect(readImageHeader(png)).toMatchObject({ ok: true, header: { width: 34, height: 42, components: 4, complete: true } })
  })

  it('marks every cut of a JPEG or PNG as incomplete (or truncated before the dimensions)', () => {
    const lastEoi = bridge.length - 2
    for (const cut of [3, 20, 200, 1000, 5000, bridge.length >> 1, lastEoi, lastEoi + 1]) {
      const read = readImageHeader(bridge.subarray(0, cut))
      if (read.ok) expect(read.header.complete, `cut at ${cut}`).toBe(false)
      else expect(read.reason, `cut at ${cut}`).toBe('truncated')
    }
    for (const cut of [20, 40, 1000, rgba.length - 12]) {
      const read = readImageHeader(rgba.subarray(0, cut))
      if (read.ok) expect(read.header.complete, `cut at ${cut}`).toBe(false)
      else expect(read.reason, `cut at ${cut}`).toBe('truncated')
    }
  })

  it('recognises formats by magic bytes only, and names structural faults', () => {
    expect(imageFormatOf(bridge)).toBe('jpeg')
    expect(imageFormatOf(gray)).toBe('png')
    expect(imageFormatOf(new TextEncoder().encode('GIF89a....'))).toBeUndefined()
    expect(readImageHeader(new Uint8Array([0x47, 0x49, 0x46]))).toMatchObject({ ok: false, reason: 'not_an_image' })
    // SOI then EOI: no frame
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toMatchObject({ ok: false, reason: 'malformed' })
    // a PNG whose first chunk is not IHDR
    const bad = gray.slice(0, 64)
    bad.set([0x49, 0x44, 0x41, 0x54], 12)
    expect(readImageHeader(bad)).toMatchObject({ ok: false, reason: 'malformed' })
  })
})
