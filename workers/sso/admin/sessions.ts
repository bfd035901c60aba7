/**
 * `/api/sso/users/{id}/sessions`: list a user's active sessions, end one (with the brand sessions
 * it authorised), or end all. Every client that held an ended session gets a back-channel logout
 * token after the answer (`waitUntil`, oidc/logout.ts).
 * @module
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import type { RevokedSession } from '../../../durable-objects/user-sessions'
import { notifyLoggedOut } from '../oidc/logout'
import { permission, withAccess } from '../roles/access'
import { userSessions } from '../sessions'
import { iso, RevokedView, SessionList, SessionParams, UserIdParam } from './schemas'
import { userOr404 } from './users'

const tags = ['sso-admin']

const listSessionsRoute = createRoute(
  withAccess(permission('sso:sessions:read'), {
    method: 'get',
    path: '/users/{id}/sessions',
    tags,
    summary: "A user's active sessions, newest first (IdP and brand sessions; never token material)",
    request: { params: UserIdParam },
    responses: { 200: json('Active sessions', SessionList), ...problemResponses(400, 401, 403, 404) },
  }),
)

const revokeSessionRoute = createRoute(
  withAccess(permission('sso:sessions:revoke'), {
    method: 'delete',
    path: '/users/{id}/sessions/{sessionId}',
    tags,
    summary: 'End one session and the brand sessions it authorised; their clients get back-channel logout',
    request: { params: SessionParams },
    responses: { 200: json('What was ended (empty when it had already ended)', RevokedView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const revokeAllRoute = createRoute(
  withAccess(permission('sso:sessions:revoke'), {
    method: 'post',
    path: '/users/{id}/sessions/revoke-all',
    tags,
    summary: "End every session of a user (\"sign out everywhere\"); their clients get back-channel logout",
    request: { params: UserIdParam },
    responses: { 200: json('What was ended', RevokedView), ...problemResponses(400, 401, 403, 404) },
  }),
)

function revokedView(revoked: readonly RevokedSession[]) {
  return { revoked: revoked.map((s) => ({ session_id: s.sessionId, client_id: s.clientId })) }
}

function notifyLater(c: Context<AppEnv>, userId: string, revoked: readonly RevokedSession[]): void {
  if (revoked.length) c.executionCtx.waitUntil(notifyLoggedOut(c.env, c.executionCtx as ExecutionContext, c.var.config, userId, revoked, c.var.requestId))
}

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listSessionsRoute, async (c) => {
    const { id } = c.req.valid('param')
    await userOr404(c.env.DB, id)
    const sessions = await userSessions(c.env, id).listSessions()
    return c.json(
      {
        items: sessions.map((s) => ({
          session_id: s.sessionId,
          client_id: s.clientId,
          parent_id: s.parentId,
          device: s.device,
          ip: s.ip,
          country: s.country,
          amr: s.amr,
          auth_time: iso(s.authTimeS * 1000),
          created_at: iso(s.createdAtMs),
          last_seen_at: iso(s.lastSeenAtMs),
          expires_at: iso(s.expiresAtMs),
          idle_expires_at: iso(s.idleExpiresAtMs),
        })),
      },
      200,
    )
  })

  // `revoke-all` shares its shape with `{sessionId}`: DELETE on it is the wrong method, not a bad session id
  app.delete('/users/:id/sessions/revoke-all', (c) => {
    throw new ProblemError('METHOD_NOT_ALLOWED', { detail: `DELETE is not allowed at ${c.req.path}; use POST`, headers: { allow: 'POST' } })
  })

  app.openapi(revokeSessionRoute, async (c) => {
    const { id, sessionId } = c.req.valid('param')
    await userOr404(c.env.DB, id)
    const result = await userSessions(c.env, id).revokeSession(sessionId, 'admin_revoked')
    if (!result.ok) throw new ProblemError('NOT_FOUND', { detail: `user ${id} has no session ${sessionId}` })
    if (!result.alreadyRevoked) {
      await audit(c, 'sso.session.revoke', `user:${id}`, {
        session_id: sessionId,
        before: { active: true },
        after: { active: false, reason: 'admin_revoked' },
        revoked: result.revoked.map((s) => s.sessionId),
      })
    }
    notifyLater(c, id, result.revoked)
    return c.json(revokedView(result.revoked), 200)
  })

  app.openapi(revokeAllRoute, async (c) => {
    const { id } = c.req.valid('param')
    await userOr404(c.env.DB, id)
    const result = await userSessions(c.env, id).revokeAll('admin_revoked_all')
    const revoked = result.ok ? result.revoked : []
    await audit(c, 'sso.session.revoke_all', `user:${id}`, { before: { active_sessions: revoked.length }, after: { active_sessions: 0 }, revoked: revoked.map((s) => s.sessionId) })
    notifyLater(c, id, revoked)
    return c.json(revokedView(revoked), 200)
  })
}
