import { env } from 'cloudflare:workers'
import { md5 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import highContrast from '../../../../shared/data/pdq/images/bridge-mods/high-contrast.jpg?bytes'
import csv from '../../../../shared/data/pdq/expected-pdq-hashes.csv?raw'
import q0003 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0003.jpg?bytes'
import q0122 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import q0291 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0291.jpg?bytes'
import q0746 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0746.jpg?bytes'
import q1050 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg?bytes'
import q2821 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q2821.jpg?bytes'
import pen from '../../../../shared/data/pdq/images/reg-test-input/pen-and-coaster.png?bytes'
import chair from '../../../../shared/data/pdq/video/chair-19-sd-bar.mp4?bytes'
import { mediaKeys } from '../../../r2/keys'
import { hammingDistance } from '../pdq/pdq'
import { auditCount, casesOf, deactivate, deliver, hashList, ingest, itemState, processingItem, reviewOf } from '../moderation/fixtures'
import { FRAMES_PER_DELIVERY, ingestItem, ingestMessage, NEUTRAL_QUARANTINE_REASON } from './ingest'

const HOUR = 3_600_000

/** The published hash of a reference image (first row of the CSV for it with a hash). */
function published(image: string): { hex: string; quality: number | null } {
  for (const line of csv.split('\n').slice(1)) {
    const cols = line.split(',')
    if (cols[0] === image && /^[0-9a-f]{64}$/.test(cols[4] ?? '')) return { hex: cols[4]!, quality: cols[5] ? Number(cols[5]) : null }
  }
  throw new Error(`no published hash for ${image}`)
}

const BRIDGE = published('bridge-mods/aaa-orig.jpg')

describe('ingest of a real JPEG', () => {
  it('stores SHA-256, MD5 and a PDQ within 10 bits of the published hash, then queues it for review by its verdict', async () => {
    const id = await processingItem({ bytes: bridge, title: 'Golden gate at dusk' })
    const result = await ingest(id)
    expect(result.explicitAcks).toHaveLength(1)
    expect(result.retryMessages).toEqual([])

    const item = await itemState(id)
    expect(item.status).toBe('in_review')
    expect(item.sha256).toBe(bytesToHex(sha256(bridge)))
    expect(item.md5).toBe(bytesToHex(md5(bridge)))
    expect(item.pdq_hex).toMatch(/^[0-9a-f]{64}$/)
    const distance = hammingDistance(item.pdq_hex!, BRIDGE.hex)
    expect(distance).toBeLessThanOrEqual(10)
    expect(item.pdq_quality).toBeGreaterThanOrEqual(80)
    expect(item.width).toBeGreaterThan(0)
    expect(item.height).toBeGreaterThan(0)

    // the sandbox's hash-derived scores stay under the review threshold: allow -> priority 2, 24 h
    const classifier = JSON.parse(item.classifier_json!) as { verdict: string; model: string; scores: Record<string, number> }
    expect(classifier).toMatchObject({ verdict: 'allow', model: 'sandbox-classifier-v1' })
    expect(Object.keys(classifier.scores).sort()).toEqual(['illegal', 'minors', 'non_consent', 'violence'])
    const review = await reviewOf(id)
    expect(review).toMatchObject({ priority: 2, status: 'queued' })
    expect(review!.due_at_ms - review!.enqueued_at_ms).toBe(24 * HOUR)
    expect(await casesOf(id)).toEqual([])
    expect(await auditCount('media.item.classified', `media_item:${id}`)).toBe(1)
  })

  it('a redelivered message changes nothing', async () => {
    const id = await processingItem({ bytes: q0122 })
    await ingest(id)
    const first = await itemState(id)
    const firstReview = await reviewOf(id)
    const again = await deliver([{ body: ingestMessage(id) }, { body: ingestMessage(id) }])
    expect(again.explicitAcks).toHaveLength(2)
    expect(await itemState(id)).toEqual(first)
    expect(await reviewOf(id)).toEqual(firstReview)
    expect(await auditCount('media.item.classified', `media_item:${id}`)).toBe(1)
  })

  it('a truncated JPEG fails with the fingerprint’s code; an original that is not in R2 fails as missing', async () => {
    const id = await processingItem({ bytes: bridge.slice(0, Math.floor(bridge.length / 2)) })
    await ingest(id)
    const item = await itemState(id)
    expect(item).toMatchObject({ status: 'failed', status_reason: 'image_truncated' })
    expect(item.sha256).toBe(bytesToHex(sha256(bridge.slice(0, Math.floor(bridge.length / 2)))))
    expect(await reviewOf(id)).toBeNull()

    const gone = await processingItem({ bytes: q0291 })
    const row = await env.DB.prepare('SELECT original_key FROM media_items WHERE id = ?').bind(gone).first<{ original_key: string }>()
    await env.MEDIA.delete(row!.original_key)
    await ingest(gone)
    expect(await itemState(gone)).toMatchObject({ status: 'failed', status_reason: 'original_missing' })
  })

  it('an R2 error is not acked: the queue retries the message with backoff and the item stays processing', async () => {
    const id = await processingItem({ bytes: q0291 })
    // R2 refuses keys over 1024 bytes: a real R2 error on get, as an outage would raise
    await env.DB.prepare('UPDATE media_items SET original_key = ? WHERE id = ?').bind(`originals/${'x'.repeat(1100)}`, id).run()
    const result = await ingest(id)
    expect(result.explicitAcks).toEqual([])
    expect(result.retryMessages).toHaveLength(1)
    expect((await itemState(id)).status).toBe('processing')
  })

  it('a malformed payload is acked and dropped', async () => {
    const result = await deliver([{ body: { type: 'media.ingest', id: 'x', payload: { itemId: 'not-an-id' } } }])
    expect(result.explicitAcks).toHaveLength(1)
    expect(result.retryMessages).toEqual([])
  })
})

describe('hash-list matches', () => {
  it('a PDQ match on an NCII list quarantines the item with a critical case and a neutral reason', async () => {
    const list = await hashList('ncii', [{ kind: 'pdq', hash: BRIDGE.hex, ref: 'stopncii-case-1' }])
    try {
      // another edit of the same photo: not the same bytes, the same picture
      const id = await processingItem({ bytes: highContrast })
      await ingest(id)
      const item = await itemState(id)
      expect(item).toMatchObject({ status: 'quarantined', status_reason: NEUTRAL_QUARANTINE_REASON })
      expect(await reviewOf(id)).toBeNull()
      const cases = await casesOf(id)
      expect(cases).toHaveLength(1)
      expect(cases[0]).toMatchObject({ kind: 'hash_match', status: 'open', severity: 'critical', list_id: list, matched_hash: BRIDGE.hex })
      expect(cases[0]!.distance).toBeLessThanOrEqual(31)
      expect(JSON.parse(cases[0]!.details_json)).toMatchObject({ match_kind: 'pdq', source: 'ncii', ref: 'stopncii-case-1' })
      expect(await auditCount('media.item.quarantined', `media_item:${id}`)).toBe(1)

      // redelivery: still one case, one audit entry
      await ingest(id)
      expect(await casesOf(id)).toHaveLength(1)
      expect(await auditCount('media.item.quarantined', `media_item:${id}`)).toBe(1)
    } finally {
      await deactivate(list)
    }
  })

  it('an MD5 match on an illegal-content list quarantines a PNG', async () => {
    const list = await hashList('illegal_content', [{ kind: 'md5', hash: bytesToHex(md5(pen)) }])
    try {
      const id = await processingItem({ bytes: pen, mime: 'image/png' })
      await ingest(id)
      expect((await itemState(id)).status).toBe('quarantined')
      expect((await casesOf(id))[0]).toMatchObject({ kind: 'hash_match', severity: 'critical', distance: 0, matched_hash: bytesToHex(md5(pen)) })
    } finally {
      await deactivate(list)
    }
  })

  it('a low-quality PDQ is stored but never matched', async () => {
    const first = await processingItem({ bytes: q0003 })
    await ingest(first)
    const hashed = await itemState(first)
    expect(hashed.pdq_quality).toBeLessThan(50)
    const list = await hashList('manual', [{ kind: 'pdq', hash: hashed.pdq_hex! }])
    try {
      const second = await processingItem({ bytes: q0003 })
      await ingest(second)
      expect((await itemState(second)).status).toBe('in_review')
    } finally {
      await deactivate(list)
    }
  })
})

describe('classifier sandbox verdicts', () => {
  it('sandbox:block -> priority 0, due in 1 h, a critical classifier case; sandbox:review -> priority 1, 4 h', async () => {
    const blocked = await processingItem({ bytes: q0746, title: 'sandbox:block test' })
    const flagged = await processingItem({ bytes: q1050, tags: ['beach', 'sandbox:review'] })
    await deliver([{ body: ingestMessage(blocked) }, { body: ingestMessage(flagged) }])

    const b = await itemState(blocked)
    expect(b.status).toBe('in_review')
    expect(JSON.parse(b.classifier_json!)).toMatchObject({ verdict: 'block', scores: { minors: 0.97 } })
    const br = await reviewOf(blocked)
    expect(br!.priority).toBe(0)
    expect(br!.due_at_ms - br!.enqueued_at_ms).toBe(1 * HOUR)
    expect((await casesOf(blocked)).map((k) => [k.kind, k.severity, k.status])).toEqual([['classifier', 'critical', 'open']])

    const f = await itemState(flagged)
    expect(JSON.parse(f.classifier_json!)).toMatchObject({ verdict: 'review', scores: { non_consent: 0.55 } })
    const fr = await reviewOf(flagged)
    expect(fr!.priority).toBe(1)
    expect(fr!.due_at_ms - fr!.enqueued_at_ms).toBe(4 * HOUR)
    expect(await casesOf(flagged)).toEqual([])
  })
})

describe('video ingest', () => {
  it('stage 1 streams SHA-256 and MD5 (the published MD5 of the file) and waits for the packager’s frames', async () => {
    const id = await processingItem({ bytes: chair, kind: 'video', mime: 'video/mp4' })
    await ingest(id)
    const item = await itemState(id)
    expect(item).toMatchObject({ status: 'processing', status_reason: 'awaiting_frames', md5: '0a21c8f85a55a9e276ffc2c53f6887c4', sha256: bytesToHex(sha256(chair)) })
    expect(await reviewOf(id)).toBeNull()
  })

  it('stage frames hashes every keyframe, then classifier and review', async () => {
    const id = await processingItem({ bytes: chair, kind: 'video', mime: 'video/mp4' })
    await ingest(id)
    const stills = [q0122, q0291, q0746, q1050, q2821]
    for (let n = 0; n < stills.length; n++) await env.MEDIA.put(mediaKeys.frame(id, n), stills[n]!)
    await ingest(id, 'frames')
    const frames = (await env.DB.prepare('SELECT frame_index, time_ms, pdq_hex, quality FROM media_frame_hashes WHERE item_id = ? ORDER BY frame_index').bind(id).all<{ frame_index: number; time_ms: number; pdq_hex: string; quality: number }>()).results
    expect(stills.length).toBeLessThanOrEqual(FRAMES_PER_DELIVERY)
    expect(frames.map((f) => [f.frame_index, f.time_ms])).toEqual(stills.map((_, n) => [n, n * 1000]))
    for (const f of frames) expect(f.pdq_hex).toMatch(/^[0-9a-f]{64}$/)
    expect((await itemState(id)).status).toBe('in_review')
    expect(await reviewOf(id)).toMatchObject({ status: 'queued' })
  })

  it('a long video is hashed a chunk per delivery; each delivery resumes where the last stopped', async () => {
    const id = await processingItem({ bytes: chair, kind: 'video', mime: 'video/mp4' })
    const stills = [q0122, q0291, q0746, q1050, q2821]
    for (let n = 0; n < stills.length; n++) await env.MEDIA.put(mediaKeys.frame(id, n), stills[n]!)
    expect(await ingestItem(env, { itemId: id, stage: 'frames' }, { framesPerDelivery: 2 })).toEqual({ action: 'frames_pending', hashed: 2, remaining: 3 })
    const count = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM media_frame_hashes WHERE item_id = ?').bind(id).first<{ n: number }>())!.n
    // the continuation message may already have run the rest; either way no frame is hashed twice and the item ends in review
    const second = await ingestItem(env, { itemId: id, stage: 'frames' }, { framesPerDelivery: 2 })
    if (second.action === 'frames_pending') expect(second.hashed).toBeGreaterThanOrEqual(4)
    while ((await itemState(id)).status === 'processing') await ingestItem(env, { itemId: id, stage: 'frames' }, { framesPerDelivery: 2 })
    expect(await count()).toBe(5)
    expect((await itemState(id)).status).toBe('in_review')
  })

  it('one keyframe within 31 bits of a list entry quarantines the video', async () => {
    const list = await hashList('ncii', [{ kind: 'pdq', hash: BRIDGE.hex }])
    try {
      const id = await processingItem({ bytes: chair, kind: 'video', mime: 'video/mp4' })
      await env.MEDIA.put(mediaKeys.frame(id, 0), q2821)
      await env.MEDIA.put(mediaKeys.frame(id, 1), bridge)
      // frames before stage 1 ran: the frames stage digests the file first
      await ingest(id, 'frames')
      const item = await itemState(id)
      expect(item.status).toBe('quarantined')
      expect(item.md5).toBe('0a21c8f85a55a9e276ffc2c53f6887c4')
      expect((await casesOf(id))[0]).toMatchObject({ kind: 'hash_match', list_id: list, severity: 'critical' })
    } finally {
      await deactivate(list)
    }
  })
})

describe('dead letters', () => {
  it('an ingest message that exhausted its retries marks the item failed and records the operator case', async () => {
    const id = await processingItem({ bytes: q2821 })
    const result = await deliver([{ body: ingestMessage(id), attempts: 6 }], 'fanz-media-ingest-dlq')
    expect(result.explicitAcks).toHaveLength(1)
    expect(await itemState(id)).toMatchObject({ status: 'failed', status_reason: 'ingest_retries_exhausted' })
    const dead = await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE queue = 'fanz-media-ingest-dlq' AND body_json LIKE ?").bind(`%${id}%`).first<{ n: number }>()
    expect(dead!.n).toBe(1)
  })
})
