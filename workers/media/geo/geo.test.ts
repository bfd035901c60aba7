import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { API, createCreator, type TestCreator } from '../delivery/test-support'
import { blockReason, geoBlocked } from './regions'

describe('blockReason', () => {
  const regions = ['DE', 'US-TX']
  it.each([
    ['DE', null, 'country'],
    ['DE', 'BY', 'country'],
    ['US', 'TX', 'subdivision'],
    ['US', 'CA', null],
    ['US', null, null],
    ['FR', null, null],
    // unknown places fail closed when anything is blocked
    [null, null, 'location_unknown'],
    ['XX', null, 'location_unknown'],
    ['T1', null, 'location_unknown'],
  ] as const)('%s-%s -> %s', (country, region, expected) => {
    expect(blockReason(regions, country, region)).toBe(expected)
  })

  it('blocks nothing, anywhere, for a creator without geo-blocks', () => {
    expect(blockReason([], null, null)).toBeNull()
    expect(blockReason([], 'T1', null)).toBeNull()
  })
})

describe('/api/media/geo-blocks', () => {
  let creator: TestCreator
  let other: TestCreator

  beforeAll(async () => {
    creator = await createCreator()
    other = await createCreator()
  })

  it('a creator replaces their list (normalised, deduplicated, sorted); it is audited with before and after', async () => {
    const put = await call(API, '/api/media/geo-blocks', { method: 'PUT', token: creator.token, body: { creator_id: creator.id, regions: ['us-tx', 'DE', 'DE', ' br '] } })
    expect(put.status).toBe(200)
    expect(put.headers.get('cache-control')).toBe('no-store')
    expect(await put.json()).toEqual({ creator_id: creator.id, regions: ['BR', 'DE', 'US-TX'] })
    expect(await geoBlocked(env, creator.id, 'US', 'TX')).toBe(true)
    expect(await geoBlocked(env, creator.id, 'US', 'CA')).toBe(false)

    const second = await call(API, '/api/media/geo-blocks', { method: 'PUT', token: creator.token, body: { creator_id: creator.id, regions: ['DE', 'FR'] } })
    expect(await second.json()).toEqual({ creator_id: creator.id, regions: ['DE', 'FR'] })
    const get = await call(API, `/api/media/geo-blocks?creator_id=${creator.id}`, { token: creator.token })
    expect(await get.json()).toEqual({ creator_id: creator.id, regions: ['DE', 'FR'] })

    const entries = await auditLog(env).list({ action: 'media.geo_blocks.update', subject: `creator:${creator.id}`, limit: 50 })
    expect(entries.map((e) => JSON.parse(e.details))).toEqual([
      { before: [], after: ['BR', 'DE', 'US-TX'], added: ['BR', 'DE', 'US-TX'], removed: [] },
      { before: ['BR', 'DE', 'US-TX'], after: ['DE', 'FR'], added: ['FR'], removed: ['BR', 'US-TX'] },
    ])
    expect(entries[0]!.actor).toBe(creator.userId)

    // the same list again changes nothing and records nothing
    await call(API, '/api/media/geo-blocks', { method: 'PUT', token: creator.token, body: { creator_id: creator.id, regions: ['FR', 'DE'] } })
    expect(await auditLog(env).list({ action: 'media.geo_blocks.update', subject: `creator:${creator.id}`, limit: 50 })).toHaveLength(2)
  })

  it('refuses codes that are not ISO 3166 shaped, naming each one', async () => {
    const res = await call(API, '/api/media/geo-blocks', { method: 'PUT', token: creator.token, body: { creator_id: creator.id, regions: ['DE', 'Germany', 'US-TEXAS', 'ZZ', '1A'] } })
    expect(res.status).toBe(422)
    const body = (await res.json()) as { errors: { path: string }[] }
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body.regions.1', 'body.regions.2', 'body.regions.3', 'body.regions.4'])
  })

  it("another creator's profile answers 404, as an unknown one", async () => {
    const put = await call(API, '/api/media/geo-blocks', { method: 'PUT', token: other.token, body: { creator_id: creator.id, regions: [] } })
    expect(put.status).toBe(404)
    const get = await call(API, `/api/media/geo-blocks?creator_id=${creator.id}`, { token: other.token })
    expect(get.status).toBe(404)
    expect(await geoBlocked(env, creator.id, 'DE', null)).toBe(true)
  })

  it('operators with media:read read any creator’s list; fans cannot', async () => {
    const moderator = await tokenFor(['moderator'])
    const res = await call(API, `/api/media/geo-blocks/${creator.id}`, { token: moderator })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ creator_id: creator.id, regions: ['DE', 'FR'] })
    expect((await call(API, `/api/media/geo-blocks/${creator.id}`, { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await call(API, `/api/media/geo-blocks/crt_nobody`, { token: moderator })).status).toBe(404)
    expect((await call(API, '/api/media/geo-blocks', { method: 'PUT', token: moderator, body: { creator_id: creator.id, regions: [] } })).status).toBe(403)
  })
})
