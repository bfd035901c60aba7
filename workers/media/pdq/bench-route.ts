/**
 * Dev-only bench endpoint for bench/media-pdq.mjs, dispatched from workers/index.ts for paths
 * containing /__bench/media-pdq (never in production) and refused again here unless ENVIRONMENT is
 * dev or test.
 * - POST /__bench/media-pdq/fixture/:name[?scale=S]  body: a JPEG. Keeps it in the isolate under
 *   `name`; with `scale` the JPEG is decoded, resized by S (Lanczos3) and re-encoded at quality 90
 *   first, so a large test image is made from a small upload. Answers the kept image's size.
 * - GET /__bench/media-pdq/run/:lane/:name?n=N  runs N times on the kept JPEG:
 *     decode       decodeImage only (the baseline: what any image work costs anyway)
 *     pdq          decode + PDQ (original orientation only)
 *     fingerprint  fingerprintImage: header checks + decode + PDQ + the 8 dihedral hashes
 *   Answers `{ n, megapixels, checksum }`. The client times each request: the Workers clock only
 *   moves on I/O, so an in-Worker timer reads 0 for pure CPU work like this.
 * @module
 */
import { Hono } from 'hono'
import { decodeImage, encodeJpeg, resizeImage } from '../codecs'
import { fingerprintImage } from './fingerprint'
import { pdqFromRgba } from './pdq'

interface Fixture {
  bytes: Uint8Array
  width: number
  height: number
}

const fixtures = new Map<string, Fixture>()

type Lane = (bytes: Uint8Array) => Promise<number>

// each lane returns a number derived from its output so no work can be skipped
const LANES: Record<string, Lane> = {
  decode: async (bytes) => {
    const pixels = await decodeImage(bytes.slice().buffer, 'image/jpeg')
    return pixels.data[pixels.data.length >> 1]!
  },
  pdq: async (bytes) => {
    const pixels = await decodeImage(bytes.slice().buffer, 'image/jpeg')
    return parseInt(pdqFromRgba(pixels, { dihedral: false }).hash.slice(0, 4), 16)
  },
  fingerprint: async (bytes) => {
    const fp = await fingerprintImage(bytes, 'image/jpeg')
    return parseInt(fp.dihedral[7]!.slice(0, 4), 16)
  },
}

export const benchPdq = new Hono<{ Bindings: Env }>()

benchPdq.use('*', async (c, next) => {
  if (c.env.ENVIRONMENT !== 'dev' && c.env.ENVIRONMENT !== 'test') return c.text('not found', 404)
  await next()
})

benchPdq.post('/__bench/media-pdq/fixture/:name', async (c) => {
  const upload = new Uint8Array(await c.req.arrayBuffer())
  const scale = Number(c.req.query('scale') ?? 1)
  if (!(scale > 0 && scale <= 4)) return c.json({ error: 'scale must be in (0, 4]' }, 400)
  let pixels = await decodeImage(upload.slice().buffer, 'image/jpeg')
  let bytes: Uint8Array = upload
  if (scale !== 1) {
    pixels = await resizeImage(pixels, Math.round(pixels.width * scale), Math.round(pixels.height * scale), 'lanczos3')
    bytes = await encodeJpeg(pixels, 90)
  }
  fixtures.set(c.req.param('name'), { bytes, width: pixels.width, height: pixels.height })
  return c.json({ name: c.req.param('name'), width: pixels.width, height: pixels.height, megapixels: (pixels.width * pixels.height) / 1e6, bytes: bytes.length })
})

benchPdq.get('/__bench/media-pdq/run/:lane/:name', async (c) => {
  const lane = LANES[c.req.param('lane')]
  const fixture = fixtures.get(c.req.param('name'))
  if (!lane || !fixture) return c.json({ error: 'unknown lane or fixture (POST the fixture first)' }, 404)
  const n = Math.min(Math.max(Number(c.req.query('n') ?? 1) | 0, 1), 50)
  let checksum = 0
  for (let i = 0; i < n; i++) checksum = (checksum + (await lane(fixture.bytes))) >>> 0
  return c.json({ n, megapixels: (fixture.width * fixture.height) / 1e6, checksum })
})
