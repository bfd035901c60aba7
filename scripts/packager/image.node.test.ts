/**
 * The packager's display rendition of a large image, on Debian's ffmpeg: scaled to the largest size
 * under the pixel budget with the original's aspect ratio, a JPEG, the same picture; EXIF
 * orientation applied (documents what ffmpeg 5.1 does); transparency flattened onto white; and one
 * display job end to end over HTTP against a stand-in for the API's two packager routes.
 */
import { createServer, type Server } from 'node:http'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DISPLAY_MAX_PIXELS, displayArgs, hasAlpha, makeDisplay, probeImage, run } from './ffmpeg.mjs'
import { client } from './http.mjs'
import { displayBudget, packageJob } from './job.mjs'

let work: string
let big: string

/** `file` as grey pixels at w x h (ffmpeg scales it; area filter, so both sides are compared alike). */
async function grey(file: string, w: number, h: number, extra: string[] = []): Promise<Uint8Array> {
  return new Uint8Array(await run('ffmpeg', ['-hide_banner', '-v', 'error', ...extra, '-i', file, '-vf', `scale=${w}:${h}:flags=area,format=gray`, '-f', 'rawvideo', '-']))
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  expect(a.length).toBe(b.length)
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!)
  return sum / a.length
}

/** The JPEG with an APP1 Exif segment (big-endian TIFF, one IFD entry: Orientation) after SOI. */
function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4)
  tiff.write('MM', 0, 'latin1')
  tiff.writeUInt16BE(42, 2)
  tiff.writeUInt32BE(8, 4)
  tiff.writeUInt16BE(1, 8)
  tiff.writeUInt16BE(0x0112, 10) // Orientation
  tiff.writeUInt16BE(3, 12) // SHORT
  tiff.writeUInt32BE(1, 14)
  tiff.writeUInt16BE(orientation, 18)
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff])
  const segment = Buffer.alloc(4)
  segment.writeUInt16BE(0xffe1, 0)
  segment.writeUInt16BE(body.length + 2, 2)
  return Buffer.concat([jpeg.subarray(0, 2), segment, body, jpeg.subarray(2)])
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'display-node-'))
  big = join(work, 'big.jpg')
  // 20 MP: a test card with fine detail, what a phone's 5000 x 4000 photo stands for
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=5000x4000', '-frames:v', '1', '-q:v', '2', big])
}, 60_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('the display rendition (ffmpeg)', () => {
  it('scales 5000x4000 to the largest size of at most 7.9 MP with the same aspect ratio, as a JPEG of the same picture', async () => {
    const out = join(work, 'display.jpg')
    const made = await makeDisplay(big, out)
    expect(made.source).toMatchObject({ width: 5000, height: 4000 })
    const { width, height } = made
    expect(width * height).toBeLessThanOrEqual(DISPLAY_MAX_PIXELS)
    expect(width * height).toBeGreaterThan(DISPLAY_MAX_PIXELS * 0.998)
    // the largest: one pixel more on the long side (and the short side in proportion) is over the budget
    expect((width + 1) * Math.round(((width + 1) * 4) / 5)).toBeGreaterThan(DISPLAY_MAX_PIXELS)
    expect(Math.abs(width / height - 1.25) / 1.25).toBeLessThan(0.001)
    expect([width, height]).toEqual([3142, 2513])
    const bytes = await readFile(out)
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    expect(await probeImage(out)).toEqual({ width, height, pixFmt: 'yuvj420p' })
    // the same picture: both at 200 x 160 differ by under 2 grey levels on average
    expect(meanAbsDiff(await grey(out, 200, 160), await grey(big, 200, 160))).toBeLessThan(2)
  }, 30_000)

  it('never scales up, and a smaller budget is honoured', async () => {
    const small = join(work, 'small.jpg')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=640x480', '-frames:v', '1', small])
    expect(await makeDisplay(small, join(work, 'small-display.jpg'))).toMatchObject({ width: 640, height: 480 })
    const budget = await makeDisplay(big, join(work, 'budget.jpg'), { maxPixels: 1_000_000 })
    expect(budget.width * budget.height).toBeLessThanOrEqual(1_000_000)
    expect([budget.width, budget.height]).toEqual([1118, 894])
  }, 30_000)

  it('applies the EXIF orientation: orientation 6 comes out turned a quarter clockwise, upright, with width and height swapped', async () => {
    const plain = join(work, 'plain.jpg')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=800x600', '-frames:v', '1', '-q:v', '2', plain])
    const turned = join(work, 'turned.jpg')
    await writeFile(turned, withOrientation(await readFile(plain), 6))
    // ffprobe reports the stored size; the rendition is the displayed one
    expect(await probeImage(turned)).toMatchObject({ width: 800, height: 600 })
    const made = await makeDisplay(turned, join(work, 'turned-display.jpg'), { maxPixels: 120_000 })
    expect(made.height).toBeGreaterThan(made.width)
    expect(Math.abs(made.height / made.width - 800 / 600) / (800 / 600)).toBeLessThan(0.01)
    const clockwise = join(work, 'clockwise.png')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', plain, '-vf', 'transpose=clock', clockwise])
    const counter = join(work, 'counter.png')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', plain, '-vf', 'transpose=cclock', counter])
    const rendition = await grey(join(work, 'turned-display.jpg'), 60, 80)
    const right = meanAbsDiff(rendition, await grey(clockwise, 60, 80))
    expect(right).toBeLessThan(3)
    expect(meanAbsDiff(rendition, await grey(counter, 60, 80))).toBeGreaterThan(right * 5)
    // no EXIF is copied, so a viewer's software cannot turn the upright rendition again
    expect((await readFile(join(work, 'turned-display.jpg'))).includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false)
  }, 30_000)

  it('flattens transparency onto white (JPEG has no alpha)', async () => {
    const png = join(work, 'alpha.png')
    // transparent red everywhere, an opaque blue block top-left
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red@0.0:s=400x300,format=rgba', '-f', 'lavfi', '-i', 'color=c=blue:s=200x150', '-filter_complex', '[0][1]overlay=0:0,format=rgba', '-frames:v', '1', png])
    expect(hasAlpha((await probeImage(png)).pixFmt)).toBe(true)
    expect(hasAlpha('yuvj420p')).toBe(false)
    const out = join(work, 'alpha.jpg')
    await makeDisplay(png, out)
    // a 2 x 2 crop (4:2:0 chroma cannot be cut to one pixel), its first pixel
    const rgb = async (x: number, y: number) => [...(await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', out, '-vf', `crop=2:2:${x}:${y}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'])).subarray(0, 3)]
    for (const c of await rgb(300, 220)) expect(c).toBeGreaterThanOrEqual(250)
    const [r, g, b] = await rgb(50, 50)
    expect(b).toBeGreaterThan(230)
    expect(r! + g!).toBeLessThan(30)
    // the arguments only flatten when asked
    expect(displayArgs('in', 'out').join(' ')).not.toContain('premultiply')
  }, 30_000)
})

describe('a display job over HTTP', () => {
  let server: Server
  let base: string
  const uploads: { path: string; type: string | undefined; body: Buffer }[] = []

  beforeAll(async () => {
    const original = await readFile(big)
    // stands in for GET .../original and PUT .../display of workers/media/packager/api.ts
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/api/media/packager/items/med_big/original') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(original)
        } else if (req.method === 'PUT' && req.url === '/api/media/packager/items/med_big/display') {
          uploads.push({ path: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) })
          res.writeHead(uploads.length === 1 ? 201 : 200, { 'content-type': 'application/json' }).end('{}')
        } else res.writeHead(404).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
  })

  it('downloads the original, uploads one JPEG under the job’s budget; a second run (a retry) is answered 200 and is fine', async () => {
    const api = client({ api: base, host: 'api.localhost', token: 'test' })
    const job = { id: 'med_big', job: 'display' as const, kind: 'image', max_pixels: 8_000_000 }
    expect(displayBudget(job)).toBe(7_900_000)
    expect(displayBudget({ max_pixels: 4_000_000 })).toBe(3_950_000)
    const first = await packageJob(api, job, {})
    expect(first).toMatchObject({ width: 3142, height: 2513, replayed: false })
    const again = await packageJob(api, job, {})
    expect(again).toMatchObject({ replayed: true })
    expect(uploads).toHaveLength(2)
    expect(uploads[0]!.type).toBe('image/jpeg')
    expect([...uploads[0]!.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    await expect(packageJob(api, { id: 'med_big', job: 'thumbnail' as never }, {})).rejects.toThrow('unknown job thumbnail')
  }, 60_000)
})
