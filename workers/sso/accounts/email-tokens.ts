/**
 * Single-use emailed tokens (verify an address, reset a password): 32 random bytes sent in the mail,
 * only their SHA-256 stored in `email_tokens`, so a database leak yields no usable link.
 * Use is one conditional UPDATE (`... WHERE used_at_ms IS NULL AND expires_at_ms > now RETURNING`),
 * so of two concurrent uses of one token exactly one wins; unknown, used and expired tokens are
 * refused alike, telling an attacker nothing about which it was.
 * @module
 */
import { and, eq, gt, isNull } from 'drizzle-orm'
import { emailTokens, users } from '../../../d1/schema'
import { db } from '../../lib/db'
import { randomToken, sha256Hex } from '../../lib/encoding'
import { newId } from '../../lib/ids'

export type EmailTokenPurpose = 'verify_email' | 'reset_password'

export const TOKEN_BYTES = 32
/** base64url of TOKEN_BYTES without padding */
export const TOKEN_LENGTH = 43
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/
export const TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3_600_000,
  reset_password: 3_600_000,
}

export function hashEmailToken(token: string): string {
  return sha256Hex(token)
}

/**
 * Creates a token for `userId` and returns the raw value (for the mail only). A new reset token
 * invalidates the user's older unused reset tokens, so only the latest mailed link works.
 */
export async function issueEmailToken(d1: D1Database, userId: string, purpose: EmailTokenPurpose, nowMs: number = Date.now()): Promise<{ token: string; expiresAtMs: number }> {
  const token = randomToken(TOKEN_BYTES)
  const expiresAtMs = nowMs + TOKEN_TTL_MS[purpose]
  const handle = db(d1)
  const insert = handle.insert(emailTokens).values({ id: newId('emailToken', nowMs), userId, purpose, tokenHash: hashEmailToken(token), expiresAtMs, createdAtMs: nowMs })
  if (purpose === 'reset_password') {
    await handle.batch([invalidateUnused(d1, userId, purpose, nowMs), insert])
  } else {
    await insert
  }
  return { token, expiresAtMs }
}

/** Marks every unused token of `userId` for `purpose` as used. */
export function invalidateUnused(d1: D1Database, userId: string, purpose: EmailTokenPurpose, nowMs: number) {
  return db(d1)
    .update(emailTokens)
    .set({ usedAtMs: nowMs })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAtMs)))
}

function usable(token: string, purpose: EmailTokenPurpose, nowMs: number) {
  return and(eq(emailTokens.tokenHash, hashEmailToken(token)), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAtMs), gt(emailTokens.expiresAtMs, nowMs))
}

/** Looks a usable token up without using it, with its (active) user. */
export async function peekEmailToken(d1: D1Database, token: string, purpose: EmailTokenPurpose, nowMs: number = Date.now()) {
  const [row] = await db(d1)
    .select({ tokenId: emailTokens.id, user: users })
    .from(emailTokens)
    .innerJoin(users, eq(users.id, emailTokens.userId))
    .where(and(usable(token, purpose, nowMs), eq(users.status, 'active')))
    .limit(1)
  return row
}

/** Uses a token once: the user id when it was usable, undefined otherwise (unknown, used, expired). */
export async function consumeEmailToken(d1: D1Database, token: string, purpose: EmailTokenPurpose, nowMs: number = Date.now()): Promise<string | undefined> {
  const [row] = await db(d1).update(emailTokens).set({ usedAtMs: nowMs }).where(usable(token, purpose, nowMs)).returning({ userId: emailTokens.userId })
  return row?.userId
}
