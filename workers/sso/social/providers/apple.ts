/**
 * Sign in with Apple through arctic. Asking for `name email` obliges `response_mode=form_post`
 * (sso.md X7): Apple's page POSTs `code`, `state`, `id_token` and, on the first authorization
 * only, `user` (JSON with the name) to the callback, a cross-site POST (see routes.ts for the
 * cookie consequences). The identity comes from the ID token of the token response: `sub`,
 * `email` (possibly an `@privaterelay.appleid.com` relay address, `is_private_email`), and
 * `email_verified`, which Apple sends as a boolean or as the strings "true"/"false".
 * Apple does not document PKCE for web sign-in, so none is sent; the nonce binds the ID token.
 * @module
 */
import { Apple } from 'arctic'
import { fromBase64url } from '../../../lib/encoding'
import { toProfile } from '../profile'
import { arcticFailure, type ProviderAdapter } from './adapter'
import { checkedIdTokenClaims } from './id-token'

export const APPLE_ISSUER = 'https://appleid.apple.com'
export const APPLE_SCOPES = ['name', 'email']

export interface AppleCredentials {
  /** the Services ID */
  clientId: string
  teamId: string
  keyId: string
  /** the .p8 key: PKCS#8 PEM (newlines may be written as `\n` in the secret) */
  privateKeyPem: string
}

/** PKCS#8 bytes of a PEM private key; throws on anything else so a bad secret fails at start-up of the flow. */
export function pkcs8FromPem(pem: string): Uint8Array {
  const body = pem
    .replace(/\\n/g, '\n')
    .replace(/-----BEGIN PRIVATE KEY-----|-----END PRIVATE KEY-----/g, '')
    .replace(/\s+/g, '')
  if (!body || !/^[A-Za-z0-9+/]+=*$/.test(body)) throw new TypeError('APPLE_PRIVATE_KEY is not a PKCS#8 PEM key')
  return fromBase64url(body.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))
}

/** The name from the form_post `user` field: `{"name":{"firstName":"..","lastName":".."}}`. */
export function appleUserName(user: string | null): string | null {
  if (!user || user.length > 4096) return null
  try {
    const parsed = JSON.parse(user) as { name?: { firstName?: unknown; lastName?: unknown } }
    const parts = [parsed.name?.firstName, parsed.name?.lastName].filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    return parts.length ? parts.join(' ') : null
  } catch {
    return null
  }
}

export function appleAdapter(credentials: AppleCredentials, redirectUri: string): ProviderAdapter {
  const apple = new Apple(credentials.clientId, credentials.teamId, credentials.keyId, pkcs8FromPem(credentials.privateKeyPem), redirectUri)
  return {
    id: 'apple',
    formPost: true,
    authorizationUrl(flow) {
      const url = apple.createAuthorizationURL(flow.state, APPLE_SCOPES)
      url.searchParams.set('response_mode', 'form_post')
      url.searchParams.set('nonce', flow.nonce)
      return url
    },
    async profile(input, flow) {
      try {
        const tokens = await apple.validateAuthorizationCode(input.code)
        const claims = checkedIdTokenClaims('apple', tokens.idToken(), { issuers: [APPLE_ISSUER], audience: credentials.clientId, nonce: flow.nonce })
        return toProfile('apple', { subject: claims.sub, email: claims.email, emailVerified: claims.email_verified, name: appleUserName(input.user) })
      } catch (err) {
        throw arcticFailure('apple', err)
      }
    },
  }
}
