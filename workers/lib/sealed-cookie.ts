/**
 * Short-lived state kept in the browser instead of a table (a pending MFA step, an OAuth client's
 * state/nonce/PKCE verifier, an upstream provider's state): JSON sealed with AES-GCM under a key
 * derived from SIGNING_MASTER_KEY for that purpose, with the cookie name as additional data, and an
 * expiry inside the sealed payload, so the cookie can neither be read, forged, moved to another
 * cookie name nor kept alive past its time by the browser.
 * @module
 */
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import type { AppEnv } from '../edge/context'
import { utf8 } from './encoding'
import { sealSecret, unsealSecret, type SecretBoxPurpose } from './secret-box'

const PURPOSE: SecretBoxPurpose = { salt: 'fanz/cookies', info: 'sealed-cookie/v1' }
const decoder = new TextDecoder()

export async function setSealedCookie(c: Context<AppEnv>, name: string, value: unknown, ttlS: number, options: CookieOptions = {}): Promise<void> {
  const payload = JSON.stringify({ v: value, exp: Date.now() + ttlS * 1000 })
  const sealed = await sealSecret(c.var.config.signingMasterKey, PURPOSE, name, utf8(payload))
  setCookie(c, name, sealed, { httpOnly: true, secure: !c.var.config.isDev, sameSite: 'Lax', path: '/', maxAge: ttlS, ...options })
}

/** The unsealed value, or undefined when absent, tampered with or expired. */
export async function readSealedCookie<T>(c: Context<AppEnv>, name: string): Promise<T | undefined> {
  const raw = getCookie(c, name)
  if (!raw || raw.length > 4096) return undefined
  try {
    const plain = await unsealSecret(c.var.config.signingMasterKey, PURPOSE, name, raw)
    const parsed = JSON.parse(decoder.decode(plain)) as { v: T; exp: number }
    return typeof parsed.exp === 'number' && parsed.exp > Date.now() ? parsed.v : undefined
  } catch {
    return undefined
  }
}

export function clearSealedCookie(c: Context<AppEnv>, name: string, options: CookieOptions = {}): void {
  deleteCookie(c, name, { path: '/', secure: !c.var.config.isDev, ...options })
}
