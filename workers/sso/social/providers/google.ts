/**
 * Google (OpenID Connect, authorization code + PKCE S256 through arctic). The identity comes from
 * the ID token of the token response: `sub`, `email`, `email_verified` (a boolean), `name`.
 * @module
 */
import { Google } from 'arctic'
import { toProfile } from '../profile'
import { arcticFailure, type ProviderAdapter } from './adapter'
import { checkedIdTokenClaims } from './id-token'

export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com']
export const GOOGLE_SCOPES = ['openid', 'email', 'profile']

export interface GoogleCredentials {
  clientId: string
  clientSecret: string
}

export function googleAdapter(credentials: GoogleCredentials, redirectUri: string): ProviderAdapter {
  const google = new Google(credentials.clientId, credentials.clientSecret, redirectUri)
  return {
    id: 'google',
    formPost: false,
    authorizationUrl(flow) {
      const url = google.createAuthorizationURL(flow.state, flow.codeVerifier, GOOGLE_SCOPES)
      url.searchParams.set('nonce', flow.nonce)
      // always show the account chooser: a shared computer's last Google account is not a choice
      url.searchParams.set('prompt', 'select_account')
      return url
    },
    async profile(input, flow) {
      try {
        const tokens = await google.validateAuthorizationCode(input.code, flow.codeVerifier)
        const claims = checkedIdTokenClaims('google', tokens.idToken(), { issuers: GOOGLE_ISSUERS, audience: credentials.clientId, nonce: flow.nonce })
        return toProfile('google', { subject: claims.sub, email: claims.email, emailVerified: claims.email_verified, name: claims.name })
      } catch (err) {
        throw arcticFailure('google', err)
      }
    },
  }
}
