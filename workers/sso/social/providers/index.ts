/**
 * Which providers this deployment offers and their adapters. Client ids and secrets are optional
 * secrets (not in wrangler.toml, so not in the generated `Env`): read defensively, and a provider
 * whose configuration is incomplete is simply not offered. The sandbox provider is offered in every
 * environment except production.
 *
 * Redirect URIs are fixed on the issuer (`<issuer>/social/<provider>/callback`), never derived from
 * `Host` (sso.md X2); in dev the request's port is added, as for every link to the SSO host.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../../edge/context'
import { platformFetch } from '../../../lib/platform-fetch'
import { ssoUrl } from '../../../site/links'
import { PROVIDER_IDS, type ProviderId } from '../profile'
import type { ProviderAdapter } from './adapter'
import { appleAdapter, type AppleCredentials } from './apple'
import { facebookAdapter, type FacebookCredentials } from './facebook'
import { googleAdapter, type GoogleCredentials } from './google'
import { sandboxAdapter } from './sandbox'
import { xAdapter, type XCredentials } from './x'

export interface ProviderCredentials {
  google?: GoogleCredentials
  apple?: AppleCredentials
  facebook?: FacebookCredentials
  x?: XCredentials
}

/** An optional secret: a non-blank string, or undefined. */
function optionalSecret(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

export function providerCredentials(env: Env): ProviderCredentials {
  const read = (name: string) => optionalSecret(env, name)
  const out: ProviderCredentials = {}
  const google = { clientId: read('GOOGLE_CLIENT_ID'), clientSecret: read('GOOGLE_CLIENT_SECRET') }
  if (google.clientId && google.clientSecret) out.google = { clientId: google.clientId, clientSecret: google.clientSecret }
  const apple = { clientId: read('APPLE_CLIENT_ID'), teamId: read('APPLE_TEAM_ID'), keyId: read('APPLE_KEY_ID'), privateKeyPem: read('APPLE_PRIVATE_KEY') }
  if (apple.clientId && apple.teamId && apple.keyId && apple.privateKeyPem) {
    out.apple = { clientId: apple.clientId, teamId: apple.teamId, keyId: apple.keyId, privateKeyPem: apple.privateKeyPem }
  }
  const facebook = { clientId: read('FACEBOOK_CLIENT_ID'), clientSecret: read('FACEBOOK_CLIENT_SECRET') }
  if (facebook.clientId && facebook.clientSecret) out.facebook = { clientId: facebook.clientId, clientSecret: facebook.clientSecret }
  const x = { clientId: read('X_CLIENT_ID'), clientSecret: read('X_CLIENT_SECRET') }
  if (x.clientId && x.clientSecret) out.x = { clientId: x.clientId, clientSecret: x.clientSecret }
  return out
}

/** The providers offered on this deployment, in display order. */
export function offeredProviders(c: Context<AppEnv>): ProviderId[] {
  const credentials = providerCredentials(c.env)
  return PROVIDER_IDS.filter((id) => (id === 'sandbox' ? !c.var.config.isProduction : credentials[id] !== undefined))
}

export function redirectUriFor(c: Context<AppEnv>, provider: ProviderId): string {
  return ssoUrl(c, `/social/${provider}/callback`)
}

/** The adapter of an offered provider, or null when it is not offered here. */
export function adapterFor(c: Context<AppEnv>, provider: ProviderId): ProviderAdapter | null {
  const redirectUri = redirectUriFor(c, provider)
  const credentials = providerCredentials(c.env)
  switch (provider) {
    case 'google':
      return credentials.google ? googleAdapter(credentials.google, redirectUri) : null
    case 'apple':
      return credentials.apple ? appleAdapter(credentials.apple, redirectUri) : null
    case 'facebook':
      return credentials.facebook ? facebookAdapter(credentials.facebook, redirectUri) : null
    case 'x':
      return credentials.x ? xAdapter(credentials.x, redirectUri) : null
    case 'sandbox':
      if (c.var.config.isProduction) return null
      return sandboxAdapter({
        baseUrl: ssoUrl(c, '/sandbox-idp'),
        redirectUri,
        fetch: platformFetch(c.env, c.executionCtx as ExecutionContext),
        allowHttp: c.var.config.isDev,
      })
  }
}
