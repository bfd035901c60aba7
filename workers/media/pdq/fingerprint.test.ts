import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-1-original.jpg?bytes'
import cmyk from '../../../../shared/data/pdq/images/misc-images/modes/CMYK.jpg?bytes'
import rgbaPng from '../../../../shared/data/pdq/images/misc-images/modes/RGBA.png?bytes'
import square from '../../../../shared/data/pdq/images/bridge-mods/square-256x256.jpg?bytes'
import { decodeImage, encodeJpeg, resizeImage } from '../codecs'
import { readImageHeader } from '../images/header'
import { fingerprintImage, ImageRejected, MAX_FINGERPRINT_PIXELS, PDQ_MATCH_DISTANCE } from './fingerprint'
import { hammingDistance } from './pdq'
import { withJpegDimensions } from '../images/test-support'

async function rejection(bytes: Uint8Array, mime: 'image/jpeg' | 'image/png'): Promise<ImageRejected> {
  try {
    await fingerprintImage(bytes, mime)
  } catch (err) {
    if (err instanceof ImageRejected) return err
    throw err
  }
  throw new Error('fingerprintImage accepted the image')
}

describe('fingerprintImage', () => {
  it('returns dimensions, the PDQ, its quality and the 8 dihedral hashes', async () => {
    const fp = await fingerprintImage(bridge, 'image/jpeg')
    expect(fp).toMatchObject({ width: 1600, height: 1004, quality: 100 })
    expect(fp.pdq).toMatch(/^[0-9a-f]{64}$/)
    expect(fp.dihedral).toHaveLength(8)
    expect(fp.dihedral[0]).toBe(fp.pdq)
    // the Java reference's unit-test hash for this file (same decoder output as mozjpeg)
    expect(fp.pdq).toBe('f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22')
  })

  it('a re-encoded (quality 60) and halved copy stays within the match distance', async () => {
    const pixels = await decodeImage(bridge.slice().buffer, 'image/jpeg')
    const copy = await encodeJpeg(await resizeImage(pixels, 800, 502), 60)
    const [a, b] = [await fingerprintImage(bridge, 'image/jpeg'), await fingerprintImage(copy, 'image/jpeg')]
    const d = hammingDistance(a.pdq, b.pdq)
    console.log(`bridge vs re-encoded q60 at 50%: ${d} bits`)
    expect(d).toBeLessThanOrEqual(PDQ_MATCH_DISTANCE)
  })

  it('accepts a view into a larger buffer', async () => {
    const padded = new Uint8Array(square.length + 10)
    padded.set(square, 7)
    const fp = await fingerprintImage(padded.subarray(7, 7 + square.length), 'image/jpeg')
    expect(fp.pdq).toBe((await fingerprintImage(square, 'image/jpeg')).pdq)
  })

  it(`refuses more than ${MAX_FINGERPRINT_PIXELS} pixels from the header, before decoding`, async () => {
    const huge = withJpegDimensions(bridge, 9000, 9000)
    expect(readImageHeader(huge)).toMatchObject({ ok: true, header: { width: 9000, height: 9000 } })
    const err = await rejection(huge, 'image/jpeg')
    expect(err.code).toBe('image_too_large')
    expect(err.message).toContain('81000000 pixels')
    // also when the file is cut short: size is reported first
    expect((await rejection(huge.subarray(0, 5000), 'image/jpeg')).code).toBe('image_too_large')
    // PNG: IHDR rewritten to 9000 x 9000
    const png = rgbaPng.slice()
    new DataView(png.buffer).setUint32(16, 9000)
    new DataView(png.buffer).setUint32(20, 9000)
    expect((await rejection(png, 'image/png')).code).toBe('image_too_large')
    // 2828 x 2828 = 7,997,584 pixels is under the limit: it is only refused for being cut short
    expect((await rejection(withJpegDimensions(bridge, 2828, 2828).subarray(0, 4000), 'image/jpeg')).code).toBe('image_truncated')
  })

  it('refuses a truncated JPEG (mozjpeg would fill the rest grey) and a truncated PNG', async () => {
    for (const cut of [0.5, 0.9, 0.999]) {
      const err = await rejection(bridge.subarray(0, Math.floor(bridge.length * cut)), 'image/jpeg')
      expect(err.code, `cut at ${cut}`).toBe('image_truncated')
    }
    // cut inside the headers, before the frame header
    expect((await rejection(bridge.subarray(0, 10), 'image/jpeg')).code).toBe('image_truncated')
    // a progressive JPEG (mozjpeg's default output) cut after its first scans
    const progressive = await encodeJpeg(await decodeImage(square.slice().buffer, 'image/jpeg'), 80)
    const header = readImageHeader(progressive)
    expect(header).toMatchObject({ ok: true, header: { complete: true, width: 256, height: 256 } })
    expect((await rejection(progressive.subarray(0, progressive.length >> 1), 'image/jpeg')).code).toBe('image_truncated')
    expect((await rejection(rgbaPng.subarray(0, rgbaPng.length - 100), 'image/png')).code).toBe('image_truncated')
  })

  it('refuses a CMYK JPEG cleanly as unreadable, and decoding still works afterwards', async () => {
    expect(readImageHeader(cmyk)).toMatchObject({ ok: true, header: { components: 4, width: 1600, height: 1004 } })
    const err = await rejection(cmyk, 'image/jpeg')
    expect(err.code).toBe('image_unreadable')
    expect(err.message).toContain('CMYK')
    expect((await fingerprintImage(square, 'image/jpeg')).width).toBe(256)
  })

  it('refuses garbage, a type that does not match the bytes, and scrambled entropy data as unreadable', async () => {
    expect((await rejection(new TextEncoder().encode('definitely not an image'), 'image/jpeg')).code).toBe('image_unreadable')
    expect((await rejection(rgbaPng, 'image/jpeg')).code).toBe('image_unreadable')
    expect((await rejection(square, 'image/png')).code).toBe('image_unreadable')
    // valid structure, but the first IDAT chunk's compressed data (from byte 451) is corrupted: the decoder refuses it
    const broken = rgbaPng.slice()
    for (let i = 460; i < 2000; i++) broken[i] = 0x55
    const err = await rejection(broken, 'image/png')
    expect(err.code).toBe('image_unreadable')
  })
})
