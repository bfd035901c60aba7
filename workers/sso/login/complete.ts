/**
 * The one way every sign-in method ends (password, passkey, social, one-time code): given the user
 * and the methods they just proved (RFC 8176 `amr`), either ask for a second factor or open the IdP
 * session, then continue the authorization request that sent them here. Returns the path on the
 * SSO host to go to next; pages redirect there, JSON endpoints answer `{ next }`.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../lib/sealed-cookie'
import { establishIdpSession } from './idp-session'

/** Methods that count as a second factor next to a password or a social sign-in. */
export const SECOND_FACTORS = ['otp', 'sms', 'hwk', 'swk', 'email'] as const
/** A passkey verified with user verification is two factors on its own (possession + biometric/PIN). */
export const PASSKEY_AMR = ['hwk', 'user', 'mfa'] as const

const PENDING_MFA_COOKIE = 'fanz_mfa_pending'
const PENDING_MFA_TTL_S = 600

export interface SignInInput {
  userId: string
  /** what was just proved, e.g. ['pwd'], ['fed'], ['hwk', 'user', 'mfa'] */
  amr: string[]
  /** the pending authorization request (`arq_...`), or null for a direct sign-in */
  requestId: string | null
}

export interface PendingMfa {
  userId: string
  amr: string[]
  requestId: string | null
}

/** The second factors a user has enrolled, in the order the MFA page offers them. */
export async function enrolledSecondFactors(d1: D1Database, userId: string): Promise<Array<'totp' | 'sms' | 'passkey'>> {
  const row = await d1
    .prepare(
      `SELECT u.totp_enabled_at_ms AS totp, u.phone_verified_at_ms AS phone, (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys
       FROM users u WHERE u.id = ?`,
    )
    .bind(userId)
    .first<{ totp: number | null; phone: number | null; passkeys: number }>()
  if (!row) return []
  const factors: Array<'totp' | 'sms' | 'passkey'> = []
  if (row.totp !== null) factors.push('totp')
  if (row.passkeys > 0) factors.push('passkey')
  if (row.phone !== null) factors.push('sms')
  return factors
}

function hasSecondFactor(amr: readonly string[]): boolean {
  return amr.includes('mfa') || amr.some((m) => (SECOND_FACTORS as readonly string[]).includes(m))
}

/** Where to go after a request (or none) is complete. */
export function continueTo(requestId: string | null): string {
  return requestId ? `/authorize/resume?request=${encodeURIComponent(requestId)}` : '/account'
}

export async function completeSignIn(c: Context<AppEnv>, input: SignInInput): Promise<string> {
  const user = await c.env.DB.prepare('SELECT status FROM users WHERE id = ?').bind(input.userId).first<{ status: string }>()
  if (!user) throw new ProblemError('NOT_FOUND', { detail: 'no such account' })
  if (user.status !== 'active') throw new ProblemError('FORBIDDEN', { detail: 'this account is disabled' })
  if (!hasSecondFactor(input.amr) && (await enrolledSecondFactors(c.env.DB, input.userId)).length > 0) {
    await setSealedCookie(c, PENDING_MFA_COOKIE, { userId: input.userId, amr: input.amr, requestId: input.requestId } satisfies PendingMfa, PENDING_MFA_TTL_S)
    return `/login/mfa${input.requestId ? `?request=${encodeURIComponent(input.requestId)}` : ''}`
  }
  await establishIdpSession(c, input.userId, hasSecondFactor(input.amr) && !input.amr.includes('mfa') ? [...input.amr, 'mfa'] : input.amr)
  return continueTo(input.requestId)
}

/** The sign-in waiting for its second factor, if any (10 minutes). */
export function pendingMfa(c: Context<AppEnv>): Promise<PendingMfa | undefined> {
  return readSealedCookie<PendingMfa>(c, PENDING_MFA_COOKIE)
}

/** The second factor `method` was proved for the pending sign-in: open the session. */
export async function completeMfa(c: Context<AppEnv>, pending: PendingMfa, method: (typeof SECOND_FACTORS)[number]): Promise<string> {
  clearSealedCookie(c, PENDING_MFA_COOKIE)
  await establishIdpSession(c, pending.userId, [...new Set([...pending.amr, method, 'mfa'])])
  return continueTo(pending.requestId)
}
