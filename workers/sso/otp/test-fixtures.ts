/**
 * Test-only helpers of the one-time code tests: accounts made directly in D1, a pending
 * second-factor step made by the real `completeSignIn`, and an IdP session made by the real
 * `UserSessions` object. Imported by `*.test.ts` only.
 * @module
 */
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { users } from '../../../d1/schema'
import { withConfig } from '../../edge/config'
import type { AppEnv } from '../../edge/context'
import { db } from '../../lib/db'
import { newId } from '../../lib/ids'
import { completeSignIn } from '../login/complete'
import { IDP_CLIENT_ID } from '../login/idp-session'
import { userSessions } from '../sessions'

export const SSO = 'sso.localhost'
export const SSO_ORIGIN = 'http://sso.localhost'

let counter = 0

export interface TestUser {
  id: string
  email: string
  phone: string | null
}

/** An active account; `phone` (E.164) is stored as verified; `emailVerified` defaults to true. */
export async function createUser(options: { phone?: string | null; emailVerified?: boolean; totp?: boolean; status?: 'active' | 'disabled' } = {}): Promise<TestUser> {
  const nowMs = Date.now()
  const id = newId('user', nowMs)
  const email = `Otp.User${++counter}.${nowMs}@Example.com`
  await db(env.DB)
    .insert(users)
    .values({
      id,
      email,
      emailNormalized: email.toLowerCase(),
      emailVerifiedAtMs: options.emailVerified === false ? null : nowMs,
      displayName: `Tester <b>${counter}</b>`,
      status: options.status ?? 'active',
      phoneE164: options.phone ?? null,
      phoneVerifiedAtMs: options.phone ? nowMs : null,
      // a stand-in sealed secret: only its presence matters to enrolledSecondFactors
      totpSecretSealed: options.totp ? 'sealed' : null,
      totpEnabledAtMs: options.totp ? nowMs : null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    })
  return { id, email, phone: options.phone ?? null }
}

/** A fresh, valid US number (415-555-xxxx is FIXED_LINE_OR_MOBILE in libphonenumber's metadata). */
export function freshPhone(): string {
  return `+1415555${String(1000 + (++counter % 9000)).padStart(4, '0')}`
}

const signIn = new Hono<AppEnv>()
signIn.use(withConfig)
signIn.post('/sign-in', async (c) => c.json({ next: await completeSignIn(c, { userId: c.req.query('user')!, amr: ['pwd'], requestId: null }) }))

/** The `fanz_mfa_pending=...` cookie pair the real completeSignIn sets after a password for a user with a second factor. */
export async function pendingMfaCookie(userId: string): Promise<string> {
  const res = await signIn.request(`${SSO_ORIGIN}/sign-in?user=${userId}`, { method: 'POST', headers: { host: SSO } }, env)
  const body = (await res.json()) as { next: string }
  if (body.next !== '/login/mfa') throw new Error(`expected a second-factor step, got ${body.next}`)
  const cookie = /(fanz_mfa_pending=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')
  if (!cookie) throw new Error('no pending-MFA cookie was set')
  return cookie[1]!
}

/** The `fanz_sso=<userId>.<refresh token>` cookie pair of a fresh IdP session. */
export async function idpSessionCookie(userId: string, amr: string[] = ['pwd']): Promise<string> {
  const created = await userSessions(env, userId).createSession({ clientId: IDP_CLIENT_ID, device: 'test', amr, authTimeS: Math.floor(Date.now() / 1000) })
  if (!created.ok) throw new Error(created.message)
  return `fanz_sso=${userId}.${created.refreshToken}`
}
