/**
 * Media items through the whole Worker: metadata changes (audited, validated), performers from the
 * vault's records, full-text search with filters and hostile input, paging, who sees what, deletion
 * rules, quotas.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { newId } from '../../lib/ids'
import { ALEX_CREATOR, API, createTus, creatorToken } from '../uploads/test-support'

let alex: string
let other: string
const OTHER_USER = 'usr_01JOTHERCREATOR0000000000'
const OTHER_CREATOR = 'crt_01JOTHERCREATOR0000000000'
const items: Record<string, string> = {}

interface Item {
  id: string
  title: string
  tags: string[]
  status: string
  performers: Array<{ performer_id: string }>
}

const patchItem = (id: string, body: unknown, token = alex) => call(API, `/api/media/items/${id}`, { method: 'PATCH', token, body })
const list = async (query: string, token = alex) => {
  const res = await call(API, `/api/media/items${query}`, { token })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as { items: Item[]; next_cursor: string | null }
}

beforeAll(async () => {
  alex = await creatorToken()
  // a second creator (GirlFanz) with an item of their own
  await env.DB.prepare("INSERT INTO creators (id, brand_id, handle, display_name, created_at_ms, user_id) VALUES (?, 'brd_01JFANZ0000000000000000002', 'other-items', 'Other', 0, ?)").bind(OTHER_CREATOR, OTHER_USER).run()
  other = await creatorToken(OTHER_USER)
  items.beach = (await createTus(alex, 1000, { filetype: 'image/jpeg', title: 'Sunset at the beach' })).itemId
  items.studio = (await createTus(alex, 5000, { filetype: 'video/mp4', title: 'Studio session' })).itemId
  items.gym = (await createTus(alex, 1000, { filetype: 'image/png', title: 'Gym mirror' })).itemId
  items.others = (await createTus(other, 1000, { filetype: 'image/jpeg', title: 'Sunset elsewhere' })).itemId
})

describe('metadata', () => {
  it('PATCH changes title, description, tags and access, audited with before and after', async () => {
    const res = await patchItem(items.beach!, { description: 'Golden hour on the pier', tags: ['beach', 'golden-hour'], access: 'public' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: items.beach, title: 'Sunset at the beach', description: 'Golden hour on the pier', tags: ['beach', 'golden-hour'], access: 'public', status: 'uploading' })
    const audit = (await (await call(API, `/api/compliance/audit?action=media.item.update&subject=${encodeURIComponent(`media_item:${items.beach}`)}`, { token: await tokenFor(['admin']) })).json()) as {
      items: Array<{ details: { before: Record<string, unknown>; after: Record<string, unknown> } }>
    }
    expect(audit.items.at(-1)!.details).toEqual({
      before: { description: '', tags: [], access: 'subscribers' },
      after: { description: 'Golden hour on the pier', tags: ['beach', 'golden-hour'], access: 'public' },
    })
  })

  it('refuses bad fields with 422 naming them', async () => {
    const res = await patchItem(items.beach!, { title: 'x'.repeat(201), tags: ['Beach'], extra: 1 })
    expect(res.status).toBe(422)
    const paths = ((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()
    expect(paths).toEqual(['body.extra', 'body.tags.0', 'body.title'])
    expect((await patchItem(items.beach!, { tags: Array.from({ length: 31 }, (_, i) => `t${i}`) })).status).toBe(422)
    expect((await patchItem(items.beach!, {})).status).toBe(422)
  })

  it('only the creator changes an item: a moderator gets 403, another creator 404', async () => {
    expect((await patchItem(items.beach!, { title: 'mine now' }, await tokenFor(['moderator']))).status).toBe(403)
    expect((await patchItem(items.beach!, { title: 'mine now' }, other)).status).toBe(404)
  })
})

describe('performers', () => {
  it('must be vault performer records; set, listed, filterable', async () => {
    const performer = newId('performer')
    await env.DB.prepare('INSERT INTO performer_records (id, current_version, custodian_brand_id, created_at_ms, last_amended_at_ms, retain_until_ms) VALUES (?, 1, ?, 0, 0, 0)').bind(performer, 'brd_01JFANZ0000000000000000001').run()
    const unknown = await call(API, `/api/media/items/${items.studio}/performers`, { method: 'PUT', token: alex, body: { performer_ids: [performer, 'prf_NOPE'] } })
    expect(unknown.status).toBe(422)
    expect(await unknown.json()).toMatchObject({ errors: [{ path: 'body.performer_ids.1' }] })
    const res = await call(API, `/api/media/items/${items.studio}/performers`, { method: 'PUT', token: alex, body: { performer_ids: [performer] } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as Item).performers.map((p) => p.performer_id)).toEqual([performer])
    expect((await list(`?performer_id=${performer}`)).items.map((i) => i.id)).toEqual([items.studio])
  })
})

describe('search', () => {
  beforeAll(async () => {
    await patchItem(items.studio!, { description: 'Behind the scenes with the crew', tags: ['studio', 'bts'] })
    await patchItem(items.gym!, { tags: ['fitness'] })
  })

  it('finds words in title, description and tags (prefix match), with filters', async () => {
    expect((await list('?q=sunset')).items.map((i) => i.id)).toEqual([items.beach])
    expect((await list('?q=golden%20pier')).items.map((i) => i.id)).toEqual([items.beach])
    expect((await list('?q=scen')).items.map((i) => i.id)).toEqual([items.studio])
    expect((await list('?q=fitness')).items.map((i) => i.id)).toEqual([items.gym])
    expect((await list('?tag=bts')).items.map((i) => i.id)).toEqual([items.studio])
    expect((await list('?kind=video')).items.map((i) => i.id)).toEqual([items.studio])
    expect((await list('?status=uploading&kind=image')).items.map((i) => i.id)).toEqual([items.gym, items.beach])
    expect((await list('?q=nothing-like-this')).items).toEqual([])
  })

  it('hostile input is text, never FTS syntax: 200, not 500', async () => {
    for (const q of ['"', '*', 'NEAR(', 'sunset"', 'sun*', 'title:sunset', 'a OR', '-beach', '(((', '"sunset" AND "', "'; DROP TABLE media_items; --", '^sunset', '   ']) {
      const res = await call(API, `/api/media/items?q=${encodeURIComponent(q)}`, { token: alex })
      expect(res.status, q).toBe(200)
    }
    expect((await list(`?q=${encodeURIComponent('sunset"')}`)).items.map((i) => i.id)).toEqual([items.beach])
    expect((await list(`?q=${encodeURIComponent('NEAR(sunset')}`)).items).toEqual([])
    expect((await call(API, '/api/media/items?tag=Not%20A%20Tag', { token: alex })).status).toBe(400)
  })

  it('creators see their own; media:read sees everyone’s; fans are refused', async () => {
    const own = (await list('?q=sunset')).items.map((i) => i.id)
    expect(own).not.toContain(items.others)
    const moderator = await tokenFor(['moderator'])
    expect((await list('?q=sunset', moderator)).items.map((i) => i.id)).toEqual([items.others, items.beach])
    expect((await list(`?q=sunset&creator_id=${OTHER_CREATOR}`, moderator)).items.map((i) => i.id)).toEqual([items.others])
    expect((await call(API, '/api/media/items', { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await call(API, '/api/media/items')).status).toBe(401)
    expect((await call(API, `/api/media/items/${items.others}`, { token: alex })).status).toBe(404)
    const seen = await call(API, `/api/media/items/${items.others}`, { token: moderator })
    expect(seen.status).toBe(200)
    expect(seen.headers.get('cache-control')).toBe('private, no-store')
  })

  it('pages newest first with a cursor', async () => {
    const first = await list('?limit=2')
    expect(first.items.map((i) => i.id)).toEqual([items.gym, items.studio])
    const second = await list(`?limit=2&cursor=${first.next_cursor}`)
    expect(second.items.map((i) => i.id)).toEqual([items.beach])
    expect(second.next_cursor).toBeNull()
    expect((await call(API, '/api/media/items?cursor=forged', { token: alex })).status).toBe(400)
  })
})

describe('one item', () => {
  it('shows fingerprints, performers, review, cases and the upload', async () => {
    const res = await call(API, `/api/media/items/${items.studio}`, { token: alex })
    expect(await res.json()).toMatchObject({
      id: items.studio,
      kind: 'video',
      fingerprints: { sha256: null, md5: null, pdq_hex: null, pdq_quality: null },
      review: null,
      cases: 0,
      open_cases: 0,
      upload: { protocol: 'tus', status: 'open', declared_length: 5000, received_bytes: 0 },
    })
  })
})

describe('deletion', () => {
  it('an unpublished item: bytes gone, upload terminated, row kept as removed', async () => {
    const { itemId } = await createTus(alex, 1000, { filetype: 'image/jpeg' })
    const res = await call(API, `/api/media/items/${itemId}`, { method: 'DELETE', token: alex })
    expect(res.status).toBe(204)
    const row = await env.DB.prepare('SELECT status, status_reason, original_key, removed_at_ms FROM media_items WHERE id = ?').bind(itemId).first()
    expect(row).toMatchObject({ status: 'removed', status_reason: 'deleted_by_creator', original_key: null, removed_at_ms: expect.any(Number) })
    expect(await env.DB.prepare('SELECT status FROM media_uploads WHERE item_id = ?').bind(itemId).first('status')).toBe('terminated')
    expect((await patchItem(itemId, { title: 'again' })).status).toBe(409)
  })

  it('quarantined and published items cannot be deleted', async () => {
    for (const status of ['quarantined', 'published']) {
      const { itemId } = await createTus(alex, 1000, { filetype: 'image/jpeg' })
      await env.DB.prepare('UPDATE media_items SET status = ? WHERE id = ?').bind(status, itemId).run()
      const res = await call(API, `/api/media/items/${itemId}`, { method: 'DELETE', token: alex })
      expect(res.status).toBe(409)
      expect(((await res.json()) as { detail: string }).detail).toContain(status)
    }
  })
})

describe('quotas', () => {
  it('shows usage to the creator; admins set it; others are refused', async () => {
    const mine = await call(API, `/api/media/quotas/${ALEX_CREATOR}`, { token: alex })
    expect(mine.status).toBe(200)
    const view = (await mine.json()) as { quota_bytes: number; default: boolean; reserved_bytes: number; available_bytes: number }
    expect(view).toMatchObject({ quota_bytes: Number(env.MEDIA_QUOTA_BYTES), default: true })
    // open uploads reserve what they declared: 1000 + 5000 + 1000 (+ the quarantine/published probes' 2000)
    expect(view.reserved_bytes).toBe(9000)
    expect(view.available_bytes).toBe(Number(env.MEDIA_QUOTA_BYTES) - 9000)

    const admin = await tokenFor(['admin'])
    const set = await call(API, `/api/media/quotas/${ALEX_CREATOR}`, { method: 'PUT', token: admin, body: { quota_bytes: 10_000 } })
    expect(await set.json()).toMatchObject({ quota_bytes: 10_000, default: false, available_bytes: 1000 })
    const over = await call(API, '/api/media/uploads/multipart', { token: alex, body: { type: 'image/jpeg', size: 1001 } })
    expect(over.status).toBe(413)
    expect(await (await call(API, `/api/media/quotas/${ALEX_CREATOR}`, { method: 'PUT', token: admin, body: { quota_bytes: null } })).json()).toMatchObject({ default: true })

    expect((await call(API, `/api/media/quotas/${ALEX_CREATOR}`, { method: 'PUT', token: alex, body: { quota_bytes: 1 } })).status).toBe(403)
    expect((await call(API, `/api/media/quotas/${ALEX_CREATOR}`, { token: other })).status).toBe(404)
    expect((await call(API, '/api/media/quotas/crt_NOPE', { method: 'PUT', token: admin, body: { quota_bytes: 1 } })).status).toBe(404)
  })
})
