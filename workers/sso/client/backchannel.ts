/**
 * OpenID Back-Channel Logout 1.0, receiving side (§2.6): the provider POSTs a `logout+jwt`; after
 * validating it, the brand records the ended `sid` (or `sub`) so the edge stops honouring access
 * tokens of that session at once instead of when they expire. Rows live as long as the longest
 * access token could. The keys are the platform's own (same key store, no network).
 * @module
 */
import type { Context } from 'hono'
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose'
import type { AppEnv } from '../../edge/context'
import { publishedKeys } from '../keys'
import { BACKCHANNEL_EVENT } from '../oidc/logout'
import { clientIdFor } from './relying-party'

const MAX_AGE_S = 300

function bad(c: Context<AppEnv>, description: string) {
  return c.json({ error: 'invalid_request', error_description: description }, 400, { 'cache-control': 'no-store' })
}

async function validate(c: Context<AppEnv>, clientId: string, token: string): Promise<JWTPayload | string> {
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, createLocalJWKSet({ keys: await publishedKeys(c.env.DB) }), {
      issuer: c.var.config.issuer,
      audience: clientId,
      typ: 'logout+jwt',
      algorithms: ['EdDSA'],
      requiredClaims: ['iat', 'jti', 'events'],
      maxTokenAge: MAX_AGE_S,
      clockTolerance: 30,
    }))
  } catch (err) {
    return `logout_token rejected: ${(err as Error).message}`
  }
  const events = payload.events as Record<string, unknown> | undefined
  const event = events?.[BACKCHANNEL_EVENT]
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'logout_token lacks the back-channel logout event'
  if ('nonce' in payload) return 'logout_token must not carry a nonce'
  if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string') return 'logout_token names neither sid nor sub'
  return payload
}

export async function receiveBackchannelLogout(c: Context<AppEnv>): Promise<Response> {
  const clientId = clientIdFor(c)
  if (!clientId) return c.notFound()
  if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? '')) return bad(c, 'the body must be application/x-www-form-urlencoded')
  const text = await c.req.text()
  if (text.length > 16_384) return bad(c, 'the body is too large')
  const token = new URLSearchParams(text).get('logout_token')
  if (!token) return bad(c, 'logout_token is required')
  const result = await validate(c, clientId, token)
  if (typeof result === 'string') return bad(c, result)
  const keys = [typeof result.sid === 'string' ? result.sid : null, typeof result.sid !== 'string' && typeof result.sub === 'string' ? `sub:${result.sub}` : null].filter(
    (k): k is string => k !== null,
  )
  const expiresAtMs = Date.now() + (c.var.config.accessTokenTtlSeconds + 120) * 1000
  await c.env.DB.batch([
    ...keys.map((sid) =>
      c.env.DB.prepare('INSERT INTO logged_out_sessions (sid, client_id, expires_at_ms) VALUES (?, ?, ?) ON CONFLICT (sid, client_id) DO UPDATE SET expires_at_ms = excluded.expires_at_ms').bind(sid, clientId, expiresAtMs),
    ),
    c.env.DB.prepare('DELETE FROM logged_out_sessions WHERE expires_at_ms < ?').bind(Date.now()),
  ])
  return c.body(null, 200, { 'cache-control': 'no-store' })
}

/** True when the provider told this client that the session (or all of the user's) has ended. */
export async function isLoggedOut(d1: D1Database, clientId: string, sid: string | undefined, sub: string): Promise<boolean> {
  const row = await d1
    .prepare('SELECT 1 AS hit FROM logged_out_sessions WHERE client_id = ? AND sid IN (?, ?) AND expires_at_ms > ? LIMIT 1')
    .bind(clientId, sid ?? '', `sub:${sub}`, Date.now())
    .first<{ hit: number }>()
  return row !== null
}
