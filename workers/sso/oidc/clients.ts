/**
 * OAuth clients: lookup, redirect-URI matching and client authentication. First-party clients
 * (the brands, FanzDash) have secrets derived from SIGNING_MASTER_KEY with HMAC, so the brand side
 * of this Worker can authenticate without a stored secret and rotating the master key rotates them
 * all; registered clients keep only the SHA-256 of a 256-bit random secret (a slow hash adds nothing
 * at that entropy).
 * @module
 */
import type { Config } from '../../config'
import { sha256Hex, timingSafeEqualText } from '../../lib/encoding'
import { derivedSecret } from '../../lib/secret-box'
import type { SigningAlg } from '../keys'

export interface OAuthClient {
  id: string
  name: string
  kind: 'brand' | 'dash' | 'service' | 'partner'
  brandId: string | null
  secretKind: 'derived' | 'hashed' | 'none'
  secretHash: string | null
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  grantTypes: string[]
  scopes: string[]
  backchannelLogoutUri: string | null
  idTokenAlg: SigningAlg
  firstParty: boolean
  status: 'active' | 'disabled'
}

type ClientRow = {
  id: string
  name: string
  kind: OAuthClient['kind']
  brand_id: string | null
  secret_kind: OAuthClient['secretKind']
  secret_hash: string | null
  redirect_uris_json: string
  post_logout_redirect_uris_json: string
  grant_types_json: string
  scope: string
  backchannel_logout_uri: string | null
  id_token_signed_response_alg: SigningAlg
  first_party: number
  status: OAuthClient['status']
}

const CLIENT_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/

export function toClient(row: ClientRow): OAuthClient {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    brandId: row.brand_id,
    secretKind: row.secret_kind,
    secretHash: row.secret_hash,
    redirectUris: JSON.parse(row.redirect_uris_json) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris_json) as string[],
    grantTypes: JSON.parse(row.grant_types_json) as string[],
    scopes: row.scope.split(' ').filter(Boolean),
    backchannelLogoutUri: row.backchannel_logout_uri,
    idTokenAlg: row.id_token_signed_response_alg,
    firstParty: row.first_party === 1,
    status: row.status,
  }
}

export async function findClient(d1: D1Database, clientId: string): Promise<OAuthClient | null> {
  if (!CLIENT_ID_RE.test(clientId)) return null
  const row = await d1.prepare('SELECT * FROM oauth_clients WHERE id = ?').bind(clientId).first<ClientRow>()
  return row ? toClient(row) : null
}

/** The derived secret of a first-party client: base64url(HMAC-SHA256(master key, label || client id)). */
export function derivedClientSecret(config: Config, clientId: string): Promise<string> {
  return derivedSecret(config.signingMasterKey, `fanz/oauth-client-secret/v1\0${clientId}`)
}

export function hashClientSecret(secret: string): string {
  return sha256Hex(`fanz/oauth-client-secret/v1\0${secret}`)
}

/** Constant-time check of a presented client secret. */
export async function clientSecretMatches(config: Config, client: OAuthClient, presented: string): Promise<boolean> {
  if (client.secretKind === 'derived') return timingSafeEqualText(presented, await derivedClientSecret(config, client.id))
  if (client.secretKind === 'hashed' && client.secretHash) return timingSafeEqualText(hashClientSecret(presented), client.secretHash)
  return false
}

/**
 * Exact string match (RFC 9700 §4.1.3). `http:` URIs are registered for local development and only
 * honoured in dev, where the `*.localhost` port is also allowed to vary (RFC 8252 §7.3 loopback rule:
 * the dev server picks a free port).
 */
export function redirectUriAllowed(config: Config, registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return config.isDev || presented.startsWith('https://')
  if (!config.isDev) return false
  let url: URL
  try {
    url = new URL(presented)
  } catch {
    return false
  }
  if (url.protocol !== 'http:' || !(url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) || !url.port) return false
  url.port = ''
  // the only difference allowed is the port: the rest must still be the registered string exactly
  return registered.includes(url.href) && presented === `${url.protocol}//${url.hostname}:${new URL(presented).port}${url.pathname}${url.search}`
}
