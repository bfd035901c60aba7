/**
 * `/api/dev/tokens`: mints access tokens for local development until FanzSSO's sign-in lands
 * (`npm run token -- --role admin`). Exists only when ENVIRONMENT is `dev`, and even there needs
 * the DEV_TOKEN_SECRET from `.dev.vars`; staging and production answer 404.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { createMiddleware } from 'hono/factory'
import { audit } from '../compliance/audit'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { ROLES } from '../edge/roles'
import { createSurfaceApp } from '../edge/surface'
import { timingSafeEqualText } from '../lib/encoding'
import { newId } from '../lib/ids'
import { jsonBody, problemResponses } from '../api/schemas'
import { signAccessToken } from './tokens'

export const devApi = createSurfaceApp()

devApi.use(
  '*',
  createMiddleware<AppEnv>(async (c, next) => {
    const config = c.var.config
    if (!config.isDev) throw new ProblemError('NOT_FOUND', { detail: `nothing at ${c.req.path}` })
    const presented = c.req.header('x-dev-token-secret') ?? ''
    if (!config.devTokenSecret || !timingSafeEqualText(presented, config.devTokenSecret)) {
      throw new ProblemError('FORBIDDEN', { detail: 'x-dev-token-secret does not match DEV_TOKEN_SECRET in .dev.vars' })
    }
    await next()
  }),
)

const MintRequest = z
  .object({
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
    subject: z.string().regex(/^usr_[0-9A-Za-z]{1,40}$/).optional(),
    age_verified: z.boolean().default(false),
    ttl_seconds: z.number().int().min(60).max(86_400).optional(),
  })
  .strict()
  .openapi('DevTokenRequest')

devApi.openapi(
  createRoute({
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
  }),
  async (c) => {
    const body = c.req.valid('json')
    const subject = body.subject ?? newId('user')
    const nowS = Math.floor(Date.now() / 1000)
    const { token, expiresAtS, kid } = await signAccessToken(c.env.DB, c.var.config, {
      subject,
      roles: body.roles,
      amr: ['dev'],
      authTimeS: nowS,
      ttlSeconds: body.ttl_seconds,
      ...(body.age_verified ? { ageVerified: { method: 'DEV', exp: nowS + 86_400 } } : {}),
    })
    await audit(c, 'sso.dev_token.mint', `user:${subject}`, { roles: body.roles, kid, expires_at_s: expiresAtS })
    return c.json({ access_token: token, token_type: 'Bearer' as const, expires_at: new Date(expiresAtS * 1000).toISOString(), subject, kid }, 201)
  },
)
