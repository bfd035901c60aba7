import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import blurLot from '../../../../shared/data/pdq/images/bridge-mods/blur-a-lot.jpg?bytes'
import contrast from '../../../../shared/data/pdq/images/bridge-mods/high-contrast.jpg?bytes'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import shrinkLot from '../../../../shared/data/pdq/images/bridge-mods/shrink-a-lot.jpg?bytes'
import square256 from '../../../../shared/data/pdq/images/bridge-mods/square-256x256.jpg?bytes'
import c from '../../../../shared/data/pdq/images/misc-images/c.png?bytes'
import small from '../../../../shared/data/pdq/images/misc-images/small.jpg?bytes'
import wee from '../../../../shared/data/pdq/images/misc-images/wee.jpg?bytes'
import rot90 from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-2-rotate-90.jpg?bytes'
import q0003 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0003.jpg?bytes'
import q0004 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0004.jpg?bytes'
import q0122 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import q0291 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0291.jpg?bytes'
import q0746 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0746.jpg?bytes'
import q1050 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg?bytes'
import q2821 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q2821.jpg?bytes'
import pen from '../../../../shared/data/pdq/images/reg-test-input/pen-and-coaster.png?bytes'
import { decodeImage, encodeJpeg, encodePng, resizeImage, type ImageMime, type Pixels } from '../codecs'
import { embedSerial, extractSerial, measureSlots, MIN_MARK_SIDE } from './invisible'
import { markLayout } from './key'
import { markImageCopy, traceImage } from './mark-image'

const layout = await markLayout(env)

type Fixture = [name: string, bytes: Uint8Array<ArrayBuffer>, mime: ImageMime]
const SERIALS = [1, 2 ** 31 + 5, 0xffffffff]
const LABELME: Fixture[] = [
  ['q0122', q0122, 'image/jpeg'],
  ['q0291', q0291, 'image/jpeg'],
  ['q0746', q0746, 'image/jpeg'],
  ['q1050', q1050, 'image/jpeg'],
  ['q2821', q2821, 'image/jpeg'],
]
const LARGE = [
  { name: 'bridge', bytes: bridge, mime: 'image/jpeg' as ImageMime, serial: 2 ** 31 + 5 },
  { name: 'pen-and-coaster', bytes: pen, mime: 'image/png' as ImageMime, serial: 0xffffffff },
]

const decode = (bytes: Uint8Array, mime: ImageMime) => decodeImage(bytes.slice().buffer, mime)
const jpeg = (pixels: Pixels, quality: number) => encodeJpeg(pixels, quality)

/** The two attacks of the acceptance criteria, on a delivered copy: JPEG q75; 50% downscale then JPEG q75. */
async function attacks(copy: Uint8Array): Promise<{ q75: Uint8Array; half: Uint8Array }> {
  const pixels = await decode(copy, 'image/jpeg')
  const half = await resizeImage(pixels, Math.round(pixels.width / 2), Math.round(pixels.height / 2))
  return { q75: await jpeg(pixels, 75), half: await jpeg(half, 75) }
}

function psnr(a: Pixels, b: Pixels): number {
  let sum = 0
  for (let p = 0; p < a.data.length; p += 4) for (let k = 0; k < 3; k++) sum += (a.data[p + k]! - b.data[p + k]!) ** 2
  return 10 * Math.log10((255 * 255) / (sum / ((a.data.length / 4) * 3)))
}

describe('invisible mark through markImageCopy / traceImage', () => {
  it.each(LABELME.map(([name, bytes, mime]) => ({ name, bytes, mime })))('$name (256x256): every serial survives JPEG q75 and a 50% downscale + q75', async ({ name, bytes, mime }) => {
    const original = await decode(bytes, mime)
    for (const serial of SERIALS) {
      const copy = await markImageCopy(bytes, mime, { serial, visible: null }, layout)
      const { q75, half } = await attacks(copy)
      const traced = [await traceImage(copy, 'image/jpeg', layout), await traceImage(q75, 'image/jpeg', layout), await traceImage(half, 'image/jpeg', layout)]
      expect(traced.map((t) => t?.serial), `${name} ${serial}`).toEqual([serial, serial, serial])
      const slots = measureSlots(await decode(half, 'image/jpeg'), serial, layout)
      console.log(`[mark] ${name} serial=${serial} psnr=${psnr(original, embedSerial(original, serial, layout)).toFixed(2)}dB confidence q75=${traced[1]!.confidence} half=${traced[2]!.confidence} slot errors after half+q75=${slots.slotErrors}/${slots.slots}`)
    }
  })

  it.each(LARGE)('$name: serial $serial survives JPEG q75, a 50% downscale + q75, and PSNR stays >= 38 dB', async ({ name, bytes, mime, serial }) => {
    const original = await decode(bytes, mime)
    const marked = embedSerial(original, serial, layout)
    const quality = psnr(original, marked)
    expect(quality).toBeGreaterThanOrEqual(38)
    const copy = await markImageCopy(bytes, mime, { serial, visible: null }, layout)
    expect([...copy.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    const { q75, half } = await attacks(copy)
    const [a, b] = [await traceImage(q75, 'image/jpeg', layout), await traceImage(half, 'image/jpeg', layout)]
    expect([a?.serial, b?.serial]).toEqual([serial, serial])
    const q75Slots = measureSlots(await decode(q75, 'image/jpeg'), serial, layout)
    const halfSlots = measureSlots(await decode(half, 'image/jpeg'), serial, layout)
    console.log(
      `[mark] ${name} ${original.width}x${original.height} serial=${serial} psnr=${quality.toFixed(2)}dB (copy at q88: ${psnr(original, await decode(copy, 'image/jpeg')).toFixed(2)}dB) confidence q75=${a!.confidence} half=${b!.confidence} slot errors q75=${q75Slots.slotErrors}/${q75Slots.slots} half=${halfSlots.slotErrors}/${halfSlots.slots}`,
    )
  })

  it('on a larger photo, also survives other resampling filters, a 33% downscale and JPEG q40', async () => {
    const copy = await decode(await markImageCopy(pen, 'image/png', { serial: 424242, visible: null }, layout), 'image/jpeg')
    const scaled = async (factor: number, method: 'lanczos3' | 'mitchell' | 'catrom') => jpeg(await resizeImage(copy, Math.round(copy.width * factor), Math.round(copy.height * factor), method), 75)
    const attacked = [await scaled(0.5, 'lanczos3'), await scaled(0.33, 'mitchell'), await scaled(0.75, 'catrom'), await jpeg(copy, 40)]
    const traced = []
    for (const bytes of attacked) traced.push((await traceImage(bytes, 'image/jpeg', layout))?.serial)
    expect(traced).toEqual([424242, 424242, 424242, 424242])
  })

  it('keeps the invisible mark under a full-opacity visible mark', async () => {
    const copy = await markImageCopy(q1050, 'image/jpeg', { serial: 0xc0ffee, visible: { text: 'BoyFanz / @alex', position: 'center', opacity: 100 } }, layout)
    const { half } = await attacks(copy)
    expect((await traceImage(half, 'image/jpeg', layout))?.serial).toBe(0xc0ffee)
  })

  it('delivers transparent PNGs over white', async () => {
    const clear: Pixels = { width: 200, height: 150, data: new Uint8ClampedArray(200 * 150 * 4) } // transparent black
    const copy = await decode(await markImageCopy(await encodePng(clear), 'image/png', { serial: 9, visible: null }, layout), 'image/jpeg')
    const mean = copy.data.reduce((sum, v, i) => (i % 4 === 3 ? sum : sum + v), 0) / (200 * 150 * 3)
    expect(mean).toBeGreaterThan(240)
  })

  it('survives a PNG round trip of the copy and marks a PNG original', async () => {
    const copy = await markImageCopy(q0746, 'image/jpeg', { serial: 77, visible: null }, layout)
    const png = await encodePng(await decode(copy, 'image/jpeg'))
    expect((await traceImage(png, 'image/png', layout))?.serial).toBe(77)
  })

  it('never reads a serial from unmarked pictures, and never a wrong one from marked ones', async () => {
    const unmarked: Fixture[] = [
      ...LABELME,
      ['pen-and-coaster', pen, 'image/png'],
      ['bridge', bridge, 'image/jpeg'],
      ['rotate-90', rot90, 'image/jpeg'],
      ['blur-a-lot', blurLot, 'image/jpeg'],
      ['high-contrast', contrast, 'image/jpeg'],
      ['shrink-a-lot', shrinkLot, 'image/jpeg'],
      ['square-256', square256, 'image/jpeg'],
      ['q0003', q0003, 'image/jpeg'],
      ['q0004', q0004, 'image/jpeg'],
      ['c', c, 'image/png'],
      ['small', small, 'image/jpeg'],
      ['wee', wee, 'image/jpeg'],
    ]
    for (const [name, bytes, mime] of unmarked) expect(await traceImage(bytes, mime, layout), name).toBeNull()

    // two copies of one photo for two viewers, attacked: each gives its own serial, never the other's
    for (const [i, [name, bytes, mime]] of LABELME.slice(2).entries()) {
      const serials = [0x5a5a0000 + i, 0x5a5a0001 + i]
      for (const serial of serials) {
        const { half } = await attacks(await markImageCopy(bytes, mime, { serial, visible: null }, layout))
        const traced = await traceImage(half, 'image/jpeg', layout)
        expect(traced === null || traced.serial === serial, `${name} ${serial}`).toBe(true)
      }
    }
  })

  it('gives pictures too small to hold the grid their visible mark only', async () => {
    const tiny = await decode(wee, 'image/jpeg')
    expect(Math.min(tiny.width, tiny.height)).toBeLessThan(MIN_MARK_SIDE)
    expect(embedSerial(tiny, 5, layout).data).toEqual(tiny.data)
    const copy = await markImageCopy(wee, 'image/jpeg', { serial: 5, visible: { text: 'X', position: 'center', opacity: 100 } }, layout)
    const out = await decode(copy, 'image/jpeg')
    expect([out.width, out.height]).toEqual([tiny.width, tiny.height])
    expect(await traceImage(copy, 'image/jpeg', layout)).toBeNull()
  })

  it('refuses serials that are not 32-bit unsigned integers', async () => {
    const original = await decode(q0122, 'image/jpeg')
    for (const serial of [-1, 2 ** 32, 1.5, Number.NaN]) expect(() => embedSerial(original, serial, layout)).toThrow(RangeError)
  })

  it('time per megapixel to mark and to trace (bridge, 1.6 MP)', async () => {
    const original = await decode(bridge, 'image/jpeg')
    const mp = (original.width * original.height) / 1e6
    const rounds = 3
    let t = performance.now()
    let marked = original
    for (let i = 0; i < rounds; i++) marked = embedSerial(original, 1000 + i, layout)
    const markMs = (performance.now() - t) / rounds / mp
    t = performance.now()
    for (let i = 0; i < rounds; i++) expect(extractSerial(marked, layout)?.serial).toBe(1000 + rounds - 1)
    const traceMs = (performance.now() - t) / rounds / mp
    console.log(`[mark] timing: embed ${markMs.toFixed(1)} ms/MP, trace ${traceMs.toFixed(1)} ms/MP (after decoding; workerd timers may be coarse)`)
  })
})
