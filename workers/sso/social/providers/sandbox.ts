/**
 * The `sandbox` provider adapter: a real OAuth 2.0 client of the sandbox upstream provider served
 * under `/sandbox-idp/*` on the SSO host (workers/sso/social/sandbox-idp.tsx), so dev and tests run
 * the same flow as Google or X, over HTTP, without a third party.
 *
 * arctic's generic `OAuth2Client` builds the authorization URL (PKCE S256). Its token request
 * calls the global `fetch` and accepts no other, and a Worker cannot fetch its own hostname over
 * the network (workers/lib/platform-fetch.ts), so the code exchange and the userinfo call go
 * through oauth4webapi, whose `customFetch` option takes `platformFetch`.
 * @module
 */
import { CodeChallengeMethod, OAuth2Client } from 'arctic'
import * as oauth from 'oauth4webapi'
import { toProfile } from '../profile'
import { UpstreamRefusedError, UpstreamUnavailableError, type ProviderAdapter } from './adapter'

export const SANDBOX_CLIENT_ID = 'fanz-sso-sandbox'
export const SANDBOX_SCOPES = ['profile', 'email']

export interface SandboxOptions {
  /** `<issuer>[:port]/sandbox-idp` */
  baseUrl: string
  redirectUri: string
  fetch: typeof fetch
  /** plain http is only ever the local dev host */
  allowHttp: boolean
}

export function sandboxAdapter(options: SandboxOptions): ProviderAdapter {
  const client = new OAuth2Client(SANDBOX_CLIENT_ID, null, options.redirectUri)
  const as: oauth.AuthorizationServer = {
    issuer: options.baseUrl,
    authorization_endpoint: `${options.baseUrl}/authorize`,
    token_endpoint: `${options.baseUrl}/token`,
    userinfo_endpoint: `${options.baseUrl}/userinfo`,
  }
  const oauthClient: oauth.Client = { client_id: SANDBOX_CLIENT_ID }
  const http = {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => options.fetch(url, init as RequestInit),
    [oauth.allowInsecureRequests]: options.allowHttp,
  }
  return {
    id: 'sandbox',
    formPost: false,
    authorizationUrl(flow) {
      return client.createAuthorizationURLWithPKCE(as.authorization_endpoint!, flow.state, CodeChallengeMethod.S256, flow.codeVerifier, SANDBOX_SCOPES)
    },
    async profile(input, flow) {
      try {
        // the state was already checked against the sealed cookie by the route
        const params = oauth.validateAuthResponse(as, oauthClient, new URLSearchParams({ code: input.code }), oauth.skipStateCheck)
        const tokenResponse = await oauth.authorizationCodeGrantRequest(as, oauthClient, oauth.None(), params, options.redirectUri, flow.codeVerifier, http)
        const tokens = await oauth.processAuthorizationCodeResponse(as, oauthClient, tokenResponse)
        const userInfoResponse = await oauth.userInfoRequest(as, oauthClient, tokens.access_token, http)
        const info = await oauth.processUserInfoResponse(as, oauthClient, oauth.skipSubjectCheck, userInfoResponse)
        return toProfile('sandbox', { subject: info.sub, email: info.email, emailVerified: info.email_verified, name: info.name })
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError && err.status >= 400 && err.status < 500) throw new UpstreamRefusedError(`sandbox refused the code: ${err.error}`)
        if (err instanceof oauth.WWWAuthenticateChallengeError) throw new UpstreamRefusedError('sandbox refused the access token')
        if (err instanceof Error && err.name === 'UpstreamProfileError') throw err
        throw new UpstreamUnavailableError(`sandbox provider failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    },
  }
}
