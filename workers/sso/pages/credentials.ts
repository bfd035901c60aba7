/**
 * Email + password check for the sign-in and re-authentication pages.
 *
 * Throttling follows the account API (api-throttle.ts): both keys (`ip:<address>` and
 * `account:<normalised email>`) are checked first and a wait is a 429 with Retry-After. The account
 * key is charged before the password is checked, so parallel guesses at one account all count (the
 * Throttle DO counts atomically), and a correct password clears it (`recordSuccess`, which also
 * reopens the NIST 100-failure ceiling). The IP key is charged only for a wrong password and never
 * cleared by a success: otherwise one valid account of the attacker's would reset it between
 * guesses at others, and an office behind one address would slow down with every colleague's
 * sign-in.
 *
 * Unknown address, social-only account and wrong password are the same answer after the same work
 * (a PBKDF2 run against a dummy hash), so neither the message nor the timing tells which. A
 * disabled account is reported only after the right password, so the status leaks to no guesser.
 * @module
 */
import type { Context } from 'hono'
import { eq } from 'drizzle-orm'
import { users } from '../../../d1/schema'
import type { AppEnv } from '../../edge/context'
import { db } from '../../lib/db'
import { clientIpKey, rateLimited } from '../accounts/api-throttle'
import { normalizeEmail } from '../accounts/email'
import { hashPassword, verifyPassword } from '../accounts/password'
import { accountKey, throttle } from '../accounts/throttle'

export const INCORRECT = 'Email or password is incorrect.'
export const DISABLED = 'This account has been disabled. Contact FANZ support if you think this is a mistake.'

export type CredentialCheck =
  | { ok: true; user: { id: string; email: string; displayName: string; emailVerified: boolean } }
  | { ok: false; reason: 'incorrect' | 'disabled' }

/** A well-formed hash of nothing (random salt and hash, current parameters): verifying against it costs a real PBKDF2 run. */
const TIMING_STAND_IN = 'pbkdf2-sha256$100000$XhyZo0fnHrA8cYgD0fe3Iw$QPMWX1pmOSS0VY8xcDKkjbkhKGa1Q8WSHNHCXF0qWLM'

/** Checks the pair; throws 429 (RATE_LIMITED) while either key is waiting. */
export async function checkCredentials(c: Context<AppEnv>, email: string, password: string): Promise<CredentialCheck> {
  const ip = throttle(c.env, clientIpKey(c))
  const account = throttle(c.env, accountKey(email))
  const decisions = await Promise.all([ip.check(), account.check()])
  const waits = decisions.flatMap((d) => (d.allowed ? [] : [d.retryAfterS]))
  if (waits.length) throw rateLimited(Math.max(...waits), 'sign-in attempts')
  await account.recordFailure()

  const [user] = await db(c.env.DB)
    .select({ id: users.id, email: users.email, displayName: users.displayName, passwordHash: users.passwordHash, status: users.status, emailVerifiedAtMs: users.emailVerifiedAtMs })
    .from(users)
    .where(eq(users.emailNormalized, normalizeEmail(email)))
    .limit(1)
  const outcome = await verifyPassword(password, user?.passwordHash ?? TIMING_STAND_IN)
  if (!user?.passwordHash || !outcome.ok) {
    await ip.recordFailure()
    return { ok: false, reason: 'incorrect' }
  }
  await account.recordSuccess()
  if (user.status !== 'active') return { ok: false, reason: 'disabled' }
  if (outcome.needsRehash) {
    // the stored parameters are weaker than today's: upgrade while the plaintext is at hand
    await db(c.env.DB).update(users).set({ passwordHash: await hashPassword(password), updatedAtMs: Date.now() }).where(eq(users.id, user.id))
  }
  return { ok: true, user: { id: user.id, email: user.email, displayName: user.displayName, emailVerified: user.emailVerifiedAtMs !== null } }
}
