/**
 * The shape every upstream provider adapter has: build the authorization URL from this flow's
 * secrets, then turn the callback's code into a normalized profile. Adapters never touch cookies,
 * the database or the session: routes.ts does, the same way for every provider.
 * @module
 */
import { ArcticFetchError, OAuth2RequestError, UnexpectedErrorResponseBodyError, UnexpectedResponseError } from 'arctic'
import type { ProviderId, SocialProfile } from '../profile'
import { UpstreamProfileError } from '../profile'

/** Secrets of one sign-in attempt, kept in the sealed state cookie between start and callback. */
export interface FlowSecrets {
  state: string
  /** PKCE verifier (RFC 7636), used by providers that take PKCE */
  codeVerifier: string
  /** OIDC nonce, bound into the ID token by providers that issue one */
  nonce: string
}

export interface CallbackInput {
  code: string
  /** Sign in with Apple's form_post `user` field (JSON with the name), first authorization only */
  user: string | null
}

export interface ProviderAdapter {
  id: ProviderId
  /** the callback arrives as a cross-site form POST (Apple with name/email scopes, sso.md X7) */
  formPost: boolean
  authorizationUrl(flow: FlowSecrets): URL
  profile(input: CallbackInput, flow: FlowSecrets): Promise<SocialProfile>
}

/** The provider refused the code (expired, reused, wrong client): the visitor starts again (4xx). */
export class UpstreamRefusedError extends Error {
  override name = 'UpstreamRefusedError'
}

/** The provider could not be reached or answered nonsense: not the visitor's fault (502). */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError'
}

/** Maps arctic's errors onto the two outcomes routes distinguish. */
export function arcticFailure(provider: ProviderId, err: unknown): Error {
  if (err instanceof OAuth2RequestError) return new UpstreamRefusedError(`${provider} refused the code: ${err.code}`)
  if (err instanceof UpstreamProfileError || err instanceof UpstreamRefusedError || err instanceof UpstreamUnavailableError) return err
  if (err instanceof ArcticFetchError || err instanceof UnexpectedResponseError || err instanceof UnexpectedErrorResponseBodyError) {
    return new UpstreamUnavailableError(`${provider} token endpoint failed: ${err.message}`)
  }
  return err instanceof Error ? err : new Error(String(err))
}

/** GET a provider's JSON profile endpoint with the access token; non-2xx is a provider fault. */
export async function fetchJson(provider: ProviderId, url: string, accessToken: string): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } })
  } catch (err) {
    throw new UpstreamUnavailableError(`${provider} profile endpoint unreachable: ${String(err)}`)
  }
  if (!res.ok) {
    await res.body?.cancel()
    throw new UpstreamUnavailableError(`${provider} profile endpoint answered ${res.status}`)
  }
  try {
    return await res.json()
  } catch {
    throw new UpstreamUnavailableError(`${provider} profile endpoint answered non-JSON`)
  }
}
