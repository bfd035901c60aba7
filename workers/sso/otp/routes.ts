/**
 * One-time codes by email and SMS on the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 *
 * JSON endpoints for the sign-in and account pages (the work is in flows.ts):
 * - `POST /mfa/otp/send` `{ channel }` -> `{ challenge_id, channel, sent_to, expires_at }` (needs the pending second-factor step)
 * - `POST /mfa/otp/verify` `{ challenge_id, code }` -> `{ next }`
 * - `POST /account/phone` `{ phone }` -> `{ challenge_id, sent_to, expires_at }` (needs the IdP session)
 * - `POST /account/phone/verify` `{ challenge_id, code }` -> `{ phone_e164, phone_verified_at }`
 * - `DELETE /account/phone` -> `{ removed }`
 * Every one changes state, so each refuses a request whose `Origin` is not the SSO host's own origin
 * (403): the pending-MFA and IdP cookies are SameSite=Lax, which still lets a same-site sibling post.
 * Bodies must be `application/json` (a cross-site form cannot send that without a CORS preflight),
 * are parsed with zod (`.strict()`) and a bad one is a 4xx problem naming the field.
 * @module
 */
import { isSameOrigin } from '../../edge/same-origin'
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { ProblemError, validationProblem } from '../../edge/problem'
import { pendingMfa, type PendingMfa } from '../login/complete'
import { readIdpSession, type IdpSession } from '../login/idp-session'
import { OTP_CHANNELS } from './codes'
import { confirmPhone, removePhone, sendPhoneVerification, sendSignInCode, verifySignInCode } from './flows'

export const otpRoutes = new Hono<AppEnv>()

const NO_STORE = { 'cache-control': 'no-store' }
const MAX_BODY_BYTES = 4096

const ChallengeId = z.string().regex(/^otp_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be the challenge_id the send call answered')
// digits only after removing the spaces and dashes people type; the length check is the store's job
const Code = z
  .string()
  .transform((v) => v.replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^[0-9]{6}$/, 'must be the 6-digit code'))

export const SendCodeBody = z.object({ channel: z.enum(OTP_CHANNELS) }).strict()
export const VerifyCodeBody = z.object({ challenge_id: ChallengeId, code: Code }).strict()
export const PhoneBody = z.object({ phone: z.string().max(64) }).strict()

function requireSsoOrigin(c: Context<AppEnv>): void {
  if (!isSameOrigin(c)) throw new ProblemError('FORBIDDEN', { detail: 'cross-site request refused: send it from a page of this host' })
}

async function readJson<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.output<T>> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'send the body as application/json' })
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `the body must be at most ${MAX_BODY_BYTES} bytes` })
  const text = await c.req.text()
  if (new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `the body must be at most ${MAX_BODY_BYTES} bytes` })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ProblemError('MALFORMED_BODY', { detail: 'the body is not valid JSON', cause: error })
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw validationProblem(parsed.error, 'body')
  return parsed.data
}

async function requirePending(c: Context<AppEnv>): Promise<PendingMfa> {
  const pending = await pendingMfa(c)
  if (!pending) throw new ProblemError('UNAUTHENTICATED', { detail: 'no sign-in is waiting for a second factor: sign in again' })
  return pending
}

async function requireSession(c: Context<AppEnv>): Promise<IdpSession> {
  const session = await readIdpSession(c)
  if (!session) throw new ProblemError('UNAUTHENTICATED', { detail: 'sign in first' })
  return session
}

otpRoutes.post('/mfa/otp/send', async (c) => {
  requireSsoOrigin(c)
  const pending = await requirePending(c)
  const { channel } = await readJson(c, SendCodeBody)
  const sent = await sendSignInCode(c, pending, channel)
  return c.json({ challenge_id: sent.challengeId, channel: sent.channel, sent_to: sent.sentTo, expires_at: new Date(sent.expiresAtMs).toISOString() }, 200, NO_STORE)
})

otpRoutes.post('/mfa/otp/verify', async (c) => {
  requireSsoOrigin(c)
  const pending = await requirePending(c)
  const body = await readJson(c, VerifyCodeBody)
  return c.json(await verifySignInCode(c, pending, body.challenge_id, body.code), 200, NO_STORE)
})

otpRoutes.post('/account/phone', async (c) => {
  requireSsoOrigin(c)
  const session = await requireSession(c)
  const { phone } = await readJson(c, PhoneBody)
  const sent = await sendPhoneVerification(c, session, phone)
  return c.json({ challenge_id: sent.challengeId, sent_to: sent.sentTo, expires_at: new Date(sent.expiresAtMs).toISOString() }, 200, NO_STORE)
})

otpRoutes.post('/account/phone/verify', async (c) => {
  requireSsoOrigin(c)
  const session = await requireSession(c)
  const body = await readJson(c, VerifyCodeBody)
  const confirmed = await confirmPhone(c, session, body.challenge_id, body.code)
  return c.json({ phone_e164: confirmed.phoneE164, phone_verified_at: new Date(confirmed.verifiedAtMs).toISOString() }, 200, NO_STORE)
})

otpRoutes.delete('/account/phone', async (c) => {
  requireSsoOrigin(c)
  const session = await requireSession(c)
  return c.json(await removePhone(c, session), 200, NO_STORE)
})

export { sendSignInCode, verifySignInCode } from './flows'
