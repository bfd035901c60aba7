/**
 * `POST /api/sso/accounts`: sign-up with email and password.
 *
 * Order matters: the per-IP throttle first (every attempt counts, conflicts included, so probing
 * for registered addresses is as slow as a flood), then the NIST policy (a weak password is refused
 * before the address is looked at, so it reveals nothing), then the insert, whose unique index on
 * `email_normalized` decides a duplicate atomically.
 *
 * Existence: a duplicate address answers 409 CONFLICT naming `body.email`. That does tell the caller
 * the address is registered; the alternative (always 202, and a "you already have an account" mail
 * to the owner) needs a sign-up UI that waits for mail, which does not exist yet. The leak is bounded
 * by the IP throttle; `password/forgot` leaks nothing.
 *
 * The verification mail is sent before answering: if the provider fails the caller sees 502 (or 500
 * when production has no MAIL_API_TOKEN) while the account exists unverified; `password/forgot` gets
 * the owner in. The audit entry records the user id only: no address in the immutable log.
 * @module
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { users } from '../../../d1/schema'
import { jsonBody, json, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { PUBLIC, withAccess } from '../roles/access'
import { db } from '../../lib/db'
import { newId } from '../../lib/ids'
import { mailerFor } from '../mail/mailer'
import { tokenLink, verificationMail } from '../mail/templates'
import { Account, SignUpRequest, TooManyRequests } from './api-schemas'
import { clientIpKey, spendAttempt } from './api-throttle'
import { normalizeEmail } from './email'
import { issueEmailToken } from './email-tokens'
import { hashPassword } from './password'
import { checkPassword } from './password-policy'
import { throttle } from './throttle'

export const signUpRoute = createRoute(withAccess(PUBLIC, {
  method: 'post',
  path: '/accounts',
  tags: ['sso'],
  summary: 'Create an account (email + password) and send the verification mail',
  request: { body: jsonBody(SignUpRequest) },
  responses: {
    201: json('Account created; a verification link was mailed', Account),
    ...problemResponses(400, 409, 413, 415, 422),
    429: TooManyRequests,
  },
}))

export interface NewAccountInput {
  email: string
  password: string
  displayName: string
  locale: string
}

/** The user row as created. */
export type CreatedAccount = typeof users.$inferSelect

/**
 * Creates an email + password account: per-IP throttle, NIST policy (errors name `body.password`),
 * insert (a duplicate is 409 naming `body.email`), verification mail, audit. Shared by this API route
 * and the sign-up page (workers/sso/pages/sign-up.tsx), which maps the `body.*` paths onto its fields.
 * The input is assumed validated for shape (SignUpRequest or the page's own schema).
 */
export async function createAccount(c: Context<AppEnv>, input: NewAccountInput): Promise<CreatedAccount> {
  await spendAttempt([throttle(c.env, clientIpKey(c))], 'sign-ups from this address')

  const policy = checkPassword(input.password, { email: input.email })
  if (!policy.ok) throw new ProblemError('VALIDATION_FAILED', { detail: 'the password does not meet the policy', errors: policy.errors })

  const nowMs = Date.now()
  const [created] = await db(c.env.DB)
    .insert(users)
    .values({
      id: newId('user', nowMs),
      email: input.email,
      emailNormalized: normalizeEmail(input.email),
      passwordHash: await hashPassword(policy.normalized),
      displayName: input.displayName,
      locale: input.locale,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    })
    .onConflictDoNothing({ target: users.emailNormalized })
    .returning()
  if (!created) {
    throw new ProblemError('CONFLICT', {
      detail: 'an account with this email address already exists; sign in or reset the password',
      errors: [{ path: 'body.email', message: 'is already registered' }],
    })
  }

  const { token } = await issueEmailToken(c.env.DB, created.id, 'verify_email', nowMs)
  await mailerFor(c.env).send(verificationMail({ to: created.email, displayName: created.displayName, link: tokenLink(c.var.config.issuer, 'verify-email', token) }))
  await audit(c, 'sso.account.create', `user:${created.id}`, { method: 'password', locale: created.locale })
  return created
}

export function registerSignUp(app: OpenAPIHono<AppEnv>): void {
  app.openapi(signUpRoute, async (c) => {
    const body = c.req.valid('json')
    const created = await createAccount(c, { email: body.email, password: body.password, displayName: body.display_name, locale: body.locale })
    return c.json(
      {
        id: created.id,
        email: created.email,
        display_name: created.displayName,
        locale: created.locale,
        email_verified: false,
        created_at: new Date(created.createdAtMs).toISOString(),
      },
      201,
    )
  })
}
