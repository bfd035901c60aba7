/**
 * Leak tracing through the API: a viewer's delivered image copy names that viewer; a leak built
 * from a viewer's A/B segments (by digest, or as bits read from it) names that viewer. Audited.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import original from '../../../../shared/data/pdq/images/bridge-mods/square-512x512.jpg?bytes'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { sha256Hex } from '../../lib/encoding'
import { FIXTURE, storeFixtureRendition } from '../ab/fixture'
import { writeManifest } from '../ab/manifest'
import { decodeImage, encodeJpeg, resizeImage } from '../codecs'
import { PATTERN_BITS, variantAt } from '../ab/pattern'
import { API, createCreator, createItem, issue, pathOf, subscribe, viewer, type TestCreator } from '../delivery/test-support'

const DAY = 86_400_000

async function serialOf(itemId: string, viewerId: string, kind: 'image' | 'ab'): Promise<number> {
  return (await env.DB.prepare('SELECT serial FROM media_marks WHERE item_id = ? AND viewer_id = ? AND kind = ?').bind(itemId, viewerId, kind).first<{ serial: number }>())!.serial
}

let officer: string
let creator: TestCreator
let fans: { userId: string; token: string }[]

beforeAll(async () => {
  officer = await tokenFor(['compliance_officer'])
  creator = await createCreator()
  fans = [await viewer(), await viewer(), await viewer()]
  for (const fan of fans) await subscribe(fan.userId, creator.id, 'active', Date.now() + DAY)
})

describe('POST /api/media/leaks/image', () => {
  let item: string
  const copies: Uint8Array[] = []

  beforeAll(async () => {
    item = await createItem(creator, { original })
    for (const fan of fans.slice(0, 2)) {
      const res = await call(API, pathOf((await issue(item, fan.token)).body.url!))
      copies.push(new Uint8Array(await res.arrayBuffer()))
    }
  })

  it('names the viewer whose copy leaked (raw body), and audits the trace', async () => {
    const res = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': 'image/jpeg' }, body: copies[1]! })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ serial: await serialOf(item, fans[1]!.userId, 'image'), item_id: item, creator_id: creator.id, viewer_id: fans[1]!.userId, kind: 'image' })
    expect(body.confidence).toBeGreaterThan(0)
    const entries = await auditLog(env).list({ action: 'media.leak.traced', subject: `media_item:${item}`, limit: 10 })
    expect(entries).toHaveLength(1)
    expect(JSON.parse(entries[0]!.details)).toMatchObject({ kind: 'image', found: true, viewer_id: fans[1]!.userId, sha256: sha256Hex(copies[1]!) })
  })

  it('names the viewer after the leak was re-encoded at JPEG quality 75 and downscaled by half', async () => {
    const pixels = await decodeImage(copies[0]!.slice().buffer, 'image/jpeg')
    const half = await resizeImage(pixels, pixels.width >> 1, pixels.height >> 1)
    const leaked = await encodeJpeg(half, 75)
    const res = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': 'application/octet-stream' }, body: leaked })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ viewer_id: fans[0]!.userId, serial: await serialOf(item, fans[0]!.userId, 'image') })
  })

  it('takes a multipart `file` too, whatever type it claims', async () => {
    const form = new FormData()
    form.set('file', new File([copies[0]!], 'leak.png', { type: 'image/png' }))
    const req = new Request('http://x/', { method: 'POST', body: form })
    const res = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': req.headers.get('content-type')! }, body: new Uint8Array(await req.arrayBuffer()) })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ viewer_id: fans[0]!.userId })
  })

  it('an unmarked image: 404 "no mark found", still audited', async () => {
    const res = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': 'image/jpeg' }, body: original })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { detail: string }).detail).toContain('no mark')
    const entries = await auditLog(env).list({ action: 'media.leak.traced', subject: `leak:${sha256Hex(original)}`, limit: 10 })
    expect(entries.length).toBeGreaterThanOrEqual(1)
  })

  it('bytes that are not an image: 415 naming the body; an empty body 422; fans 403', async () => {
    const text = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': 'image/jpeg' }, body: new TextEncoder().encode('<html>not a jpeg</html>') })
    expect(text.status).toBe(415)
    expect(((await text.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('body')
    const empty = await call(API, '/api/media/leaks/image', { method: 'POST', token: officer, headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(0) })
    expect(empty.status).toBe(422)
    const fan = await call(API, '/api/media/leaks/image', { method: 'POST', token: fans[0]!.token, headers: { 'content-type': 'image/jpeg' }, body: copies[0]! })
    expect(fan.status).toBe(403)
  })
})

describe('POST /api/media/leaks/video', () => {
  let video: string
  const SEGMENTS = PATTERN_BITS + 12
  const digest = (variant: 'a' | 'b', index: number) => sha256Hex(`${variant}:${index}:${video}`)

  beforeAll(async () => {
    video = await createItem(creator, { kind: 'video', hlsSegments: SEGMENTS })
    for (const fan of fans) expect((await issue(video, fan.token)).status).toBe(200)
    // the packager's manifest: the SHA-256 of both variants of every segment
    await writeManifest(env, video, {
      v: 1,
      segments: SEGMENTS,
      frames: SEGMENTS * 2,
      duration_ms: SEGMENTS * 2000,
      width: 640,
      height: 360,
      init_sha256: sha256Hex('init'),
      a: Array.from({ length: SEGMENTS }, (_, i) => digest('a', i)),
      b: Array.from({ length: SEGMENTS }, (_, i) => digest('b', i)),
      created_at_ms: Date.now(),
    })
  })

  it("a leak rebuilt from a viewer's segments (digests) names that viewer", async () => {
    const leaker = fans[2]!
    const serial = await serialOf(video, leaker.userId, 'ab')
    const segments = Array.from({ length: SEGMENTS }, (_, index) => ({ index, sha256: digest(variantAt(serial, index), index) }))
    // a few segments re-encoded or lost on the way
    segments[3] = { index: 3, sha256: 'f'.repeat(64) }
    segments.splice(10, 2)
    const res = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, segments } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ item_id: video, creator_id: creator.id, serial, viewer_id: leaker.userId, confident: true })
    const entries = await auditLog(env).list({ action: 'media.leak.traced', subject: `media_item:${video}`, limit: 10 })
    expect(JSON.parse(entries.at(-1)!.details)).toMatchObject({ kind: 'video', found: true, input: 'segments', viewer_id: leaker.userId, serial })
  })

  it('the variant bits read from a leak, with unknowns and a wrong read, name the viewer', async () => {
    const leaker = fans[0]!
    const serial = await serialOf(video, leaker.userId, 'ab')
    const bits: string[] = Array.from({ length: PATTERN_BITS }, (_, i) => (variantAt(serial, i) === 'a' ? '0' : '1'))
    bits[5] = '?'
    bits[7] = bits[7] === '0' ? '1' : '0'
    const res = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, bits: bits.join('') } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ serial, viewer_id: leaker.userId, confident: true })
  })

  it('validates: exactly one of segments or bits, digests in hex, a video item', async () => {
    const both = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, bits: '01', segments: [{ index: 0, sha256: 'a'.repeat(64) }] } })
    expect(both.status).toBe(422)
    expect(((await both.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body.segments'])
    const neither = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video } })
    expect(neither.status).toBe(422)
    const badHex = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, segments: [{ index: 0, sha256: 'xyz' }] } })
    expect(((await badHex.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body.segments.0.sha256'])
    const badBits = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, bits: '01x' } })
    expect(badBits.status).toBe(422)
    const image = await createItem(creator)
    const notVideo = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: image, bits: '0101' } })
    expect(notVideo.status).toBe(422)
    expect((await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: 'med_01JNOSUCH0000000000000000', bits: '0101' } })).status).toBe(404)
    expect((await call(API, '/api/media/leaks/video', { method: 'POST', token: fans[0]!.token, body: { item_id: video, bits: '0101' } })).status).toBe(403)
  })
})

describe('end to end: delivery URL -> A/B stream -> leak -> viewer', () => {
  it('each viewer’s download through the URL issued to them traces back to them', async () => {
    // a packaged video as the packager leaves it in R2 (the A/B part's 10-segment fixture)
    const video = await createItem(creator, { kind: 'video', hlsSegments: FIXTURE.segments })
    await storeFixtureRendition(env, video)
    for (const fan of fans) {
      const issued = await issue(video, fan.token)
      expect(issued.body.kind).toBe('hls')
      const playlist = await call(API, pathOf(issued.body.url!))
      expect(playlist.status).toBe(200)
      const base = pathOf(issued.body.url!).replace(/playlist\.m3u8$/, '')
      const segments: { index: number; sha256: string }[] = []
      for (let index = 0; index < FIXTURE.segments; index++) {
        const res = await call(API, `${base}segments/${String(index).padStart(5, '0')}.m4s`)
        expect(res.status).toBe(200)
        segments.push({ index, sha256: sha256Hex(new Uint8Array(await res.arrayBuffer())) })
      }
      const traced = await call(API, '/api/media/leaks/video', { method: 'POST', token: officer, body: { item_id: video, segments } })
      expect(traced.status).toBe(200)
      expect(await traced.json()).toMatchObject({ viewer_id: fan.userId, serial: await serialOf(video, fan.userId, 'ab'), distance: 0, observed: FIXTURE.segments })
    }
  })
})
