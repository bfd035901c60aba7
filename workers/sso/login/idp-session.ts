/**
 * The IdP session: the visitor's sign-in on the SSO host itself, the one thing every brand's
 * redirect round trip relies on (sso.md X1, X3). It is a `UserSessions` session of the client
 * `fanz-sso`; the cookie holds `<userId>.<token>` where the token is that session's refresh token,
 * never rotated and checked by introspection (stored only as a hash). The user id is the routing
 * hint to the right Durable Object; it is no secret (it is every token's `sub`).
 * First-party cookie on the SSO host: HttpOnly, SameSite=Lax (top-level redirects carry it),
 * `__Host-` and Secure outside dev.
 * @module
 */
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { isId } from '../../lib/ids'
import { userSessions } from '../sessions'

export const IDP_CLIENT_ID = 'fanz-sso'
const COOKIE_VALUE_RE = /^(usr_[0-9A-HJKMNP-TV-Z]{26})\.(rt_[A-Za-z0-9_-]{43})$/

export interface IdpSession {
  userId: string
  sessionId: string
  amr: string[]
  authTimeS: number
}

export function idpCookieName(c: Context<AppEnv>): string {
  return c.var.config.isDev ? 'fanz_sso' : '__Host-fanz_sso'
}

/** The visitor's active IdP session, or null (no cookie, malformed, revoked, expired). */
export async function readIdpSession(c: Context<AppEnv>): Promise<IdpSession | null> {
  const match = COOKIE_VALUE_RE.exec(getCookie(c, idpCookieName(c)) ?? '')
  if (!match) return null
  const [, userId, token] = match as unknown as [string, string, string]
  const found = await userSessions(c.env, userId).introspect(token)
  if (!found.active || found.clientId !== IDP_CLIENT_ID) return null
  return { userId, sessionId: found.sessionId, amr: found.amr, authTimeS: found.authTimeS }
}

/** A short description of the browser, for the session list ("Chrome on macOS"). */
export function deviceOf(userAgent: string | undefined): string {
  const ua = userAgent ?? ''
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser'
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : 'unknown OS'
  return ua ? `${browser} on ${os}` : 'unknown device'
}

/** Where the request comes from, for the session record. */
export function clientNetwork(c: Context<AppEnv>): { ip: string | null; country: string | null } {
  const ip = c.req.header('cf-connecting-ip') ?? null
  const country = c.var.geo?.country ?? null
  return { ip: ip && ip.length <= 64 ? ip : null, country: country && /^[A-Z0-9]{2}$/.test(country) ? country : null }
}

/**
 * Signs the visitor in on the SSO host. An existing IdP session of the same user is elevated
 * (step-up keeps the brand sessions it authorised); otherwise a new one is opened.
 */
export async function establishIdpSession(c: Context<AppEnv>, userId: string, amr: string[]): Promise<IdpSession> {
  if (!isId('user', userId)) throw new TypeError('userId must be a user id')
  const nowMs = Date.now()
  const authTimeS = Math.floor(nowMs / 1000)
  const sessions = userSessions(c.env, userId)
  const current = await readIdpSession(c)
  if (current && current.userId === userId) {
    const elevated = await sessions.elevate(current.sessionId, { amr, authTimeS, nowMs })
    if (elevated.ok) {
      await audit({ env: c.env, actor: userId, actorRoles: [], requestId: c.var.requestId }, 'sso.session.elevate', `user:${userId}`, { session_id: current.sessionId, amr })
      return { userId, sessionId: current.sessionId, amr: [...new Set([...current.amr, ...amr])], authTimeS }
    }
  }
  const { ip, country } = clientNetwork(c)
  const created = await sessions.createSession({ clientId: IDP_CLIENT_ID, device: deviceOf(c.req.header('user-agent')), ip, country, amr, authTimeS, nowMs })
  if (!created.ok) throw new Error(`IdP session not created: ${created.message}`)
  setCookie(c, idpCookieName(c), `${userId}.${created.refreshToken}`, {
    httpOnly: true,
    secure: !c.var.config.isDev,
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.floor((created.expiresAtMs - nowMs) / 1000),
  })
  await audit({ env: c.env, actor: userId, actorRoles: [], requestId: c.var.requestId }, 'sso.session.start', `user:${userId}`, { session_id: created.sessionId, amr, country })
  return { userId, sessionId: created.sessionId, amr, authTimeS }
}

export function clearIdpCookie(c: Context<AppEnv>): void {
  deleteCookie(c, idpCookieName(c), { path: '/', secure: !c.var.config.isDev })
}
