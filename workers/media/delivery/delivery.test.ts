/**
 * Signed delivery through the whole Worker: who gets a URL (creator, subscriber, public item,
 * previews, removed/quarantined items, age gate, creators' geo-blocks), what a URL is good for at
 * fetch time (forged, expired, removed since, used from a blocked place).
 */
import { env } from 'cloudflare:workers'
import square from '../../../../shared/data/pdq/images/bridge-mods/square-256x256.jpg?bytes'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, cf, tokenFor } from '../../../test/helpers'
import { deliveryPath } from './api'
import { signDeliveryToken } from './token'
import { API, createCreator, createItem, issue, pathOf, setStatus, subscribe, viewer, type TestCreator } from './test-support'

const DAY = 86_400_000

async function blockRegions(creator: TestCreator, regions: string[]): Promise<void> {
  const res = await call(API, '/api/media/geo-blocks', { method: 'PUT', token: creator.token, body: { creator_id: creator.id, regions } })
  expect(res.status).toBe(200)
}

describe('POST /api/media/items/{id}/delivery: who gets a URL', () => {
  let creator: TestCreator
  let item: string

  beforeAll(async () => {
    creator = await createCreator()
    item = await createItem(creator)
  })

  it('the creator: an image URL on the host asked, valid MEDIA_DELIVERY_TTL_SECONDS, never cached', async () => {
    const before = Date.now()
    const res = await issue(item, creator.token)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body.kind).toBe('image')
    expect(res.body.item_id).toBe(item)
    expect(res.body.url).toMatch(/^http:\/\/api\.localhost\/api\/media\/delivery\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    const ttlMs = Date.parse(res.body.expires_at!) - before
    expect(ttlMs).toBeGreaterThan(298_000)
    expect(ttlMs).toBeLessThanOrEqual(300_000)
    // on a brand host the URL is that host's: same origin as the page showing it
    const onBrand = await issue(item, creator.token, undefined, 'boyfanz.localhost')
    expect(onBrand.body.url).toMatch(/^http:\/\/boyfanz\.localhost\/api\/media\/delivery\//)
  })

  it('the creator’s own copies carry the creator’s mark (viewer null); a viewer’s carry theirs, one per viewer', async () => {
    const fan = await viewer()
    await subscribe(fan.userId, creator.id, 'active', Date.now() + 30 * DAY)
    await issue(item, creator.token)
    await issue(item, fan.token)
    await issue(item, fan.token)
    const { results } = await env.DB.prepare('SELECT viewer_id, kind FROM media_marks WHERE item_id = ? ORDER BY serial').bind(item).all()
    expect(results).toEqual([
      { viewer_id: null, kind: 'image' },
      { viewer_id: fan.userId, kind: 'image' },
    ])
  })

  it('subscribers whose paid period is running; not once it is over; never other fans', async () => {
    const active = await viewer()
    await subscribe(active.userId, creator.id, 'active', Date.now() + 10 * DAY)
    expect((await issue(item, active.token)).status).toBe(200)

    // cancelled keeps access until the paid period ends (what the brand site shows as "Subscribed until")
    const cancelled = await viewer()
    await subscribe(cancelled.userId, creator.id, 'cancelled', Date.now() + DAY)
    expect((await issue(item, cancelled.token)).status).toBe(200)

    const lapsed = await viewer()
    await subscribe(lapsed.userId, creator.id, 'active', Date.now() - 1000)
    const expired = await viewer()
    await subscribe(expired.userId, creator.id, 'expired', Date.now() + DAY)
    const elsewhere = await viewer()
    await subscribe(elsewhere.userId, (await createCreator()).id, 'active', Date.now() + DAY)
    const stranger = await viewer()
    for (const fan of [lapsed, expired, elsewhere, stranger]) {
      const res = await issue(item, fan.token)
      expect(res.status).toBe(403)
      expect(res.body).toMatchObject({ code: 'FORBIDDEN', reason: 'subscription_required' })
    }
  })

  it('a public item: any signed-in account; nobody without a token', async () => {
    const teaser = await createItem(creator, { access: 'public' })
    expect((await issue(teaser, (await viewer()).token)).status).toBe(200)
    expect((await issue(teaser, undefined)).status).toBe(401)
  })

  it('unpublished items: 404 to fans, a preview for the creator and media:read; nothing before review', async () => {
    const fan = await viewer()
    await subscribe(fan.userId, creator.id, 'active', Date.now() + DAY)
    const moderator = await viewer(['moderator', 'fan'])
    for (const status of ['in_review', 'approved', 'rejected'] as const) {
      const draft = await createItem(creator, { status })
      expect((await issue(draft, fan.token)).status).toBe(404)
      expect((await issue(draft, creator.token)).status).toBe(200)
      expect((await issue(draft, moderator.token)).status).toBe(200)
    }
    for (const status of ['uploading', 'processing', 'quarantined', 'failed'] as const) {
      const pending = await createItem(creator, { status })
      expect((await issue(pending, fan.token)).status).toBe(404)
      const own = await issue(pending, creator.token)
      expect(own.status).toBe(409)
      expect(own.body.detail).toContain(status)
    }
  })

  it('removed items are gone for everyone; unknown items 404; malformed ids 400', async () => {
    const gone = await createItem(creator, { status: 'removed' })
    expect((await issue(gone, creator.token)).status).toBe(410)
    expect((await issue(gone, (await viewer()).token)).status).toBe(410)
    expect((await issue('med_01JNOSUCHITEM0000000000000', creator.token)).status).toBe(404)
    expect((await issue('not-an-id', creator.token)).status).toBe(400)
  })

  it('videos: the HLS playlist URL once packaged; 409 before', async () => {
    const video = await createItem(creator, { kind: 'video', hlsSegments: 12 })
    const res = await issue(video, creator.token)
    expect(res.status).toBe(200)
    expect(res.body.kind).toBe('hls')
    expect(res.body.url).toMatch(/\/api\/media\/delivery\/[A-Za-z0-9_.-]+\/hls\/playlist\.m3u8$/)
    const raw = await createItem(creator, { kind: 'video', hlsSegments: null })
    expect((await issue(raw, creator.token)).status).toBe(409)
    const { results } = await env.DB.prepare('SELECT kind FROM media_marks WHERE item_id = ?').bind(video).all()
    expect(results).toEqual([{ kind: 'ab' }])
  })

  it('age-verification law: the same 403 as the brand proxy without the age_verified claim', async () => {
    const teaser = await createItem(creator, { access: 'public' })
    const plain = await viewer()
    const res = await issue(teaser, plain.token, cf('US', 'TX'))
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ code: 'FORBIDDEN', jurisdiction: 'US-TX', age_gate: '/' })
    const verified = await viewer(['fan'], { age_verified: true })
    expect((await issue(teaser, verified.token, cf('US', 'TX'))).status).toBe(200)
    // an unknown place fails closed
    expect((await issue(teaser, plain.token, cf('XX'))).status).toBe(403)
  })
})

describe('creators’ geo-blocks at issue time', () => {
  let creator: TestCreator
  let item: string
  let fan: { userId: string; token: string }

  beforeAll(async () => {
    creator = await createCreator()
    item = await createItem(creator, { access: 'public' })
    fan = await viewer(['fan'], { age_verified: true })
    await blockRegions(creator, ['DE', 'US-TX'])
  })

  it.each([
    [cf('DE', 'BE', 'EU'), 'country'],
    [cf('US', 'TX'), 'subdivision'],
    [cf('T1'), 'location_unknown'],
  ])('451 naming the reason (%#)', async (place, match) => {
    const res = await issue(item, fan.token, place)
    expect(res.status).toBe(451)
    expect(res.body).toMatchObject({ code: 'BLOCKED_JURISDICTION', reason: 'creator_geo_block', match })
  })

  it('elsewhere the URL is issued; the creator is not hidden from themself', async () => {
    expect((await issue(item, fan.token, cf('US', 'CA'))).status).toBe(200)
    expect((await issue(item, fan.token, cf('FR', undefined, 'EU'))).status).toBe(200)
    const own = await call(API, `/api/media/items/${item}/delivery`, { method: 'POST', token: await tokenFor(['creator', 'fan'], { subject: creator.userId, age_verified: true }), cf: cf('DE', 'BE', 'EU') })
    expect(own.status).toBe(200)
  })
})

describe('GET /api/media/delivery/{token}: what a URL is still good for', () => {
  let creator: TestCreator
  let fan: { userId: string; token: string }

  beforeAll(async () => {
    creator = await createCreator()
    fan = await viewer(['fan'], { age_verified: true })
    await subscribe(fan.userId, creator.id, 'active', Date.now() + DAY)
  })

  async function urlFor(itemId: string, place = cf('US', 'CA')): Promise<string> {
    const res = await issue(itemId, fan.token, place)
    expect(res.status).toBe(200)
    return pathOf(res.body.url!)
  }

  it('a forged token is 403, a malformed one 400, an expired one 410', async () => {
    const item = await createItem(creator)
    const path = await urlFor(item)
    const [body, mac] = path.split('/').pop()!.split('.') as [string, string]
    const flipped = `${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await call(API, `/api/media/delivery/${body}.${flipped}`)).status).toBe(403)
    // a claim changed to another viewer's id without the key: the MAC no longer matches
    const claims = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
    const forgedBody = btoa(JSON.stringify({ ...claims, u: 'usr_someoneelse' })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    expect((await call(API, `/api/media/delivery/${forgedBody}.${mac}`)).status).toBe(403)
    expect((await call(API, '/api/media/delivery/garbage')).status).toBe(400)
    const expired = await signDeliveryToken(env, { v: 1, i: item, u: fan.userId, s: 1, k: 'image', e: Math.floor(Date.now() / 1000) - 5 })
    const res = await call(API, deliveryPath(expired, 'image'))
    expect(res.status).toBe(410)
    expect(((await res.json()) as { code: string }).code).toBe('GONE')
  })

  it('an item removed (or quarantined) after the URL was issued is not served', async () => {
    const removed = await createItem(creator)
    const path = await urlFor(removed)
    await setStatus(removed, 'removed')
    expect((await call(API, path)).status).toBe(410)
    const quarantined = await createItem(creator)
    const qPath = await urlFor(quarantined)
    await setStatus(quarantined, 'quarantined')
    expect((await call(API, qPath)).status).toBe(404)
  })

  it('a URL issued in one country and used in a blocked one is refused with 451, also when the block came after', async () => {
    const blocker = await createCreator()
    const item = await createItem(blocker, { access: 'public' })
    await blockRegions(blocker, ['DE'])
    const path = await urlFor(item, cf('US', 'CA'))
    const res = await call(API, path, { cf: cf('DE', 'BE', 'EU') })
    expect(res.status).toBe(451)
    expect(await res.json()).toMatchObject({ reason: 'creator_geo_block', match: 'country' })

    const later = await createItem(blocker, { access: 'public' })
    const frPath = await urlFor(later, cf('FR', undefined, 'EU'))
    await blockRegions(blocker, ['DE', 'FR'])
    expect((await call(API, frPath, { cf: cf('FR', undefined, 'EU') })).status).toBe(451)
  })

  it('a URL issued in an ungated country to an unverified viewer is not honoured in a gated one without the viewer’s verified session', async () => {
    const item = await createItem(creator, { access: 'public' })
    const unverified = await issue(item, (await viewer()).token, cf('US', 'CA'))
    expect(unverified.status).toBe(200)
    const path = pathOf(unverified.body.url!)
    const res = await call(API, path, { cf: cf('GB', undefined, 'EU') })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ jurisdiction: 'GB', age_gate: '/' })
  })

  it('within one country, a URL issued in an ungated state is not honoured in a gated one unless the viewer was verified when it was issued', async () => {
    const item = await createItem(creator, { access: 'public', original: square })
    const plain = await issue(item, (await viewer()).token, cf('US', 'CA'))
    expect(plain.status).toBe(200)
    const unverified = pathOf(plain.body.url!)
    const refused = await call(API, unverified, { cf: cf('US', 'TX') })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ jurisdiction: 'US-TX', age_gate: '/' })
    const verified = await urlFor(item, cf('US', 'CA'))
    const served = await call(API, verified, { cf: cf('US', 'TX') })
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe('image/jpeg')
  })

  it('a video URL is not an image URL', async () => {
    const video = await createItem(creator, { kind: 'video', hlsSegments: 3 })
    const res = await issue(video, fan.token)
    const token = pathOf(res.body.url!).split('/')[4]!
    expect((await call(API, `/api/media/delivery/${token}`)).status).toBe(404)
  })
})
