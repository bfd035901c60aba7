import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { getConfig } from '../../config'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import { hashPassword } from '../accounts/password'
import { clientSecretMatches, findClient, hashClientSecret } from '../oidc/clients'
import { IDP_CLIENT_ID } from '../login/idp-session'
import { userSessions } from '../sessions'

const API = 'api.localhost'
const SSO = 'sso.localhost'
const PASSWORD = 'correct horse battery staple 42'

async function mint(body: { roles: Role[]; subject?: string; brand_roles?: Record<string, Role[]>; amr?: string[]; acr?: string; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

async function newUser(email: string, displayName: string, password?: string): Promise<string> {
  const id = newId('user')
  const nowMs = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, email_verified_at_ms, password_hash, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(id, email, email.toLowerCase(), nowMs, password ? await hashPassword(password) : null, displayName, nowMs, nowMs)
    .run()
  return id
}

async function grantDirect(userId: string, role: Role): Promise<void> {
  await env.DB.prepare("INSERT INTO user_roles (user_id, role, scope, granted_by, granted_at_ms) VALUES (?, ?, '*', 'test', ?)").bind(userId, role, Date.now()).run()
}

async function signIn(email: string, password: string): Promise<number> {
  const res = await call(SSO, '/login', {
    method: 'POST',
    headers: { origin: `http://${SSO}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
  })
  await res.body?.cancel()
  return res.status
}

/** An IdP session and a boyfanz session it authorised, as a real sign-in leaves them. */
async function openSessions(userId: string): Promise<{ idp: string; brand: string }> {
  const sessions = userSessions(env, userId)
  const authTimeS = Math.floor(Date.now() / 1000)
  const idp = await sessions.createSession({ clientId: IDP_CLIENT_ID, device: 'Firefox on Linux', amr: ['pwd'], authTimeS })
  if (!idp.ok) throw new Error(idp.message)
  const brand = await sessions.createSession({ clientId: 'boyfanz', device: 'Firefox on Linux', amr: ['pwd'], authTimeS, parentId: idp.sessionId })
  if (!brand.ok) throw new Error(brand.message)
  return { idp: idp.sessionId, brand: brand.sessionId }
}

async function auditEntries(action: string, subject: string) {
  return auditLog(env).list({ limit: 100, action, subject })
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T
}

let support: string
let operator: string
let admin: string
let superAdmin: string

beforeAll(async () => {
  support = await tokenFor(['support'])
  operator = await tokenFor(['operator'])
  admin = await tokenFor(['admin'])
  superAdmin = await tokenFor(['super_admin'])
})

describe('users: search and view', () => {
  it('finds accounts by email prefix, display-name prefix and id, newest first, a page at a time', async () => {
    const a = await newUser('searchable.ann@example.com', 'Zed Searchable')
    const b = await newUser('searchable.bob@example.com', 'Yan Searchable')
    const byEmail = await json<{ items: Array<{ id: string }>; next_cursor: string | null }>(await call(API, '/api/sso/users?q=SEARCHABLE.&limit=1', { token: support }))
    expect(byEmail.items.map((u) => u.id)).toEqual([b])
    const next = await json<{ items: Array<{ id: string }>; next_cursor: string | null }>(await call(API, `/api/sso/users?q=searchable.&limit=1&cursor=${byEmail.next_cursor}`, { token: support }))
    expect(next).toEqual({ items: [expect.objectContaining({ id: a, email: 'searchable.ann@example.com', status: 'active' })], next_cursor: null })
    expect((await json<{ items: Array<{ id: string }> }>(await call(API, '/api/sso/users?q=Zed%20Search', { token: operator }))).items.map((u) => u.id)).toEqual([a])
    expect((await json<{ items: Array<{ id: string }> }>(await call(API, `/api/sso/users?q=${a}`, { token: support }))).items.map((u) => u.id)).toEqual([a])
    // LIKE wildcards are literals
    expect((await json<{ items: unknown[] }>(await call(API, '/api/sso/users?q=%25', { token: support }))).items).toEqual([])
  })

  it('filters by role and status, and refuses a foreign cursor naming the parameter', async () => {
    const mod = await newUser('role.filter@example.com', 'Role Filter')
    await grantDirect(mod, 'moderator')
    const page = await json<{ items: Array<{ id: string }> }>(await call(API, '/api/sso/users?role=moderator', { token: support }))
    expect(page.items.map((u) => u.id)).toEqual([mod])
    const bad = await call(API, '/api/sso/users?cursor=nonsense', { token: support })
    expect(bad.status).toBe(400)
    expect(await json<{ errors: unknown[] }>(bad)).toMatchObject({ errors: [{ path: 'query.cursor' }] })
    const badStatus = await call(API, '/api/sso/users?status=gone', { token: support })
    expect(badStatus.status).toBe(400)
  })

  it('shows profile, roles, providers, passkeys, MFA and sessions but never a secret or a hash', async () => {
    const id = await newUser('detail@example.com', 'Detail Person', PASSWORD)
    const nowMs = Date.now()
    await env.DB.batch([
      env.DB.prepare("UPDATE users SET totp_secret_sealed = 'sealed-secret-value', totp_enabled_at_ms = ?, recovery_codes_json = '[\"aa\",\"bb\",\"cc\"]' WHERE id = ?").bind(nowMs, id),
      env.DB.prepare("INSERT INTO passkeys (id, user_id, public_key, device_type, backed_up, name, created_at_ms) VALUES ('cred-detail', ?, 'pk', 'multiDevice', 1, 'Laptop', ?)").bind(id, nowMs),
      env.DB.prepare("INSERT INTO social_identities (provider, provider_subject, user_id, email, email_verified, linked_at_ms) VALUES ('google', 'g-123', ?, 'detail@example.com', 1, ?)").bind(id, nowMs),
      env.DB.prepare("INSERT INTO user_roles (user_id, role, scope, granted_by, granted_at_ms) VALUES (?, 'moderator', 'brd_01JFANZ0000000000000000002', 'test', ?)").bind(id, nowMs),
    ])
    await openSessions(id)
    const res = await call(API, `/api/sso/users/${id}`, { token: support })
    expect(res.status).toBe(200)
    const text = await res.text()
    const detail = JSON.parse(text) as Record<string, unknown>
    expect(detail).toMatchObject({
      id,
      email: 'detail@example.com',
      email_verified: true,
      roles: ['fan'],
      brand_roles: { girlfanz: ['moderator'] },
      social_providers: [{ provider: 'google', last_used_at: null }],
      passkey_count: 1,
      mfa: { enrolled: true, totp: true, sms: false, passkeys: true, recovery_codes_left: 3 },
      sessions_count: 2,
      status: 'active',
    })
    const hash = (await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?').bind(id).first<{ password_hash: string }>())!.password_hash
    for (const secret of [hash, 'sealed-secret-value', '"aa"', 'pbkdf2']) expect(text).not.toContain(secret)
    for (const key of ['password_hash', 'totp_secret_sealed', 'recovery_codes_json', 'phone_e164']) expect(detail).not.toHaveProperty(key)
  })

  it('answers 404 for an unknown user and 400 naming a malformed id', async () => {
    expect((await call(API, `/api/sso/users/${newId('user')}`, { token: support })).status).toBe(404)
    const bad = await call(API, '/api/sso/users/not-a-user', { token: support })
    expect(bad.status).toBe(400)
    expect(await json<{ errors: Array<{ path: string }> }>(bad)).toMatchObject({ errors: [{ path: expect.stringContaining('id') }] })
  })
})

describe('users: disable and enable', () => {
  it('disabling revokes every session, tells the brand by back-channel logout, blocks sign-in, and is audited', async () => {
    const email = 'to.disable@example.com'
    const id = await newUser(email, 'To Disable', PASSWORD)
    expect(await signIn(email, PASSWORD)).toBe(303)
    const { brand } = await openSessions(id)
    const before = (await userSessions(env, id).listSessions()).length
    expect(before).toBe(3)

    const refused = await call(API, `/api/sso/users/${id}/disable`, { token: support, body: { reason: 'chargeback fraud' } })
    expect(refused.status).toBe(403)
    expect(await json<{ permission: string }>(refused)).toMatchObject({ permission: 'sso:users:disable' })

    const res = await call(API, `/api/sso/users/${id}/disable`, { token: admin, body: { reason: 'chargeback fraud' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user_id: id, status: 'disabled', disabled_reason: 'chargeback fraud', sessions_revoked: 3 })
    expect(await userSessions(env, id).listSessions()).toEqual([])
    expect(await signIn(email, PASSWORD)).toBe(403)

    const [entry] = await auditEntries('sso.user.disable', `user:${id}`)
    expect(JSON.parse(entry!.details)).toEqual({
      before: { status: 'active', disabled_reason: null },
      after: { status: 'disabled', disabled_reason: 'chargeback fraud' },
      sessions_revoked: 3,
    })
    // back-channel logout runs after the answer: wait for its audit record naming the brand session's parent
    let sent: Awaited<ReturnType<typeof auditEntries>> = []
    for (let i = 0; i < 50 && !sent.length; i++) {
      sent = await auditEntries('sso.backchannel_logout.sent', `user:${id}`)
      if (!sent.length) await new Promise((r) => setTimeout(r, 100))
    }
    expect(sent.length).toBe(1)
    const outcomes = (JSON.parse(sent[0]!.details) as { outcomes: Array<{ client_id: string }> }).outcomes
    expect(outcomes.map((o) => o.client_id)).toEqual(['boyfanz'])
    expect(brand).toMatch(/^ses_/)

    const enabled = await call(API, `/api/sso/users/${id}/enable`, { token: admin, method: 'POST' })
    expect(await enabled.json()).toEqual({ user_id: id, status: 'active', disabled_reason: null, sessions_revoked: 0 })
    expect(await signIn(email, PASSWORD)).toBe(303)
  })

  it('refuses a reason that is missing or too short, naming the field', async () => {
    const id = await newUser('reason@example.com', 'Reason')
    const res = await call(API, `/api/sso/users/${id}/disable`, { token: admin, body: { reason: 'x' } })
    expect(res.status).toBe(422)
    expect(await json<{ errors: Array<{ path: string }> }>(res)).toMatchObject({ errors: [{ path: 'body.reason' }] })
    expect((await call(API, `/api/sso/users/${id}/disable`, { token: admin, body: {} })).status).toBe(422)
  })

  it('only a super_admin may disable an admin, and nobody themselves', async () => {
    const target = await newUser('an.admin@example.com', 'An Admin')
    await grantDirect(target, 'admin')
    const byAdmin = await call(API, `/api/sso/users/${target}/disable`, { token: admin, body: { reason: 'left the company' } })
    expect(byAdmin.status).toBe(403)
    expect((await call(API, `/api/sso/users/${target}/disable`, { token: superAdmin, body: { reason: 'left the company' } })).status).toBe(200)
    const self = await newUser('self@example.com', 'Self')
    const selfToken = await tokenFor(['super_admin'], { subject: self })
    expect((await call(API, `/api/sso/users/${self}/disable`, { token: selfToken, body: { reason: 'oops, myself' } })).status).toBe(403)
  })
})

describe('sessions', () => {
  it('support lists sessions, ends one (with what it authorised) and then all', async () => {
    const id = await newUser('sessions@example.com', 'Sessions')
    const first = await openSessions(id)
    const second = await openSessions(id)
    const list = await json<{ items: Array<{ session_id: string; client_id: string; parent_id: string | null; amr: string[] }> }>(await call(API, `/api/sso/users/${id}/sessions`, { token: support }))
    expect(list.items.map((s) => s.session_id).sort()).toEqual([first.idp, first.brand, second.idp, second.brand].sort())
    expect(list.items.find((s) => s.session_id === first.brand)).toMatchObject({ client_id: 'boyfanz', parent_id: first.idp, amr: ['pwd'] })

    const one = await call(API, `/api/sso/users/${id}/sessions/${first.idp}`, { token: support, method: 'DELETE' })
    expect(await one.json()).toEqual({
      revoked: [
        { session_id: first.idp, client_id: IDP_CLIENT_ID },
        { session_id: first.brand, client_id: 'boyfanz' },
      ],
    })
    expect((await call(API, `/api/sso/users/${id}/sessions/${newId('session')}`, { token: support, method: 'DELETE' })).status).toBe(404)
    expect((await call(API, `/api/sso/users/${id}/sessions/${first.idp}`, { token: operator, method: 'DELETE' })).status).toBe(403)

    const all = await json<{ revoked: Array<{ session_id: string }> }>(await call(API, `/api/sso/users/${id}/sessions/revoke-all`, { token: support, method: 'POST' }))
    expect(all.revoked.map((s) => s.session_id).sort()).toEqual([second.idp, second.brand].sort())
    expect(await userSessions(env, id).listSessions()).toEqual([])
    expect((await auditEntries('sso.session.revoke', `user:${id}`)).length).toBe(1)
    expect((await auditEntries('sso.session.revoke_all', `user:${id}`)).length).toBe(1)
  })
})

describe('roles: grant and revoke', () => {
  it('lists the permission table', async () => {
    const table = await json<{ roles: Array<{ role: string; permissions: string[]; granted_with: string | null; brand_scopable: boolean }> }>(await call(API, '/api/sso/roles', { token: operator }))
    expect(table.roles.find((r) => r.role === 'admin')).toMatchObject({ granted_with: 'sso:roles:grant_privileged', brand_scopable: true })
    expect(table.roles.find((r) => r.role === 'fan')).toEqual({ role: 'fan', permissions: ['payments:checkout', 'age:verify:self'], granted_with: null, brand_scopable: false })
    expect(table.roles.find((r) => r.role === 'super_admin')).toMatchObject({ brand_scopable: false })
  })

  it('admin grants ordinary roles (idempotently), not admin; super_admin grants admin; every change audited', async () => {
    const id = await newUser('grantee@example.com', 'Grantee')
    const adminStrong = await strong(['admin'])
    const superStrong = await strong(['super_admin'])
    const grant = (token: string, body: unknown) => call(API, `/api/sso/users/${id}/roles`, { token, body })

    const first = await grant(adminStrong, { role: 'moderator' })
    expect(first.status).toBe(201)
    expect(await first.json()).toMatchObject({ user_id: id, role: 'moderator', brand: null, changed: true, roles: { roles: ['fan', 'moderator'], brand_roles: {} } })
    const again = await grant(adminStrong, { role: 'moderator' })
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ changed: false })

    const privileged = await grant(adminStrong, { role: 'admin' })
    expect(privileged.status).toBe(403)
    expect(await privileged.json()).toMatchObject({ permission: 'sso:roles:grant_privileged' })
    expect((await grant(adminStrong, { role: 'super_admin' })).status).toBe(403)
    expect((await grant(superStrong, { role: 'admin' })).status).toBe(201)

    const onBrand = await grant(adminStrong, { role: 'support', brand: 'pupfanz' })
    expect(await onBrand.json()).toMatchObject({ roles: { brand_roles: { pupfanz: ['support'] } } })

    const view = await json<{ roles: string[]; grants: Array<{ role: string; brand: string | null; granted_by: string }> }>(await call(API, `/api/sso/users/${id}/roles`, { token: support }))
    expect(view.roles.sort()).toEqual(['admin', 'fan', 'moderator'])
    expect(view.grants.map((g) => `${g.role}@${g.brand ?? '*'}`)).toEqual(['admin@*', 'moderator@*', 'support@pupfanz'])

    const [audited] = await auditEntries('sso.user.role_grant', `user:${id}`)
    expect(JSON.parse(audited!.details)).toEqual({ role: 'moderator', brand: null, before: { roles: ['fan'], brand_roles: {} }, after: { roles: ['fan', 'moderator'], brand_roles: {} } })

    // revoke: admin may not take admin away, super_admin may; a brand grant is revoked with ?brand=
    expect((await call(API, `/api/sso/users/${id}/roles/admin`, { token: adminStrong, method: 'DELETE' })).status).toBe(403)
    expect((await call(API, `/api/sso/users/${id}/roles/admin`, { token: superStrong, method: 'DELETE' })).status).toBe(200)
    expect((await call(API, `/api/sso/users/${id}/roles/support`, { token: adminStrong, method: 'DELETE' })).status).toBe(404)
    const revoked = await call(API, `/api/sso/users/${id}/roles/support?brand=pupfanz`, { token: adminStrong, method: 'DELETE' })
    expect(await revoked.json()).toMatchObject({ changed: true, roles: { roles: ['fan', 'moderator'], brand_roles: {} } })
    const [revokeAudit] = await auditEntries('sso.user.role_revoke', `user:${id}`)
    expect(JSON.parse(revokeAudit!.details)).toMatchObject({ role: 'admin', before: { roles: ['fan', 'admin', 'moderator'] }, after: { roles: ['fan', 'moderator'] } })
  })

  it('refuses changing one’s own roles, granting fan, scoping super_admin, and unknown brands', async () => {
    const id = await newUser('rules@example.com', 'Rules')
    const selfToken = await strong(['super_admin'], id)
    const self = await call(API, `/api/sso/users/${id}/roles`, { token: selfToken, body: { role: 'moderator' } })
    expect(self.status).toBe(403)
    expect(await json<{ detail: string }>(self)).toMatchObject({ detail: 'you cannot change your own roles' })
    const superStrong = await strong(['super_admin'])
    const fan = await call(API, `/api/sso/users/${id}/roles`, { token: superStrong, body: { role: 'fan' } })
    expect(fan.status).toBe(422)
    const scoped = await call(API, `/api/sso/users/${id}/roles`, { token: superStrong, body: { role: 'super_admin', brand: 'boyfanz' } })
    expect(scoped.status).toBe(422)
    expect(await json<{ errors: Array<{ path: string }> }>(scoped)).toMatchObject({ errors: [{ path: 'body.brand' }] })
    const unknownBrand = await call(API, `/api/sso/users/${id}/roles`, { token: superStrong, body: { role: 'moderator', brand: 'nofanz' } })
    expect(unknownBrand.status).toBe(422)
    const unknownRole = await call(API, `/api/sso/users/${id}/roles`, { token: superStrong, body: { role: 'overlord' } })
    expect(unknownRole.status).toBe(422)
    expect(await json<{ errors: Array<{ path: string }> }>(unknownRole)).toMatchObject({ errors: [{ path: 'body.role' }] })
    expect((await call(API, `/api/sso/users/${newId('user')}/roles`, { token: superStrong, body: { role: 'moderator' } })).status).toBe(404)
  })

  it('refuses a role change without a recent two-factor sign-in with the RFC 9470 challenge', async () => {
    const id = await newUser('stepup@example.com', 'Step Up')
    const res = await call(API, `/api/sso/users/${id}/roles`, { token: admin, body: { role: 'moderator' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="fanz", error="insufficient_user_authentication", error_description="a second factor is required", acr_values="urn:fanz:acr:aal2", max_age=600',
    )
    expect(await res.json()).toMatchObject({ code: 'UNAUTHENTICATED', max_age: 600, acr_values: 'urn:fanz:acr:aal2' })
    const stale = await call(API, `/api/sso/users/${id}/roles`, { token: await mint({ roles: ['admin'], amr: ['pwd', 'mfa'], auth_age_seconds: 900 }), body: { role: 'moderator' } })
    expect(stale.status).toBe(401)
    expect(stale.headers.get('www-authenticate')).toContain('error_description="the last sign-in is older than 600 s"')
    const viaAcr = await call(API, `/api/sso/users/${id}/roles`, { token: await mint({ roles: ['admin'], amr: ['hwk'], acr: 'urn:fanz:acr:aal2' }), body: { role: 'moderator' } })
    expect(viaAcr.status).toBe(201)
  })
})

describe('clients', () => {
  it('registers a partner client, returns the secret once and stores only its hash', async () => {
    const adminStrong = await strong(['admin'])
    const res = await call(API, '/api/sso/clients', {
      token: adminStrong,
      body: { name: 'Partner One', kind: 'partner', redirect_uris: ['https://partner.example/cb', 'http://partner.localhost/cb'], backchannel_logout_uri: 'https://partner.example/bcl' },
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const created = await json<{ id: string; client_secret: string; secret_kind: string; grant_types: string[]; scope: string; first_party: boolean }>(res)
    expect(created).toMatchObject({ secret_kind: 'hashed', grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile', first_party: false })
    expect(created.id).toMatch(/^svc_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const row = await env.DB.prepare('SELECT * FROM oauth_clients WHERE id = ?').bind(created.id).first<Record<string, unknown>>()
    expect(row!.secret_hash).toBe(hashClientSecret(created.client_secret))
    expect(JSON.stringify(row)).not.toContain(created.client_secret)
    const client = (await findClient(env.DB, created.id))!
    const config = getConfig(env)
    expect(await clientSecretMatches(config, client, created.client_secret)).toBe(true)

    const listed = await call(API, '/api/sso/clients?kind=partner', { token: operator })
    const listText = await listed.text()
    expect(listText).toContain(created.id)
    expect(listText).not.toContain(created.client_secret)
    expect(listText).not.toContain(String(row!.secret_hash))
    expect(listText).not.toContain('client_secret')

    const rotated = await call(API, `/api/sso/clients/${created.id}/rotate-secret`, { token: adminStrong, method: 'POST' })
    expect(rotated.status).toBe(200)
    const { client_secret: next } = await json<{ client_secret: string }>(rotated)
    expect(next).not.toBe(created.client_secret)
    const after = (await findClient(env.DB, created.id))!
    expect(await clientSecretMatches(config, after, created.client_secret)).toBe(false)
    expect(await clientSecretMatches(config, after, next)).toBe(true)
    expect((await auditEntries('sso.client.create', `client:${created.id}`)).length).toBe(1)
    const [rotation] = await auditEntries('sso.client.rotate_secret', `client:${created.id}`)
    expect(rotation!.details).not.toContain(next)
  })

  it('registers a service client for client_credentials without redirect URIs', async () => {
    const res = await call(API, '/api/sso/clients', { token: await strong(['super_admin']), body: { name: 'Payout worker', kind: 'service', scope: 'roles' } })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ kind: 'service', grant_types: ['client_credentials'], redirect_uris: [], scope: 'roles' })
  })

  it('refuses URIs that are not absolute https (http only on *.localhost in dev), naming each one', async () => {
    const adminStrong = await strong(['admin'])
    const res = await call(API, '/api/sso/clients', {
      token: adminStrong,
      body: { name: 'Bad URIs', kind: 'partner', redirect_uris: ['http://partner.example/cb', '/relative', 'https://ok.example/cb#frag', 'https://user:pw@ok.example/cb', 'javascript:alert(1)'] },
    })
    expect(res.status).toBe(422)
    const problem = await json<{ errors: Array<{ path: string; message: string }> }>(res)
    expect(problem.errors).toEqual([
      { path: 'body.redirect_uris.0', message: 'must use https' },
      { path: 'body.redirect_uris.1', message: 'must be an absolute URI' },
      { path: 'body.redirect_uris.2', message: 'must not contain a fragment' },
      { path: 'body.redirect_uris.3', message: 'must not contain credentials' },
      { path: 'body.redirect_uris.4', message: 'must use https' },
    ])
    const service = await call(API, '/api/sso/clients', { token: adminStrong, body: { name: 'S', kind: 'service', redirect_uris: ['https://x.example/cb'] } })
    expect(await json<{ errors: Array<{ path: string }> }>(service)).toMatchObject({ errors: [{ path: 'body.redirect_uris' }] })
    const partner = await call(API, '/api/sso/clients', { token: adminStrong, body: { name: 'P', kind: 'partner' } })
    expect(partner.status).toBe(422)
    const scope = await call(API, '/api/sso/clients', { token: adminStrong, body: { name: 'P', kind: 'partner', redirect_uris: ['https://x.example/cb'], scope: 'openid admin' } })
    expect(await json<{ errors: Array<{ path: string }> }>(scope)).toMatchObject({ errors: [{ path: 'body.scope' }] })
    const extra = await call(API, '/api/sso/clients', { token: adminStrong, body: { name: 'P', kind: 'partner', redirect_uris: ['https://x.example/cb'], first_party: true } })
    expect(extra.status).toBe(422)
  })

  it('keeps first-party clients: no stored secret, no disabling; other fields may change', async () => {
    const adminStrong = await strong(['admin'])
    const rotate = await call(API, '/api/sso/clients/boyfanz/rotate-secret', { token: adminStrong, method: 'POST' })
    expect(rotate.status).toBe(409)
    expect((await env.DB.prepare("SELECT secret_kind, secret_hash FROM oauth_clients WHERE id = 'boyfanz'").first())).toEqual({ secret_kind: 'derived', secret_hash: null })
    const disable = await call(API, '/api/sso/clients/fanzdash', { token: admin, method: 'PATCH', body: { status: 'disabled' } })
    expect(disable.status).toBe(409)
    const rename = await call(API, '/api/sso/clients/boyfanz', { token: admin, method: 'PATCH', body: { name: 'BoyFanz (web)' } })
    expect(await rename.json()).toMatchObject({ id: 'boyfanz', name: 'BoyFanz (web)', secret_kind: 'derived', status: 'active' })
    const [audited] = await auditEntries('sso.client.update', 'client:boyfanz')
    expect(JSON.parse(audited!.details)).toMatchObject({ before: { name: 'BoyFanz' }, after: { name: 'BoyFanz (web)' } })
    expect((await call(API, '/api/sso/clients/boyfanz', { token: support, method: 'PATCH', body: { name: 'x' } })).status).toBe(403)
    expect((await call(API, '/api/sso/clients/nope', { token: admin, method: 'PATCH', body: { name: 'x' } })).status).toBe(404)
  })
})
