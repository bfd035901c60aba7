import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { mediaKeys } from '../../../r2/keys'
import { call, tokenFor } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { FIXTURE } from '../ab/fixture'
import { readManifest } from '../ab/manifest'
import frame from '../../../../shared/data/pdq/images/misc-images/wee.jpg?bytes'

const API = 'api.localhost'
const CREATOR = 'crt_01JFANZ0000000000000000101'
const BRAND = 'brd_01JFANZ0000000000000000001'
let service: string

async function waitingVideo(createdAtMs = Date.now()): Promise<string> {
  const id = newId('mediaItem', createdAtMs)
  const key = mediaKeys.original(BRAND, CREATOR, id)
  await env.MEDIA.put(key, FIXTURE.init)
  await env.DB.prepare("INSERT INTO media_items (id, creator_id, brand_id, kind, status, mime, size_bytes, original_key, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'video', 'processing', 'video/mp4', ?, ?, ?, ?)")
    .bind(id, CREATOR, BRAND, FIXTURE.init.length, key, createdAtMs, createdAtMs)
    .run()
  return id
}

const put = (id: string, path: string, body: Uint8Array | string, token = service) =>
  call(API, `/api/media/packager/items/${id}/${path}`, { method: 'PUT', body: typeof body === 'string' ? new TextEncoder().encode(body) : body, token, headers: { 'content-type': 'application/octet-stream' } })

async function uploadRendition(id: string, options: { skipB?: number } = {}): Promise<void> {
  expect((await put(id, 'hls/init.mp4', FIXTURE.init)).status).toBe(201)
  expect((await put(id, 'hls/playlist.m3u8', FIXTURE.playlist)).status).toBe(201)
  for (let i = 0; i < FIXTURE.segments; i++) {
    const file = `${String(i).padStart(5, '0')}.m4s`
    expect((await put(id, `hls/a/${file}`, FIXTURE.a[i]!)).status).toBe(201)
    if (options.skipB !== i) expect((await put(id, `hls/b/${file}`, FIXTURE.b[i]!)).status).toBe(201)
  }
  for (let i = 0; i < 3; i++) expect((await put(id, `frames/${String(i).padStart(5, '0')}.jpg`, frame)).status).toBe(201)
}

const complete = (id: string, body: Record<string, unknown>) => call(API, `/api/media/packager/items/${id}/complete`, { token: service, body })
const done = { segments: 10, frames: 3, duration_ms: 20_000, width: 96, height: 64 }

beforeAll(async () => {
  service = await tokenFor(['service'])
})

describe('packager API', () => {
  it('lists videos waiting for packaging, oldest first, and serves their originals with ranges', async () => {
    const older = await waitingVideo(Date.now() - 60_000)
    const newer = await waitingVideo()
    const res = await call(API, '/api/media/packager/jobs?limit=50', { token: service })
    expect(res.status).toBe(200)
    const ids = ((await res.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id)
    expect(ids.indexOf(older)).toBeGreaterThanOrEqual(0)
    expect(ids.indexOf(older)).toBeLessThan(ids.indexOf(newer))
    const original = await call(API, `/api/media/packager/items/${older}/original`, { token: service, headers: { range: 'bytes=0-7' } })
    expect(original.status).toBe(206)
    expect(new Uint8Array(await original.arrayBuffer())).toEqual(FIXTURE.init.slice(0, 8))
  })

  it('stores a complete rendition, records it, writes the digest manifest and hands the frames to ingest', async () => {
    const id = await waitingVideo()
    await uploadRendition(id)
    const res = await complete(id, done)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id, hls_segments: 10, frames: 3, duration_ms: 20_000, width: 96, height: 64 })
    const row = await env.DB.prepare('SELECT hls_segments, duration_ms, width, height FROM media_items WHERE id = ?').bind(id).first()
    expect(row).toEqual({ hls_segments: 10, duration_ms: 20_000, width: 96, height: 64 })
    const manifest = await readManifest(env, id)
    expect(manifest?.a).toHaveLength(10)
    expect(manifest?.b).toHaveLength(10)
    expect(manifest?.a[0]).not.toBe(manifest?.b[0])
    // the stored playlist is the neutral one: URIs relative to the delivery path
    const playlist = await (await env.MEDIA.get(mediaKeys.hlsShared(id, 'playlist.m3u8')))!.text()
    expect(playlist).toContain('segments/00000.m4s')
    expect(playlist).not.toContain('\n00000.m4s')
    // packaged once: later uploads and a second complete are refused
    expect((await put(id, 'hls/a/00000.m4s', FIXTURE.a[0]!)).status).toBe(409)
    expect((await complete(id, done)).status).toBe(409)
    // no longer a job
    const jobs = ((await (await call(API, '/api/media/packager/jobs?limit=50', { token: service })).json()) as { jobs: { id: string }[] }).jobs
    expect(jobs.map((j) => j.id)).not.toContain(id)
  })

  it('refuses to complete when a B variant is missing, naming it', async () => {
    const id = await waitingVideo()
    await uploadRendition(id, { skipB: 6 })
    const res = await complete(id, done)
    expect(res.status).toBe(422)
    const problem = (await res.json()) as { errors: { path: string; message: string }[] }
    expect(problem.errors).toContainEqual({ path: 'body.segments', message: 'variant B is missing segment 6' })
    expect(problem.errors).toContainEqual({ path: 'body.segments', message: 'variants differ in count: A has 10, B has 9' })
    const row = await env.DB.prepare('SELECT hls_segments FROM media_items WHERE id = ?').bind(id).first<{ hls_segments: number | null }>()
    expect(row?.hls_segments).toBeNull()
    // frames claimed but not uploaded
    const more = await complete(id, { ...done, frames: 5 })
    expect(((await more.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('body.frames')
  })

  it('checks every upload by its bytes, not its name', async () => {
    const id = await waitingVideo()
    const jpegAsSegment = await put(id, 'hls/a/00000.m4s', frame)
    expect(jpegAsSegment.status).toBe(422)
    expect(((await jpegAsSegment.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('body')
    expect((await put(id, 'hls/init.mp4', FIXTURE.a[0]!)).status).toBe(422) // a media segment is not an init segment
    expect((await put(id, 'frames/00000.jpg', FIXTURE.init)).status).toBe(422)
    expect((await put(id, 'hls/playlist.m3u8', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n')).status).toBe(422)
    expect((await put(id, 'hls/playlist.m3u8', 'not a playlist')).status).toBe(422)
    expect((await put(id, 'hls/c/00000.m4s', FIXTURE.a[0]!)).status).toBe(400)
    expect((await put(id, 'hls/a/00000.ts', FIXTURE.a[0]!)).status).toBe(400)
    expect((await put(id, 'hls/a/00000.m4s', new Uint8Array())).status).toBe(422)
    expect((await complete(id, { ...done, segments: 0 })).status).toBe(422)
  })

  it('is for the packager service only', async () => {
    const id = await waitingVideo()
    for (const role of ['admin', 'creator', 'compliance_officer'] as const) {
      const res = await put(id, 'hls/init.mp4', FIXTURE.init, await tokenFor([role]))
      expect(res.status, role).toBe(403)
      await res.body?.cancel()
    }
    expect((await call(API, '/api/media/packager/jobs')).status).toBe(401)
    expect((await call(API, '/api/media/packager/items/med_nope/original', { token: service })).status).toBe(404)
  })
})
