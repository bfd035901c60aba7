/**
 * Direct multipart uploads through the whole Worker: server-chosen part size, parts in any order,
 * exact part sizes, magic numbers on part 1, idempotent create and complete, the ingest message.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import { API, creatorToken, fakeMp4, itemRow, MiB, sha256 } from './test-support'

let token: string
beforeAll(async () => {
  token = await creatorToken()
})

const put = (id: string, n: number, bytes: Uint8Array) => call(API, `/api/media/uploads/multipart/${id}/parts/${n}`, { method: 'PUT', token, body: bytes, headers: { 'content-type': 'application/octet-stream' } })

describe('multipart uploads', () => {
  it('20 MiB in three parts sent out of order completes once, idempotently', async () => {
    const file = fakeMp4(20 * MiB + 5, 21)
    const key = `"${crypto.randomUUID()}"`
    const body = { type: 'video/mp4', size: file.byteLength, filename: 'clip.mp4', title: 'Clip' }
    const created = await call(API, '/api/media/uploads/multipart', { token, body, headers: { 'idempotency-key': key } })
    expect(created.status).toBe(201)
    const upload = (await created.json()) as { upload_id: string; item_id: string; part_size: number; part_count: number }
    expect(upload).toMatchObject({ part_size: 8 * MiB, part_count: 3 })
    const again = await call(API, '/api/media/uploads/multipart', { token, body, headers: { 'idempotency-key': key } })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(((await again.json()) as { upload_id: string }).upload_id).toBe(upload.upload_id)

    const wrong = await put(upload.upload_id, 2, file.subarray(8 * MiB, 16 * MiB - 1))
    expect(wrong.status).toBe(400)
    expect(await wrong.json()).toMatchObject({ errors: [{ path: 'body', message: `must be ${8 * MiB} bytes` }] })
    expect((await put(upload.upload_id, 4, file.subarray(0, 5))).status).toBe(400)

    expect((await put(upload.upload_id, 3, file.subarray(16 * MiB))).status).toBe(200)
    expect((await put(upload.upload_id, 1, file.subarray(0, 8 * MiB))).status).toBe(200)
    const early = await call(API, `/api/media/uploads/multipart/${upload.upload_id}/complete`, { method: 'POST', token })
    expect(early.status).toBe(409)
    expect(await early.json()).toMatchObject({ missing_parts: [2] })
    const two = await put(upload.upload_id, 2, file.subarray(8 * MiB, 16 * MiB))
    expect(await two.json()).toMatchObject({ parts_received: [{ part_number: 1 }, { part_number: 2 }, { part_number: 3 }], received_bytes: file.byteLength })

    const completeKey = `"${crypto.randomUUID()}"`
    const done = await call(API, `/api/media/uploads/multipart/${upload.upload_id}/complete`, { method: 'POST', token, headers: { 'idempotency-key': completeKey } })
    expect(done.status).toBe(200)
    expect(await done.json()).toMatchObject({ status: 'completed', received_bytes: file.byteLength })
    const replay = await call(API, `/api/media/uploads/multipart/${upload.upload_id}/complete`, { method: 'POST', token, headers: { 'idempotency-key': completeKey } })
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(replay.status).toBe(200)
    const plainAgain = await call(API, `/api/media/uploads/multipart/${upload.upload_id}/complete`, { method: 'POST', token })
    expect(plainAgain.status).toBe(200)

    const item = await itemRow(upload.item_id)
    expect(item).toMatchObject({ mime: 'video/mp4', size_bytes: file.byteLength })
    const object = await env.MEDIA.get(item!.original_key as string)
    expect(await sha256(await object!.arrayBuffer())).toBe(await sha256(file))
    const completions = await env.DB.prepare("SELECT COUNT(*) AS n FROM media_uploads WHERE id = ? AND status = 'completed'").bind(upload.upload_id).first('n')
    expect(completions).toBe(1)
  })

  it('a completed upload is handed to ingest through the queue', async () => {
    const photo = new Uint8Array(bridge)
    const created = await call(API, '/api/media/uploads/multipart', { token, body: { type: 'image/jpeg', size: photo.byteLength } })
    const upload = (await created.json()) as { upload_id: string; item_id: string }
    expect((await put(upload.upload_id, 1, photo)).status).toBe(200)
    expect((await call(API, `/api/media/uploads/multipart/${upload.upload_id}/complete`, { method: 'POST', token })).status).toBe(200)
    // the media.ingest message is delivered to the queue consumer: the item leaves `processing`
    // (ingest's verdict) or, should ingest fail for good, its message is recorded as a dead letter
    let outcome: string | undefined
    for (let i = 0; i < 80 && !outcome; i++) {
      const status = (await itemRow(upload.item_id))!.status as string
      const dead = await env.DB.prepare('SELECT COUNT(*) AS n FROM dead_letters WHERE body_json LIKE ?').bind(`%${upload.item_id}%`).first<number>('n')
      if (status !== 'processing') outcome = status
      else if (dead) outcome = 'dead_letter'
      else await new Promise((r) => setTimeout(r, 250))
    }
    expect(outcome, 'the ingest message reached the consumer').toBeDefined()
  }, 30_000)

  it('part 1 that is not what the type claims is refused with 415 and the upload terminated', async () => {
    const created = await call(API, '/api/media/uploads/multipart', { token, body: { type: 'image/jpeg', size: 2000 } })
    const upload = (await created.json()) as { upload_id: string; item_id: string }
    const res = await put(upload.upload_id, 1, new TextEncoder().encode('%PDF-1.7 '.repeat(223)).subarray(0, 2000))
    expect(res.status).toBe(415)
    const state = await call(API, `/api/media/uploads/multipart/${upload.upload_id}`, { token })
    expect(await state.json()).toMatchObject({ status: 'terminated' })
    expect(await itemRow(upload.item_id)).toMatchObject({ status: 'failed', status_reason: 'type_refused' })
  })

  it('abort discards the upload; limits and roles apply', async () => {
    const created = await call(API, '/api/media/uploads/multipart', { token, body: { type: 'video/webm', size: 6 * MiB } })
    const { upload_id: id } = (await created.json()) as { upload_id: string }
    expect((await call(API, `/api/media/uploads/multipart/${id}`, { method: 'DELETE', token })).status).toBe(204)
    expect(await (await call(API, `/api/media/uploads/multipart/${id}`, { token })).json()).toMatchObject({ status: 'terminated' })
    expect((await call(API, `/api/media/uploads/multipart/${id}/complete`, { method: 'POST', token })).status).toBe(404)

    const big = await call(API, '/api/media/uploads/multipart', { token, body: { type: 'image/jpeg', size: Number(env.MEDIA_MAX_IMAGE_BYTES) + 1 } })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ limit: 'MEDIA_MAX_IMAGE_BYTES', errors: [{ path: 'body.size' }] })
    const badType = await call(API, '/api/media/uploads/multipart', { token, body: { type: 'image/gif', size: 10 } })
    expect(badType.status).toBe(422)
    expect((await call(API, '/api/media/uploads/multipart', { token: await tokenFor(['moderator']), body: { type: 'image/jpeg', size: 10 } })).status).toBe(403)
    expect((await call(API, `/api/media/uploads/multipart/${id}`, { token: await tokenFor(['creator'], { subject: 'usr_01JOTHERCREATOR0000000000' }) })).status).toBe(404)
  })
})
