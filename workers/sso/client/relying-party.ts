/**
 * The relying-party side of FanzSSO: each brand host and FanzDash is an OIDC client of the SSO host
 * (sso.md X1-X3: one issuer, a confidential client per brand, top-level redirects, a server-side
 * session per brand). Written with oauth4webapi, a standards client, so the brands use the
 * provider exactly as a third party would; server-to-server calls go through `platformFetch`
 * (in-process for our own hosts).
 * @module
 */
import type { Context } from 'hono'
import * as oauth from 'oauth4webapi'
import type { AppEnv } from '../../edge/context'
import { platformFetch } from '../../lib/platform-fetch'
import { derivedClientSecret } from '../oidc/clients'
import { SIGNING_ALG } from '../keys'

export interface RelyingParty {
  as: oauth.AuthorizationServer
  client: oauth.Client
  auth: oauth.ClientAuth
  /** this host's callback, e.g. https://boyfanz.com/auth/callback */
  redirectUri: string
  origin: string
  options: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean }
}

let metadata: { issuer: string; atMs: number; as: oauth.AuthorizationServer } | undefined
const METADATA_TTL_MS = 5 * 60_000

/** The client id of the host serving this request: the brand's slug, or `fanzdash`. */
export function clientIdFor(c: Context<AppEnv>): string | null {
  if (c.var.surface === 'brand' && c.var.brand) return c.var.brand.slug
  if (c.var.surface === 'dash') return 'fanzdash'
  return null
}

export async function relyingParty(c: Context<AppEnv>): Promise<RelyingParty> {
  const clientId = clientIdFor(c)
  if (!clientId) throw new Error('this host is no FanzSSO client')
  const config = c.var.config
  const options = { [oauth.customFetch]: platformFetch(c.env, c.executionCtx as ExecutionContext), [oauth.allowInsecureRequests]: config.isDev }
  const nowMs = Date.now()
  if (!metadata || metadata.issuer !== config.issuer || nowMs - metadata.atMs > METADATA_TTL_MS) {
    const issuer = new URL(config.issuer)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options))
    metadata = { issuer: config.issuer, atMs: nowMs, as }
  }
  const origin = new URL(c.req.url).origin
  return {
    as: metadata.as,
    client: { client_id: clientId, id_token_signed_response_alg: SIGNING_ALG },
    auth: oauth.ClientSecretBasic(await derivedClientSecret(config, clientId)),
    redirectUri: `${origin}/auth/callback`,
    origin,
    options,
  }
}
