/**
 * A 12 MP photo through MediaHub: ingest never decodes it (digests, header, MD5 match, then it waits),
 * the packager API lists it as a display job and takes a checked rendition, ingest fingerprints the
 * rendition and queues it for review, and delivery marks the rendition for each viewer.
 *
 * The 12 MP JPEG is made here from a real photo (bridge, 1600x1004, stretched to 4000x3000 with the
 * project's resize) and encoded with the project's mozjpeg: pixels are produced, never decoded from
 * the 12 MP file. The rendition, made by ffmpeg in production, is made here with the same resize
 * (scripts/packager/image.node.test.ts runs the real ffmpeg step).
 */
import { env } from 'cloudflare:workers'
import { md5 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { beforeAll, describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import { mediaKeys } from '../../../r2/keys'
import { call, tokenFor } from '../../../test/helpers'
import { decodeImage, encodeJpeg, encodePng, resizeImage } from '../codecs'
import { issue, pathOf, subscribe, viewer } from '../delivery/test-support'
import { ALEX, auditCount, casesOf, deactivate, deliver, hashList, ingest, itemState, processingItem, reviewOf } from '../moderation/fixtures'
import { fingerprintImage, MAX_FINGERPRINT_PIXELS, PDQ_MIN_QUALITY } from '../pdq/fingerprint'
import { hammingDistance } from '../pdq/pdq'
import { traceImage } from '../watermark/mark-image'
import { AWAITING_DISPLAY, ingestItem, ingestMessage } from './ingest'
import { markLayout } from '../watermark/key'
import { withJpegDimensions } from '../images/test-support'

const layout = await markLayout(env)

const API = 'api.localhost'
const DAY = 86_400_000

let service: string
/** the 12 MP original (4000x3000 JPEG) */
let original: Uint8Array
/** its display rendition: 3245x2434 = 7,898,330 pixels, what the packager's 7.9 MP budget gives */
let rendition: Uint8Array
/** the same picture at 1200x900, hashed in the Worker: what the rendition's PDQ is compared with */
let smallPdq: string

const putDisplay = (id: string, body: Uint8Array, token = service) =>
  call(API, `/api/media/packager/items/${id}/display`, { method: 'PUT', body, token, headers: { 'content-type': 'image/jpeg' } })

async function problemOf(res: Response): Promise<{ status: number; type: string; errors?: { path: string; message: string }[]; detail?: string }> {
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  return { status: res.status, ...((await res.json()) as { type: string; errors?: { path: string; message: string }[]; detail?: string }) }
}

async function displayKeyOf(id: string): Promise<string | null> {
  return (await env.DB.prepare('SELECT display_key FROM media_items WHERE id = ?').bind(id).first<{ display_key: string | null }>())!.display_key
}

async function imageJobs(): Promise<Array<Record<string, unknown>>> {
  const res = await call(API, '/api/media/packager/jobs?kind=image&limit=50', { token: service })
  expect(res.status).toBe(200)
  return ((await res.json()) as { jobs: Array<Record<string, unknown>> }).jobs
}

/** An item ingest has left waiting for its display rendition. */
async function waitingItem(): Promise<string> {
  const id = await processingItem({ bytes: original, title: 'A 12 MP phone photo' })
  await ingest(id)
  expect(await itemState(id)).toMatchObject({ status: 'processing', status_reason: AWAITING_DISPLAY })
  return id
}

beforeAll(async () => {
  service = await tokenFor(['service'])
  const photo = await decodeImage(bridge.slice().buffer, 'image/jpeg')
  const full = await resizeImage(photo, 4000, 3000, 'lanczos3')
  original = await encodeJpeg(full, 90)
  rendition = await encodeJpeg(await resizeImage(full, 3245, 2434, 'lanczos3'), 90)
  smallPdq = (await fingerprintImage(await encodeJpeg(await resizeImage(full, 1200, 900, 'lanczos3'), 90), 'image/jpeg')).pdq
}, 120_000)

describe('an image above MAX_FINGERPRINT_PIXELS', () => {
  let id: string

  it('is not refused: ingest stores its digests and header size, matches the MD5, and leaves it waiting for the packager', async () => {
    expect(3245 * 2434).toBeLessThanOrEqual(7_900_000)
    id = await processingItem({ bytes: original, title: 'A 12 MP phone photo' })
    expect(await ingestItem(env, { itemId: id })).toEqual({ action: 'awaiting_display' })
    const item = await itemState(id)
    expect(item).toMatchObject({ status: 'processing', status_reason: AWAITING_DISPLAY, width: 4000, height: 3000, pdq_hex: null, sha256: bytesToHex(sha256(original)), md5: bytesToHex(md5(original)) })
    expect(await reviewOf(id)).toBeNull()
    expect(await displayKeyOf(id)).toBeNull()
    // a redelivery does not read the 12 MP file again
    expect(await ingestItem(env, { itemId: id })).toEqual({ action: 'skipped', reason: 'already waiting for the display rendition' })
    expect(await ingestItem(env, { itemId: id, stage: 'display' })).toEqual({ action: 'skipped', reason: 'no display rendition yet' })
    expect(await itemState(id)).toEqual(item)
  })

  it('is listed as a display job with the original’s size and the pixel limit, and its original can be downloaded', async () => {
    const job = (await imageJobs()).find((j) => j.id === id)
    expect(job).toMatchObject({ id, kind: 'image', job: 'display', mime: 'image/jpeg', width: 4000, height: 3000, max_pixels: MAX_FINGERPRINT_PIXELS, size_bytes: original.length })
    const res = await call(API, `/api/media/packager/items/${id}/original`, { token: service })
    expect(res.status).toBe(200)
    expect(bytesToHex(sha256(new Uint8Array(await res.arrayBuffer())))).toBe(bytesToHex(sha256(original)))
  })

  it('refuses bad renditions with a 4xx problem naming the body, and records nothing', async () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ['too many pixels', withJpegDimensions(rendition, 3300, 2475), 'has too many pixels'],
      ['another aspect ratio', withJpegDimensions(rendition, 3245, 2000), 'at most 1% apart'],
      ['too small to deliver', await encodeJpeg(await resizeImage(await decodeImage(bridge.slice().buffer, 'image/jpeg'), 400, 300), 80), 'a display rendition has at least'],
      ['a PNG', await encodePng({ width: 4, height: 3, data: new Uint8ClampedArray(48).fill(255) }), 'is not a JPEG'],
      ['cut short', rendition.subarray(0, rendition.length - 5000), 'image_truncated'],
    ]
    for (const [what, body, message] of cases) {
      const problem = await problemOf(await putDisplay(id, body))
      expect(problem.status, what).toBe(422)
      expect(problem.errors?.[0]?.path, what).toBe('body')
      expect(problem.errors?.[0]?.message, what).toContain(message)
    }
    expect((await problemOf(await putDisplay(id, new Uint8Array()))).errors).toEqual([{ path: 'body', message: 'must not be empty' }])
    const big = await putDisplay(id, new Uint8Array(32 * 1024 * 1024 + 1))
    expect(big.status).toBe(413)
    await big.body?.cancel()
    expect((await putDisplay('med_01JNOSUCHITEM000000000000', rendition)).status).toBe(404)
    const denied = await putDisplay(id, rendition, await tokenFor(['creator']))
    expect(denied.status).toBe(403)
    await denied.body?.cancel()
    expect(await displayKeyOf(id)).toBeNull()
    expect((await env.MEDIA.list({ prefix: `renditions/${id}/display/` })).objects).toEqual([])
  })

  it('takes the rendition (idempotently) and ingest fingerprints it: PDQ within 10 bits of the picture at another size, then review', async () => {
    const res = await putDisplay(id, rendition)
    expect(res.status).toBe(201)
    const stored = (await res.json()) as { key: string; size: number; sha256: string; width: number; height: number }
    const digest = bytesToHex(sha256(rendition))
    expect(stored).toEqual({ key: mediaKeys.display(id, digest), size: rendition.length, sha256: digest, width: 3245, height: 2434 })
    expect(await displayKeyOf(id)).toBe(stored.key)
    // the packager retrying after a lost answer: the same result, nothing written twice
    const again = await putDisplay(id, rendition)
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(stored)
    expect(await auditCount('media.packager.display', `media_item:${id}`)).toBe(1)
    // other bytes are not swapped in
    const other = await putDisplay(id, withJpegDimensions(rendition, 3244, 2434))
    expect(other.status).toBe(409)
    await other.body?.cancel()
    expect(await displayKeyOf(id)).toBe(stored.key)
    // no longer a job
    expect((await imageJobs()).map((j) => j.id)).not.toContain(id)

    // the API sent { stage: 'display' }; delivered here (the queue may already have run it: ingest is idempotent)
    await deliver([{ body: ingestMessage(id, 'display') }])
    const item = await itemState(id)
    expect(item).toMatchObject({ status: 'in_review', status_reason: null, width: 4000, height: 3000, md5: bytesToHex(md5(original)) })
    expect(item.pdq_quality).toBeGreaterThanOrEqual(PDQ_MIN_QUALITY)
    const distance = hammingDistance(item.pdq_hex!, smallPdq)
    console.log(`PDQ of the 3245x2434 rendition vs the same picture at 1200x900: ${distance} bits`)
    expect(distance).toBeLessThanOrEqual(10)
    expect(await reviewOf(id)).toMatchObject({ status: 'queued' })
    expect(await auditCount('media.item.classified', `media_item:${id}`)).toBe(1)
    // later deliveries of either message change nothing
    await ingest(id)
    expect(await itemState(id)).toEqual(item)
    // and a review-stage item takes no rendition
    const late = await putDisplay(id, withJpegDimensions(rendition, 3244, 2434))
    expect(late.status).toBe(409)
    await late.body?.cancel()
  }, 60_000)

  it('once published, each viewer gets a marked copy of the rendition (its size) whose invisible mark names them', async () => {
    await env.DB.prepare("UPDATE media_items SET status = 'published', published_at_ms = ?, updated_at_ms = ? WHERE id = ?").bind(Date.now(), Date.now(), id).run()
    const fan = await viewer()
    await subscribe(fan.userId, ALEX, 'active', Date.now() + DAY)
    const issued = await issue(id, fan.token)
    expect(issued.status).toBe(200)
    const res = await call(API, pathOf(issued.body.url!))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/jpeg')
    const copy = new Uint8Array(await res.arrayBuffer())
    const pixels = await decodeImage(copy.slice().buffer, 'image/jpeg')
    expect([pixels.width, pixels.height]).toEqual([3245, 2434])
    const serial = (await env.DB.prepare("SELECT serial FROM media_marks WHERE item_id = ? AND kind = 'image' AND viewer_id = ?").bind(id, fan.userId).first<{ serial: number }>())!.serial
    expect((await traceImage(copy, 'image/jpeg', layout))?.serial).toBe(serial)
  }, 60_000)
})

describe('limits and matches of large images', () => {
  it('an MD5 on a hash list quarantines the original at once, before any rendition; it is never a job', async () => {
    const list = await hashList('illegal_content', [{ kind: 'md5', hash: bytesToHex(md5(original)) }])
    try {
      const id = await processingItem({ bytes: original })
      await ingest(id)
      expect(await itemState(id)).toMatchObject({ status: 'quarantined', width: 4000, height: 3000 })
      expect((await casesOf(id))[0]).toMatchObject({ kind: 'hash_match', distance: 0 })
      expect((await imageJobs()).map((j) => j.id)).not.toContain(id)
      expect((await putDisplay(id, rendition)).status).toBe(409)
    } finally {
      await deactivate(list)
    }
  })

  it('the rendition’s PDQ is matched: a list entry of the picture at another size quarantines it', async () => {
    const list = await hashList('ncii', [{ kind: 'pdq', hash: smallPdq }])
    try {
      const id = await waitingItem()
      expect((await putDisplay(id, rendition)).status).toBe(201)
      await deliver([{ body: ingestMessage(id, 'display') }])
      expect((await itemState(id)).status).toBe('quarantined')
      expect((await casesOf(id))[0]).toMatchObject({ kind: 'hash_match', list_id: list, severity: 'critical' })
      expect(await reviewOf(id)).toBeNull()
    } finally {
      await deactivate(list)
    }
  }, 60_000)

  it('beyond 100 MP or 30,000 px a side the image is refused with image_too_large (digests kept); a small image takes no rendition', async () => {
    const small = await encodeJpeg(await resizeImage(await decodeImage(bridge.slice().buffer, 'image/jpeg'), 400, 300), 80)
    for (const [w, h] of [
      [12_000, 9_000],
      [30_001, 300],
    ] as const) {
      const bytes = withJpegDimensions(small, w, h)
      const id = await processingItem({ bytes })
      await ingest(id)
      expect(await itemState(id)).toMatchObject({ status: 'failed', status_reason: 'image_too_large', sha256: bytesToHex(sha256(bytes)) })
    }
    // 30,000 x 300 = 9 MP at the side limit: waits for the packager like any large image
    const edge = await processingItem({ bytes: withJpegDimensions(small, 30_000, 300) })
    await ingest(edge)
    expect(await itemState(edge)).toMatchObject({ status: 'processing', status_reason: AWAITING_DISPLAY, width: 30_000, height: 300 })

    const ordinary = await processingItem({ bytes: small })
    const conflict = await problemOf(await putDisplay(ordinary, rendition))
    expect(conflict.status).toBe(409)
    expect(conflict.detail).toContain('not waiting for a display rendition')
  })
})
