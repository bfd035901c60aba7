import { env } from 'cloudflare:workers'
import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { users } from '../../../d1/schema'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { db } from '../../lib/db'
import { isId } from '../../lib/ids'
import { userSessions } from '../sessions'
import { FORGOT_ACCEPTED } from './api-password'
import { TOKEN_REFUSED } from './api-verify'
import { hashEmailToken } from './email-tokens'
import { verifyPassword } from './password'
import { MESSAGES } from './password-policy'
import { throttle } from './throttle'

const SSO = 'sso.localhost'
const PASSWORD = 'lantern orbit cactus 42'
const NEW_PASSWORD = 'quiet harbour violin 97'

let adminToken: string
let ipCounter = 0
let emailCounter = 0

/** A fresh client address per call site, so the per-IP throttle of one test never spills into another. */
const freshIp = () => `198.51.100.${++ipCounter}`
const freshEmail = (tag: string) => `${tag}.${++emailCounter}.${Date.now()}@example.com`

type Problem = { status: number; code: string; errors?: Array<{ path: string; message: string }> }
type Mail = { id: number; to: string; from: string; subject: string; text: string; html: string; created_at: string }

function signUp(body: Record<string, unknown>, ip: string | null = freshIp()) {
  return call(SSO, '/api/sso/accounts', { body, headers: ip ? { 'cf-connecting-ip': ip } : {} })
}

async function outbox(to: string): Promise<Mail[]> {
  const res = await call(SSO, `/api/sso/dev/outbox?to=${encodeURIComponent(to)}`, { token: adminToken })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Mail[] }).items
}

/** Forgot-password mail is sent after the answer (waitUntil): poll until `count` messages are there. */
async function waitForMail(to: string, count: number): Promise<Mail[]> {
  for (let i = 0; i < 100; i++) {
    const items = await outbox(to)
    if (items.length >= count) return items
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`no mail for ${to}`)
}

function tokenIn(mail: Mail, page: 'verify-email' | 'reset-password'): string {
  const match = new RegExp(`http://sso\\.localhost/${page}\\?token=([A-Za-z0-9_-]{43})`).exec(mail.text)
  expect(match, mail.text).not.toBeNull()
  expect(mail.html).toContain(`href="http://sso.localhost/${page}?token=${match![1]}"`)
  return match![1]!
}

async function createAccount(email = freshEmail('ann')) {
  const res = await signUp({ email, password: PASSWORD, display_name: 'Ann <b>Lee</b>' })
  expect(res.status).toBe(201)
  const account = (await res.json()) as { id: string }
  const [mail] = await outbox(email)
  return { email, id: account.id, verifyToken: tokenIn(mail!, 'verify-email') }
}

async function auditEntries(action: string, subject: string) {
  return auditLog(env).list({ afterSeq: 0, limit: 100, action, subject })
}

async function storedHash(id: string): Promise<string> {
  const [row] = await db(env.DB).select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, id))
  return row!.passwordHash!
}

beforeAll(async () => {
  adminToken = await tokenFor(['admin'])
})

describe('POST /api/sso/accounts (sign-up)', () => {
  it('creates the account, mails a verification link, stores only the token hash, audits', async () => {
    const email = freshEmail('Mixed.Case')
    const res = await signUp({ email, password: PASSWORD, display_name: 'Ann <b>Lee</b>', locale: 'pt-BR' })
    expect(res.status).toBe(201)
    const account = (await res.json()) as Record<string, unknown>
    expect(isId('user', account.id as string)).toBe(true)
    expect(account).toMatchObject({ email, display_name: 'Ann <b>Lee</b>', locale: 'pt-BR', email_verified: false })

    const [row] = await db(env.DB).select().from(users).where(eq(users.id, account.id as string))
    expect(row!.emailNormalized).toBe(email.toLowerCase())
    expect(row!.emailVerifiedAtMs).toBeNull()
    expect(row!.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/)
    expect((await verifyPassword(PASSWORD, row!.passwordHash!)).ok).toBe(true)

    const mails = await outbox(email.toLowerCase())
    expect(mails).toHaveLength(1)
    expect(mails[0]).toMatchObject({ to: email, from: 'FANZ <no-reply@localhost>', subject: 'Confirm your FANZ email address' })
    expect(mails[0]!.html).toContain('Ann &lt;b&gt;Lee&lt;/b&gt;')
    const token = tokenIn(mails[0]!, 'verify-email')

    const tokens = await env.DB.prepare('SELECT purpose, token_hash, expires_at_ms - created_at_ms AS ttl, used_at_ms FROM email_tokens WHERE user_id = ?').bind(account.id).all()
    expect(tokens.results).toEqual([{ purpose: 'verify_email', token_hash: hashEmailToken(token), ttl: 24 * 3_600_000, used_at_ms: null }])
    expect(JSON.stringify(tokens.results)).not.toContain(token)

    const entries = await auditEntries('sso.account.create', `user:${account.id}`)
    expect(entries).toHaveLength(1)
    expect(JSON.parse(entries[0]!.details)).toEqual({ method: 'password', locale: 'pt-BR' })
    expect(entries[0]!.details).not.toContain('@')
  })

  it('refuses weak, blocklisted and brand-built passwords with 422 naming body.password, creating nothing', async () => {
    const cases: Array<[string, string]> = [
      ['hunter2', MESSAGES.tooShort(15)],
      ['1qaz2wsx3edc4rfv', MESSAGES.blocklisted],
      ['my boyfanz password!', MESSAGES.contextWord],
    ]
    for (const [password, message] of cases) {
      const email = freshEmail('weak')
      const res = await signUp({ email, password, display_name: 'Weak' })
      expect(res.status).toBe(422)
      const problem = (await res.json()) as Problem
      expect(problem.code).toBe('VALIDATION_FAILED')
      expect(problem.errors).toContainEqual({ path: 'body.password', message })
      expect(await env.DB.prepare('SELECT count(*) AS n FROM users WHERE email = ?').bind(email).first('n')).toBe(0)
    }
  })

  it('refuses unknown fields and bad values with 422 naming each field', async () => {
    const res = await signUp({ email: 'not-an-email', password: PASSWORD, display_name: '', nickname: 'x' })
    expect(res.status).toBe(422)
    const problem = (await res.json()) as Problem
    const paths = problem.errors!.map((e) => e.path).sort()
    expect(paths).toEqual(['body.display_name', 'body.email', 'body.nickname'])
    expect(problem.errors).toContainEqual({ path: 'body.nickname', message: 'unknown field' })
  })

  it('answers 409 naming body.email for an address already registered, in any spelling', async () => {
    const { email } = await createAccount()
    const res = await signUp({ email: `  ${email.toUpperCase()} `, password: 'another long passphrase 7', display_name: 'Dup' })
    expect(res.status).toBe(409)
    const problem = (await res.json()) as Problem
    expect(problem.code).toBe('CONFLICT')
    expect(problem.errors).toEqual([{ path: 'body.email', message: 'is already registered' }])
    expect(await env.DB.prepare('SELECT count(*) AS n FROM users WHERE email_normalized = ?').bind(email.toLowerCase()).first('n')).toBe(1)
    expect(await outbox(email)).toHaveLength(1)
  })

  it('slows a flood from one address down: 429 with Retry-After after the free attempts', async () => {
    const ip = '203.0.113.77'
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await signUp({ email: freshEmail('flood'), password: PASSWORD, display_name: 'Flood' }, ip)).status)
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201])
    const refused = await signUp({ email: freshEmail('flood'), password: PASSWORD, display_name: 'Flood' }, ip)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(((await refused.json()) as Problem).code).toBe('RATE_LIMITED')
    // another address is not affected
    expect((await signUp({ email: freshEmail('flood'), password: PASSWORD, display_name: 'Flood' }, '203.0.113.78')).status).toBe(201)
    expect(await throttle(env, 'ip:203.0.113.77').check()).toMatchObject({ allowed: false, failures: 6 })
  })

  it('counts requests without cf-connecting-ip on ip:unknown', async () => {
    const before = await throttle(env, 'ip:unknown').check()
    expect((await signUp({ email: freshEmail('noip'), password: PASSWORD, display_name: 'No IP' }, null)).status).toBe(201)
    expect((await throttle(env, 'ip:unknown').check()).failures).toBe(before.failures + 1)
  })
})

describe('POST /api/sso/email/verify', () => {
  it('verifies once with the mailed token; a second use is refused', async () => {
    const { id, verifyToken } = await createAccount()
    const res = await call(SSO, '/api/sso/email/verify', { body: { token: verifyToken } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { user_id: string; email_verified_at: string }
    expect(body.user_id).toBe(id)
    const [row] = await db(env.DB).select().from(users).where(eq(users.id, id))
    expect(new Date(row!.emailVerifiedAtMs!).toISOString()).toBe(body.email_verified_at)
    expect(await auditEntries('sso.account.email_verified', `user:${id}`)).toHaveLength(1)

    const again = await call(SSO, '/api/sso/email/verify', { body: { token: verifyToken } })
    expect(again.status).toBe(422)
    expect(((await again.json()) as Problem).errors).toEqual([{ path: 'body.token', message: TOKEN_REFUSED }])
    expect(await auditEntries('sso.account.email_verified', `user:${id}`)).toHaveLength(1)
  })

  it('refuses an expired token and leaves the address unverified', async () => {
    const { id, verifyToken } = await createAccount()
    await env.DB.prepare('UPDATE email_tokens SET expires_at_ms = ? WHERE token_hash = ?').bind(Date.now() - 1, hashEmailToken(verifyToken)).run()
    const res = await call(SSO, '/api/sso/email/verify', { body: { token: verifyToken } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as Problem).errors).toEqual([{ path: 'body.token', message: TOKEN_REFUSED }])
    const [row] = await db(env.DB).select().from(users).where(eq(users.id, id))
    expect(row!.emailVerifiedAtMs).toBeNull()
  })

  it('refuses a well-formed unknown token and a malformed one, naming body.token', async () => {
    const unknown = await call(SSO, '/api/sso/email/verify', { body: { token: 'A'.repeat(43) } })
    expect(unknown.status).toBe(422)
    const malformed = await call(SSO, '/api/sso/email/verify', { body: { token: 'short' } })
    expect(malformed.status).toBe(422)
    const errors = ((await malformed.json()) as Problem).errors!
    expect(new Set(errors.map((e) => e.path))).toEqual(new Set(['body.token']))
    expect(errors).toContainEqual({ path: 'body.token', message: 'must be the token from the email link' })
  })
})

describe('POST /api/sso/password/forgot and /password/reset', () => {
  it('answers unknown and known addresses identically; only the known one gets mail', async () => {
    const { email } = await createAccount()
    const unknownEmail = freshEmail('nobody')
    const known = await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })
    const unknown = await call(SSO, '/api/sso/password/forgot', { body: { email: unknownEmail }, headers: { 'cf-connecting-ip': freshIp() } })
    expect(known.status).toBe(202)
    expect(unknown.status).toBe(202)
    expect(known.headers.get('content-type')).toBe(unknown.headers.get('content-type'))
    const [knownBody, unknownBody] = [await known.text(), await unknown.text()]
    expect(knownBody).toBe(unknownBody)
    expect(JSON.parse(knownBody)).toEqual(FORGOT_ACCEPTED)

    const mails = await waitForMail(email, 2)
    expect(mails[0]!.subject).toBe('Reset your FANZ password')
    tokenIn(mails[0]!, 'reset-password')
    expect(await outbox(unknownEmail)).toEqual([])
  })

  it('resets once with the mailed token: old password stops working, sessions are revoked, audit written', async () => {
    const { email, id } = await createAccount()
    const session = await userSessions(env, id).createSession({ clientId: 'boyfanz', device: 'test', amr: ['pwd'], authTimeS: Math.floor(Date.now() / 1000) })
    expect(session.ok).toBe(true)
    await throttle(env, `account:${email.toLowerCase()}`).recordFailure()

    expect((await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })).status).toBe(202)
    const token = tokenIn((await waitForMail(email, 2))[0]!, 'reset-password')
    const stored = await env.DB.prepare("SELECT expires_at_ms - created_at_ms AS ttl FROM email_tokens WHERE token_hash = ? AND purpose = 'reset_password'").bind(hashEmailToken(token)).first('ttl')
    expect(stored).toBe(3_600_000)

    const res = await call(SSO, '/api/sso/password/reset', { body: { token, password: NEW_PASSWORD } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'password_reset', sessions_revoked: 1 })

    const hash = await storedHash(id)
    expect((await verifyPassword(PASSWORD, hash)).ok).toBe(false)
    expect((await verifyPassword(NEW_PASSWORD, hash)).ok).toBe(true)
    expect(await throttle(env, `account:${email.toLowerCase()}`).check()).toEqual({ allowed: true, failures: 0 })
    expect(await userSessions(env, id).revokeAll('check')).toEqual({ ok: true, revoked: [] })
    const entries = await auditEntries('sso.account.password_reset', `user:${id}`)
    expect(entries.map((e) => JSON.parse(e.details))).toEqual([{ sessions_revoked: 1 }])

    const again = await call(SSO, '/api/sso/password/reset', { body: { token, password: 'yet another passphrase 5' } })
    expect(again.status).toBe(422)
    expect(((await again.json()) as Problem).errors).toEqual([{ path: 'body.token', message: TOKEN_REFUSED }])
    expect((await verifyPassword(NEW_PASSWORD, await storedHash(id))).ok).toBe(true)
  })

  it('a weak new password is refused without burning the link; a newer link invalidates the older one', async () => {
    const { email, id } = await createAccount()
    await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })
    const first = tokenIn((await waitForMail(email, 2))[0]!, 'reset-password')

    const weak = await call(SSO, '/api/sso/password/reset', { body: { token: first, password: 'short' } })
    expect(weak.status).toBe(422)
    expect(((await weak.json()) as Problem).errors).toEqual([{ path: 'body.password', message: MESSAGES.tooShort(15) }])

    await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })
    const second = tokenIn((await waitForMail(email, 3))[0]!, 'reset-password')
    expect(second).not.toBe(first)
    expect((await call(SSO, '/api/sso/password/reset', { body: { token: first, password: NEW_PASSWORD } })).status).toBe(422)
    expect((await call(SSO, '/api/sso/password/reset', { body: { token: second, password: NEW_PASSWORD } })).status).toBe(200)
    expect((await verifyPassword(NEW_PASSWORD, await storedHash(id))).ok).toBe(true)
  })

  it('refuses an expired reset token', async () => {
    const { email, id } = await createAccount()
    await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })
    const token = tokenIn((await waitForMail(email, 2))[0]!, 'reset-password')
    await env.DB.prepare('UPDATE email_tokens SET expires_at_ms = ? WHERE token_hash = ?').bind(Date.now() - 1, hashEmailToken(token)).run()
    const res = await call(SSO, '/api/sso/password/reset', { body: { token, password: NEW_PASSWORD } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as Problem).errors).toEqual([{ path: 'body.token', message: TOKEN_REFUSED }])
    expect((await verifyPassword(PASSWORD, await storedHash(id))).ok).toBe(true)
  })

  it('throttles per account whether or not it exists, and per address', async () => {
    const email = freshEmail('ghost')
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await call(SSO, '/api/sso/password/forgot', { body: { email }, headers: { 'cf-connecting-ip': freshIp() } })).status)
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 429])

    const ip = '203.0.113.99'
    const byIp: number[] = []
    for (let i = 0; i < 7; i++) byIp.push((await call(SSO, '/api/sso/password/forgot', { body: { email: freshEmail('spread') }, headers: { 'cf-connecting-ip': ip } })).status)
    expect(byIp).toEqual([202, 202, 202, 202, 202, 202, 429])
  })
})

describe('GET /api/sso/dev/outbox', () => {
  it('needs an admin or operator token', async () => {
    expect((await call(SSO, '/api/sso/dev/outbox?to=a@example.com')).status).toBe(401)
    expect((await call(SSO, '/api/sso/dev/outbox?to=a@example.com', { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await call(SSO, '/api/sso/dev/outbox?to=a@example.com', { token: await tokenFor(['operator']) })).status).toBe(200)
  })

  it('names a bad query parameter', async () => {
    const res = await call(SSO, '/api/sso/dev/outbox?to=nope', { token: adminToken })
    expect(res.status).toBe(400)
    expect(((await res.json()) as Problem).errors!.map((e) => e.path)).toEqual(['query.to'])
  })
})
