import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import shrinkALot from '../../../../shared/data/pdq/images/bridge-mods/shrink-a-lot.jpg?bytes'
import q0122 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import q0291 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0291.jpg?bytes'
import q0746 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0746.jpg?bytes'
import q1050 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg?bytes'
import q2821 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q2821.jpg?bytes'
import { mediaKeys } from '../../../r2/keys'
import { call, tokenFor } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import { decodeImage, encodeJpeg, resizeImage } from '../codecs'
import { hashIndex, matchHashes, PLATFORM_LIST_ID } from '../hashlists/match'
import { EVIDENCE_NOTE } from './cases'
import { ALEX_USER, auditCount, BOYFANZ, casesOf, deactivate, hashList, ingest, itemState, processingItem, reviewOf } from './fixtures'
import { sampleDepiction, samplePerformerRecord } from '../../vault/records/sample'

const API = 'api.localhost'
const MAINTAIN = 'records_maintenance; note="linking a performer to a media item in tests"'

let mod1: string
let mod2: string
let compliance: string
let creator: string
let otherCreator: string
let custodian: string
const MOD1 = newId('user')
const MOD2 = newId('user')
/** platform-list hashes this file adds (the HashIndex object outlives the file: taken out again in afterAll) */
const platformHashes: string[] = []

async function strong(roles: Role[], subject: string): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body: { roles, subject, amr: ['pwd', 'otp', 'mfa'] } })
  return ((await res.json()) as { access_token: string }).access_token
}

beforeAll(async () => {
  mod1 = await tokenFor(['moderator'], { subject: MOD1 })
  mod2 = await tokenFor(['moderator'], { subject: MOD2 })
  compliance = await tokenFor(['compliance_officer'], { subject: newId('user') })
  creator = await tokenFor(['creator'], { subject: ALEX_USER })
  otherCreator = await tokenFor(['creator'], { subject: newId('user') })
  custodian = await strong(['custodian'], newId('user'))
})

afterAll(async () => {
  if (platformHashes.length) await hashIndex(env).remove(PLATFORM_LIST_ID, platformHashes)
})

async function inReview(bytes: Uint8Array, options: { title?: string; tags?: string[]; mime?: string } = {}): Promise<string> {
  const id = await processingItem({ bytes, ...options })
  await ingest(id)
  expect((await itemState(id)).status).toBe('in_review')
  return id
}

const post = (path: string, token: string, body?: unknown) => call(API, `/api/media${path}`, { method: 'POST', token, ...(body === undefined ? {} : { body }) })

async function approved(bytes: Uint8Array): Promise<string> {
  const id = await inReview(bytes)
  expect((await post(`/review/${id}/claim`, mod1)).status).toBe(200)
  const res = await post(`/review/${id}/decision`, mod1, { decision: 'approve' })
  expect(res.status, await res.clone().text()).toBe(200)
  return id
}

interface QueueItem {
  item_id: string
  priority: number
  sla: string
  status: string
  claimed_by: string | null
  classifier: { verdict: string; scores: Record<string, number> } | null
  creator_name: string | null
  open_cases: number
}

async function queue(): Promise<QueueItem[]> {
  const res = await call(API, '/api/media/review?limit=200', { token: mod1 })
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-control')).toContain('no-store')
  return ((await res.json()) as { items: QueueItem[] }).items
}

describe('review queue', () => {
  let allow: string
  let review: string
  let block: string

  beforeAll(async () => {
    allow = await inReview(q0122)
    review = await inReview(q0291, { tags: ['sandbox:review'] })
    block = await inReview(q0746, { title: 'sandbox:block' })
  })

  it('lists most urgent first, with classifier scores, creator and SLA state', async () => {
    const mine = (await queue()).filter((q) => [allow, review, block].includes(q.item_id))
    expect(mine.map((q) => [q.item_id, q.priority, q.sla, q.classifier?.verdict])).toEqual([
      [block, 0, 'on_time', 'block'],
      [review, 1, 'on_time', 'review'],
      [allow, 2, 'on_time', 'allow'],
    ])
    expect(mine[0]!.classifier!.scores.minors).toBe(0.97)
    expect(mine[0]!.open_cases).toBe(1)
    expect(mine[0]!.creator_name).toBe('Alex Rivers')
  })

  it('reports at_risk under a quarter of the window left and breached past the due time', async () => {
    const now = Date.now()
    await env.DB.prepare('UPDATE media_reviews SET enqueued_at_ms = ?, due_at_ms = ? WHERE item_id = ?').bind(now - 4 * 3_600_000, now + 10 * 60_000, review).run()
    await env.DB.prepare('UPDATE media_reviews SET enqueued_at_ms = ?, due_at_ms = ? WHERE item_id = ?').bind(now - 25 * 3_600_000, now - 3_600_000, allow).run()
    const byId = new Map((await queue()).map((q) => [q.item_id, q]))
    expect(byId.get(review)!.sla).toBe('at_risk')
    expect(byId.get(allow)!.sla).toBe('breached')
  })

  it('a claim is exclusive for 15 minutes: another moderator gets 409 on claim and decision', async () => {
    const claim = await post(`/review/${review}/claim`, mod1)
    expect(claim.status).toBe(200)
    const until = new Date(((await claim.json()) as { claimed_until: string }).claimed_until).getTime()
    expect(until - Date.now()).toBeGreaterThan(14 * 60_000)
    expect(until - Date.now()).toBeLessThanOrEqual(15 * 60_000)
    const theirs = await post(`/review/${review}/claim`, mod2)
    expect(theirs.status).toBe(409)
    expect(await theirs.json()).toMatchObject({ code: 'CONFLICT', claimed_by: MOD1 })
    expect((await post(`/review/${review}/decision`, mod2, { decision: 'reject', reasons: ['other'] })).status).toBe(409)
    expect((await queue()).find((q) => q.item_id === review)).toMatchObject({ status: 'claimed', claimed_by: MOD1 })

    // an expired claim is free for the next moderator
    await env.DB.prepare('UPDATE media_reviews SET claimed_until_ms = ? WHERE item_id = ?').bind(Date.now() - 1, review).run()
    expect((await post(`/review/${review}/claim`, mod2)).status).toBe(200)
    expect((await post(`/review/${review}/claim`, mod1)).status).toBe(409)
  })

  it('a rejection needs reason codes (422 naming body.reasons) and records the first as the reason', async () => {
    const bare = await post(`/review/${review}/decision`, mod2, { decision: 'reject' })
    expect(bare.status).toBe(422)
    expect(((await bare.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain('body.reasons')
    const unknown = await post(`/review/${review}/decision`, mod2, { decision: 'reject', reasons: ['looks_bad'] })
    expect(unknown.status).toBe(422)
    const res = await post(`/review/${review}/decision`, mod2, { decision: 'reject', reasons: ['non_consensual', 'other'], note: 'no consent visible' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ item_id: review, status: 'rejected', decision: 'reject' })
    expect(await itemState(review)).toMatchObject({ status: 'rejected', status_reason: 'non_consensual' })
    expect(await reviewOf(review)).toMatchObject({ status: 'decided', decision: 'reject' })
    expect((await post(`/review/${review}/decision`, mod2, { decision: 'approve' })).status).toBe(409)
    expect(await auditCount('media.review.reject', `media_item:${review}`)).toBe(1)
  })

  it('an item with an open classifier case cannot be approved until compliance dismisses the case', async () => {
    const refused = await post(`/review/${block}/decision`, mod1, { decision: 'approve' })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({ open_cases: 1 })
    const [k] = await casesOf(block)
    expect((await post(`/cases/${k!.id}/resolve`, mod1, { resolution: 'dismissed', note: 'beach photo, adults' })).status).toBe(403)
    const resolved = await post(`/cases/${k!.id}/resolve`, compliance, { resolution: 'dismissed', note: 'beach photo, adults only' })
    expect(resolved.status).toBe(200)
    expect(await resolved.json()).toMatchObject({ case: { status: 'dismissed', kind: 'classifier' }, item_status: 'in_review' })
    const ok = await post(`/review/${block}/decision`, mod1, { decision: 'approve' })
    expect(ok.status).toBe(200)
    expect((await itemState(block)).status).toBe('approved')
  })

  it('escalation opens a case for compliance and keeps the item queued at priority 0, due within the hour', async () => {
    const res = await post(`/review/${allow}/decision`, mod1, { decision: 'escalate', reasons: ['minor_suspected'], note: 'age unclear' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { case_id: string; status: string }
    expect(body.status).toBe('in_review')
    const row = await reviewOf(allow)
    expect(row).toMatchObject({ status: 'queued', priority: 0, claimed_by: null })
    expect(row!.due_at_ms).toBeLessThanOrEqual(Date.now() + 3_600_000)
    const cases = await call(API, `/api/media/cases?kind=escalation&item_id=${allow}`, { token: compliance })
    expect(cases.status).toBe(200)
    const listed = ((await cases.json()) as { items: Array<{ id: string; severity: string; status: string; details: { reasons: string[] } }> }).items
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ id: body.case_id, severity: 'high', status: 'open', details: { reasons: ['minor_suspected'] } })

    // compliance confirms: the item is rejected and leaves the queue
    const confirmed = await post(`/cases/${body.case_id}/resolve`, compliance, { resolution: 'confirmed', note: 'performer could not be verified as an adult' })
    expect(confirmed.status).toBe(200)
    expect(await itemState(allow)).toMatchObject({ status: 'rejected', status_reason: 'compliance_confirmed' })
    expect((await queue()).some((q) => q.item_id === allow)).toBe(false)
  })

  it('roles: the queue is for moderators; cases for media:read; resolving for compliance', async () => {
    expect((await call(API, '/api/media/review', { token: creator })).status).toBe(403)
    expect((await call(API, '/api/media/review', { token: compliance })).status).toBe(403)
    expect((await call(API, '/api/media/review')).status).toBe(401)
    expect((await call(API, '/api/media/cases', { token: mod1 })).status).toBe(200)
    expect((await call(API, '/api/media/cases', { token: creator })).status).toBe(403)
  })
})

describe('hash-match cases', () => {
  it('confirmed keeps the quarantine and the evidence; dismissed sends the item to review', async () => {
    const list = await hashList('ncii', [{ kind: 'pdq', hash: 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22' }])
    try {
      const kept = await processingItem({ bytes: bridge })
      const freed = await processingItem({ bytes: bridge })
      await ingest(kept)
      await ingest(freed)
      expect((await itemState(kept)).status).toBe('quarantined')
      expect((await itemState(freed)).status).toBe('quarantined')

      const [k1] = await casesOf(kept)
      const r1 = await post(`/cases/${k1!.id}/resolve`, compliance, { resolution: 'confirmed', note: 'matches the reported image' })
      expect(r1.status).toBe(200)
      expect(((await r1.json()) as { case: { resolution_note: string } }).case.resolution_note).toContain(EVIDENCE_NOTE)
      expect((await itemState(kept)).status).toBe('quarantined')
      const key = (await env.DB.prepare('SELECT original_key FROM media_items WHERE id = ?').bind(kept).first<{ original_key: string }>())!.original_key
      expect(await env.MEDIA.head(key)).not.toBeNull()
      expect((await post(`/cases/${k1!.id}/resolve`, compliance, { resolution: 'dismissed', note: 'second thoughts' })).status).toBe(409)

      const [k2] = await casesOf(freed)
      const r2 = await post(`/cases/${k2!.id}/resolve`, compliance, { resolution: 'dismissed', note: 'false report: the uploader is the photographer' })
      expect(r2.status).toBe(200)
      expect(await r2.json()).toMatchObject({ item_status: 'in_review' })
      expect(await reviewOf(freed)).toMatchObject({ status: 'queued', priority: 1 })
      expect(await auditCount('media.case.resolve', `media_case:${k2!.id}`)).toBe(1)
    } finally {
      await deactivate(list)
    }
  })
})

async function createPerformer(): Promise<string> {
  const res = await call(API, '/api/vault/records/performers', {
    token: custodian,
    headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': `"${crypto.randomUUID()}"` },
    body: samplePerformerRecord(BOYFANZ, crypto.randomUUID().slice(0, 8)),
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

async function link(performerId: string, itemId: string): Promise<void> {
  const res = await call(API, `/api/vault/records/performers/${performerId}/media`, { token: custodian, headers: { 'vault-purpose': MAINTAIN }, body: sampleDepiction(itemId, BOYFANZ, 'Test scene') })
  expect(res.status, await res.clone().text()).toBe(201)
}

const addPerformer = (itemId: string, performerId: string) =>
  env.DB.prepare('INSERT INTO media_item_performers (item_id, performer_id, added_by, added_at_ms) VALUES (?, ?, ?, ?)').bind(itemId, performerId, ALEX_USER, Date.now()).run()

describe('publication', () => {
  it('needs an approved item and, for every performer, a 2257 record linked with consent and release', async () => {
    const pending = await inReview(q1050)
    expect((await post(`/items/${pending}/publish`, creator)).status).toBe(409)

    const id = await approved(q2821)
    const none = await post(`/items/${id}/publish`, creator)
    expect(none.status).toBe(409)
    expect(((await none.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['performers'])

    const ghost = newId('performer')
    await addPerformer(id, ghost)
    const noRecord = await post(`/items/${id}/publish`, creator)
    expect(noRecord.status).toBe(409)
    const body = (await noRecord.json()) as { detail: string; performers: Array<{ performer_id: string; lacks: string[] }>; errors: Array<{ path: string }> }
    expect(body.performers).toEqual([{ performer_id: ghost, lacks: ['record', 'media_link'] }])
    expect(body.errors.map((e) => e.path)).toEqual([`performers.${ghost}`])
    expect(body.detail).toContain(ghost)
    await env.DB.prepare('DELETE FROM media_item_performers WHERE item_id = ? AND performer_id = ?').bind(id, ghost).run()

    const performer = await createPerformer()
    await addPerformer(id, performer)
    const unlinked = await post(`/items/${id}/publish`, creator)
    expect(unlinked.status).toBe(409)
    expect(((await unlinked.json()) as { performers: unknown }).performers).toEqual([{ performer_id: performer, lacks: ['media_link'] }])

    await link(performer, id)
    expect((await post(`/items/${id}/publish`, otherCreator)).status).toBe(404)
    const ok = await post(`/items/${id}/publish`, creator)
    expect(ok.status, await ok.clone().text()).toBe(200)
    expect(await ok.json()).toMatchObject({ item_id: id, status: 'published' })
    const item = await itemState(id)
    expect(item.status).toBe('published')
    expect(item.published_at_ms).toBeGreaterThan(0)
    // publishing again answers the same, audited once
    expect((await post(`/items/${id}/publish`, creator)).status).toBe(200)
    expect(await auditCount('media.item.publish', `media_item:${id}`)).toBe(1)
    expect((await post(`/items/${id}/publish`, mod1)).status).toBe(403)
  })
})

describe('removal', () => {
  it('a DMCA removal puts the hashes on the platform list, deletes marked copies, keeps the original', async () => {
    const id = await approved(q0122)
    const before = await itemState(id)
    await env.MEDIA.put(mediaKeys.markedCopy(id, 7), new Uint8Array([1, 2, 3]))
    await env.MEDIA.put(mediaKeys.markedCopy(id, 8), new Uint8Array([4, 5, 6]))
    expect((await post(`/items/${id}/remove`, mod1, { reason: 'dmca', reference: 'DMCA-1' })).status).toBe(403)
    expect((await post(`/items/${id}/remove`, creator, { reason: 'dmca', reference: 'DMCA-1' })).status).toBe(403)
    const res = await post(`/items/${id}/remove`, compliance, { reason: 'dmca', reference: 'DMCA-2026-0042', note: 'notice from the rights holder' })
    expect(res.status, await res.clone().text()).toBe(200)
    if (before.pdq_hex) platformHashes.push(before.pdq_hex)
    platformHashes.push(before.md5!)
    expect(await res.json()).toEqual({ item_id: id, status: 'removed', marked_copies_deleted: 2 })
    expect(await itemState(id)).toMatchObject({ status: 'removed', status_reason: 'dmca' })
    const prefix = mediaKeys.markedCopy(id, 0).replace(/[^/]+$/, '')
    expect((await env.MEDIA.list({ prefix })).objects).toEqual([])
    const key = (await env.DB.prepare('SELECT original_key FROM media_items WHERE id = ?').bind(id).first<{ original_key: string }>())!.original_key
    expect(await env.MEDIA.head(key)).not.toBeNull()

    const matches = await matchHashes(env, { pdq: [before.pdq_hex!], md5: before.md5 })
    const platform = matches.filter((m) => m.listId === PLATFORM_LIST_ID)
    expect(platform.map((m) => [m.kind, m.distance, m.ref]).sort()).toEqual([
      ['md5', 0, id],
      ['pdq', 0, id],
    ])
    expect(await auditCount('media.item.remove', `media_item:${id}`)).toBe(1)
  })

  it('the creator withdraws consent for their own item only', async () => {
    const id = await approved(q1050)
    const before = await itemState(id)
    expect((await post(`/items/${id}/withdraw-consent`, otherCreator, {})).status).toBe(404)
    const res = await post(`/items/${id}/withdraw-consent`, creator, { note: 'I no longer consent' })
    expect(res.status).toBe(200)
    if (before.pdq_hex) platformHashes.push(before.pdq_hex)
    platformHashes.push(before.md5!)
    expect(await itemState(id)).toMatchObject({ status: 'removed', status_reason: 'consent_withdrawn' })
  })

  it('ACCEPTANCE: after a DMCA removal, a re-upload of the picture re-encoded at q70 and resized to 60% is quarantined as a re-upload', async () => {
    const original = await approved(bridge)
    const hashes = await itemState(original)
    expect(hashes.pdq_quality).toBeGreaterThanOrEqual(50)
    const removed = await post(`/items/${original}/remove`, compliance, { reason: 'dmca', reference: 'DMCA-2026-0100' })
    expect(removed.status).toBe(200)
    platformHashes.push(hashes.pdq_hex!, hashes.md5!)

    const pixels = await decodeImage(shrinkALot.slice().buffer, 'image/jpeg')
    const smaller = await resizeImage(pixels, Math.round(pixels.width * 0.6), Math.round(pixels.height * 0.6))
    const reencoded = await encodeJpeg(smaller, 70)
    const again = await processingItem({ bytes: reencoded, title: 'totally new upload' })
    await ingest(again)
    const item = await itemState(again)
    expect(item).toMatchObject({ status: 'quarantined', status_reason: 'held_for_compliance_review' })
    const cases = await casesOf(again)
    expect(cases).toHaveLength(1)
    expect(cases[0]).toMatchObject({ kind: 'reupload', severity: 'high', list_id: PLATFORM_LIST_ID, matched_hash: hashes.pdq_hex })
    expect(cases[0]!.distance).toBeLessThanOrEqual(31)
    expect(JSON.parse(cases[0]!.details_json)).toMatchObject({ ref: original, source: 'platform_removed', match_kind: 'pdq' })

    // the exact same file again: refused by its MD5 (and PDQ) too
    const copy = await processingItem({ bytes: bridge })
    await ingest(copy)
    expect((await itemState(copy)).status).toBe('quarantined')
    expect((await casesOf(copy))[0]).toMatchObject({ kind: 'reupload' })
  })
})
