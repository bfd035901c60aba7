/**
 * The dev session: POST /session takes a pasted access token, verifies it like the edge does, and
 * keeps it in the session cookie (HttpOnly, SameSite=Lax, Secure outside dev). Dev only, because
 * outside dev FanzSSO's sign-in sets sessions. Both form posts refuse cross-site requests (Origin and
 * Sec-Fetch-Site), so another site cannot sign a browser in or out.
 * @module
 */
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { audit } from '../compliance/audit'
import { toAuthContext, verifyAccessToken } from '../edge/auth'
import { readForm } from '../edge/body'
import { isSameOrigin } from '../edge/same-origin'
import type { AppEnv } from '../edge/context'
import { holds } from '../sso/roles/middleware'
import { DASH_ROLES, signInPage } from './pages'

const NO_STORE = { 'cache-control': 'no-store' }

export async function startSession(c: Context<AppEnv>): Promise<Response> {
  const config = c.var.config
  if (!config.isDev) return c.notFound()
  if (!isSameOrigin(c)) return c.html(signInPage(c, { error: 'The sign-in form must be sent from this page (cross-site request refused).' }), 403, NO_STORE)
  const form = await readForm(c)
  const token = typeof form.token === 'string' ? form.token.trim() : ''
  if (!token) return c.html(signInPage(c, { error: 'Paste an access token to sign in.' }), 400, NO_STORE)
  const result = await verifyAccessToken(c.env.DB, token, { issuer: config.issuer, audience: config.accessTokenAudience })
  if (!result.ok) return c.html(signInPage(c, { error: `That token was not accepted: ${result.reason}.` }), 401, NO_STORE)
  const nowS = Math.floor(Date.now() / 1000)
  const auth = toAuthContext(result.claims, 'cookie', nowS)
  // finance and compliance staff use FanzDash for payouts only (they hold payouts:read, not the overview's roles)
  const operator = auth.roles.some((role) => DASH_ROLES.includes(role))
  const payoutsOnly = !operator && holds(auth, 'payouts:read')
  // moderators use FanzDash for the media review queue only (media:moderate)
  const reviewOnly = !operator && !payoutsOnly && holds(auth, 'media:moderate')
  if (!operator && !payoutsOnly && !reviewOnly) {
    const roles = auth.roles.length ? auth.roles.join(', ') : 'no roles'
    return c.html(signInPage(c, { error: `That token holds ${roles}; FanzDash needs super_admin, admin, operator, or a payouts role (finance, compliance_officer), or moderator for media review.` }), 403, NO_STORE)
  }
  await audit({ env: c.env, actor: auth.subject, actorRoles: auth.roles, requestId: c.var.requestId }, 'dash.session.start', `user:${auth.subject}`, {})
  const expS = typeof result.claims.exp === 'number' ? result.claims.exp : nowS
  setCookie(c, config.sessionCookie, token, { httpOnly: true, sameSite: 'Lax', path: '/', secure: !config.isDev, maxAge: Math.max(0, expS - nowS) })
  return c.redirect(payoutsOnly ? '/payouts' : reviewOnly ? '/media/review' : '/', 303)
}

export async function endSession(c: Context<AppEnv>): Promise<Response> {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403, NO_STORE)
  deleteCookie(c, c.var.config.sessionCookie, { path: '/', secure: !c.var.config.isDev })
  return c.redirect('/', 303)
}
