/**
 * The sign-in round trip with an upstream provider.
 *
 * - `GET /social/:provider/start[?request=arq_...]`: state, PKCE verifier and nonce go into a sealed
 *   cookie (10 minutes, path limited to the provider's callback), then a redirect to the provider.
 * - `GET /social/:provider/callback` (and `POST` for Apple's form_post): the state is checked
 *   against the cookie (single use), the code exchanged, and the identity resolved: a linked
 *   identity signs in; a verified email nobody uses creates an account; a verified email that an
 *   account already uses never links by itself (account pre-hijacking, sso.md X8): it waits in a
 *   sealed cookie for `/social/link` (linking.tsx); an unverified or missing email is refused.
 *
 * Apple's callback is a cross-site POST from appleid.apple.com, so the browser only sends the
 * state cookie if it is `SameSite=None; Secure` (sso.md X7). Plain-http dev cannot rely on Secure
 * cookies in every browser, and Apple only redirects to registered https URLs anyway, so in dev the
 * Apple cookie stays `Lax`: the Apple flow cannot complete on a local http host, the others can.
 * @module
 */
import { generateCodeVerifier, generateState } from 'arctic'
import type { Context } from 'hono'
import { Hono } from 'hono'
import type { CookieOptions } from 'hono/utils/cookie'
import { audit } from '../../compliance/audit'
import { readForm } from '../../edge/body'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { randomToken, timingSafeEqualText } from '../../lib/encoding'
import { isId } from '../../lib/ids'
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../lib/sealed-cookie'
import { completeSignIn } from '../login/complete'
import { accountByEmail, createAccountWithIdentity, findIdentity, touchIdentity } from './identities'
import { refusalPage } from './page'
import { PROVIDER_LABELS, type ProviderId, type SocialProfile } from './profile'
import { adapterFor } from './providers'
import { UpstreamRefusedError, UpstreamUnavailableError, type FlowSecrets, type ProviderAdapter } from './providers/adapter'
import { actorContext, label, PENDING_LINK_COOKIE, PENDING_LINK_PATH, PENDING_LINK_TTL_S, providerParam, START_AGAIN, type PendingLink } from './shared'

export const FLOW_TTL_S = 600
const MAX_CODE = 2048

interface FlowState extends FlowSecrets {
  provider: ProviderId
  requestId: string | null
}

export function flowCookieName(provider: ProviderId): string {
  return `fanz_social_${provider}`
}

/** The state cookie's attributes: path limited to the callback; SameSite=None for form_post providers outside dev. */
export function flowCookieOptions(adapter: Pick<ProviderAdapter, 'id' | 'formPost'>, isDev: boolean): CookieOptions {
  const path = `/social/${adapter.id}/callback`
  // see the module comment: a cross-site form_post only carries SameSite=None cookies
  if (adapter.formPost && !isDev) return { path, sameSite: 'None', secure: true }
  return { path, sameSite: 'Lax' }
}

export function offeredAdapter(c: Context<AppEnv>, provider: ProviderId): ProviderAdapter {
  const adapter = adapterFor(c, provider)
  if (!adapter) throw new ProblemError('NOT_FOUND', { detail: `${PROVIDER_LABELS[provider]} sign-in is not offered here` })
  return adapter
}

export const signInRoutes = new Hono<AppEnv>()

signInRoutes.get('/social/:provider/start', async (c) => {
  const provider = providerParam(c)
  const adapter = offeredAdapter(c, provider)
  const request = c.req.query('request')
  if (request !== undefined && !isId('authRequest', request)) {
    throw new ProblemError('VALIDATION_FAILED', { detail: 'request must be an authorization request id', errors: [{ path: 'query.request', message: 'must be arq_ followed by a ULID' }] })
  }
  const flow: FlowState = { provider, state: generateState(), codeVerifier: generateCodeVerifier(), nonce: randomToken(16), requestId: request ?? null }
  await setSealedCookie(c, flowCookieName(provider), flow, FLOW_TTL_S, flowCookieOptions(adapter, c.var.config.isDev))
  c.header('cache-control', 'no-store')
  return c.redirect(adapter.authorizationUrl(flow).toString(), 302)
})

async function callback(c: Context<AppEnv>, params: Record<string, string>): Promise<Response> {
  const provider = providerParam(c)
  const adapter = offeredAdapter(c, provider)
  const cookieName = flowCookieName(provider)
  const flow = await readSealedCookie<FlowState>(c, cookieName)
  // single use: whatever happens next, this state cannot be presented again
  clearSealedCookie(c, cookieName, flowCookieOptions(adapter, c.var.config.isDev))
  if (!flow || flow.provider !== provider || !timingSafeEqualText(params.state ?? '', flow.state)) {
    return refusalPage(
      c,
      400,
      'Sign-in could not be completed',
      `This ${label(provider)} sign-in is not the one this browser started, or it took longer than 10 minutes. Nothing was changed; start again.`,
      START_AGAIN,
    )
  }
  if (params.error) {
    return refusalPage(c, 400, 'Sign-in cancelled', `${label(provider)} did not sign you in (${params.error.slice(0, 64)}). Nothing was changed.`, START_AGAIN)
  }
  const code = params.code ?? ''
  if (!code || code.length > MAX_CODE) return refusalPage(c, 400, 'Sign-in could not be completed', `${label(provider)} sent no usable authorization code.`, START_AGAIN)

  let profile: SocialProfile
  try {
    profile = await adapter.profile({ code, user: params.user ?? null }, flow)
  } catch (err) {
    if (err instanceof UpstreamUnavailableError) {
      console.warn(JSON.stringify({ msg: 'social provider unavailable', provider, request_id: c.var.requestId, error: err.message }))
      return refusalPage(c, 502, `${label(provider)} is not answering`, `${label(provider)} could not be reached to finish signing you in. Try again in a moment.`, START_AGAIN)
    }
    if (err instanceof UpstreamRefusedError || (err instanceof Error && err.name === 'UpstreamProfileError')) {
      return refusalPage(c, 400, 'Sign-in could not be completed', `${label(provider)} did not confirm this sign-in (${(err as Error).message}). Nothing was changed; start again.`, START_AGAIN)
    }
    throw err
  }
  return resolveIdentity(c, profile, flow.requestId)
}

/** Known identity -> sign in; new verified email -> new account; used email -> explicit link only. */
async function resolveIdentity(c: Context<AppEnv>, profile: SocialProfile, requestId: string | null): Promise<Response> {
  const d1 = c.env.DB
  const known = await findIdentity(d1, profile.provider, profile.subject)
  if (known) {
    await touchIdentity(d1, profile.provider, profile.subject)
    await audit(actorContext(c, known.userId), 'sso.social.sign_in', `user:${known.userId}`, { provider: profile.provider })
    return c.redirect(await completeSignIn(c, { userId: known.userId, amr: ['fed'], requestId }), 303)
  }
  if (!profile.email || !profile.emailVerified) {
    return refusalPage(
      c,
      403,
      'No account was created',
      profile.email
        ? `${label(profile.provider)} says the email address ${profile.email} is not verified, so it cannot be used to create a FANZ account or to join one. Verify it with ${label(profile.provider)}, or sign up with your email address.`
        : `${label(profile.provider)} did not share a verified email address, so there is no FANZ account to sign in to and none can be created from it. Sign up with your email address instead.`,
      START_AGAIN,
    )
  }
  const existing = await accountByEmail(d1, profile.email)
  if (!existing) {
    const created = await createAccountWithIdentity(d1, { ...profile, email: profile.email })
    if (created.ok) {
      const who = actorContext(c, created.userId)
      await audit(who, 'sso.account.create', `user:${created.userId}`, { source: 'social', provider: profile.provider })
      await audit(who, 'sso.social.sign_in', `user:${created.userId}`, { provider: profile.provider, account_created: true })
      return c.redirect(await completeSignIn(c, { userId: created.userId, amr: ['fed'], requestId }), 303)
    }
    if (created.reason === 'identity_taken') {
      // the same identity signed up in a concurrent request: it is known now
      return resolveIdentity(c, profile, requestId)
    }
  }
  const account = existing ?? (await accountByEmail(d1, profile.email))
  if (!account) throw new Error('account vanished between insert conflict and lookup')
  await setSealedCookie(c, PENDING_LINK_COOKIE, { profile, userId: account.id, requestId } satisfies PendingLink, PENDING_LINK_TTL_S, { path: PENDING_LINK_PATH })
  c.header('cache-control', 'no-store')
  return c.redirect(PENDING_LINK_PATH, 303)
}

signInRoutes.get('/social/:provider/callback', (c) => callback(c, c.req.query()))

// Sign in with Apple's response_mode=form_post; other providers answer with a GET (405 here)
signInRoutes.post('/social/:provider/callback', async (c) => {
  const provider = providerParam(c)
  if (!offeredAdapter(c, provider).formPost) {
    throw new ProblemError('METHOD_NOT_ALLOWED', { detail: `${label(provider)} answers with a GET`, headers: { allow: 'GET' } })
  }
  const form = await readForm(c)
  const params: Record<string, string> = {}
  for (const key of ['state', 'code', 'error', 'user', 'id_token']) {
    const value = form[key]
    if (typeof value === 'string') params[key] = value
  }
  return callback(c, params)
})

