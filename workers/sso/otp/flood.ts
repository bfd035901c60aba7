/**
 * Resend flood control for one-time codes, with the existing Throttle Durable Object (one object
 * per key, durable-objects/throttle.ts): every code sent counts on the key of the user and on the
 * key of the destination, so the first FREE_FAILURES sends are free and each further one waits
 * 1 s, 2 s, 4 s ... (at most 15 min) until the key has been idle for 24 h. The destination key is
 * what stops SMS pumping through many accounts towards one number; the user key stops one account
 * from spraying codes. Together with MAX_ATTEMPTS per challenge (codes.ts) they bound how many
 * guesses a code can get. These keys never reach the 100-failure ceiling of `account:` keys (that
 * is for passwords), and a successful verification does not reset them: a legitimate user sends a
 * few codes a day and never meets the backoff.
 * Refusal: 429 RATE_LIMITED with Retry-After (accounts/api-throttle.ts `spendAttempt`).
 * @module
 */
import { normalizeEmail } from '../accounts/email'
import { spendAttempt } from '../accounts/api-throttle'
import { throttle } from '../accounts/throttle'
import type { OtpChannel } from './codes'

export function userSendKey(userId: string): string {
  return `otp-send:user:${userId}`
}

export function destinationSendKey(channel: OtpChannel, destination: string): string {
  return channel === 'email' ? `otp-send:email:${normalizeEmail(destination)}` : `otp-send:sms:${destination}`
}

/** Counts one send for the user and the destination, or throws 429 with Retry-After. */
export async function spendSend(env: Pick<Env, 'THROTTLE'>, userId: string, channel: OtpChannel, destination: string): Promise<void> {
  await spendAttempt([throttle(env, userSendKey(userId)), throttle(env, destinationSendKey(channel, destination))], 'codes sent')
}
