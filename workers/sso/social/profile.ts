/**
 * What every upstream provider's answer is reduced to, and the one reading of `email_verified`
 * all adapters share. Only a boolean `true` or the string `"true"` (Apple sends strings) counts as
 * verified: `false`, `"false"`, a missing claim or anything else is unverified (sso.md X8).
 * @module
 */

export const PROVIDER_IDS = ['google', 'apple', 'facebook', 'x', 'sandbox'] as const
export type ProviderId = (typeof PROVIDER_IDS)[number]

export const PROVIDER_LABELS: Record<ProviderId, string> = {
  google: 'Google',
  apple: 'Apple',
  facebook: 'Facebook',
  x: 'X',
  sandbox: 'Sandbox provider',
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}

/** The normalized upstream identity. */
export interface SocialProfile {
  provider: ProviderId
  /** the provider's stable subject (`sub`, user id) */
  subject: string
  email: string | null
  emailVerified: boolean
  name: string | null
}

/** `email_verified` as providers send it: boolean, or a string for Apple. Anything else is false. */
export function emailVerifiedClaim(value: unknown): boolean {
  return value === true || value === 'true'
}

const MAX_SUBJECT = 255
const MAX_NAME = 100
const MAX_EMAIL = 254
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/**
 * Builds the profile from loosely typed provider claims: a subject that is not a short printable
 * string is a provider fault (thrown), an email that does not look like one is dropped (and with it
 * any verified flag), names are trimmed and cut to what the account page shows.
 */
export function toProfile(provider: ProviderId, claims: { subject: unknown; email?: unknown; emailVerified?: unknown; name?: unknown }): SocialProfile {
  const subject = typeof claims.subject === 'number' ? String(claims.subject) : claims.subject
  if (typeof subject !== 'string' || !subject || subject.length > MAX_SUBJECT || !/^[\x21-\x7e]+$/.test(subject)) {
    throw new UpstreamProfileError(`${provider} returned no usable subject`)
  }
  const rawEmail = typeof claims.email === 'string' ? claims.email.trim() : ''
  const email = rawEmail && rawEmail.length <= MAX_EMAIL && EMAIL_SHAPE.test(rawEmail) ? rawEmail : null
  const rawName = typeof claims.name === 'string' ? claims.name.replace(/\s+/g, ' ').trim() : ''
  return {
    provider,
    subject,
    email,
    emailVerified: email !== null && emailVerifiedClaim(claims.emailVerified),
    name: rawName ? rawName.slice(0, MAX_NAME) : null,
  }
}

/** The provider answered, but not with an identity we can use. */
export class UpstreamProfileError extends Error {
  override name = 'UpstreamProfileError'
}
