/**
 * `POST /api/sso/password/forgot` and `POST /api/sso/password/reset`.
 *
 * Forgot never tells whether an account exists: known and unknown addresses get the same 202 body,
 * pass the same throttles (per IP and per `account:<email>`, counted whether or not the account
 * exists, so a 429 tells nothing either) and do the same foreground work (one lookup). The token,
 * the mail and the audit entry for a known address happen after the answer (`waitUntil`), so the
 * provider's latency cannot be timed; a failure there is logged (`password_reset_mail_failed`),
 * including production without MAIL_API_TOKEN.
 *
 * Trade-off of the account throttle: forgot requests count on the same `account:` key as failed
 * sign-ins, so they move it towards the NIST 100-failure ceiling; with backoff reaching 100 takes
 * about a day of sustained requests, and the ceiling only closes the password path, which a
 * successful reset (recordSuccess) reopens.
 *
 * Reset checks the token without using it, then the policy (a weak password does not burn the
 * link), then uses it with one conditional UPDATE, rehashes, invalidates the user's other reset
 * links, marks the address verified (the link proves control of the mailbox), clears the account
 * throttle and revokes every session of the user (UserSessions.revokeAll('password_reset')).
 * @module
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { and, eq, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import { users } from '../../../d1/schema'
import { jsonBody, json, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { PUBLIC, withAccess } from '../roles/access'
import { db } from '../../lib/db'
import { mailerFor } from '../mail/mailer'
import { passwordResetMail, tokenLink } from '../mail/templates'
import { userSessions } from '../sessions'
import { ForgotPasswordRequest, ForgotPasswordResponse, ResetPasswordRequest, ResetPasswordResponse, TooManyRequests } from './api-schemas'
import { clientIpKey, spendAttempt } from './api-throttle'
import { TOKEN_REFUSED } from './api-verify'
import { normalizeEmail } from './email'
import { consumeEmailToken, invalidateUnused, issueEmailToken, peekEmailToken } from './email-tokens'
import { hashPassword } from './password'
import { checkPassword } from './password-policy'
import { accountKey, throttle } from './throttle'

export const FORGOT_ACCEPTED = {
  status: 'accepted' as const,
  detail: 'If an account exists for this address, a link to reset its password has been sent. It works once, for 1 hour.',
}

export const forgotPasswordRoute = createRoute(withAccess(PUBLIC, {
  method: 'post',
  path: '/password/forgot',
  tags: ['sso'],
  summary: 'Mail a password-reset link (same answer whether or not the account exists)',
  request: { body: jsonBody(ForgotPasswordRequest) },
  responses: {
    202: json('Accepted; a link was mailed if the account exists', ForgotPasswordResponse),
    ...problemResponses(400, 413, 415, 422),
    429: TooManyRequests,
  },
}))

export const resetPasswordRoute = createRoute(withAccess(PUBLIC, {
  method: 'post',
  path: '/password/reset',
  tags: ['sso'],
  summary: 'Set a new password with the emailed single-use token; signs out every session',
  request: { body: jsonBody(ResetPasswordRequest) },
  responses: {
    200: json('Password changed', ResetPasswordResponse),
    ...problemResponses(400, 413, 415, 422),
  },
}))

async function sendResetMail(c: Context<AppEnv>, user: { id: string; email: string; displayName: string }): Promise<void> {
  try {
    const { token } = await issueEmailToken(c.env.DB, user.id, 'reset_password')
    await mailerFor(c.env).send(passwordResetMail({ to: user.email, displayName: user.displayName, link: tokenLink(c.var.config.issuer, 'reset-password', token) }))
    await audit(c, 'sso.account.password_reset_request', `user:${user.id}`)
  } catch (error) {
    log('error', 'debug', 'password_reset_mail_failed', {
      request_id: c.var.requestId,
      user_id: user.id,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    })
  }
}

export function registerPassword(app: OpenAPIHono<AppEnv>): void {
  app.openapi(forgotPasswordRoute, async (c) => {
    const { email } = c.req.valid('json')
    await spendAttempt([throttle(c.env, clientIpKey(c)), throttle(c.env, accountKey(email))], 'password-reset requests')
    const [user] = await db(c.env.DB)
      .select({ id: users.id, email: users.email, displayName: users.displayName })
      .from(users)
      .where(and(eq(users.emailNormalized, normalizeEmail(email)), eq(users.status, 'active')))
      .limit(1)
    if (user) c.executionCtx.waitUntil(sendResetMail(c, user))
    return c.json(FORGOT_ACCEPTED, 202)
  })

  app.openapi(resetPasswordRoute, async (c) => {
    const body = c.req.valid('json')
    const refused = () => new ProblemError('VALIDATION_FAILED', { detail: `the reset token ${TOKEN_REFUSED}`, errors: [{ path: 'body.token', message: TOKEN_REFUSED }] })
    const found = await peekEmailToken(c.env.DB, body.token, 'reset_password')
    if (!found) throw refused()
    const policy = checkPassword(body.password, { email: found.user.email })
    if (!policy.ok) throw new ProblemError('VALIDATION_FAILED', { detail: 'the password does not meet the policy', errors: policy.errors })
    const passwordHash = await hashPassword(policy.normalized)

    const nowMs = Date.now()
    const userId = await consumeEmailToken(c.env.DB, body.token, 'reset_password', nowMs)
    if (!userId) throw refused()
    await db(c.env.DB).batch([
      db(c.env.DB)
        .update(users)
        .set({ passwordHash, emailVerifiedAtMs: sql`coalesce(${users.emailVerifiedAtMs}, ${nowMs})`, updatedAtMs: nowMs })
        .where(eq(users.id, userId)),
      invalidateUnused(c.env.DB, userId, 'reset_password', nowMs),
    ])
    await throttle(c.env, accountKey(found.user.email)).recordSuccess()
    const revoked = await userSessions(c.env, userId).revokeAll('password_reset')
    const sessionsRevoked = revoked.ok ? revoked.revoked.length : 0
    await audit(c, 'sso.account.password_reset', `user:${userId}`, { sessions_revoked: sessionsRevoked })
    return c.json({ status: 'password_reset' as const, sessions_revoked: sessionsRevoked }, 200)
  })
}
