/**
 * Email normalisation for account lookup and throttle keys: one spelling per mailbox, so the unique
 * index on `users.email_normalized` and the `account:<email>` throttle key cannot be sidestepped by
 * case or compatibility characters. Local parts are treated case-insensitively, as every major
 * mailbox provider does.
 * @module
 */
import { z } from 'zod'

export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase()
}

/** An email address at a boundary: trimmed, shape-checked, at most 254 characters (RFC 5321). */
export const emailSchema = z.string().trim().max(254).pipe(z.email())

/** The part before the last `@` of a normalised address ('' when there is none). */
export function emailLocalPart(email: string): string {
  const normalized = normalizeEmail(email)
  const at = normalized.lastIndexOf('@')
  return at < 0 ? normalized : normalized.slice(0, at)
}
