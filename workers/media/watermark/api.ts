/**
 * `/api/media/watermark-settings/*`: how delivered images are marked visibly (settings.ts).
 *
 * - `GET /watermark-settings/brands/{brandId}` (`routing:read`) and `PUT` (`routing:write`):
 *   operators set a brand's default (scope `brand:<id>`).
 * - `GET|PUT /watermark-settings/creators/{creatorId}` (`creator:content:write`): a creator's own
 *   choice (scope `creator:<id>`), own profile only (`creators.user_id` = token subject); another
 *   creator's answers 404 like an unknown one. GET shows what applies (own row, else the brand's,
 *   else the default) and says which (`source`).
 *
 * Two paths rather than one `{scope}` parameter: every route declares exactly one permission
 * (roles/access.ts, checked by the role matrix), and the two scopes need different ones.
 * A PUT replaces the scope's settings and is audited (`media.watermark.settings_changed`) with
 * before and after.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { permission, withAccess } from '../../sso/roles/access'
import { effectiveSettings, saveSettings, SettingsInput, SettingsView, type Scope } from './settings'

const tags = ['media']

const BrandParams = z.object({
  brandId: z.string().regex(/^brd_[0-9A-Za-z]{1,40}$/, 'must be a brand id (brd_...)').openapi({ param: { name: 'brandId', in: 'path' }, example: 'brd_01JFANZ0000000000000000001' }),
})
const CreatorParams = z.object({
  creatorId: z.string().regex(/^crt_[0-9A-Za-z]{1,40}$/, 'must be a creator id (crt_...)').openapi({ param: { name: 'creatorId', in: 'path' }, example: 'crt_01JFANZ0000000000000000101' }),
})
const Input = SettingsInput.strict()

const getBrand = createRoute(
  withAccess(permission('routing:read'), {
    method: 'get',
    path: '/watermark-settings/brands/{brandId}',
    tags,
    summary: 'A brand’s visible-watermark default (or the platform default)',
    request: { params: BrandParams },
    responses: { 200: json('The settings that apply', SettingsView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const putBrand = createRoute(
  withAccess(permission('routing:write'), {
    method: 'put',
    path: '/watermark-settings/brands/{brandId}',
    tags,
    summary: 'Set a brand’s visible-watermark default',
    request: { params: BrandParams, body: jsonBody(Input) },
    responses: { 200: json('The settings as stored', SettingsView), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

const getCreator = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'get',
    path: '/watermark-settings/creators/{creatorId}',
    tags,
    summary: 'Your visible watermark (yours, else your brand’s, else the platform default)',
    request: { params: CreatorParams },
    responses: { 200: json('The settings that apply', SettingsView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const putCreator = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'put',
    path: '/watermark-settings/creators/{creatorId}',
    tags,
    summary: 'Set your visible watermark',
    request: { params: CreatorParams, body: jsonBody(Input) },
    responses: { 200: json('The settings as stored', SettingsView), ...problemResponses(400, 401, 403, 404, 422) },
  }),
)

async function knownBrand(c: Context<AppEnv>, brandId: string): Promise<void> {
  const row = await c.env.DB.prepare('SELECT id FROM brands WHERE id = ?').bind(brandId).first()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no brand ${brandId}` })
}

/** The caller's own creator profile (its brand), else 404: others' profiles cannot be probed. */
async function ownCreator(c: Context<AppEnv>, creatorId: string): Promise<{ brandId: string }> {
  const auth = authenticated(c)
  const row = await c.env.DB.prepare('SELECT brand_id, user_id FROM creators WHERE id = ?').bind(creatorId).first<{ brand_id: string; user_id: string | null }>()
  if (!row || row.user_id === null || row.user_id !== auth.subject) throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId} for you` })
  return { brandId: row.brand_id }
}

async function put(c: Context<AppEnv>, scope: Scope, brandId: string | null, input: z.infer<typeof Input>): Promise<SettingsView> {
  const { before } = await saveSettings(c.env, scope, input, authenticated(c).subject)
  const after = await effectiveSettings(c.env, scope, brandId)
  const plain = (s: { visible: boolean; template: string; position: string; opacity: number }) => ({ visible: s.visible, template: s.template, position: s.position, opacity: s.opacity })
  await audit(c, 'media.watermark.settings_changed', scope, { before: before ? plain(before) : null, after: plain(after) })
  return after
}

export function registerWatermarkSettings(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getBrand, async (c) => {
    const { brandId } = c.req.valid('param')
    await knownBrand(c, brandId)
    return c.json(await effectiveSettings(c.env, `brand:${brandId}`, null), 200)
  })

  app.openapi(putBrand, async (c) => {
    const { brandId } = c.req.valid('param')
    await knownBrand(c, brandId)
    return c.json(await put(c, `brand:${brandId}`, null, c.req.valid('json')), 200)
  })

  app.openapi(getCreator, async (c) => {
    const { creatorId } = c.req.valid('param')
    const { brandId } = await ownCreator(c, creatorId)
    return c.json(await effectiveSettings(c.env, `creator:${creatorId}`, brandId), 200)
  })

  app.openapi(putCreator, async (c) => {
    const { creatorId } = c.req.valid('param')
    const { brandId } = await ownCreator(c, creatorId)
    return c.json(await put(c, `creator:${creatorId}`, brandId, c.req.valid('json')), 200)
  })
}
