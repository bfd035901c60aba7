/**
 * `POST /api/sso/email/verify`: proves control of the address with the token from the
 * verification mail. Single use and 24 h expiry are enforced by one conditional UPDATE
 * (email-tokens.ts); an unknown, used or expired token is one answer, 422 naming `body.token`.
 * Verifying twice through two different tokens keeps the first verification time.
 * @module
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { eq, sql } from 'drizzle-orm'
import { users } from '../../../d1/schema'
import { jsonBody, json, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { PUBLIC, withAccess } from '../roles/access'
import { db } from '../../lib/db'
import { VerifyEmailRequest, VerifyEmailResponse } from './api-schemas'
import { consumeEmailToken } from './email-tokens'

export const TOKEN_REFUSED = 'is invalid, expired or already used'

export const verifyEmailRoute = createRoute(withAccess(PUBLIC, {
  method: 'post',
  path: '/email/verify',
  tags: ['sso'],
  summary: 'Verify an email address with the emailed single-use token',
  request: { body: jsonBody(VerifyEmailRequest) },
  responses: {
    200: json('Email address verified', VerifyEmailResponse),
    ...problemResponses(400, 413, 415, 422),
  },
}))

export function registerVerifyEmail(app: OpenAPIHono<AppEnv>): void {
  app.openapi(verifyEmailRoute, async (c) => {
    const { token } = c.req.valid('json')
    const nowMs = Date.now()
    const userId = await consumeEmailToken(c.env.DB, token, 'verify_email', nowMs)
    if (!userId) throw new ProblemError('VALIDATION_FAILED', { detail: `the verification token ${TOKEN_REFUSED}`, errors: [{ path: 'body.token', message: TOKEN_REFUSED }] })
    const [user] = await db(c.env.DB)
      .update(users)
      .set({ emailVerifiedAtMs: sql`coalesce(${users.emailVerifiedAtMs}, ${nowMs})`, updatedAtMs: nowMs })
      .where(eq(users.id, userId))
      .returning({ id: users.id, emailVerifiedAtMs: users.emailVerifiedAtMs })
    await audit(c, 'sso.account.email_verified', `user:${userId}`)
    return c.json({ user_id: userId, email_verified_at: new Date(user?.emailVerifiedAtMs ?? nowMs).toISOString() }, 200)
  })
}
