/**
 * The brand-side session cookies. The access token (a short-lived JWT the edge verifies with no
 * network hop) sits in the session cookie; the refresh token and ID token sit sealed in a second
 * cookie that only the server can open, used to refresh server-side and to end the session.
 * `__Host-` prefixed, HttpOnly, Secure and SameSite=Lax outside dev (plain-http `*.localhost` hosts
 * cannot carry Secure cookies in every client).
 * @module
 */
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../../edge/context'
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../lib/sealed-cookie'

export interface StoredSession {
  /** `<userId>.rt_...` */
  refreshToken: string
  idToken: string | undefined
}

export const SESSION_TTL_S = 30 * 86_400
export const SSO_CHECKED_TTL_S = 15 * 60

export const cookieNames = (c: Context<AppEnv>) => {
  const dev = c.var.config.isDev
  return {
    access: c.var.config.sessionCookie,
    refresh: dev ? 'fanz_refresh' : '__Host-fanz_refresh',
    tx: dev ? 'fanz_auth_tx' : '__Host-fanz_auth_tx',
    /** a silent (prompt=none) check found no FanzSSO session: do not bounce again for a while */
    checked: dev ? 'fanz_sso_checked' : '__Host-fanz_sso_checked',
  }
}

export async function storeSession(c: Context<AppEnv>, tokens: { access_token: string; expires_in?: number; refresh_token?: string; id_token?: string }, previous?: StoredSession): Promise<void> {
  const names = cookieNames(c)
  setCookie(c, names.access, tokens.access_token, { httpOnly: true, secure: !c.var.config.isDev, sameSite: 'Lax', path: '/', maxAge: tokens.expires_in ?? 300 })
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken
  if (refreshToken) await setSealedCookie(c, names.refresh, { refreshToken, idToken: tokens.id_token ?? previous?.idToken } satisfies StoredSession, SESSION_TTL_S)
  deleteCookie(c, names.checked, { path: '/', secure: !c.var.config.isDev })
}

export function readStoredSession(c: Context<AppEnv>): Promise<StoredSession | undefined> {
  return readSealedCookie<StoredSession>(c, cookieNames(c).refresh)
}

export function clearSession(c: Context<AppEnv>): void {
  const names = cookieNames(c)
  deleteCookie(c, names.access, { path: '/', secure: !c.var.config.isDev })
  clearSealedCookie(c, names.refresh)
}

export function markSsoChecked(c: Context<AppEnv>): void {
  setCookie(c, cookieNames(c).checked, '1', { httpOnly: true, secure: !c.var.config.isDev, sameSite: 'Lax', path: '/', maxAge: SSO_CHECKED_TTL_S })
}
