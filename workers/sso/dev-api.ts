/**
 * `/api/dev/tokens`: mints access tokens for local development until FanzSSO's sign-in lands
 * (`npm run token -- --role admin`). Exists only when ENVIRONMENT is `dev`, and even there needs
 * the DEV_TOKEN_SECRET from `.dev.vars`; staging and production answer 404.
 *
 * Besides global `roles`, a token may carry `brand_roles` (brand slug -> roles), `amr`, `acr` and an
 * `auth_time` in the past (`auth_age_seconds`), so brand-scoped grants and step-up refusals can be
 * exercised without a real sign-in. Defaults: `amr` ["dev"], `auth_time` now, no `acr`.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { createMiddleware } from 'hono/factory'
import { audit } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { ROLES } from '../edge/roles'
import { createSurfaceApp } from '../edge/surface'
import { newId } from '../lib/ids'
import { jsonBody, problemResponses } from '../api/schemas'
import { DEV_SECRET, withAccess } from './roles/access'
import { signAccessToken } from './tokens'

export const devApi = createSurfaceApp()

// every path, known or not, is 404 outside dev; the secret is checked per route (DEV_SECRET)
devApi.use(
  '*',
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.config.isDev) throw new ProblemError('NOT_FOUND', { detail: `nothing at ${c.req.path}` })
    await next()
  }),
)

const BrandSlug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a brand slug')

const MintRequest = z
  .object({
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
    subject: z.string().regex(/^usr_[0-9A-Za-z]{1,40}$/).optional(),
    age_verified: z.boolean().default(false),
    ttl_seconds: z.number().int().min(60).max(86_400).optional(),
    brand_roles: z.record(BrandSlug, z.array(z.enum(ROLES)).min(1).max(ROLES.length)).optional(),
    amr: z.array(z.string().regex(/^[a-z0-9_]{1,32}$/)).min(1).max(10).optional(),
    acr: z.string().regex(/^urn:fanz:(?:acr:)?aal[1-3]$/).optional(),
    /** how long ago the pretend sign-in happened (`auth_time` = now - this) */
    auth_age_seconds: z.number().int().min(0).max(30 * 86_400).optional(),
  })
  .strict()
  .openapi('DevTokenRequest')

devApi.openapi(
  createRoute(withAccess(DEV_SECRET, {
    method: 'post',
    path: '/tokens',
    tags: ['dev'],
    summary: 'Mint a local access token (dev only)',
    request: { body: jsonBody(MintRequest) },
    responses: {
      201: {
        description: 'Token minted',
        content: { 'application/json': { schema: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_at: z.iso.datetime(), subject: z.string(), kid: z.string() }) } },
      },
      ...problemResponses(400, 403, 404, 422),
    },
  })),
  async (c) => {
    const body = c.req.valid('json')
    const subject = body.subject ?? newId('user')
    const nowS = Math.floor(Date.now() / 1000)
    const { token, expiresAtS, kid } = await signAccessToken(c.env.DB, c.var.config, {
      subject,
      roles: body.roles,
      amr: body.amr ?? ['dev'],
      authTimeS: nowS - (body.auth_age_seconds ?? 0),
      ttlSeconds: body.ttl_seconds,
      ...(body.age_verified ? { ageVerified: { method: 'DEV', exp: nowS + 86_400 } } : {}),
      ...(body.brand_roles || body.acr ? { extra: { ...(body.brand_roles ? { brand_roles: body.brand_roles } : {}), ...(body.acr ? { acr: body.acr } : {}) } } : {}),
    })
    await audit(c, 'sso.dev_token.mint', `user:${subject}`, { roles: body.roles, ...(body.brand_roles ? { brand_roles: body.brand_roles } : {}), kid, expires_at_s: expiresAtS })
    return c.json({ access_token: token, token_type: 'Bearer' as const, expires_at: new Date(expiresAtS * 1000).toISOString(), subject, kid }, 201)
  },
)
