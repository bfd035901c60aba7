/**
 * Serving a delivered image: each viewer's own marked copy (made once, kept in R2), byte ranges,
 * validators and cache headers. Needs the watermark part's markImageCopy / traceImage.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import original from '../../../../shared/data/pdq/images/bridge-mods/square-512x512.jpg?bytes'
import { mediaKeys } from '../../../r2/keys'
import { call } from '../../../test/helpers'
import { markLayout } from '../watermark/key'
import { traceImage } from '../watermark/mark-image'
import { API, createCreator, createItem, issue, pathOf, subscribe, viewer, type TestCreator } from './test-support'

const layout = await markLayout(env)

const DAY = 86_400_000

async function serialOf(itemId: string, viewerId: string | null): Promise<number> {
  const row = await env.DB.prepare(`SELECT serial FROM media_marks WHERE item_id = ? AND kind = 'image' AND viewer_id ${viewerId === null ? 'IS NULL' : '= ?'}`)
    .bind(...(viewerId === null ? [itemId] : [itemId, viewerId]))
    .first<{ serial: number }>()
  return row!.serial
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer())
}

describe('GET /api/media/delivery/{token}: the viewer’s marked copy', () => {
  let creator: TestCreator
  let item: string
  let alice: { userId: string; token: string }
  let bob: { userId: string; token: string }
  let alicePath: string
  let aliceBytes: Uint8Array

  beforeAll(async () => {
    creator = await createCreator()
    item = await createItem(creator, { original })
    alice = await viewer()
    bob = await viewer()
    await subscribe(alice.userId, creator.id, 'active', Date.now() + DAY)
    await subscribe(bob.userId, creator.id, 'active', Date.now() + DAY)
    alicePath = pathOf((await issue(item, alice.token)).body.url!)
  })

  it('serves a JPEG marked for the viewer, never the original, with private no-store headers', async () => {
    const res = await call(API, alicePath)
    expect(res.status).toBe(200)
    aliceBytes = await bytesOf(res)
    expect(res.headers.get('content-type')).toBe('image/jpeg')
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="${item}.jpg"`)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/)
    expect(Number(res.headers.get('content-length'))).toBe(aliceBytes.length)
    expect([aliceBytes[0], aliceBytes[1], aliceBytes[2]]).toEqual([0xff, 0xd8, 0xff])
    expect(aliceBytes).not.toEqual(original)
    const read = await traceImage(aliceBytes, 'image/jpeg', layout)
    expect(read?.serial).toBe(await serialOf(item, alice.userId))
  })

  it('makes the copy once: the second fetch reads the stored copy', async () => {
    const key = mediaKeys.markedCopy(item, await serialOf(item, alice.userId))
    const stored = await env.MEDIA.head(key)
    expect(stored?.size).toBe(aliceBytes.length)
    expect(stored?.customMetadata).toMatchObject({ item_id: item, serial: String(await serialOf(item, alice.userId)) })
    // a second URL for the same viewer: same mark, same stored copy, not re-marked
    const again = await call(API, pathOf((await issue(item, alice.token)).body.url!))
    expect(await bytesOf(again)).toEqual(aliceBytes)
    const after = await env.MEDIA.head(key)
    expect(after?.uploaded.getTime()).toBe(stored!.uploaded.getTime())
    expect(after?.etag).toBe(stored!.etag)
    const copies = await env.MEDIA.list({ prefix: `renditions/${item}/marked/` })
    expect(copies.objects).toHaveLength(1)
  })

  it('another viewer gets other bytes, carrying their own serial', async () => {
    const res = await call(API, pathOf((await issue(item, bob.token)).body.url!))
    const bobBytes = await bytesOf(res)
    expect(bobBytes).not.toEqual(aliceBytes)
    expect(res.headers.get('etag')).not.toBe((await call(API, alicePath, { method: 'HEAD' })).headers.get('etag'))
    const read = await traceImage(bobBytes, 'image/jpeg', layout)
    expect(read?.serial).toBe(await serialOf(item, bob.userId))
    expect(await serialOf(item, bob.userId)).not.toBe(await serialOf(item, alice.userId))
  })

  it('If-None-Match with the copy’s ETag: 304 without a body', async () => {
    const etag = (await call(API, alicePath, { method: 'HEAD' })).headers.get('etag')!
    const res = await call(API, alicePath, { headers: { 'if-none-match': `W/${etag}` } })
    expect(res.status).toBe(304)
    expect(res.headers.get('etag')).toBe(etag)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect((await res.arrayBuffer()).byteLength).toBe(0)
    expect((await call(API, alicePath, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200)
  })

  it('byte ranges: a-b, open, suffix; 416 past the end; If-Range with another tag sends it all', async () => {
    const size = aliceBytes.length
    const first = await call(API, alicePath, { headers: { range: 'bytes=0-99' } })
    expect(first.status).toBe(206)
    expect(first.headers.get('content-range')).toBe(`bytes 0-99/${size}`)
    expect(first.headers.get('content-length')).toBe('100')
    expect(await bytesOf(first)).toEqual(aliceBytes.slice(0, 100))

    const open = await call(API, alicePath, { headers: { range: `bytes=${size - 10}-` } })
    expect(open.status).toBe(206)
    expect(await bytesOf(open)).toEqual(aliceBytes.slice(size - 10))

    const suffix = await call(API, alicePath, { headers: { range: 'bytes=-250' } })
    expect(suffix.headers.get('content-range')).toBe(`bytes ${size - 250}-${size - 1}/${size}`)
    expect(await bytesOf(suffix)).toEqual(aliceBytes.slice(size - 250))

    const past = await call(API, alicePath, { headers: { range: `bytes=${size}-` } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`)
    await past.arrayBuffer()

    const stale = await call(API, alicePath, { headers: { range: 'bytes=0-99', 'if-range': '"another-copy"' } })
    expect(stale.status).toBe(200)
    expect((await bytesOf(stale)).length).toBe(size)
  })

  it('HEAD: the headers of GET, no body', async () => {
    const res = await call(API, alicePath, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(aliceBytes.length))
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect((await res.arrayBuffer()).byteLength).toBe(0)
    const ranged = await call(API, alicePath, { method: 'HEAD', headers: { range: 'bytes=10-19' } })
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-range')).toBe(`bytes 10-19/${aliceBytes.length}`)
  })

  it('two first fetches of one copy at once agree on one stored copy', async () => {
    const carol = await viewer()
    await subscribe(carol.userId, creator.id, 'active', Date.now() + DAY)
    const path = pathOf((await issue(item, carol.token)).body.url!)
    const [one, two] = await Promise.all([call(API, path), call(API, path)])
    expect([one.status, two.status]).toEqual([200, 200])
    const [a, b] = [await bytesOf(one), await bytesOf(two)]
    expect((await traceImage(a, 'image/jpeg', layout))?.serial).toBe(await serialOf(item, carol.userId))
    expect((await traceImage(b, 'image/jpeg', layout))?.serial).toBe(await serialOf(item, carol.userId))
    const stored = await env.MEDIA.get(mediaKeys.markedCopy(item, await serialOf(item, carol.userId)))
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(b)
  })

  it('the creator’s preview is marked too, with the creator’s own serial', async () => {
    const draft = await createItem(creator, { original, status: 'in_review' })
    const res = await call(API, pathOf((await issue(draft, creator.token)).body.url!))
    expect(res.status).toBe(200)
    const bytes = await bytesOf(res)
    expect(bytes).not.toEqual(original)
    expect((await traceImage(bytes, 'image/jpeg', layout))?.serial).toBe(await serialOf(draft, null))
  })
})
