/**
 * The WebAuthn ceremonies (registration, authentication) on the SSO host's rpId, with
 * @simplewebauthn/server. Passkeys are bound to one rpId (sso.md X6): the SSO host, never a brand.
 *
 * Origins: staging and production accept only the issuer (`https://sso.<platform>`). In dev the
 * browser reaches the SSO host through the dev server's port (`http://sso.localhost:8787`), which
 * is part of the origin, so dev also accepts the request's own origin when its hostname is the SSO
 * host. The same list decides which `Origin` a state-changing request may come from (CSRF).
 * @module
 */
import { isSameOrigin } from '../../edge/same-origin'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { Context } from 'hono'
import { z } from 'zod'
import type { Config } from '../../config'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { base64url, fromBase64url, timingSafeEqualText, utf8 } from '../../lib/encoding'
import type { StoredPasskey } from './store'

export const RP_NAME = 'FANZ'
/** EdDSA, ES256, RS256: what platform and roaming authenticators use; pinned so a library default cannot widen it. */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257]
const TIMEOUT_MS = 120_000

export interface RelyingParty {
  rpId: string
  origins: string[]
}

/** The origin the request itself was sent to (scheme + Host, port included). */
function ownOrigin(c: Context<AppEnv>): { origin: string; hostname: string } {
  const url = new URL(c.req.url)
  const host = c.req.header('host') ?? url.host
  const origin = `${url.protocol}//${host}`
  try {
    return { origin, hostname: new URL(origin).hostname }
  } catch {
    return { origin: url.origin, hostname: url.hostname }
  }
}

export function relyingParty(c: Context<AppEnv>): RelyingParty {
  const config = c.var.config
  const origins = [config.issuer]
  if (config.isDev) {
    const own = ownOrigin(c)
    if (own.hostname === config.hosts.sso && !origins.includes(own.origin)) origins.push(own.origin)
  }
  return { rpId: config.hosts.sso, origins }
}

/**
 * CSRF: every cookie-authenticated state change must come from a page of the SSO host itself.
 * Browsers send `Origin` on every POST/DELETE fetch; a request without one is refused too.
 */
export function requireSameOrigin(c: Context<AppEnv>): void {
  if (!isSameOrigin(c)) {
    const origin = c.req.header('origin')
    throw new ProblemError('FORBIDDEN', {
      detail: 'cross-site request refused: passkey requests must come from a page of the SSO host',
      errors: [{ path: 'header.origin', message: origin ? `${origin.slice(0, 100)} is not the SSO host's origin` : 'is missing' }],
    })
  }
}

/**
 * The WebAuthn user handle: opaque bytes (no email, no id), stable per user so that registering on
 * an authenticator that already holds a passkey of this user replaces it. HMAC of the user id under
 * the master secret, domain-separated from every other use of it.
 */
export function userHandle(config: Pick<Config, 'signingMasterKey'>, userId: string): Uint8Array {
  return hmac(sha256, utf8(config.signingMasterKey), utf8(`fanz/webauthn-user-handle/v1\0${userId}`))
}

const base64urlText = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')

/** A credential id: at most 1023 bytes (WebAuthn §5.1.3), i.e. 1364 base64url characters. */
export const CredentialId = base64urlText(1364)

/** `PublicKeyCredential.toJSON()` of `navigator.credentials.create()`; unknown members are dropped. */
export const RegistrationResponse = z.object({
  id: CredentialId,
  rawId: CredentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64urlText(4096),
    attestationObject: base64urlText(32_768),
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
})

/** `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`. */
export const AuthenticationResponse = z.object({
  id: CredentialId,
  rawId: CredentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64urlText(4096),
    authenticatorData: base64urlText(4096),
    signature: base64urlText(1024),
    userHandle: z.string().max(128).regex(/^[A-Za-z0-9_-]*$/, 'must be base64url').optional().nullable(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional().nullable(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
})

export type RegistrationResponseInput = z.infer<typeof RegistrationResponse>
export type AuthenticationResponseInput = z.infer<typeof AuthenticationResponse>

const ClientData = z.object({ type: z.string(), challenge: z.string().min(1).max(512), origin: z.string() })

/**
 * The challenge the browser signed, read from clientDataJSON: it names the stored challenge row.
 * The library checks the rest of clientDataJSON (type, origin, challenge equality) afterwards.
 */
export function challengeOf(clientDataJSON: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromBase64url(clientDataJSON)))
  } catch {
    parsed = undefined
  }
  const data = ClientData.safeParse(parsed)
  if (!data.success) {
    throw new ProblemError('BAD_REQUEST', { detail: 'clientDataJSON is not a WebAuthn client data object', errors: [{ path: 'body.response.response.clientDataJSON', message: 'is not WebAuthn client data' }] })
  }
  return data.data.challenge
}

function notAccepted(err: unknown, path: string): ProblemError {
  const reason = err instanceof Error ? err.message.slice(0, 200) : 'verification failed'
  return new ProblemError('BAD_REQUEST', { detail: `the passkey response was not accepted: ${reason}`, errors: [{ path, message: reason }], cause: err })
}

export function registrationOptions(
  rp: RelyingParty,
  user: { handle: Uint8Array; email: string; displayName: string },
  existing: StoredPasskey[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: rp.rpId,
    userID: user.handle as Uint8Array<ArrayBuffer>,
    userName: user.email,
    userDisplayName: user.displayName,
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
    // discoverable and user-verifying: the passkey alone must be able to sign in (passwordless)
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  })
}

export interface VerifiedRegistration {
  id: string
  publicKey: string
  counter: number
  transports: string[]
  deviceType: 'singleDevice' | 'multiDevice'
  backedUp: boolean
  aaguid: string
}

export async function verifyRegistration(rp: RelyingParty, response: RegistrationResponseInput, expectedChallenge: string): Promise<VerifiedRegistration> {
  let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>
  try {
    result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    })
  } catch (err) {
    throw notAccepted(err, 'body.response')
  }
  if (!result.verified) throw notAccepted(new Error('registration response not verified'), 'body.response')
  const info = result.registrationInfo
  return {
    id: info.credential.id,
    publicKey: base64url(info.credential.publicKey),
    counter: info.credential.counter,
    transports: response.response.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
  }
}

/** `allow` null: discoverable credentials (passwordless); otherwise the user's own passkeys. */
export function authenticationOptions(rp: RelyingParty, allow: StoredPasskey[] | null, userVerification: 'required' | 'preferred'): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    allowCredentials: allow ? allow.map((p) => ({ id: p.id, transports: p.transports })) : [],
    userVerification,
    timeout: TIMEOUT_MS,
  })
}

export interface VerifiedAuthentication {
  newCounter: number
  backedUp: boolean
  userVerified: boolean
}

/**
 * Verifies the assertion's signature, type, origin, rpId, challenge and flags. The counter rule is
 * left to the caller (it runs only once the signature is proven, so only the real authenticator, or
 * a clone of it, can trigger a clone alarm).
 */
export async function verifyAuthentication(
  rp: RelyingParty,
  response: AuthenticationResponseInput,
  passkey: StoredPasskey,
  expectedChallenge: string,
  requireUserVerification: boolean,
): Promise<VerifiedAuthentication> {
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>
  try {
    result = await verifyAuthenticationResponse({
      response: { ...response, response: { ...response.response, userHandle: response.response.userHandle ?? undefined }, authenticatorAttachment: response.authenticatorAttachment ?? undefined } as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      credential: { id: passkey.id, publicKey: fromBase64url(passkey.publicKey) as Uint8Array<ArrayBuffer>, counter: 0, transports: passkey.transports as never },
      requireUserVerification,
    })
  } catch (err) {
    throw notAccepted(err, 'body.response')
  }
  if (!result.verified) throw notAccepted(new Error('authentication response not verified'), 'body.response')
  return { newCounter: result.authenticationInfo.newCounter, backedUp: result.authenticationInfo.credentialBackedUp, userVerified: result.authenticationInfo.userVerified }
}

/** Counters that are not both zero must grow; otherwise two copies of the key exist (WebAuthn §6.1.1). */
export function counterRegressed(stored: number, received: number): boolean {
  return (stored > 0 || received > 0) && received <= stored
}

/** True when a presented user handle belongs to `userId` (constant time; absent handles are not checked). */
export function userHandleMatches(config: Pick<Config, 'signingMasterKey'>, userId: string, presented: string | null | undefined): boolean {
  if (!presented) return true
  return timingSafeEqualText(presented, base64url(userHandle(config, userId)))
}
