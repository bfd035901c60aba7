import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { newId } from '../../lib/ids'
import { visibleMarkFor } from './mark-image'

const API = 'api.localhost'
const BOYFANZ = 'brd_01JFANZ0000000000000000001'
const GIRLFANZ = 'brd_01JFANZ0000000000000000002'

interface TestCreator {
  id: string
  userId: string
  token: string
}

/** A fresh creator profile on `brandId` owned by a fresh account (Durable Object audit state persists across files). */
async function createCreator(brandId: string, handle: string): Promise<TestCreator> {
  const id = newId('creator')
  const userId = newId('user')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').bind(id, brandId, handle, `Display ${handle}`, userId, Date.now()).run()
  return { id, userId, token: await tokenFor(['creator'], { subject: userId }) }
}

const settings = (overrides: Record<string, unknown> = {}) => ({ visible: true, template: '{brand} / @{handle}', position: 'bottom-right', opacity: 45, ...overrides })

describe('/api/media/watermark-settings', () => {
  let creator: TestCreator
  let other: TestCreator
  let operatorId: string
  let operator: string

  beforeAll(async () => {
    creator = await createCreator(BOYFANZ, 'sam.k')
    other = await createCreator(BOYFANZ, 'other')
    operatorId = newId('user')
    operator = await tokenFor(['operator'], { subject: operatorId })
  })

  it('brand defaults: operators read and set them, audited with before and after; creators and fans may not', async () => {
    const before = await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { token: operator })
    expect(before.status).toBe(200)
    expect(await before.json()).toEqual({ scope: `brand:${GIRLFANZ}`, visible: true, template: '{brand} / @{handle}', position: 'bottom-right', opacity: 45, source: 'default', updated_by: null, updated_at_ms: null })

    const put = await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', token: operator, body: settings({ template: '{brand}.com', position: 'top-left', opacity: 60 }) })
    expect(put.status).toBe(200)
    const stored = (await put.json()) as Record<string, unknown>
    expect(stored).toMatchObject({ scope: `brand:${GIRLFANZ}`, template: '{brand}.com', position: 'top-left', opacity: 60, source: 'scope', updated_by: operatorId })

    const again = await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', token: operator, body: settings({ visible: false, template: '{brand}.com', position: 'top-left', opacity: 60 }) })
    expect(again.status).toBe(200)
    const entries = await auditLog(env).list({ action: 'media.watermark.settings_changed', actor: operatorId, limit: 10 })
    expect(entries.map((e) => [e.subject, JSON.parse(e.details)])).toEqual([
      [`brand:${GIRLFANZ}`, { before: null, after: { visible: true, template: '{brand}.com', position: 'top-left', opacity: 60 } }],
      [`brand:${GIRLFANZ}`, { before: { visible: true, template: '{brand}.com', position: 'top-left', opacity: 60 }, after: { visible: false, template: '{brand}.com', position: 'top-left', opacity: 60 } }],
    ])

    expect((await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', token: creator.token, body: settings() })).status).toBe(403)
    expect((await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', token: await tokenFor(['fan']), body: settings() })).status).toBe(403)
    expect((await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', body: settings() })).status).toBe(401)
    expect((await call(API, '/api/media/watermark-settings/brands/brd_01JFANZ00000000000000000NO', { method: 'PUT', token: operator, body: settings() })).status).toBe(404)
  })

  it('a creator sets their own; another creator’s profile answers 404; operators cannot set a creator’s', async () => {
    const initial = await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { token: creator.token })
    expect(await initial.json()).toMatchObject({ scope: `creator:${creator.id}`, source: 'default', template: '{brand} / @{handle}' })

    const put = await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { method: 'PUT', token: creator.token, body: settings({ template: '@{handle} on {brand}', position: 'center', opacity: 30 }) })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ scope: `creator:${creator.id}`, template: '@{handle} on {brand}', position: 'center', opacity: 30, source: 'scope', updated_by: creator.userId })
    const [entry] = await auditLog(env).list({ action: 'media.watermark.settings_changed', subject: `creator:${creator.id}`, limit: 10 })
    expect(JSON.parse(entry!.details)).toEqual({ before: null, after: { visible: true, template: '@{handle} on {brand}', position: 'center', opacity: 30 } })
    expect(entry!.actor).toBe(creator.userId)

    expect((await call(API, `/api/media/watermark-settings/creators/${other.id}`, { method: 'PUT', token: creator.token, body: settings() })).status).toBe(404)
    expect((await call(API, `/api/media/watermark-settings/creators/${other.id}`, { token: creator.token })).status).toBe(404)
    expect((await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { method: 'PUT', token: operator, body: settings() })).status).toBe(403)
    expect(await auditLog(env).list({ action: 'media.watermark.settings_changed', subject: `creator:${other.id}`, limit: 10 })).toEqual([])
  })

  it('refuses bad settings with 422 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [settings({ opacity: 101 }), 'body.opacity'],
      [settings({ opacity: -1 }), 'body.opacity'],
      [settings({ template: '{brand} {viewer}' }), 'body.template'],
      [settings({ template: '{brand} ♥' }), 'body.template'],
      [settings({ template: '' }), 'body.template'],
      [settings({ position: 'middle' }), 'body.position'],
      [settings({ visible: 'yes' }), 'body.visible'],
      [{ ...settings(), colour: 'red' }, 'body.colour'],
    ]
    for (const [body, field] of cases) {
      const res = await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { method: 'PUT', token: creator.token, body })
      expect(res.status, JSON.stringify(body)).toBe(422)
      const problem = (await res.json()) as { errors: Array<{ path: string; message: string }> }
      expect(problem.errors.map((e) => e.path), JSON.stringify(body)).toContain(field)
    }
  })
})

describe('visibleMarkFor', () => {
  it('fills the template from the brand and creator rows: creator settings over brand settings over the default', async () => {
    const alex = 'crt_01JFANZ0000000000000000101'
    // a brand with no stored settings: the default template
    expect(await visibleMarkFor(env, 'brd_01JFANZ0000000000000000003', alex)).toEqual({ text: 'PupFanz / @alex', position: 'bottom-right', opacity: 45 })

    const creator = await createCreator(GIRLFANZ, 'june_b')
    const operator = await tokenFor(['operator'])
    await call(API, `/api/media/watermark-settings/brands/${GIRLFANZ}`, { method: 'PUT', token: operator, body: settings({ template: '{brand} - {creator}', position: 'top-right', opacity: 70 }) })
    expect(await visibleMarkFor(env, GIRLFANZ, creator.id)).toEqual({ text: 'GirlFanz - Display june_b', position: 'top-right', opacity: 70 })

    await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { method: 'PUT', token: creator.token, body: settings({ template: '@{handle}', position: 'bottom-left', opacity: 20 }) })
    expect(await visibleMarkFor(env, GIRLFANZ, creator.id)).toEqual({ text: '@june_b', position: 'bottom-left', opacity: 20 })

    await call(API, `/api/media/watermark-settings/creators/${creator.id}`, { method: 'PUT', token: creator.token, body: settings({ visible: false }) })
    expect(await visibleMarkFor(env, GIRLFANZ, creator.id)).toBeNull()
  })
})
