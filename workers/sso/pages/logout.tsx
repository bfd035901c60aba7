/**
 * `GET /logout` (a page with a "Sign out" button: a GET must not sign anyone out, or any site could
 * by embedding the URL) and `POST /logout`: revokes this browser's IdP session and every brand
 * session it authorised, sends back-channel logout to those brands after the answer, clears the
 * cookie and goes to the sign-in page. The OIDC `/end-session` endpoint is separate.
 * @module
 */
import type { Context } from 'hono'
import type { RevokedSession } from '../../../durable-objects/user-sessions'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { clearIdpCookie, readIdpSession } from '../login/idp-session'
import { notifyLoggedOut } from '../oidc/logout'
import { userSessions } from '../sessions'
import { formPost, page } from './forms'
import { respond } from './ui'

/** Back-channel logout for `revoked` sessions, after the answer (slow brands never hold the browser up). */
export function notifyInBackground(c: Context<AppEnv>, userId: string, revoked: RevokedSession[]): void {
  if (!revoked.length) return
  const ctx = c.executionCtx as ExecutionContext
  ctx.waitUntil(notifyLoggedOut(c.env, ctx, c.var.config, userId, revoked, c.var.requestId))
}

export const showLogout = page(async (c) => {
  const session = await readIdpSession(c)
  if (!session) return c.redirect('/login', 303)
  return respond(
    c,
    'Sign out',
    <div class="panel">
      <p class="eyebrow">FanzSSO</p>
      <h1>Sign out</h1>
      <p>Sign out of FanzSSO on this device. The FANZ brands you signed in to through it are signed out too.</p>
      <form method="post" action="/logout" class="actions">
        <button type="submit">Sign out</button>
        <a href="/account">Cancel</a>
      </form>
    </div>,
  )
})

export const submitLogout = formPost(async (c) => {
  const session = await readIdpSession(c)
  clearIdpCookie(c)
  if (session) {
    const result = await userSessions(c.env, session.userId).revokeSession(session.sessionId, 'user_logout')
    const revoked = result.ok ? result.revoked : []
    await audit({ env: c.env, actor: session.userId, actorRoles: [], requestId: c.var.requestId }, 'sso.session.end', `user:${session.userId}`, {
      session_id: session.sessionId,
      revoked: revoked.length,
    })
    notifyInBackground(c, session.userId, revoked)
  }
  return c.redirect('/login?signed_out=1', 303)
})
