/**
 * Facebook Login through arctic, profile from the Graph API `/me?fields=id,name,email`.
 * Facebook sends no `email_verified`; its documentation says the `email` field "will not be
 * returned if no valid email address is available", and Meta only returns confirmed addresses
 * (hybridauth/hybridauth#1110, openstreetmap-website#1096). A returned address is therefore taken
 * as verified; an account without one gets `email: null`.
 * @module
 */
import { Facebook } from 'arctic'
import { toProfile } from '../profile'
import { arcticFailure, fetchJson, type ProviderAdapter } from './adapter'

export const FACEBOOK_SCOPES = ['email', 'public_profile']
export const FACEBOOK_PROFILE_URL = 'https://graph.facebook.com/v16.0/me?fields=id,name,email'

export interface FacebookCredentials {
  clientId: string
  clientSecret: string
}

export function facebookAdapter(credentials: FacebookCredentials, redirectUri: string): ProviderAdapter {
  const facebook = new Facebook(credentials.clientId, credentials.clientSecret, redirectUri)
  return {
    id: 'facebook',
    formPost: false,
    authorizationUrl(flow) {
      return facebook.createAuthorizationURL(flow.state, FACEBOOK_SCOPES)
    },
    async profile(input) {
      try {
        const tokens = await facebook.validateAuthorizationCode(input.code)
        const me = (await fetchJson('facebook', FACEBOOK_PROFILE_URL, tokens.accessToken())) as { id?: unknown; name?: unknown; email?: unknown }
        return toProfile('facebook', { subject: me?.id, email: me?.email, emailVerified: typeof me?.email === 'string', name: me?.name })
      } catch (err) {
        throw arcticFailure('facebook', err)
      }
    },
  }
}
