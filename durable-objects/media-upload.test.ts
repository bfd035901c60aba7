/**
 * MediaUpload over RPC: the write lease serialises tus PATCHes, offsets must match, parts must be
 * the next one and of the upload's part size, a finished upload takes nothing more, the expiry
 * sweep respects activity. (No R2 here: the object only keeps the state the Worker reports.)
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newId } from '../workers/lib/ids'
import { LEASE_MS, mediaUploadStub, type UploadInit } from './media-upload'

const MiB = 1024 * 1024
const T0 = 1_800_000_000_000

function init(overrides: Partial<UploadInit> = {}): UploadInit {
  const uploadId = newId('mediaUpload')
  return {
    uploadId,
    itemId: newId('mediaItem'),
    creatorId: 'crt_test',
    protocol: 'tus',
    objectKey: `originals/boyfanz/crt_test/${uploadId}`,
    r2UploadId: 'r2-upload',
    claimedType: 'video/mp4',
    length: 20 * MiB,
    partSize: 8 * MiB,
    metadata: { filetype: 'video/mp4' },
    idleMs: 3_600_000,
    nowMs: T0,
    ...overrides,
  }
}

describe('MediaUpload', () => {
  it('creates once', async () => {
    const args = init()
    const stub = mediaUploadStub(env, args.uploadId)
    expect((await stub.create(args)).ok).toBe(true)
    expect(await stub.create(args)).toEqual({ ok: false, code: 'exists' })
    expect(await mediaUploadStub(env, newId('mediaUpload')).state(T0)).toEqual({ ok: false, code: 'not_found' })
  })

  it('one writer at a time; the offset must match; a lapsed lease can be taken over and the old writer records nothing', async () => {
    const args = init()
    const stub = mediaUploadStub(env, args.uploadId)
    await stub.create(args)
    const first = await stub.beginWrite(0, T0)
    if (!first.ok) throw new Error(first.code)
    expect(await stub.beginWrite(0, T0 + 1)).toMatchObject({ ok: false, code: 'locked' })
    expect(await stub.commitPart(first.value.lease, { partNumber: 1, etag: 'e1', size: 8 * MiB }, 0, T0 + 2)).toEqual({ ok: true, value: { offset: 8 * MiB } })
    // not the next part, or not the part size
    expect(await stub.commitPart(first.value.lease, { partNumber: 3, etag: 'e3', size: 8 * MiB }, 0, T0 + 3)).toEqual({ ok: false, code: 'bad_part' })
    expect(await stub.commitPart(first.value.lease, { partNumber: 2, etag: 'e2', size: 7 * MiB }, 0, T0 + 3)).toEqual({ ok: false, code: 'bad_part' })
    // a spill as large as a part is a bug in the writer
    expect(await stub.endWrite(first.value.lease, 8 * MiB, T0 + 4)).toEqual({ ok: false, code: 'bad_part' })
    expect(await stub.endWrite(first.value.lease, 3 * MiB, T0 + 4)).toEqual({ ok: true, value: { offset: 11 * MiB } })

    expect(await stub.beginWrite(8 * MiB, T0 + 5)).toMatchObject({ ok: false, code: 'offset_mismatch', state: { offset: 11 * MiB } })
    const second = await stub.beginWrite(11 * MiB, T0 + 5)
    if (!second.ok) throw new Error(second.code)
    // the writer dies; after LEASE_MS another may write, and the dead one's late report is refused
    const third = await stub.beginWrite(11 * MiB, T0 + 6 + LEASE_MS)
    if (!third.ok) throw new Error(third.code)
    expect(await stub.endWrite(second.value.lease, 4 * MiB, T0 + 7 + LEASE_MS)).toEqual({ ok: false, code: 'lease_lost' })
    expect(await stub.commitPart(third.value.lease, { partNumber: 2, etag: 'e2', size: 8 * MiB }, 3 * MiB, T0 + 8 + LEASE_MS)).toEqual({ ok: true, value: { offset: 19 * MiB } })
    // the final part may be shorter
    expect(await stub.commitPart(third.value.lease, { partNumber: 3, etag: 'e3', size: 4 * MiB }, 0, T0 + 9 + LEASE_MS)).toEqual({ ok: true, value: { offset: 20 * MiB } })
    const done = await stub.markCompleted(T0 + 10 + LEASE_MS)
    if (!done.ok) throw new Error(done.code)
    expect(done.value.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 8 * MiB],
      [2, 8 * MiB],
      [3, 4 * MiB],
    ])
    expect(await stub.beginWrite(20 * MiB, T0 + 11 + LEASE_MS)).toMatchObject({ ok: false, code: 'completed' })
    expect(await stub.markTerminated(T0 + 12 + LEASE_MS)).toMatchObject({ ok: false, code: 'completed' })
  })

  it('expires only when idle past its expiry; activity moves the expiry', async () => {
    const args = init({ idleMs: 1000 })
    const stub = mediaUploadStub(env, args.uploadId)
    await stub.create(args)
    const begun = await stub.beginWrite(0, T0 + 900)
    if (!begun.ok) throw new Error(begun.code)
    await stub.endWrite(begun.value.lease, 10, T0 + 950)
    expect(await stub.expireIfIdle(T0 + 1500)).toMatchObject({ ok: false, code: 'not_open', state: { status: 'open', expiresAtMs: T0 + 1950 } })
    expect(await stub.state(T0 + 1950)).toMatchObject({ ok: true, value: { status: 'expired' } })
    expect(await stub.beginWrite(10, T0 + 2000)).toMatchObject({ ok: false, code: 'expired' })
    expect(await stub.expireIfIdle(T0 + 2000)).toMatchObject({ ok: true, value: { status: 'expired' } })
  })

  it('multipart parts are recorded by number, replaced when sent again, and summed', async () => {
    const args = init({ protocol: 'multipart' })
    const stub = mediaUploadStub(env, args.uploadId)
    await stub.create(args)
    await stub.recordPart({ partNumber: 3, etag: 'a', size: 4 * MiB }, T0)
    await stub.recordPart({ partNumber: 1, etag: 'b', size: 8 * MiB }, T0)
    const again = await stub.recordPart({ partNumber: 1, etag: 'c', size: 8 * MiB }, T0)
    expect(again).toMatchObject({ ok: true, value: { offset: 12 * MiB, parts: [{ partNumber: 1, etag: 'c' }, { partNumber: 3 }] } })
  })

  it('a deferred length is set once', async () => {
    const args = init({ length: null })
    const stub = mediaUploadStub(env, args.uploadId)
    await stub.create(args)
    expect(await stub.setLength(1234, T0)).toEqual({ ok: true, value: null })
    expect(await stub.setLength(99, T0)).toEqual({ ok: false, code: 'length_known' })
  })
})
