import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex } from '@noble/hashes/utils.js'
import { call, cf, tokenFor } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { signDeliveryToken } from '../delivery/token'
import { markFor } from '../marks'
import { FIXTURE, storeFixtureRendition } from './fixture'
import { variantAt } from './pattern'
import { traceAbLeak } from './trace'

const API = 'api.localhost'
const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'
const sha = async (bytes: Uint8Array) => bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))

/** A published video whose A/B rendition (the fixture) is in R2 as the packager leaves it. */
async function publishedVideo(): Promise<string> {
  const id = newId('mediaItem')
  const nowMs = Date.now()
  await env.DB.prepare("INSERT INTO media_items (id, creator_id, brand_id, kind, status, hls_segments, created_at_ms, updated_at_ms, published_at_ms) VALUES (?, ?, ?, 'video', 'published', ?, ?, ?, ?)")
    .bind(id, CREATOR, BRAND, FIXTURE.segments, nowMs, nowMs, nowMs)
    .run()
  await storeFixtureRendition(env, id)
  return id
}

async function linkFor(itemId: string, viewerId: string, options: { country?: string; expS?: number } = {}): Promise<{ base: string; serial: number }> {
  const mark = await markFor(env, { itemId, creatorId: CREATOR, viewerId, kind: 'ab' })
  const token = await signDeliveryToken(env, { v: 1, i: itemId, u: viewerId, s: mark.serial, k: 'ab', e: options.expS ?? Math.floor(Date.now() / 1000) + 300, ...(options.country ? { c: options.country } : {}) })
  return { base: `/api/media/delivery/${token}/hls`, serial: mark.serial }
}

const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer())
const segmentFile = (i: number) => `${String(i).padStart(5, '0')}.m4s`

let itemId: string
const viewers = [newId('user'), newId('user'), newId('user')]
const links: { base: string; serial: number }[] = []

beforeAll(async () => {
  itemId = await publishedVideo()
  for (const v of viewers) links.push(await linkFor(itemId, v))
})

describe('A/B HLS delivery', () => {
  it('serves every viewer the same neutral playlist with relative URIs', async () => {
    const texts = await Promise.all(links.map(async (l) => {
      const res = await call(API, `${l.base}/playlist.m3u8`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl')
      expect(res.headers.get('cache-control')).toBe('private, no-store')
      return res.text()
    }))
    expect(new Set(texts).size).toBe(1)
    expect(texts[0]).toContain('#EXT-X-MAP:URI="init.mp4"')
    expect(texts[0]).toContain('segments/00009.m4s')
    expect(texts[0]).not.toMatch(/\b[ab]\//)
    expect(texts[0]).toContain('#EXT-X-ENDLIST')
  })

  it('serves the init segment, identical for everyone', async () => {
    const res = await call(API, `${links[0]!.base}/init.mp4`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('video/mp4')
    expect(await bytesOf(res)).toEqual(FIXTURE.init)
  })

  it("serves each segment position as variant A or B by the viewer's pattern: two viewers get different bytes for the same URLs", async () => {
    const sequences: string[] = []
    for (const link of links) {
      let seq = ''
      for (let i = 0; i < FIXTURE.segments; i++) {
        const res = await call(API, `${link.base}/segments/${segmentFile(i)}`)
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('video/iso.segment')
        expect(res.headers.get('cache-control')).toBe('private, no-store')
        const body = await bytesOf(res)
        const variant = variantAt(link.serial, i)
        expect(body).toEqual(FIXTURE[variant][i])
        seq += variant
      }
      sequences.push(seq)
    }
    // the three viewers' 10-segment sequences are pairwise different
    expect(new Set(sequences).size).toBe(3)
  })

  it('answers ranges with 206 and impossible ranges with 416', async () => {
    const link = links[1]!
    const full = FIXTURE[variantAt(link.serial, 3)][3]!
    const part = await call(API, `${link.base}/segments/00003.m4s`, { headers: { range: 'bytes=100-199' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${full.length}`)
    expect(await bytesOf(part)).toEqual(full.slice(100, 200))
    const tail = await call(API, `${link.base}/segments/00003.m4s`, { headers: { range: 'bytes=-10' } })
    expect(tail.status).toBe(206)
    expect(await bytesOf(tail)).toEqual(full.slice(full.length - 10))
    const beyond = await call(API, `${link.base}/segments/00003.m4s`, { headers: { range: `bytes=${full.length}-` } })
    expect(beyond.status).toBe(416)
    expect(beyond.headers.get('content-range')).toBe(`bytes */${full.length}`)
    await beyond.body?.cancel()
  })

  it('refuses segments past the end, forged, expired and image links', async () => {
    const past = await call(API, `${links[0]!.base}/segments/00010.m4s`)
    expect(past.status).toBe(404)
    const forged = links[0]!.base.replace(/\.([^./]+)\/hls$/, '.AAAA$1/hls')
    expect((await call(API, `${forged}/playlist.m3u8`)).status).toBe(404)
    const expired = await linkFor(itemId, viewers[0]!, { expS: Math.floor(Date.now() / 1000) - 1 })
    expect((await call(API, `${expired.base}/segments/00000.m4s`)).status).toBe(410)
    const mark = await markFor(env, { itemId, creatorId: CREATOR, viewerId: viewers[0]!, kind: 'image' })
    const image = await signDeliveryToken(env, { v: 1, i: itemId, u: viewers[0]!, s: mark.serial, k: 'image', e: Math.floor(Date.now() / 1000) + 60 })
    expect((await call(API, `/api/media/delivery/${image}/hls/playlist.m3u8`)).status).toBe(404)
    expect((await call(API, `${links[0]!.base}/segments/x.m4s`)).status).toBe(400)
  })

  it("enforces the creator's geo-blocks and, where the token moved to a gated country, the age gate on every request", async () => {
    const blocked = await publishedVideo()
    await env.DB.prepare("INSERT INTO media_geo_blocks (creator_id, region, created_by, created_at_ms) VALUES (?, 'US-TX', 'test', 0)").bind(CREATOR).run()
    try {
      const link = await linkFor(blocked, viewers[0]!)
      expect((await call(API, `${link.base}/segments/00000.m4s`, { cf: cf('US', 'TX') })).status).toBe(451)
      expect((await call(API, `${link.base}/segments/00000.m4s`, { cf: cf('US', 'CA') })).status).toBe(200)
      const bound = await linkFor(blocked, viewers[1]!, { country: 'US' })
      expect((await call(API, `${bound.base}/playlist.m3u8`, { cf: cf('GB') })).status).toBe(403)
    } finally {
      await env.DB.prepare("DELETE FROM media_geo_blocks WHERE creator_id = ? AND region = 'US-TX'").bind(CREATOR).run()
    }
  })

  it('stops delivery once the item is removed', async () => {
    const gone = await publishedVideo()
    const link = await linkFor(gone, viewers[2]!)
    expect((await call(API, `${link.base}/init.mp4`)).status).toBe(200)
    await env.DB.prepare("UPDATE media_items SET status = 'removed', removed_at_ms = ? WHERE id = ?").bind(Date.now(), gone).run()
    expect((await call(API, `${link.base}/init.mp4`)).status).toBe(410)
  })
})

describe('tracing a leak built from a viewer’s segments', () => {
  async function download(link: { base: string }): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for (let i = 0; i < FIXTURE.segments; i++) out.push(await bytesOf(await call(API, `${link.base}/segments/${segmentFile(i)}`)))
    return out
  }

  it('names the viewer from the segment digests of their download', async () => {
    for (const [k, link] of links.entries()) {
      const leak = await download(link)
      const segments = await Promise.all(leak.map(async (bytes, index) => ({ index, sha256: await sha(bytes) })))
      const trace = await traceAbLeak(env, itemId, { segments })
      expect(trace).toMatchObject({ serial: link.serial, viewerId: viewers[k], distance: 0, observed: 10 })
      expect(trace!.margin).toBeGreaterThanOrEqual(1)
    }
  })

  it('still names the viewer with segments missing, renumbered or unreadable', async () => {
    const link = links[2]!
    const leak = await download(link)
    // segments 0 and 1 cut off, the rest renumbered from 0, one segment re-encoded (digest unknown)
    const segments = await Promise.all(leak.slice(2).map(async (bytes, index) => ({ index, sha256: index === 4 ? 'f'.repeat(64) : await sha(bytes) })))
    const trace = await traceAbLeak(env, itemId, { segments })
    expect(trace).toMatchObject({ serial: link.serial, viewerId: viewers[2], distance: 0, observed: 7 })
  })

  it('weighs wrong observations: the nearest issued pattern wins, with its distance', async () => {
    const link = links[0]!
    const observations = Array.from({ length: 10 }, (_, index) => ({ index, variant: variantAt(link.serial, index) as 'a' | 'b' | null }))
    observations[5] = { index: 5, variant: observations[5]!.variant === 'a' ? 'b' : 'a' }
    observations[7] = { index: 7, variant: null }
    const trace = await traceAbLeak(env, itemId, observations)
    expect(trace).toMatchObject({ serial: link.serial, viewerId: viewers[0], distance: 1, observed: 9, confident: false })
  })

  it('returns null when nothing in the leak can be observed', async () => {
    expect(await traceAbLeak(env, itemId, { segments: [{ index: 0, sha256: '0'.repeat(64) }] })).toBeNull()
  })
})

describe('reference segments for tracing re-encoded leaks', () => {
  it('gives compliance the manifest and both variants; nobody else', async () => {
    const compliance = await tokenFor(['compliance_officer'])
    const manifest = await call(API, `/api/media/hls/${itemId}/manifest`, { token: compliance })
    expect(manifest.status).toBe(200)
    const body = (await manifest.json()) as { segments: number; a: string[]; b: string[] }
    expect(body.segments).toBe(10)
    expect(body.b[4]).toBe(await sha(FIXTURE.b[4]!))
    const b4 = await call(API, `/api/media/hls/${itemId}/b/00004.m4s`, { token: compliance })
    expect(await bytesOf(b4)).toEqual(FIXTURE.b[4])
    const fan = await call(API, `/api/media/hls/${itemId}/a/00004.m4s`, { token: await tokenFor(['fan']) })
    expect(fan.status).toBe(403)
    await fan.body?.cancel()
  })
})
