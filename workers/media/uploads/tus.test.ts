/**
 * tus 1.0.0 conformance and the R2 multipart mapping, through the whole Worker: status codes of the
 * protocol (412, 415, 409, 404/410, 413, 204), irregular PATCH sizes re-cut into equal parts, a
 * connection that breaks mid-PATCH, magic numbers against the claimed type, size and quota limits.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { mediaUploadStub } from '../../../durable-objects/media-upload'
import { tokenFor } from '../../../test/helpers'
import { expireUploadsJob } from './api'
import { usageOf } from './limits'
import { ALEX_CREATOR, breakingStream, createTus, creatorToken, fakeJpeg, fakeMp4, itemRow, MiB, noise, patch, PNG_SIGNATURE, sha256, tus } from './test-support'

let token: string

beforeAll(async () => {
  token = await creatorToken()
})

const idOf = (path: string) => path.split('/').at(-1)!

describe('protocol basics', () => {
  it('OPTIONS names version, extensions and the largest size, without Tus-Resumable', async () => {
    const res = await tus('OPTIONS', '/api/media/uploads/tus')
    expect(res.status).toBe(204)
    expect(res.headers.get('tus-version')).toBe('1.0.0')
    expect(res.headers.get('tus-extension')!.split(',')).toEqual(expect.arrayContaining(['creation', 'creation-with-upload', 'expiration', 'termination']))
    expect(res.headers.get('tus-max-size')).toBe(env.MEDIA_MAX_VIDEO_BYTES)
    expect(res.headers.get('tus-resumable')).toBeNull()
  })

  it('answers 412 with Tus-Version to another protocol version or none', async () => {
    for (const version of ['0.2.2', undefined]) {
      const headers: Record<string, string> = { 'upload-length': '100', 'upload-metadata': 'filetype aW1hZ2UvanBlZw==' }
      if (version) headers['tus-resumable'] = version
      const res = await tus('POST', '/api/media/uploads/tus', { token, headers: version ? headers : { ...headers, 'tus-resumable': '' } })
      expect(res.status).toBe(412)
      expect(res.headers.get('tus-version')).toBe('1.0.0')
      expect(res.headers.get('tus-resumable')).toBe('1.0.0')
      expect(await res.json()).toMatchObject({ status: 412, errors: [{ path: 'header.tus-resumable' }] })
    }
  })

  it('needs a creator: 401 without a token, 403 for a fan (Tus-Resumable on both)', async () => {
    const anonymous = await tus('POST', '/api/media/uploads/tus', { headers: { 'upload-length': '10' } })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('tus-resumable')).toBe('1.0.0')
    const fan = await tus('POST', '/api/media/uploads/tus', { token: await tokenFor(['fan']), headers: { 'upload-length': '10' } })
    expect(fan.status).toBe(403)
  })

  it('refuses a creation without length, with an unknown filetype, or for a creator profile the caller does not have', async () => {
    expect((await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-metadata': 'filetype aW1hZ2UvanBlZw==' } })).status).toBe(400)
    const gif = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': '10', 'upload-metadata': `filetype ${btoa('image/gif')}` } })
    expect(gif.status).toBe(415)
    expect(await gif.json()).toMatchObject({ errors: [{ path: 'header.upload-metadata.filetype' }] })
    const nobody = await tus('POST', '/api/media/uploads/tus', { token: await creatorToken('usr_01JNOBODY00000000000000000'), headers: { 'upload-length': '10', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })
    expect(nobody.status).toBe(422)
    const otherBrand = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': '10', 'upload-metadata': `filetype ${btoa('image/jpeg')},brand ${btoa('girlfanz')}` } })
    expect(otherBrand.status).toBe(422)
    expect(await otherBrand.json()).toMatchObject({ errors: [{ path: 'header.upload-metadata.brand' }] })
  })
})

describe('a 20 MiB upload in irregular PATCH sizes', () => {
  it('completes with the exact bytes, equal non-final parts, the item processing', async () => {
    const file = fakeMp4(20 * MiB, 7)
    const { path, itemId, res } = await createTus(token, file.byteLength, { filetype: 'video/mp4', filename: 'beach.mp4', title: 'Beach day' })
    expect(path).toMatch(/^\/api\/media\/uploads\/tus\/upl_[0-9A-Z]{26}$/)
    expect(res.headers.get('tus-resumable')).toBe('1.0.0')
    expect(Date.parse(res.headers.get('upload-expires')!)).toBeGreaterThan(Date.now() + 23 * 3_600_000)
    expect(await itemRow(itemId)).toMatchObject({ status: 'uploading', kind: 'video', title: 'Beach day', creator_id: ALEX_CREATOR })

    const cuts = [3 * MiB, 7.5 * MiB, 1]
    let offset = 0
    for (const size of [...cuts, file.byteLength - cuts.reduce((a, b) => a + b, 0)]) {
      const res = await patch(token, path, offset, file.subarray(offset, offset + size))
      expect(res.status, await res.clone().text()).toBe(204)
      offset += size
      expect(res.headers.get('upload-offset')).toBe(String(offset))
      expect(res.headers.get('tus-resumable')).toBe('1.0.0')
      if (offset < file.byteLength) {
        const head = await tus('HEAD', path, { token })
        expect(head.status).toBe(200)
        expect(head.headers.get('upload-offset')).toBe(String(offset))
        expect(head.headers.get('upload-length')).toBe(String(file.byteLength))
        expect(head.headers.get('cache-control')).toBe('no-store')
      }
    }

    const state = await mediaUploadStub(env, idOf(path)).state(Date.now())
    if (!state.ok) throw new Error(state.code)
    expect(state.value.status).toBe('completed')
    // 20 MiB in 8 MiB parts: 8, 8, 4
    expect(state.value.parts.map((p) => p.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB])
    const object = await env.MEDIA.get(state.value.objectKey)
    expect(object!.size).toBe(file.byteLength)
    expect(await sha256(await object!.arrayBuffer())).toBe(await sha256(file))
    expect(await itemRow(itemId)).toMatchObject({ status: expect.stringMatching(/^(processing|in_review|quarantined|failed)$/), mime: 'video/mp4', size_bytes: file.byteLength, original_key: state.value.objectKey })
    expect(await env.MEDIA.head(`uploads/${idOf(path)}/spill`)).toBeNull()
    const upload = await env.DB.prepare('SELECT status, received_bytes FROM media_uploads WHERE id = ?').bind(idOf(path)).first()
    expect(upload).toEqual({ status: 'completed', received_bytes: file.byteLength })
    // HEAD after completion still reports the whole length
    const head = await tus('HEAD', path, { token })
    expect(head.headers.get('upload-offset')).toBe(String(file.byteLength))
  })
})

describe('a PATCH whose connection breaks', () => {
  it('keeps every byte received and resumes from the new offset', async () => {
    const file = fakeMp4(13 * MiB + 12345, 11)
    const { path } = await createTus(token, file.byteLength, { filetype: 'video/mp4' })
    // 10 MiB arrive (one 8 MiB part + 2 MiB spilled), then the connection drops
    const broken = await patch(token, path, 0, breakingStream(file.subarray(0, 10 * MiB)), file.byteLength)
    expect(broken.status).toBe(400)
    expect(broken.headers.get('upload-offset')).toBe(String(10 * MiB))
    const head = await tus('HEAD', path, { token })
    expect(head.headers.get('upload-offset')).toBe(String(10 * MiB))
    // a stale offset is refused
    const stale = await patch(token, path, 0, file.subarray(0, 100))
    expect(stale.status).toBe(409)
    expect(await stale.json()).toMatchObject({ errors: [{ path: 'header.upload-offset' }] })
    const rest = await patch(token, path, 10 * MiB, file.subarray(10 * MiB))
    expect(rest.status).toBe(204)
    expect(rest.headers.get('upload-offset')).toBe(String(file.byteLength))
    const state = await mediaUploadStub(env, idOf(path)).state(Date.now())
    if (!state.ok) throw new Error(state.code)
    const object = await env.MEDIA.get(state.value.objectKey)
    expect(await sha256(await object!.arrayBuffer())).toBe(await sha256(file))
  })

  it('a break within the first part keeps the bytes in the spill object', async () => {
    const file = fakeJpeg(6 * MiB, 3)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    await patch(token, path, 0, breakingStream(file.subarray(0, 2 * MiB), 256 * 1024), file.byteLength)
    expect((await tus('HEAD', path, { token })).headers.get('upload-offset')).toBe(String(2 * MiB))
    expect((await env.MEDIA.head(`uploads/${idOf(path)}/spill`))!.size).toBe(2 * MiB)
    const rest = await patch(token, path, 2 * MiB, file.subarray(2 * MiB))
    expect(rest.status).toBe(204)
    const state = await mediaUploadStub(env, idOf(path)).state(Date.now())
    if (!state.ok) throw new Error(state.code)
    expect(state.value.parts.map((p) => p.size)).toEqual([6 * MiB])
    expect(await sha256(await (await env.MEDIA.get(state.value.objectKey))!.arrayBuffer())).toBe(await sha256(file))
  })
})

describe('PATCH preconditions', () => {
  it('415 for another content type, 400 without Upload-Offset, 413 for bytes past the length', async () => {
    const file = fakeJpeg(1000)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    const wrongType = await tus('PATCH', path, { token, body: file, headers: { 'upload-offset': '0', 'content-type': 'application/octet-stream' } })
    expect(wrongType.status).toBe(415)
    expect(wrongType.headers.get('tus-resumable')).toBe('1.0.0')
    const noOffset = await tus('PATCH', path, { token, body: file, headers: { 'content-type': 'application/offset+octet-stream' } })
    expect(noOffset.status).toBe(400)
    expect(await noOffset.json()).toMatchObject({ errors: [{ path: 'header.upload-offset' }] })
    const first = await patch(token, path, 0, file.subarray(0, 600))
    expect(first.status).toBe(204)
    // announced too long: refused before a byte is written
    const tooMuch = await patch(token, path, 600, noise(1000), 1000)
    expect(tooMuch.status).toBe(413)
    expect(await tooMuch.json()).toMatchObject({ errors: [{ path: 'header.content-length' }] })
    expect((await tus('HEAD', path, { token })).headers.get('upload-offset')).toBe('600')
    // not announced: what fits is kept (the file completes), the rest refused
    const streamed = await patch(token, path, 600, new Uint8Array([...file.subarray(600), ...noise(600)]))
    expect(streamed.status).toBe(413)
    expect(streamed.headers.get('upload-offset')).toBe('1000')
    expect(await streamed.json()).toMatchObject({ errors: [{ path: 'body' }] })
    expect((await tus('HEAD', path, { token })).headers.get('upload-offset')).toBe('1000')
  })

  it('someone else’s upload is 404', async () => {
    const { path } = await createTus(token, 100, { filetype: 'image/jpeg' })
    const other = await tus('HEAD', path, { token: await tokenFor(['creator'], { subject: 'usr_01JOTHERCREATOR0000000000' }) })
    expect(other.status).toBe(404)
  })
})

describe('magic numbers decide, not the claim', () => {
  it('a PNG claiming image/jpeg is refused with 415 and the upload terminated', async () => {
    const png = noise(4096, 5)
    png.set(PNG_SIGNATURE, 0)
    const { path, itemId } = await createTus(token, png.byteLength, { filetype: 'image/jpeg', filename: 'photo.jpg' })
    const res = await patch(token, path, 0, png)
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', detail: expect.stringContaining('image/png, not the claimed image/jpeg') })
    expect((await tus('HEAD', path, { token })).status).toBe(404)
    expect(await itemRow(itemId)).toMatchObject({ status: 'failed', status_reason: 'type_refused' })
  })

  it('a text file claiming video/mp4 is refused as soon as its first bytes arrive', async () => {
    const text = new TextEncoder().encode('hello, this is not a video at all '.repeat(400_000))
    const { path } = await createTus(token, text.byteLength, { filetype: 'video/mp4', filename: 'movie.mp4' })
    const res = await patch(token, path, 0, text.subarray(0, 64))
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({ detail: expect.stringContaining('not video/mp4') })
  })
  it('the rest of a small refused body is read before the answer; a large rest is cancelled', async () => {
    // a sender still writing when the 415 goes out must see the answer, not a reset connection
    const counting = (total: number) => {
      const sent = { bytes: 0 }
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent.bytes >= total) return controller.close()
          const piece = new TextEncoder().encode('plain text, not a photo '.repeat(2731)).subarray(0, Math.min(64 * 1024, total - sent.bytes))
          sent.bytes += piece.byteLength
          controller.enqueue(piece)
        },
      })
      return { stream, sent }
    }
    const small = counting(2 * MiB)
    const first = await createTus(token, 2 * MiB, { filetype: 'image/jpeg' })
    expect((await patch(token, first.path, 0, small.stream)).status).toBe(415)
    expect(small.sent.bytes).toBe(2 * MiB)
    const large = counting(64 * MiB)
    const second = await createTus(token, 64 * MiB, { filetype: 'video/mp4' })
    expect((await patch(token, second.path, 0, large.stream)).status).toBe(415)
    expect(large.sent.bytes).toBeLessThan(32 * MiB)
  })
})

describe('limits', () => {
  it('413 naming the limit: image size, Tus-Max-Size, quota', async () => {
    const bigImage = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': String(Number(env.MEDIA_MAX_IMAGE_BYTES) + 1), 'upload-metadata': `filetype ${btoa('image/png')}` } })
    expect(bigImage.status).toBe(413)
    expect(await bigImage.json()).toMatchObject({ limit: 'MEDIA_MAX_IMAGE_BYTES', errors: [{ path: 'header.upload-length' }] })
    const huge = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': String(Number(env.MEDIA_MAX_VIDEO_BYTES) + 1), 'upload-metadata': `filetype ${btoa('video/mp4')}` } })
    expect(huge.status).toBe(413)
    expect(await huge.json()).toMatchObject({ limit: 'Tus-Max-Size' })

    await env.DB.prepare("INSERT INTO media_quotas (creator_id, quota_bytes, updated_by, updated_at_ms) VALUES (?, ?, 'test', 0) ON CONFLICT(creator_id) DO UPDATE SET quota_bytes = excluded.quota_bytes")
      .bind(ALEX_CREATOR, 1)
      .run()
    try {
      const over = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': '1000', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })
      expect(over.status).toBe(413)
      expect(await over.json()).toMatchObject({ limit: 'quota', limit_bytes: 1 })
    } finally {
      await env.DB.prepare('DELETE FROM media_quotas WHERE creator_id = ?').bind(ALEX_CREATOR).run()
    }
  })
})

describe('the quota under concurrency', () => {
  it('of six uploads started at once for the last free bytes exactly one is accepted; deferred lengths too', async () => {
    const { storedBytes, reservedBytes } = await usageOf(env, ALEX_CREATOR)
    await env.DB.prepare("INSERT INTO media_quotas (creator_id, quota_bytes, updated_by, updated_at_ms) VALUES (?, ?, 'test', 0) ON CONFLICT(creator_id) DO UPDATE SET quota_bytes = excluded.quota_bytes")
      .bind(ALEX_CREATOR, storedBytes + reservedBytes + 10_000)
      .run()
    try {
      const started = await Promise.all(
        Array.from({ length: 6 }, () => tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': '6000', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })),
      )
      expect(started.map((r) => r.status).sort()).toEqual([201, 413, 413, 413, 413, 413])
      // the four refused left nothing reserved: the accepted one holds 6,000 of the 10,000
      expect((await usageOf(env, ALEX_CREATOR)).reservedBytes).toBe(reservedBytes + 6000)

      // two uploads of unknown length each declare 3,000 of the 4,000 left at the same moment
      const deferred = await Promise.all(
        [0, 1].map(() => tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-defer-length': '1', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })),
      )
      expect(deferred.map((r) => r.status)).toEqual([201, 201])
      const declared = await Promise.all(deferred.map((r) => patch(token, r.headers.get('location')!, 0, new Uint8Array(), undefined, { 'upload-length': '3000' })))
      expect(declared.map((r) => r.status).sort()).toEqual([204, 413])
      expect((await usageOf(env, ALEX_CREATOR)).reservedBytes).toBe(reservedBytes + 9000)
    } finally {
      await env.DB.prepare('DELETE FROM media_quotas WHERE creator_id = ?').bind(ALEX_CREATOR).run()
    }
  })
})

describe('creation-with-upload, termination, expiration', () => {
  it('POST may carry the first bytes', async () => {
    const file = fakeJpeg(3000, 9)
    const res = await tus('POST', '/api/media/uploads/tus', {
      token,
      body: file.subarray(0, 1000),
      headers: { 'upload-length': '3000', 'upload-metadata': `filetype ${btoa('image/jpeg')}`, 'content-type': 'application/offset+octet-stream' },
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('upload-offset')).toBe('1000')
    const rest = await patch(token, res.headers.get('location')!, 1000, file.subarray(1000))
    expect(rest.status).toBe(204)
    expect(await itemRow(res.headers.get('media-item-id')!)).toMatchObject({ mime: 'image/jpeg', size_bytes: 3000 })
  })

  it('a deferred length is given by a later PATCH (creation-defer-length)', async () => {
    const file = fakeJpeg(2000, 13)
    const created = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-defer-length': '1', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })
    expect(created.status).toBe(201)
    const path = created.headers.get('location')!
    expect((await patch(token, path, 0, file.subarray(0, 1000))).status).toBe(204)
    const head = await tus('HEAD', path, { token })
    expect(head.headers.get('upload-defer-length')).toBe('1')
    expect(head.headers.get('upload-length')).toBeNull()
    const last = await tus('PATCH', path, { token, body: file.subarray(1000), headers: { 'upload-offset': '1000', 'upload-length': '2000', 'content-type': 'application/offset+octet-stream' } })
    expect(last.status).toBe(204)
    expect(last.headers.get('upload-offset')).toBe('2000')
    expect(await itemRow(created.headers.get('media-item-id')!)).toMatchObject({ size_bytes: 2000, mime: 'image/jpeg' })
    const both = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': '5', 'upload-defer-length': '1', 'upload-metadata': `filetype ${btoa('image/jpeg')}` } })
    expect(both.status).toBe(400)
  })

  it('DELETE terminates: 204, then 404', async () => {
    const { path, itemId } = await createTus(token, 10 * MiB, { filetype: 'video/mp4' })
    await patch(token, path, 0, fakeMp4(9 * MiB))
    const res = await tus('DELETE', path, { token })
    expect(res.status).toBe(204)
    expect(res.headers.get('tus-resumable')).toBe('1.0.0')
    expect((await tus('HEAD', path, { token })).status).toBe(404)
    expect((await patch(token, path, 9 * MiB, noise(10))).status).toBe(404)
    expect(await itemRow(itemId)).toMatchObject({ status: 'failed', status_reason: 'upload_terminated' })
    expect(await env.MEDIA.head(`uploads/${idOf(path)}/spill`)).toBeNull()
  })

  it('an upload idle for 24 h is expired by the sweep: 410 afterwards', async () => {
    const { path, itemId } = await createTus(token, 5000, { filetype: 'image/jpeg' })
    await patch(token, path, 0, fakeJpeg(100))
    const report = await expireUploadsJob(env, Date.now() + 24 * 3_600_000 + 60_000)
    expect(report.expired).toContain(idOf(path))
    expect((await tus('HEAD', path, { token })).status).toBe(410)
    expect((await patch(token, path, 100, noise(10))).status).toBe(410)
    expect(await itemRow(itemId)).toMatchObject({ status: 'failed', status_reason: 'upload_expired' })
    expect(await env.DB.prepare('SELECT status FROM media_uploads WHERE id = ?').bind(idOf(path)).first('status')).toBe('expired')
  })

  it('the sweep leaves an upload alone whose object was touched after the index said', async () => {
    const { path } = await createTus(token, 5000, { filetype: 'image/jpeg' })
    // the index says it expired long ago; the object knows better
    await env.DB.prepare('UPDATE media_uploads SET expires_at_ms = 0 WHERE id = ?').bind(idOf(path)).run()
    const report = await expireUploadsJob(env, Date.now())
    expect(report.expired).not.toContain(idOf(path))
    expect((await tus('HEAD', path, { token })).status).toBe(200)
  })
})
