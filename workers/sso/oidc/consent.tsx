/**
 * Consent for third-party clients (first-party clients, the brands and FanzDash, never ask): the
 * user sees who is asking for what and allows or denies; a grant is remembered per user and
 * client (`oauth_consents`) so the screen returns only for new scopes. `prompt=none` without a
 * grant answers `consent_required` (OIDC Core §3.1.2.6).
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { isId } from '../../lib/ids'
import { platformPage } from '../../site/platform-page'
import { continuePage } from '../login/continue-page'
import { readIdpSession } from '../login/idp-session'
import { StoredRequest } from './authorize-request'
import { findClient, type OAuthClient } from './clients'
import { authorizeErrorPage } from './pages'

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm that it is you (your FANZ account id)',
  profile: 'See your display name, picture and language',
  email: 'See your email address',
  offline_access: 'Stay connected to your account when you are not using it',
  roles: 'See your roles on FANZ',
}

export async function consentCovers(d1: D1Database, userId: string, client: OAuthClient, scopes: readonly string[]): Promise<boolean> {
  if (client.firstParty) return true
  const row = await d1.prepare('SELECT scope FROM oauth_consents WHERE user_id = ? AND client_id = ?').bind(userId, client.id).first<{ scope: string }>()
  const granted = new Set((row?.scope ?? '').split(' '))
  return scopes.every((s) => granted.has(s))
}

async function parked(c: Context<AppEnv>, id: string): Promise<{ request: StoredRequest; client: OAuthClient } | null> {
  if (!isId('authRequest', id)) return null
  const row = await c.env.DB.prepare('SELECT params_json FROM auth_requests WHERE id = ? AND expires_at_ms > ? AND completed_at_ms IS NULL')
    .bind(id, Date.now())
    .first<{ params_json: string }>()
  if (!row) return null
  const request = StoredRequest.parse(JSON.parse(row.params_json))
  const client = await findClient(c.env.DB, request.clientId)
  return client && client.status === 'active' ? { request, client } : null
}

export async function showConsent(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  const id = c.req.query('request') ?? ''
  const found = await parked(c, id)
  if (!found) return authorizeErrorPage(c, 'This request has expired or was already answered. Go back to the application and try again.')
  const session = await readIdpSession(c)
  if (!session) return c.redirect(`/login?request=${id}`, 303)
  const { client, request } = found
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      `Allow ${client.name}?`,
      <section class="narrow" aria-labelledby="title">
        <h1 id="title">Allow {client.name} to use your FANZ account?</h1>
        <p>{client.name} is not run by FANZ. If you allow it, it can:</p>
        <ul>
          {request.scopes.map((s) => (
            <li>{SCOPE_TEXT[s] ?? s}</li>
          ))}
        </ul>
        <p>You can take this back at any time from your account page.</p>
        <form method="post" action="/consent" class="actions">
          <input type="hidden" name="request" value={id} />
          <button type="submit" name="decision" value="allow">
            Allow
          </button>{' '}
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </form>
      </section>,
    ),
  )
}

export async function submitConsent(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = new URLSearchParams(await c.req.text())
  const id = form.get('request') ?? ''
  const found = await parked(c, id)
  if (!found) return authorizeErrorPage(c, 'This request has expired or was already answered. Go back to the application and try again.')
  const session = await readIdpSession(c)
  if (!session) return c.redirect(`/login?request=${id}`, 303)
  const { client, request } = found
  const decision = form.get('decision')
  if (decision === 'allow') {
    const row = await c.env.DB.prepare('SELECT scope FROM oauth_consents WHERE user_id = ? AND client_id = ?').bind(session.userId, client.id).first<{ scope: string }>()
    const scope = [...new Set([...(row?.scope ?? '').split(' ').filter(Boolean), ...request.scopes])].join(' ')
    await c.env.DB.prepare(
      `INSERT INTO oauth_consents (user_id, client_id, scope, granted_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at_ms = excluded.granted_at_ms`,
    )
      .bind(session.userId, client.id, scope, Date.now())
      .run()
    await audit(c, 'sso.consent.grant', `user:${session.userId}`, { client_id: client.id, scope })
    return continuePage(c, `/authorize/resume?request=${id}`)
  }
  if (decision !== 'deny') return c.text('decision must be allow or deny', 400)
  await audit(c, 'sso.consent.deny', `user:${session.userId}`, { client_id: client.id, scope: request.scopes.join(' ') })
  return continuePage(c, `/authorize/resume?request=${id}&denied=1`)
}
