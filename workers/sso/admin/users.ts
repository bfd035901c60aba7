/**
 * `/api/sso/users`: search, view, disable and enable accounts.
 *
 * Disabling sets `status = disabled` (sign-in refuses it: login/complete.ts), revokes every session
 * of the user (`UserSessions.revokeAll('account_disabled')`) and tells each client that held one
 * through back-channel logout, after the answer (`waitUntil`). Only a super_admin may disable an
 * admin or super_admin (otherwise an admin could lock the super_admins out), and nobody may
 * disable themselves.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { cursorOf, encodeCursor } from '../../lib/pagination'
import { normalizeEmail } from '../accounts/email'
import { notifyLoggedOut } from '../oidc/logout'
import { permission, withAccess } from '../roles/access'
import { holds } from '../roles/middleware'
import { PRIVILEGED_ROLES } from '../roles/permissions'
import { rolesFor } from '../roles/store'
import { userSessions } from '../sessions'
import { DisableRequest, iso, isoOrNull, UserDetail, UserIdParam, UserPage, UserSearchQuery, UserStatusChange } from './schemas'

const tags = ['sso-admin']

interface UserRow {
  id: string
  email: string
  email_verified_at_ms: number | null
  display_name: string
  locale: string
  avatar_url: string | null
  status: 'active' | 'disabled'
  disabled_reason: string | null
  age_verified_method: string | null
  age_verified_expires_at_ms: number | null
  phone_verified_at_ms: number | null
  totp_enabled_at_ms: number | null
  recovery_codes_json: string | null
  created_at_ms: number
  updated_at_ms: number
}

// the columns a management answer may show: never password_hash, totp_secret_sealed or phone_e164
const USER_COLUMNS = `id, email, email_verified_at_ms, display_name, locale, avatar_url, status, disabled_reason, age_verified_method,
  age_verified_expires_at_ms, phone_verified_at_ms, totp_enabled_at_ms, recovery_codes_json, created_at_ms, updated_at_ms`

export async function findUser(d1: D1Database, id: string): Promise<UserRow | null> {
  return d1.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).bind(id).first<UserRow>()
}

export async function userOr404(d1: D1Database, id: string): Promise<UserRow> {
  const user = await findUser(d1, id)
  if (!user) throw new ProblemError('NOT_FOUND', { detail: `no user ${id}` })
  return user
}

function summary(row: UserRow) {
  return { id: row.id, email: row.email, email_verified: row.email_verified_at_ms !== null, display_name: row.display_name, status: row.status, created_at: iso(row.created_at_ms) }
}

/** `%` and `_` in a search term are literals. */
function likePrefix(term: string): string {
  return `${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
}

const searchUsersRoute = createRoute(
  withAccess(permission('sso:users:read'), {
    method: 'get',
    path: '/users',
    tags,
    summary: 'Search accounts by id, email prefix or display-name prefix; newest first',
    request: { query: UserSearchQuery },
    responses: { 200: json('A page of accounts', UserPage), ...problemResponses(400, 401, 403) },
  }),
)

const getUserRoute = createRoute(
  withAccess(permission('sso:users:read'), {
    method: 'get',
    path: '/users/{id}',
    tags,
    summary: 'One account: profile, roles, linked providers, MFA and session counts (never secrets)',
    request: { params: UserIdParam },
    responses: { 200: json('The account', UserDetail), ...problemResponses(400, 401, 403, 404) },
  }),
)

const disableUserRoute = createRoute(
  withAccess(permission('sso:users:disable'), {
    method: 'post',
    path: '/users/{id}/disable',
    tags,
    summary: 'Disable an account: sign-in refused, every session revoked, clients told by back-channel logout',
    request: { params: UserIdParam, body: jsonBody(DisableRequest) },
    responses: { 200: json('The account is disabled', UserStatusChange), ...problemResponses(400, 401, 403, 404, 415, 422) },
  }),
)

const enableUserRoute = createRoute(
  withAccess(permission('sso:users:disable'), {
    method: 'post',
    path: '/users/{id}/enable',
    tags,
    summary: 'Enable a disabled account',
    request: { params: UserIdParam },
    responses: { 200: json('The account is active', UserStatusChange), ...problemResponses(400, 401, 403, 404) },
  }),
)

/** Refuses changing oneself, and changing a privileged account without `sso:roles:grant_privileged`. */
async function assertMayChangeAccount(c: Context<AppEnv>, userId: string, what: string): Promise<void> {
  const auth = authenticated(c)
  if (auth.subject === userId) throw new ProblemError('FORBIDDEN', { detail: `you cannot ${what} your own account` })
  const target = await rolesFor(c.env.DB, userId)
  const privileged = target.roles.some((r) => PRIVILEGED_ROLES.includes(r))
  if (privileged && !holds(auth, 'sso:roles:grant_privileged')) {
    throw new ProblemError('FORBIDDEN', { detail: `only a super_admin may ${what} an admin or super_admin account`, extensions: { permission: 'sso:roles:grant_privileged' } })
  }
}

export function registerUserRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(searchUsersRoute, async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ id: z.string() }))
    const where: string[] = []
    const binds: unknown[] = []
    if (q.q) {
      if (/^usr_[0-9A-HJKMNP-TV-Z]{26}$/.test(q.q)) {
        where.push('u.id = ?')
        binds.push(q.q)
      } else {
        where.push(`(u.email_normalized LIKE ? ESCAPE '\\' OR u.display_name LIKE ? ESCAPE '\\')`)
        binds.push(likePrefix(normalizeEmail(q.q)), likePrefix(q.q))
      }
    }
    if (q.status) {
      where.push('u.status = ?')
      binds.push(q.status)
    }
    // every account is a fan without a row: `role=fan` filters nothing
    if (q.role && q.role !== 'fan') {
      where.push('EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?)')
      binds.push(q.role)
    }
    if (after) {
      where.push('u.id < ?')
      binds.push(after.id)
    }
    const { results } = await c.env.DB.prepare(
      `SELECT ${USER_COLUMNS} FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.id DESC LIMIT ?`,
    )
      .bind(...binds, q.limit + 1)
      .all<UserRow>()
    const items = results.slice(0, q.limit)
    const last = items.at(-1)
    return c.json({ items: items.map(summary), next_cursor: results.length > q.limit && last ? encodeCursor({ id: last.id }) : null }, 200)
  })

  app.openapi(getUserRoute, async (c) => {
    const { id } = c.req.valid('param')
    const user = await userOr404(c.env.DB, id)
    const [roles, social, passkeys, sessions] = await Promise.all([
      rolesFor(c.env.DB, id),
      c.env.DB.prepare('SELECT provider, linked_at_ms, last_used_at_ms FROM social_identities WHERE user_id = ? ORDER BY provider')
        .bind(id)
        .all<{ provider: string; linked_at_ms: number; last_used_at_ms: number | null }>(),
      c.env.DB.prepare('SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?').bind(id).first<{ n: number }>(),
      userSessions(c.env, id).listSessions(),
    ])
    const passkeyCount = passkeys?.n ?? 0
    const recoveryLeft = user.recovery_codes_json ? (JSON.parse(user.recovery_codes_json) as unknown[]).length : 0
    const nowMs = Date.now()
    const ageValid = user.age_verified_method && user.age_verified_expires_at_ms && user.age_verified_expires_at_ms > nowMs
    return c.json(
      {
        ...summary(user),
        locale: user.locale,
        avatar_url: user.avatar_url,
        disabled_reason: user.disabled_reason,
        updated_at: iso(user.updated_at_ms),
        age_verified: ageValid ? { method: user.age_verified_method!, expires_at: iso(user.age_verified_expires_at_ms!) } : null,
        phone_verified: user.phone_verified_at_ms !== null,
        roles: roles.roles,
        brand_roles: roles.brandRoles,
        social_providers: social.results.map((s) => ({ provider: s.provider, linked_at: iso(s.linked_at_ms), last_used_at: isoOrNull(s.last_used_at_ms) })),
        passkey_count: passkeyCount,
        mfa: {
          enrolled: user.totp_enabled_at_ms !== null || user.phone_verified_at_ms !== null || passkeyCount > 0,
          totp: user.totp_enabled_at_ms !== null,
          sms: user.phone_verified_at_ms !== null,
          passkeys: passkeyCount > 0,
          recovery_codes_left: recoveryLeft,
        },
        sessions_count: sessions.length,
      },
      200,
    )
  })

  app.openapi(disableUserRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { reason } = c.req.valid('json')
    const before = await userOr404(c.env.DB, id)
    await assertMayChangeAccount(c, id, 'disable')
    const nowMs = Date.now()
    await c.env.DB.prepare("UPDATE users SET status = 'disabled', disabled_reason = ?, updated_at_ms = ? WHERE id = ?").bind(reason, nowMs, id).run()
    // after the status change: a sign-in racing this request either failed already or its session is revoked here
    const revoked = await userSessions(c.env, id).revokeAll('account_disabled')
    const ended = revoked.ok ? revoked.revoked : []
    await audit(c, 'sso.user.disable', `user:${id}`, {
      before: { status: before.status, disabled_reason: before.disabled_reason },
      after: { status: 'disabled', disabled_reason: reason },
      sessions_revoked: ended.length,
    })
    if (ended.length) c.executionCtx.waitUntil(notifyLoggedOut(c.env, c.executionCtx as ExecutionContext, c.var.config, id, ended, c.var.requestId))
    return c.json({ user_id: id, status: 'disabled' as const, disabled_reason: reason, sessions_revoked: ended.length }, 200)
  })

  app.openapi(enableUserRoute, async (c) => {
    const { id } = c.req.valid('param')
    const before = await userOr404(c.env.DB, id)
    await assertMayChangeAccount(c, id, 'enable')
    await c.env.DB.prepare("UPDATE users SET status = 'active', disabled_reason = NULL, updated_at_ms = ? WHERE id = ?").bind(Date.now(), id).run()
    await audit(c, 'sso.user.enable', `user:${id}`, {
      before: { status: before.status, disabled_reason: before.disabled_reason },
      after: { status: 'active', disabled_reason: null },
    })
    return c.json({ user_id: id, status: 'active' as const, disabled_reason: null, sessions_revoked: 0 }, 200)
  })
}
