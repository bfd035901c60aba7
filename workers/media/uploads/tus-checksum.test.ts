/**
 * The tus Checksum extension through the whole Worker: advertised in OPTIONS, sha1/md5/sha256
 * digests of PATCH (and creation-with-upload) bodies verified, 460 on a mismatch with nothing
 * appended (parts, spill and offset as before, also across a part boundary and on the completing
 * PATCH), 400 for an unknown algorithm or a malformed header, nothing kept of a checksummed body
 * that breaks off.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { mediaUploadStub, type UploadState } from '../../../durable-objects/media-upload'
import { call } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { API, breakingStream, createTus, creatorToken, fakeJpeg, fakeMp4, itemRow, metadata, MiB, patch, PNG_SIGNATURE, noise, sha256, tus, uploadChecksum } from './test-support'

let token: string

beforeAll(async () => {
  token = await creatorToken()
})

const idOf = (path: string) => path.split('/').at(-1)!

async function stateOf(path: string): Promise<UploadState> {
  const res = await mediaUploadStub(env, idOf(path)).state(Date.now())
  if (!res.ok) throw new Error(res.code)
  return res.value
}

async function headOffset(path: string): Promise<string | null> {
  return (await tus('HEAD', path, { token })).headers.get('upload-offset')
}

async function spillDigest(path: string): Promise<string | null> {
  const spill = await env.MEDIA.get(`uploads/${idOf(path)}/spill`)
  return spill ? sha256(await spill.arrayBuffer()) : null
}

async function objectDigest(path: string): Promise<string> {
  const object = await env.MEDIA.get((await stateOf(path)).objectKey)
  if (!object) throw new Error('no object')
  return sha256(await object.arrayBuffer())
}

/** The same bytes with one of them changed: what a corrupting hop delivers. */
function corrupted(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice()
  copy[at] = copy[at]! ^ 0xff
  return copy
}

const checked = (value: string) => ({ 'upload-checksum': value })

describe('advertisement', () => {
  it('OPTIONS names the checksum extension and its algorithms, sha1 among them', async () => {
    const res = await tus('OPTIONS', '/api/media/uploads/tus')
    expect(res.status).toBe(204)
    expect(res.headers.get('tus-extension')!.split(',')).toContain('checksum')
    expect(res.headers.get('tus-checksum-algorithm')!.split(',')).toEqual(['sha1', 'md5', 'sha256'])
  })

  it('the OpenAPI document declares Upload-Checksum and the 460 answer', async () => {
    type Operation = { parameters: Array<{ name: string }>; responses: Record<string, { content?: Record<string, unknown> }> }
    const doc = await (await call(API, '/api/openapi.json')).json<{ paths: Record<string, Record<string, Operation>> }>()
    const op = doc.paths['/api/media/uploads/tus/{id}']!.patch!
    expect(op.responses['460']?.content?.['application/problem+json']).toBeDefined()
    expect(op.parameters.map((p) => p.name)).toContain('upload-checksum')
    expect(doc.paths['/api/media/uploads/tus']!.post!.responses['460']).toBeDefined()
  })
})

describe('matching digests', () => {
  it('sha1, md5 and sha256 bodies are appended across several PATCHes, creation-with-upload included', async () => {
    const file = fakeMp4(20 * MiB + 777, 21)
    const first = 3 * MiB
    const created = await tus('POST', '/api/media/uploads/tus', {
      token,
      body: file.subarray(0, first),
      headers: {
        'upload-length': String(file.byteLength),
        'upload-metadata': metadata({ filetype: 'video/mp4' }),
        'content-type': 'application/offset+octet-stream',
        ...checked(uploadChecksum('sha256', file.subarray(0, first))),
      },
    })
    expect(created.status, await created.clone().text()).toBe(201)
    expect(created.headers.get('upload-offset')).toBe(String(first))
    const path = created.headers.get('location')!
    // 3 -> 9.5 (crosses the first part) -> 9.5 + 1 byte -> 19 -> the end
    const cuts: Array<[number, 'sha1' | 'md5' | 'sha256']> = [
      [6.5 * MiB, 'sha1'],
      [1, 'md5'],
      [9.5 * MiB - 1, 'sha256'],
      [file.byteLength - 19 * MiB, 'sha1'],
    ]
    let offset = first
    for (const [size, algorithm] of cuts) {
      const chunk = file.subarray(offset, offset + size)
      const res = await patch(token, path, offset, chunk, undefined, checked(uploadChecksum(algorithm, chunk)))
      expect(res.status, await res.clone().text()).toBe(204)
      offset += size
      expect(res.headers.get('upload-offset')).toBe(String(offset))
    }
    const state = await stateOf(path)
    expect(state.status).toBe('completed')
    expect(state.parts.map((p) => p.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB + 777])
    expect(await objectDigest(path)).toBe(await sha256(file))
    expect(await itemRow(created.headers.get('media-item-id')!)).toMatchObject({ mime: 'video/mp4', size_bytes: file.byteLength })
  })
})

describe('a mismatch', () => {
  it('is 460 with nothing appended; the right bytes then succeed and the object is exact', async () => {
    const file = fakeJpeg(3000, 22)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    expect((await patch(token, path, 0, file.subarray(0, 1000), undefined, checked(uploadChecksum('sha1', file.subarray(0, 1000))))).status).toBe(204)
    const chunk = file.subarray(1000, 2000)
    const bad = await patch(token, path, 1000, corrupted(chunk, 500), undefined, checked(uploadChecksum('sha1', chunk)))
    expect(bad.status).toBe(460)
    expect(bad.headers.get('tus-resumable')).toBe('1.0.0')
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    expect(bad.headers.get('upload-offset')).toBe('1000')
    expect(await bad.json()).toMatchObject({ status: 460, code: 'CHECKSUM_MISMATCH', errors: [{ path: 'header.upload-checksum' }] })
    expect(await headOffset(path)).toBe('1000')
    expect(await spillDigest(path)).toBe(await sha256(file.subarray(0, 1000)))
    // the upload is not locked by the refused PATCH
    const good = await patch(token, path, 1000, chunk, undefined, checked(uploadChecksum('md5', chunk)))
    expect(good.status).toBe(204)
    expect(good.headers.get('upload-offset')).toBe('2000')
    expect((await patch(token, path, 2000, file.subarray(2000))).status).toBe(204)
    expect(await objectDigest(path)).toBe(await sha256(file))
  })

  it('across a part boundary leaves parts and spill as they were (6 MiB spilled + 5 MiB, 8 MiB parts)', async () => {
    const file = fakeMp4(20 * MiB, 23)
    const { path, itemId } = await createTus(token, file.byteLength, { filetype: 'video/mp4' })
    expect((await patch(token, path, 0, file.subarray(0, 6 * MiB))).status).toBe(204)
    const before = await stateOf(path)
    expect(before).toMatchObject({ partsBytes: 0, spillLength: 6 * MiB, parts: [] })
    const spillBefore = await spillDigest(path)
    expect(spillBefore).toBe(await sha256(file.subarray(0, 6 * MiB)))

    const chunk = file.subarray(6 * MiB, 11 * MiB)
    // the corrupt byte lands in part 1 (6 MiB spilled + 2 MiB of this body), which reaches R2 unrecorded
    const bad = await patch(token, path, 6 * MiB, corrupted(chunk, MiB), chunk.byteLength, checked(uploadChecksum('sha256', chunk)))
    expect(bad.status).toBe(460)
    expect(await stateOf(path)).toMatchObject({ partsBytes: 0, spillLength: 6 * MiB, offset: 6 * MiB, parts: [] })
    expect(await spillDigest(path)).toBe(spillBefore)
    expect(await headOffset(path)).toBe(String(6 * MiB))
    expect(await env.DB.prepare('SELECT received_bytes FROM media_uploads WHERE id = ?').bind(idOf(path)).first('received_bytes')).toBe(6 * MiB)

    const good = await patch(token, path, 6 * MiB, chunk, chunk.byteLength, checked(uploadChecksum('sha256', chunk)))
    expect(good.status).toBe(204)
    expect(await stateOf(path)).toMatchObject({ partsBytes: 8 * MiB, spillLength: 3 * MiB, offset: 11 * MiB })
    expect(await spillDigest(path)).toBe(await sha256(file.subarray(8 * MiB, 11 * MiB)))

    // the completing PATCH refused too (its corrupt byte in part 2, in R2 before the digest was known):
    // the upload stays open, then completes exactly
    const rest = file.subarray(11 * MiB)
    const badEnd = await patch(token, path, 11 * MiB, corrupted(rest, 2 * MiB), rest.byteLength, checked(uploadChecksum('sha1', rest)))
    expect(badEnd.status).toBe(460)
    expect(await stateOf(path)).toMatchObject({ status: 'open', partsBytes: 8 * MiB, spillLength: 3 * MiB })
    expect(await itemRow(itemId)).toMatchObject({ status: 'uploading' })
    const end = await patch(token, path, 11 * MiB, rest, rest.byteLength, checked(uploadChecksum('sha1', rest)))
    expect(end.status).toBe(204)
    expect(end.headers.get('upload-offset')).toBe(String(file.byteLength))
    const done = await stateOf(path)
    expect(done.parts.map((p) => p.size)).toEqual([8 * MiB, 8 * MiB, 4 * MiB])
    expect(await objectDigest(path)).toBe(await sha256(file))
  })

  it('on a creation-with-upload POST: 460 with the Location of an upload at offset 0', async () => {
    const file = fakeJpeg(2000, 24)
    const res = await tus('POST', '/api/media/uploads/tus', {
      token,
      body: corrupted(file.subarray(0, 1000), 10),
      headers: {
        'upload-length': '2000',
        'upload-metadata': metadata({ filetype: 'image/jpeg' }),
        'content-type': 'application/offset+octet-stream',
        ...checked(uploadChecksum('sha1', file.subarray(0, 1000))),
      },
    })
    expect(res.status).toBe(460)
    expect(res.headers.get('upload-offset')).toBe('0')
    const path = res.headers.get('location')!
    expect(path).toMatch(/^\/api\/media\/uploads\/tus\/upl_/)
    expect(await headOffset(path)).toBe('0')
    expect((await patch(token, path, 0, file, undefined, checked(uploadChecksum('sha1', file)))).status).toBe(204)
    expect(await objectDigest(path)).toBe(await sha256(file))
  })
})

describe('header refusals', () => {
  it('400 naming the header for an algorithm we do not compute; nothing is read or appended', async () => {
    const file = fakeJpeg(1000, 25)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    for (const value of [`sha512 ${btoa('x'.repeat(64))}`, `crc32 ${btoa('abcd')}`, `SHA1 ${uploadChecksum('sha1', file).split(' ')[1]}`]) {
      const res = await patch(token, path, 0, file, undefined, checked(value))
      expect(res.status, value).toBe(400)
      expect(res.headers.get('tus-resumable')).toBe('1.0.0')
      const body = await res.json<{ detail: string; errors: unknown }>()
      expect(body.errors).toEqual([{ path: 'header.upload-checksum', message: expect.stringContaining('not supported') }])
    }
    expect(await headOffset(path)).toBe('0')
  })

  it('400 for a malformed header, on PATCH and on POST', async () => {
    const file = fakeJpeg(1000, 26)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    const good = uploadChecksum('sha1', file).split(' ')[1]!
    for (const value of ['sha1', `sha1  ${good}`, `sha1 ${good} extra`, 'sha1 not*base64', `sha1 ${btoa('short')}`, `md5 ${good}`]) {
      const res = await patch(token, path, 0, file, undefined, checked(value))
      expect(res.status, value).toBe(400)
      expect(await res.json()).toMatchObject({ errors: [{ path: 'header.upload-checksum' }] })
    }
    expect(await headOffset(path)).toBe('0')
    const post = await tus('POST', '/api/media/uploads/tus', {
      token,
      body: file,
      headers: { 'upload-length': '1000', 'upload-metadata': metadata({ filetype: 'image/jpeg' }), 'content-type': 'application/offset+octet-stream', 'upload-checksum': 'sha1 ???' },
    })
    expect(post.status).toBe(400)
    expect(post.headers.get('location')).toBeNull()
  })
})

describe('a checksummed PATCH that cannot be verified keeps nothing', () => {
  it('a broken stream: offset, parts and spill unchanged (an unchecked one keeps what arrived)', async () => {
    const file = fakeMp4(13 * MiB + 12345, 27)
    const { path } = await createTus(token, file.byteLength, { filetype: 'video/mp4' })
    expect((await patch(token, path, 0, file.subarray(0, 1 * MiB))).status).toBe(204)
    const rest = file.subarray(1 * MiB)
    // 10 MiB arrive (a whole part's worth past the spill), then the connection drops
    const broken = await patch(token, path, 1 * MiB, breakingStream(rest.subarray(0, 10 * MiB)), rest.byteLength, checked(uploadChecksum('sha1', rest)))
    expect(broken.status).toBe(400)
    expect(broken.headers.get('upload-offset')).toBe(String(1 * MiB))
    expect(await broken.json()).toMatchObject({ detail: expect.stringContaining('nothing of it was kept') })
    expect(await stateOf(path)).toMatchObject({ partsBytes: 0, spillLength: 1 * MiB, parts: [] })
    expect(await spillDigest(path)).toBe(await sha256(file.subarray(0, 1 * MiB)))
    expect(await headOffset(path)).toBe(String(1 * MiB))
    const again = await patch(token, path, 1 * MiB, rest, rest.byteLength, checked(uploadChecksum('sha1', rest)))
    expect(again.status).toBe(204)
    expect(await objectDigest(path)).toBe(await sha256(file))
  })

  it('bytes past the declared length: 413 and nothing appended', async () => {
    const file = fakeJpeg(1000, 28)
    const { path } = await createTus(token, file.byteLength, { filetype: 'image/jpeg' })
    expect((await patch(token, path, 0, file.subarray(0, 600))).status).toBe(204)
    const tooLong = new Uint8Array([...file.subarray(600), ...noise(600)])
    const res = await patch(token, path, 600, tooLong, undefined, checked(uploadChecksum('sha1', tooLong)))
    expect(res.status).toBe(413)
    expect(res.headers.get('upload-offset')).toBe('600')
    expect(await headOffset(path)).toBe('600')
    expect((await patch(token, path, 600, file.subarray(600), undefined, checked(uploadChecksum('sha1', file.subarray(600))))).status).toBe(204)
    expect(await objectDigest(path)).toBe(await sha256(file))
  })
})

describe('magic numbers still decide', () => {
  it('a PNG claiming image/jpeg is 415 and terminated, whatever its checksum', async () => {
    const png = noise(4096, 29)
    png.set(PNG_SIGNATURE, 0)
    const { path, itemId } = await createTus(token, png.byteLength, { filetype: 'image/jpeg' })
    const res = await patch(token, path, 0, png, undefined, checked(uploadChecksum('sha1', png)))
    expect(res.status).toBe(415)
    expect((await tus('HEAD', path, { token })).status).toBe(404)
    expect(await itemRow(itemId)).toMatchObject({ status: 'failed', status_reason: 'type_refused' })
  })

  it('the type sniffed from a refused body is not recorded; the verified resend records it', async () => {
    const file = fakeMp4(9 * MiB, 30)
    const { path } = await createTus(token, file.byteLength, { filetype: 'video/mp4' })
    const head = file.subarray(0, MiB)
    expect((await patch(token, path, 0, corrupted(head, 100), undefined, checked(uploadChecksum('md5', head)))).status).toBe(460)
    expect((await stateOf(path)).sniffedType).toBeNull()
    expect((await patch(token, path, 0, head, undefined, checked(uploadChecksum('md5', head)))).status).toBe(204)
    expect((await stateOf(path)).sniffedType).toBe('video/mp4')
  })
})

describe('MediaUpload batch commits', () => {
  it('records several parts at once, or none when one is not the next', async () => {
    const uploadId = newId('mediaUpload')
    const stub = mediaUploadStub(env, uploadId)
    const T0 = 1_800_000_000_000
    await stub.create({ uploadId, itemId: newId('mediaItem'), creatorId: 'crt_test', protocol: 'tus', objectKey: `k/${uploadId}`, r2UploadId: 'r2', claimedType: 'video/mp4', length: 20 * MiB, partSize: 8 * MiB, metadata: {}, idleMs: 3_600_000, nowMs: T0 })
    const begun = await stub.beginWrite(0, T0)
    if (!begun.ok) throw new Error(begun.code)
    const lease = begun.value.lease
    expect(await stub.renewLease(lease, T0 + 1)).toEqual({ ok: true, value: null })
    expect(
      await stub.commitParts(
        lease,
        [
          { partNumber: 1, etag: 'a', size: 8 * MiB },
          { partNumber: 3, etag: 'c', size: 8 * MiB },
        ],
        0,
        T0 + 2,
      ),
    ).toEqual({ ok: false, code: 'bad_part' })
    expect(await stub.state(T0 + 3)).toMatchObject({ ok: true, value: { partsBytes: 0, parts: [] } })
    expect(
      await stub.commitParts(
        lease,
        [
          { partNumber: 1, etag: 'a', size: 8 * MiB },
          { partNumber: 2, etag: 'b', size: 8 * MiB },
        ],
        0,
        T0 + 4,
      ),
    ).toEqual({ ok: true, value: { offset: 16 * MiB } })
    expect(await stub.endWrite(lease, MiB, T0 + 5)).toEqual({ ok: true, value: { offset: 17 * MiB } })
    // abandoning releases the lease and keeps the offset
    const second = await stub.beginWrite(17 * MiB, T0 + 6)
    if (!second.ok) throw new Error(second.code)
    expect(await stub.abandonWrite(second.value.lease, T0 + 7)).toEqual({ ok: true, value: { offset: 17 * MiB } })
    expect(await stub.renewLease(second.value.lease, T0 + 8)).toEqual({ ok: false, code: 'lease_lost' })
    expect((await stub.beginWrite(17 * MiB, T0 + 9)).ok).toBe(true)
  })
})
