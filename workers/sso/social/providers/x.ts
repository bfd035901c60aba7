/**
 * X (Twitter) OAuth 2.0 through arctic's `Twitter` (authorization code + PKCE S256), profile from
 * `GET /2/users/me`. X gives no email address by default, so the profile has `email: null`: such
 * an identity can sign in once it is linked, but cannot create an account on its own (routes.ts).
 * @module
 */
import { Twitter } from 'arctic'
import { toProfile } from '../profile'
import { arcticFailure, fetchJson, type ProviderAdapter } from './adapter'

export const X_SCOPES = ['users.read', 'tweet.read']
export const X_PROFILE_URL = 'https://api.twitter.com/2/users/me?user.fields=name'

export interface XCredentials {
  clientId: string
  clientSecret: string
}

export function xAdapter(credentials: XCredentials, redirectUri: string): ProviderAdapter {
  const twitter = new Twitter(credentials.clientId, credentials.clientSecret, redirectUri)
  return {
    id: 'x',
    formPost: false,
    authorizationUrl(flow) {
      return twitter.createAuthorizationURL(flow.state, flow.codeVerifier, X_SCOPES)
    },
    async profile(input, flow) {
      try {
        const tokens = await twitter.validateAuthorizationCode(input.code, flow.codeVerifier)
        const me = (await fetchJson('x', X_PROFILE_URL, tokens.accessToken())) as { data?: { id?: unknown; name?: unknown } }
        return toProfile('x', { subject: me?.data?.id, email: null, emailVerified: false, name: me?.data?.name })
      } catch (err) {
        throw arcticFailure('x', err)
      }
    },
  }
}
