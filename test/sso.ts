/**
 * FanzSSO test fixtures: accounts and signed-in visitors made through the real stores (D1 users,
 * the user's UserSessions object), and a browser-like walker that follows redirects across the
 * platform's hosts through the whole Worker with a cookie jar.
 */
import { env } from 'cloudflare:workers'
import { newId } from '../workers/lib/ids'
import { userSessions } from '../workers/sso/sessions'
import { CookieJar } from './cookie-jar'
import { call, type CallOptions } from './helpers'

export async function createUser(overrides: { email?: string; displayName?: string; verified?: boolean; status?: 'active' | 'disabled' } = {}): Promise<{ userId: string; email: string }> {
  const userId = newId('user')
  const email = overrides.email ?? `${userId.toLowerCase()}@example.com`
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO users (id, email, email_normalized, email_verified_at_ms, display_name, locale, status, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, 'en', ?, ?, ?)`,
  )
    .bind(userId, email, email.toLowerCase(), overrides.verified === false ? null : now, overrides.displayName ?? 'Test User', overrides.status ?? 'active', now, now)
    .run()
  return { userId, email }
}

/** Opens an IdP session for `userId` and puts its cookie for the SSO host into `jar`. */
export async function signInAtSso(jar: CookieJar, userId: string, amr: string[] = ['pwd'], authTimeS = Math.floor(Date.now() / 1000)): Promise<string> {
  const created = await userSessions(env, userId).createSession({ clientId: 'fanz-sso', device: 'test browser', amr, authTimeS })
  if (!created.ok) throw new Error(created.message)
  jar.store('sso.localhost', new Response(null, { headers: { 'set-cookie': `fanz_sso=${userId}.${created.refreshToken}; Path=/` } }))
  return created.sessionId
}

export interface Hop {
  host: string
  path: string
  status: number
  location: string | null
  res: Response
}

/**
 * Follows redirects like a browser (GET after 302/303), across hosts, keeping cookies per host.
 * Navigations carry fetch metadata, as browsers send it, so the silent-SSO bounce is exercised.
 */
export async function browse(jar: CookieJar, url: string, options: CallOptions & { maxHops?: number } = {}): Promise<Hop[]> {
  const hops: Hop[] = []
  let target = new URL(url)
  let init: CallOptions = options
  for (let i = 0; i < (options.maxHops ?? 12); i++) {
    const headers = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', ...init.headers, cookie: jar.header(target.hostname) }
    const res = await call(target.hostname, target.pathname + target.search, { ...init, headers })
    jar.store(target.hostname, res)
    const location = res.headers.get('location')
    hops.push({ host: target.hostname, path: target.pathname + target.search, status: res.status, location, res })
    if (![301, 302, 303, 307, 308].includes(res.status) || !location) return hops
    await res.body?.cancel()
    target = new URL(location, target)
    init = { cf: options.cf }
  }
  throw new Error(`too many redirects: ${hops.map((h) => `${h.host}${h.path}`).join(' -> ')}`)
}
