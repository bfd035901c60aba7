/**
 * What the SSO host does with one-time codes, as plain functions the JSON routes (routes.ts) and the
 * sign-in pages' form handlers both call:
 * - second factor of a pending sign-in: `sendSignInCode`, `verifySignInCode` (ends in `completeMfa`);
 * - the account's phone: `sendPhoneVerification`, `confirmPhone`, `removePhone`.
 *
 * Channels and assurance (NIST SP 800-63B, sso.md §6): SMS is a *restricted* out-of-band
 * authenticator and is recorded as `amr` `sms`. Email is not an out-of-band authenticator at all
 * under 800-63B, so an emailed code is offered only as a recovery-grade second factor: it is only
 * reachable from the pending second-factor step, which exists only for users who enrolled a real
 * second factor (TOTP, passkey or a verified phone; `enrolledSecondFactors` in login/complete.ts),
 * i.e. as a way back in for someone who lost that device. It is recorded as `amr` `email`, so a
 * relying party that needs more than that can see the difference and ask for step-up. Email codes
 * go only to a verified address.
 *
 * Every state change is audited (`sso.otp.send`, `sso.otp.verify`, `sso.otp.reject`,
 * `sso.phone.verify`, `sso.phone.remove`); codes never appear in audit details or logs.
 * @module
 */
import type { Context } from 'hono'
import { audit, type AuditContext } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { mailerFor } from '../mail/mailer'
import { completeMfa, enrolledSecondFactors, type PendingMfa } from '../login/complete'
import type { IdpSession } from '../login/idp-session'
import { issueCode, revokeCodes, verifyCode, type OtpChannel, type OtpPurpose, type VerifyResult } from './codes'
import { spendSend } from './flood'
import { codeMail, codeSms } from './messages'
import { maskEmail, maskPhone, parseMobilePhone } from './phone'
import { smsSenderFor } from './sms'
import { SmsRecipientRefusedError } from './twilio'

export interface SentCode {
  challengeId: string
  channel: OtpChannel
  /** the destination, masked (`+1 ••• ••• 4567`, `a•••@example.com`) */
  sentTo: string
  expiresAtMs: number
}

type UserRow = {
  email: string
  email_verified_at_ms: number | null
  display_name: string
  status: string
  phone_e164: string | null
  phone_verified_at_ms: number | null
}

function auditAs(c: Context<AppEnv>, userId: string): AuditContext {
  return { env: c.env, actor: userId, actorRoles: [], requestId: c.var.requestId }
}

async function activeUser(c: Context<AppEnv>, userId: string): Promise<UserRow> {
  const user = await c.env.DB.prepare('SELECT email, email_verified_at_ms, display_name, status, phone_e164, phone_verified_at_ms FROM users WHERE id = ?')
    .bind(userId)
    .first<UserRow>()
  if (!user) throw new ProblemError('UNAUTHENTICATED', { detail: 'sign in again' })
  if (user.status !== 'active') throw new ProblemError('FORBIDDEN', { detail: 'this account is disabled' })
  return user
}

function masked(channel: OtpChannel, destination: string): string {
  return channel === 'sms' ? maskPhone(destination) : maskEmail(destination)
}

/** Throttle, mint, deliver, audit: the one path every code takes. */
async function deliverCode(
  c: Context<AppEnv>,
  userId: string,
  input: { channel: OtpChannel; destination: string; purpose: OtpPurpose; displayName: string },
): Promise<SentCode> {
  await spendSend(c.env, userId, input.channel, input.destination)
  const issued = await issueCode(c.env, { userId, channel: input.channel, destination: input.destination, purpose: input.purpose })
  if (input.channel === 'sms') {
    await smsSenderFor(c.env).send({ to: input.destination, body: codeSms({ code: issued.code, purpose: input.purpose, issuer: c.var.config.issuer }) })
  } else {
    await mailerFor(c.env).send(codeMail({ to: input.destination, displayName: input.displayName, code: issued.code, purpose: input.purpose }))
  }
  const sentTo = masked(input.channel, input.destination)
  await audit(auditAs(c, userId), 'sso.otp.send', `user:${userId}`, { challenge_id: issued.challengeId, channel: input.channel, purpose: input.purpose, sent_to: sentTo })
  return { challengeId: issued.challengeId, channel: input.channel, sentTo, expiresAtMs: issued.expiresAtMs }
}

const FAILURE_DETAIL: Record<Exclude<VerifyResult, { ok: true }>['reason'], string> = {
  invalid: 'that code is not right',
  expired: 'that code has expired or a newer one was sent: ask for a new code',
  exhausted: 'too many wrong codes: ask for a new code',
  used: 'that code was already used: ask for a new code',
}

/** Checks a code; a failure is audited when it spent an attempt, then thrown as 400 with the attempts left. */
async function checkCode(c: Context<AppEnv>, userId: string, challengeId: string, code: string, purpose: OtpPurpose): Promise<Extract<VerifyResult, { ok: true }>> {
  const result = await verifyCode(c.env, { challengeId, userId, code, purpose })
  if (result.ok) {
    await audit(auditAs(c, userId), 'sso.otp.verify', `user:${userId}`, { challenge_id: challengeId, channel: result.channel, purpose })
    return result
  }
  if (result.spent) await audit(auditAs(c, userId), 'sso.otp.reject', `user:${userId}`, { challenge_id: challengeId, reason: result.reason, attempts_left: result.attemptsLeft })
  const detail =
    result.reason === 'invalid'
      ? `${FAILURE_DETAIL.invalid}; ${result.attemptsLeft > 0 ? `${result.attemptsLeft} ${result.attemptsLeft === 1 ? 'attempt' : 'attempts'} left` : 'no attempts left: ask for a new code'}`
      : FAILURE_DETAIL[result.reason]
  throw new ProblemError('BAD_REQUEST', { detail, extensions: { reason: result.reason, attempts_left: result.attemptsLeft } })
}

/**
 * Sends a code for the pending sign-in's second factor: by SMS to the verified phone, or by email
 * to the verified address (recovery grade, see the module comment). 409 when that channel is not
 * available for the account, 429 when too many codes were sent.
 */
export async function sendSignInCode(c: Context<AppEnv>, pending: PendingMfa, channel: OtpChannel): Promise<SentCode> {
  const user = await activeUser(c, pending.userId)
  if (channel === 'sms') {
    if (!user.phone_e164 || user.phone_verified_at_ms === null) throw new ProblemError('CONFLICT', { detail: 'this account has no verified phone number for text messages' })
    return deliverCode(c, pending.userId, { channel, destination: user.phone_e164, purpose: 'sign_in', displayName: user.display_name })
  }
  if (user.email_verified_at_ms === null) throw new ProblemError('CONFLICT', { detail: 'this account has no verified email address for sign-in codes' })
  return deliverCode(c, pending.userId, { channel, destination: user.email, purpose: 'sign_in', displayName: user.display_name })
}

/**
 * Checks the code of the pending sign-in and, when right, completes the second factor (amr `sms` or
 * `email`) and opens the IdP session. Returns the path to continue to. Failures: 400 with `reason`
 * and `attempts_left` (an unknown challenge or another user's answers exactly like a wrong code).
 */
export async function verifySignInCode(c: Context<AppEnv>, pending: PendingMfa, challengeId: string, code: string): Promise<{ next: string }> {
  await activeUser(c, pending.userId)
  const result = await checkCode(c, pending.userId, challengeId, code, 'sign_in')
  return { next: await completeMfa(c, pending, result.channel === 'sms' ? 'sms' : 'email') }
}

/**
 * Changing a second factor of an account that has one needs a session that proved a second factor
 * (NIST SP 800-63B: binding an authenticator needs the assurance of the account); otherwise whoever
 * holds a password-only session could swap the phone for their own.
 */
async function requireFactorChangeAllowed(c: Context<AppEnv>, session: IdpSession): Promise<void> {
  if (session.amr.includes('mfa')) return
  if ((await enrolledSecondFactors(c.env.DB, session.userId)).length === 0) return
  throw new ProblemError('STEP_UP_REQUIRED', { detail: 'sign in with your second factor to change your phone number' })
}

/** Sends a code to a new phone number (`phone` as typed; 422 naming `body.phone` when it cannot take an SMS). */
export async function sendPhoneVerification(c: Context<AppEnv>, session: IdpSession, phone: string): Promise<SentCode> {
  const parsed = parseMobilePhone(phone)
  if (!parsed.ok) throw new ProblemError('VALIDATION_FAILED', { detail: `invalid body.phone: ${parsed.message}`, errors: [{ path: 'body.phone', message: parsed.message }] })
  const user = await activeUser(c, session.userId)
  await requireFactorChangeAllowed(c, session)
  try {
    return await deliverCode(c, session.userId, { channel: 'sms', destination: parsed.e164, purpose: 'verify_phone', displayName: user.display_name })
  } catch (error) {
    if (error instanceof SmsRecipientRefusedError) {
      throw new ProblemError('VALIDATION_FAILED', { detail: `invalid body.phone: ${error.detail}`, errors: [{ path: 'body.phone', message: error.detail ?? 'cannot receive text messages' }] })
    }
    throw error
  }
}

/** Checks the phone code; when right the number becomes the account's verified phone. */
export async function confirmPhone(c: Context<AppEnv>, session: IdpSession, challengeId: string, code: string): Promise<{ phoneE164: string; verifiedAtMs: number }> {
  await activeUser(c, session.userId)
  const result = await checkCode(c, session.userId, challengeId, code, 'verify_phone')
  const nowMs = Date.now()
  const previous = await c.env.DB.prepare('SELECT phone_e164 FROM users WHERE id = ?').bind(session.userId).first<{ phone_e164: string | null }>()
  await c.env.DB.prepare('UPDATE users SET phone_e164 = ?, phone_verified_at_ms = ?, updated_at_ms = ? WHERE id = ?').bind(result.destination, nowMs, nowMs, session.userId).run()
  // sign-in codes already on their way to the old number stop working
  if (previous?.phone_e164 && previous.phone_e164 !== result.destination) await revokeCodes(c.env, session.userId, 'sms', nowMs)
  await audit(auditAs(c, session.userId), 'sso.phone.verify', `user:${session.userId}`, {
    phone: maskPhone(result.destination),
    replaced: previous?.phone_e164 ? maskPhone(previous.phone_e164) : null,
    challenge_id: challengeId,
  })
  return { phoneE164: result.destination, verifiedAtMs: nowMs }
}

/** Removes the account's phone (and every live SMS code); `removed` is false when there was none. */
export async function removePhone(c: Context<AppEnv>, session: IdpSession): Promise<{ removed: boolean }> {
  await activeUser(c, session.userId)
  await requireFactorChangeAllowed(c, session)
  const nowMs = Date.now()
  const removed = await c.env.DB.prepare('UPDATE users SET phone_e164 = NULL, phone_verified_at_ms = NULL, updated_at_ms = ? WHERE id = ? AND phone_e164 IS NOT NULL RETURNING id')
    .bind(nowMs, session.userId)
    .first<{ id: string }>()
  const revoked = await revokeCodes(c.env, session.userId, 'sms', nowMs)
  if (!removed) return { removed: false }
  await audit(auditAs(c, session.userId), 'sso.phone.remove', `user:${session.userId}`, { codes_revoked: revoked })
  return { removed: true }
}
