/**
 * The token endpoint (RFC 6749 §3.2): authorization_code (PKCE S256 required), refresh_token
 * (rotation with reuse detection in the user's UserSessions object) and client_credentials.
 * Reuse of a code or a refresh token revokes what it issued and tells the affected clients through
 * back-channel logout.
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { userSessions } from '../sessions'
import { clientNetwork, deviceOf } from '../login/idp-session'
import { authenticateClient } from './client-auth'
import { SUPPORTED_SCOPES } from './claims'
import type { OAuthClient } from './clients'
import { NO_STORE, OAuthError, oauthForm } from './errors'
import { issueServiceToken, issueUserTokens, parseRouted } from './issue'
import { notifyLoggedOut } from './logout'
import type { RevokedSession } from '../../../durable-objects/user-sessions'

export async function tokenEndpoint(c: Context<AppEnv>): Promise<Response> {
  const form = await oauthForm(c)
  const client = await authenticateClient(c, form, { allowPublic: true })
  const grantType = form.grant_type
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required')
  if (!['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`)
  if (!client.grantTypes.includes(grantType)) throw new OAuthError('unauthorized_client', `this client may not use ${grantType}`)
  const body =
    grantType === 'authorization_code' ? await authorizationCode(c, client, form) : grantType === 'refresh_token' ? await refreshToken(c, client, form) : await clientCredentials(c, client, form)
  return c.json(body, 200, NO_STORE)
}

function revokedElsewhere(c: Context<AppEnv>, userId: string, revoked: RevokedSession[] | undefined): void {
  if (!revoked?.length) return
  c.executionCtx.waitUntil(notifyLoggedOut(c.env, c.executionCtx as ExecutionContext, c.var.config, userId, revoked, c.var.requestId))
}

async function authorizationCode(c: Context<AppEnv>, client: OAuthClient, form: Record<string, string>) {
  for (const name of ['code', 'redirect_uri', 'code_verifier'] as const) {
    if (!form[name]) throw new OAuthError('invalid_request', `${name} is required`)
  }
  const routed = parseRouted(form.code!, 'ac')
  if (!routed) throw new OAuthError('invalid_grant', 'the authorization code is invalid')
  const { ip, country } = clientNetwork(c)
  const result = await userSessions(c.env, routed.userId).redeemCode(routed.token, {
    clientId: client.id,
    redirectUri: form.redirect_uri!,
    codeVerifier: form.code_verifier!,
    device: `${client.name} (${deviceOf(c.req.header('user-agent'))})`.slice(0, 256),
    ip,
    country,
  })
  if (!result.ok) {
    if (result.code === 'invalid_request') throw new OAuthError('invalid_request', result.message)
    if (result.revoked?.length) {
      await audit(c, 'sso.code.reuse', `user:${routed.userId}`, { client_id: client.id, revoked: result.revoked.map((r) => r.sessionId) })
      revokedElsewhere(c, routed.userId, result.revoked)
    }
    throw new OAuthError('invalid_grant', result.reason)
  }
  const tokens = await issueUserTokens(c.env.DB, c.var.config, {
    userId: routed.userId,
    client,
    scopes: result.scope.split(' '),
    amr: result.amr,
    authTimeS: result.authTimeS,
    sid: result.idpSessionId,
    clientSessionId: result.sessionId,
    nonce: result.nonce,
    refreshToken: result.refreshToken,
  })
  await audit(c, 'sso.token.issue', `user:${routed.userId}`, { client_id: client.id, grant_type: 'authorization_code', session_id: result.sessionId })
  return tokens
}

async function refreshToken(c: Context<AppEnv>, client: OAuthClient, form: Record<string, string>) {
  if (!form.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required')
  const routed = parseRouted(form.refresh_token, 'rt')
  if (!routed) throw new OAuthError('invalid_grant', 'the refresh token is invalid')
  const result = await userSessions(c.env, routed.userId).rotate(routed.token, { clientId: client.id })
  if (!result.ok) {
    if (result.code === 'invalid_request') throw new OAuthError('invalid_request', result.message)
    if (result.code === 'refresh_token_reused') {
      await audit(c, 'sso.refresh_token.reuse', `user:${routed.userId}`, { client_id: client.id, session_id: result.revoked.sessionId })
      revokedElsewhere(c, routed.userId, [result.revoked])
      throw new OAuthError('invalid_grant', 'the refresh token was already used: its session is revoked')
    }
    throw new OAuthError('invalid_grant', result.code === 'invalid_grant' ? 'the refresh token is invalid' : `the session is ${result.code === 'session_expired' ? 'expired' : 'revoked'}`)
  }
  const granted = (result.scope ?? '').split(' ').filter(Boolean)
  let scopes = granted
  if (form.scope) {
    const narrowed = form.scope.split(' ').filter(Boolean)
    if (narrowed.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'a refresh cannot widen the granted scope')
    scopes = [...new Set(narrowed)]
  }
  return issueUserTokens(c.env.DB, c.var.config, {
    userId: routed.userId,
    client,
    // offline_access stays: the client keeps its refresh token even when it narrows the rest
    scopes: scopes.includes('offline_access') || !granted.includes('offline_access') ? scopes : [...scopes, 'offline_access'],
    amr: result.amr,
    authTimeS: result.authTimeS,
    sid: result.parentId ?? result.sessionId,
    clientSessionId: result.sessionId,
    refreshToken: result.refreshToken,
  })
}

async function clientCredentials(c: Context<AppEnv>, client: OAuthClient, form: Record<string, string>) {
  if (client.secretKind === 'none') throw new OAuthError('unauthorized_client', 'public clients cannot use client_credentials')
  // a service acts as itself: user scopes (openid, profile, ...) mean nothing here; API scopes are the client's own
  const allowed = client.scopes.filter((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s))
  const asked = (form.scope ?? '').split(' ').filter(Boolean)
  if (asked.some((s) => !allowed.includes(s))) throw new OAuthError('invalid_scope', 'a requested scope is not allowed for this client')
  const scopes = asked.length ? [...new Set(asked)] : allowed
  await audit(c, 'sso.token.issue', `client:${client.id}`, { client_id: client.id, grant_type: 'client_credentials' })
  return issueServiceToken(c.env.DB, c.var.config, client, scopes)
}
