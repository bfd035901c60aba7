/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3.1):
 * `client_secret_basic` (credentials form-urlencoded inside Basic, then base64), `client_secret_post`,
 * or `none` for public clients (PKCE carries their proof). Exactly one method per request.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { clientSecretMatches, findClient, type OAuthClient } from './clients'
import { OAuthError } from './errors'

function basicCredentials(header: string | undefined): { id: string; secret: string } | null | 'malformed' {
  if (!header) return null
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (!match) return /^Basic\b/i.test(header.trim()) ? 'malformed' : null
  let decoded: string
  try {
    decoded = atob(match[1]!)
  } catch {
    return 'malformed'
  }
  const colon = decoded.indexOf(':')
  if (colon < 0) return 'malformed'
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')) }
  } catch {
    return 'malformed'
  }
}

export async function authenticateClient(c: Context<AppEnv>, form: Record<string, string>, options: { allowPublic: boolean }): Promise<OAuthClient> {
  const basic = basicCredentials(c.req.header('authorization'))
  const failed = (why: string) =>
    new OAuthError('invalid_client', why, 401, basic ? { 'www-authenticate': 'Basic realm="fanz-sso", charset="UTF-8"' } : {})
  if (basic === 'malformed') throw failed('the Basic credentials are malformed')
  if (basic && form.client_secret) throw new OAuthError('invalid_request', 'use one client authentication method, not two')
  if (basic && form.client_id && form.client_id !== basic.id) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client')
  const clientId = basic?.id ?? form.client_id
  if (!clientId) throw failed('client authentication is required')
  const client = await findClient(c.env.DB, clientId)
  if (!client || client.status !== 'active') throw failed('unknown or disabled client')
  const secret = basic?.secret ?? form.client_secret
  if (secret === undefined) {
    if (client.secretKind === 'none' && options.allowPublic) return client
    throw failed('this client must authenticate with its secret')
  }
  if (client.secretKind === 'none' || !(await clientSecretMatches(c.var.config, client, secret))) throw failed('client authentication failed')
  return client
}
