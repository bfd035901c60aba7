/**
 * UserInfo (OIDC Core §5.3): the profile claims the token's scopes allow, fresh from D1, so a
 * profile change is visible at once. Bearer token in the Authorization header only (no query
 * strings, OAuth 2.1); errors as RFC 6750 `WWW-Authenticate` challenges.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { profileFor } from './claims'
import { findClient } from './clients'
import { NO_STORE } from './errors'
import { liveAccessToken } from './access'

function challenge(c: Context<AppEnv>, status: 400 | 401 | 403, error: string, description: string): Response {
  return c.json({ error, error_description: description }, status, {
    ...NO_STORE,
    'www-authenticate': `Bearer realm="fanz-sso", error="${error}", error_description="${description}"`,
  })
}

export async function userinfoEndpoint(c: Context<AppEnv>): Promise<Response> {
  const header = c.req.header('authorization') ?? ''
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())
  if (!match) {
    return c.json({ error: 'invalid_token', error_description: 'a Bearer access token is required' }, 401, { ...NO_STORE, 'www-authenticate': 'Bearer realm="fanz-sso"' })
  }
  const live = await liveAccessToken(c.env, c.var.config, match[1]!)
  if (!live) return challenge(c, 401, 'invalid_token', 'the access token is invalid, expired or revoked')
  const scopes = (live.claims.scope ?? '').split(' ')
  if (!scopes.includes('openid')) return challenge(c, 403, 'insufficient_scope', 'the openid scope is required')
  const client = live.claims.client_id ? await findClient(c.env.DB, live.claims.client_id) : null
  const profile = await profileFor(c.env.DB, live.claims.sub, client, scopes)
  if (!profile || profile.status !== 'active') return challenge(c, 401, 'invalid_token', 'the account is not active')
  return c.json(profile.claims, 200, NO_STORE)
}
