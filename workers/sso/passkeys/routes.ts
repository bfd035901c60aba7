/**
 * Passkeys (WebAuthn) on the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 *
 * JSON in, JSON out, for public/static/passkeys.js on the SSO pages:
 * - `POST /passkeys/register/options` and `/register/verify`: add a passkey to the signed-in account
 *   (IdP session authenticated within the last 15 minutes: adding a sign-in method is a security change)
 * - `POST /passkeys/authenticate/options` and `/authenticate/verify`: sign in with a passkey, either
 *   passwordless (discoverable credential, user verification required) or as the second factor of a
 *   pending sign-in (`pendingMfa`); answers `{ next }`, the path to go to
 * - `GET /passkeys`, `DELETE /passkeys/:id`, `POST /passkeys/:id/rename`: the account page's list
 * Every state change checks `Origin` (CSRF) since the IdP cookie rides along with any request.
 * @module
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { audit, type AuditContext } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError, validationProblem } from '../../edge/problem'
import { isId } from '../../lib/ids'
import { completeMfa, completeSignIn, pendingMfa, PASSKEY_AMR } from '../login/complete'
import { readIdpSession, type IdpSession } from '../login/idp-session'
import { reauthPath, RECENT_AUTH_S } from '../pages/reauth'
import {
  authenticationOptions,
  AuthenticationResponse,
  challengeOf,
  counterRegressed,
  CredentialId,
  registrationOptions,
  RegistrationResponse,
  relyingParty,
  requireSameOrigin,
  userHandle,
  userHandleMatches,
  verifyAuthentication,
  verifyRegistration,
} from './ceremonies'
import { consumeChallenge, deletePasskey, findPasskey, insertPasskey, listPasskeys, MAX_PASSKEYS_PER_USER, recordUse, renamePasskey, saveChallenge, type StoredPasskey } from './store'

/** Adding a passkey needs a sign-in at most this old (AAL3-style reauthentication window, sso.md §6). */
export const STEP_UP_MAX_AGE_S = RECENT_AUTH_S
/** Passkey requests are small; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 64 * 1024

const NO_STORE = { 'cache-control': 'no-store' }

export const PasskeyName = z
  .string()
  .trim()
  .min(1, 'must be 1-64 characters')
  .max(64, 'must be 1-64 characters')
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'must not contain control characters')

const RequestId = z.string().refine((v) => isId('authRequest', v), 'must be an authorization request id (arq_...)')

const RegisterOptionsBody = z.object({}).strict()
const RegisterVerifyBody = z.object({ name: PasskeyName, response: RegistrationResponse }).strict()
const AuthenticateOptionsBody = z.object({ request: RequestId.optional() }).strict()
const AuthenticateVerifyBody = z.object({ response: AuthenticationResponse, request: RequestId.optional() }).strict()
const RenameBody = z.object({ name: PasskeyName }).strict()

/** Reads a JSON body (or `{}` when `emptyAs` allows an empty one) and validates it, naming each bad field. */
async function readJson<S extends z.ZodType>(c: Context<AppEnv>, schema: S, options: { allowEmpty?: boolean } = {}): Promise<z.output<S>> {
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `request bodies are limited to ${MAX_BODY_BYTES} bytes` })
  const bytes = await readLimited(c.req.raw)
  let value: unknown
  if (bytes.byteLength === 0 && options.allowEmpty) {
    value = {}
  } else {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') {
      throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'send the body as application/json', errors: [{ path: 'header.content-type', message: 'must be application/json' }] })
    }
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes))
    } catch {
      throw new ProblemError('MALFORMED_BODY', { detail: 'the request body is not valid JSON', errors: [{ path: 'body', message: 'is not valid JSON' }] })
    }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw validationProblem(parsed.error, 'body')
  return parsed.data
}

async function readLimited(request: Request): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `request bodies are limited to ${MAX_BODY_BYTES} bytes` })
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

async function signedIn(c: Context<AppEnv>): Promise<IdpSession> {
  const session = await readIdpSession(c)
  if (!session) throw new ProblemError('UNAUTHENTICATED', { detail: 'sign in on the SSO host first' })
  return session
}

function requireRecentAuth(session: IdpSession, nowS = Math.floor(Date.now() / 1000)): void {
  const ageS = nowS - session.authTimeS
  if (ageS > STEP_UP_MAX_AGE_S) {
    throw new ProblemError('STEP_UP_REQUIRED', {
      detail: `adding a passkey needs a sign-in from the last ${STEP_UP_MAX_AGE_S / 60} minutes; sign in again (re-authenticate), then retry`,
      // `reauth`: the page that confirms the password and comes back to the account page
      extensions: { max_auth_age_s: STEP_UP_MAX_AGE_S, auth_age_s: ageS, reauth: reauthPath('/account') },
    })
  }
}

function who(c: Context<AppEnv>, userId: string | null): AuditContext {
  return { env: c.env, actor: userId ?? 'anonymous', actorRoles: [], requestId: c.var.requestId }
}

/** What the account page shows of a passkey (no key material). */
export interface PasskeyView {
  id: string
  name: string
  created_at: string
  last_used_at: string | null
  backed_up: boolean
  device_type: 'singleDevice' | 'multiDevice'
}

export function passkeyView(p: StoredPasskey): PasskeyView {
  return {
    id: p.id,
    name: p.name,
    created_at: new Date(p.createdAtMs).toISOString(),
    last_used_at: p.lastUsedAtMs === null ? null : new Date(p.lastUsedAtMs).toISOString(),
    backed_up: p.backedUp,
    device_type: p.deviceType,
  }
}

function credentialIdParam(c: Context<AppEnv>): string {
  const parsed = CredentialId.safeParse(c.req.param('id'))
  if (!parsed.success) throw validationProblem(parsed.error, 'param.id')
  return parsed.data
}

export const passkeyRoutes = new Hono<AppEnv>()

passkeyRoutes.post('/passkeys/register/options', async (c) => {
  requireSameOrigin(c)
  const session = await signedIn(c)
  requireRecentAuth(session)
  await readJson(c, RegisterOptionsBody, { allowEmpty: true })
  const user = await c.env.DB.prepare('SELECT email, display_name FROM users WHERE id = ?').bind(session.userId).first<{ email: string; display_name: string }>()
  if (!user) throw new ProblemError('UNAUTHENTICATED', { detail: 'the signed-in account no longer exists' })
  const existing = await listPasskeys(c.env.DB, session.userId)
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new ProblemError('CONFLICT', { detail: `an account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first` })
  const options = await registrationOptions(relyingParty(c), { handle: userHandle(c.var.config, session.userId), email: user.email, displayName: user.display_name }, existing)
  await saveChallenge(c.env.DB, { userId: session.userId, purpose: 'register', challenge: options.challenge })
  return c.json(options, 200, NO_STORE)
})

passkeyRoutes.post('/passkeys/register/verify', async (c) => {
  requireSameOrigin(c)
  const session = await signedIn(c)
  const body = await readJson(c, RegisterVerifyBody)
  const challenge = await consumeChallenge(c.env.DB, challengeOf(body.response.response.clientDataJSON), 'register')
  // the challenge was issued to this user, under a recent sign-in, at most 5 minutes ago
  if (!challenge || challenge.userId !== session.userId) {
    throw new ProblemError('BAD_REQUEST', { detail: 'unknown, expired or already used registration challenge; start again', errors: [{ path: 'body.response.response.clientDataJSON', message: 'challenge not accepted' }] })
  }
  const verified = await verifyRegistration(relyingParty(c), body.response, challenge.challenge)
  if ((await listPasskeys(c.env.DB, session.userId)).length >= MAX_PASSKEYS_PER_USER) {
    throw new ProblemError('CONFLICT', { detail: `an account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first` })
  }
  const nowMs = Date.now()
  const stored: StoredPasskey = { ...verified, userId: session.userId, name: body.name, createdAtMs: nowMs, lastUsedAtMs: null }
  if (!(await insertPasskey(c.env.DB, stored))) {
    throw new ProblemError('CONFLICT', { detail: 'this passkey is already registered', errors: [{ path: 'body.response.id', message: 'is already registered' }] })
  }
  await audit(who(c, session.userId), 'sso.passkey.register', `user:${session.userId}`, {
    credential_id: verified.id,
    device_type: verified.deviceType,
    backed_up: verified.backedUp,
    aaguid: verified.aaguid,
  })
  return c.json(passkeyView(stored), 201, NO_STORE)
})

passkeyRoutes.post('/passkeys/authenticate/options', async (c) => {
  requireSameOrigin(c)
  await readJson(c, AuthenticateOptionsBody, { allowEmpty: true })
  const pending = await pendingMfa(c)
  const rp = relyingParty(c)
  // second factor: only the pending user's passkeys; without any, the discoverable flow still works
  const own = pending ? await listPasskeys(c.env.DB, pending.userId) : []
  const secondFactor = pending !== undefined && own.length > 0
  const options = await authenticationOptions(rp, secondFactor ? own : null, secondFactor ? 'preferred' : 'required')
  await saveChallenge(c.env.DB, { userId: secondFactor ? pending.userId : null, purpose: 'authenticate', challenge: options.challenge })
  return c.json(options, 200, NO_STORE)
})

passkeyRoutes.post('/passkeys/authenticate/verify', async (c) => {
  requireSameOrigin(c)
  const body = await readJson(c, AuthenticateVerifyBody)
  const challenge = await consumeChallenge(c.env.DB, challengeOf(body.response.response.clientDataJSON), 'authenticate')
  if (!challenge) {
    throw new ProblemError('BAD_REQUEST', { detail: 'unknown, expired or already used sign-in challenge; start again', errors: [{ path: 'body.response.response.clientDataJSON', message: 'challenge not accepted' }] })
  }
  const passkey = await findPasskey(c.env.DB, body.response.id)
  if (!passkey) throw new ProblemError('BAD_REQUEST', { detail: 'this passkey is not registered here', errors: [{ path: 'body.response.id', message: 'unknown credential' }] })

  // a challenge issued for a second factor is good only for that pending sign-in and its user's passkeys
  const pending = challenge.userId ? await pendingMfa(c) : undefined
  if (challenge.userId && (!pending || pending.userId !== challenge.userId || passkey.userId !== challenge.userId)) {
    await audit(who(c, passkey.userId), 'sso.passkey.sign_in_failed', `user:${passkey.userId}`, { credential_id: passkey.id, reason: 'second_factor_mismatch' })
    throw new ProblemError('BAD_REQUEST', { detail: 'this passkey does not belong to the sign-in in progress', errors: [{ path: 'body.response.id', message: 'not a passkey of the pending sign-in' }] })
  }
  if (!userHandleMatches(c.var.config, passkey.userId, body.response.response.userHandle)) {
    await audit(who(c, passkey.userId), 'sso.passkey.sign_in_failed', `user:${passkey.userId}`, { credential_id: passkey.id, reason: 'user_handle_mismatch' })
    throw new ProblemError('BAD_REQUEST', { detail: 'the passkey answered for another account', errors: [{ path: 'body.response.response.userHandle', message: 'does not match the credential' }] })
  }

  const passwordless = challenge.userId === null
  let verified
  try {
    verified = await verifyAuthentication(relyingParty(c), body.response, passkey, challenge.challenge, passwordless)
  } catch (err) {
    await audit(who(c, passkey.userId), 'sso.passkey.sign_in_failed', `user:${passkey.userId}`, { credential_id: passkey.id, reason: 'verification_failed' })
    throw err
  }
  const nowMs = Date.now()
  // the conditional update loses to a concurrent use of the same counter value: also a regression
  if (counterRegressed(passkey.counter, verified.newCounter) || !(await recordUse(c.env.DB, passkey.id, { counter: verified.newCounter, backedUp: verified.backedUp, nowMs }, passkey.counter))) {
    await audit(who(c, passkey.userId), 'sso.passkey.counter_regression', `user:${passkey.userId}`, { credential_id: passkey.id, stored_counter: passkey.counter, received_counter: verified.newCounter })
    throw new ProblemError('BAD_REQUEST', {
      detail: 'this passkey\'s signature counter went backwards, a sign of a cloned authenticator; sign in another way and review your passkeys',
      errors: [{ path: 'body.response.response.authenticatorData', message: 'signature counter did not increase' }],
    })
  }

  const next = passwordless
    ? await completeSignIn(c, { userId: passkey.userId, amr: [...PASSKEY_AMR], requestId: body.request ?? null })
    : await completeMfa(c, pending!, 'hwk')
  await audit(who(c, passkey.userId), 'sso.passkey.sign_in', `user:${passkey.userId}`, { credential_id: passkey.id, mode: passwordless ? 'passwordless' : 'second_factor', user_verified: verified.userVerified })
  return c.json({ next }, 200, NO_STORE)
})

passkeyRoutes.get('/passkeys', async (c) => {
  const session = await signedIn(c)
  return c.json({ passkeys: (await listPasskeys(c.env.DB, session.userId)).map(passkeyView) }, 200, NO_STORE)
})

passkeyRoutes.delete('/passkeys/:id', async (c) => {
  requireSameOrigin(c)
  const session = await signedIn(c)
  const id = credentialIdParam(c)
  const removed = await deletePasskey(c.env.DB, session.userId, id)
  if (!removed) throw new ProblemError('NOT_FOUND', { detail: 'no such passkey on this account' })
  await audit(who(c, session.userId), 'sso.passkey.delete', `user:${session.userId}`, { credential_id: removed.id })
  return c.body(null, 204, NO_STORE)
})

passkeyRoutes.post('/passkeys/:id/rename', async (c) => {
  requireSameOrigin(c)
  const session = await signedIn(c)
  const id = credentialIdParam(c)
  const body = await readJson(c, RenameBody)
  const renamed = await renamePasskey(c.env.DB, session.userId, id, body.name)
  if (!renamed) throw new ProblemError('NOT_FOUND', { detail: 'no such passkey on this account' })
  await audit(who(c, session.userId), 'sso.passkey.rename', `user:${session.userId}`, { credential_id: renamed.id })
  return c.json(passkeyView(renamed), 200, NO_STORE)
})
