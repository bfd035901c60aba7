/**
 * Passkeys through the whole Worker on the SSO host, with a software authenticator written here
 * (ES256 via WebCrypto, 'none' attestation, CBOR from the library's own encoder) standing in for the
 * browser and the security key: every response it makes is what a real authenticator would send,
 * so the real verification code decides.
 */
import { isoCBOR } from '@simplewebauthn/server/helpers'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { base64url, fromBase64url, utf8 } from '../../lib/encoding'
import { newId } from '../../lib/ids'
import { hashPassword } from '../accounts/password'
import { userSessions } from '../sessions'

const SSO = 'sso.localhost'
const ORIGIN = 'http://sso.localhost'

// ---------------------------------------------------------------------------------------------
// A software authenticator (CTAP2-like, resident keys, user verification, signature counter)

const sha256 = async (data: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', data))
const concat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)))
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]

/** ECDSA raw r||s (WebCrypto) -> ASN.1 DER (WebAuthn). */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let i = 0
    while (i < bytes.length - 1 && bytes[i] === 0) i++
    const v = bytes[i]! & 0x80 ? concat([0], bytes.slice(i)) : bytes.slice(i)
    return concat([0x02, v.length], v)
  }
  const r = int(raw.slice(0, 32))
  const s = int(raw.slice(32))
  return concat([0x30, r.length + s.length], r, s)
}

interface Ceremony {
  origin?: string
  rpId?: string
  type?: string
  uv?: boolean
}

class SoftAuthenticator {
  counter: number
  userHandle: string | undefined
  private constructor(
    readonly keys: CryptoKeyPair,
    readonly credentialId: Uint8Array,
    counter: number,
    /** counters stay 0 forever (like many synced passkeys) when false */
    readonly counts = true,
  ) {
    this.counter = counter
  }

  static async create(options: { counter?: number; counts?: boolean } = {}): Promise<SoftAuthenticator> {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
    return new SoftAuthenticator(keys, crypto.getRandomValues(new Uint8Array(32)), options.counter ?? 0, options.counts ?? true)
  }

  /** A copy holding the same private key and counter: what a cloned authenticator is. */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.keys, this.credentialId, this.counter, this.counts)
    copy.userHandle = this.userHandle
    return copy
  }

  get id(): string {
    return base64url(this.credentialId)
  }

  private async coseKey(): Promise<Uint8Array> {
    const jwk = (await crypto.subtle.exportKey('jwk', this.keys.publicKey)) as JsonWebKey
    return isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, fromBase64url(jwk.x!)], [-3, fromBase64url(jwk.y!)]]))
  }

  private async authData(rpId: string, uv: boolean, attested: boolean): Promise<Uint8Array> {
    if (this.counts) this.counter++
    const flags = 0x01 | (uv ? 0x04 : 0) | (attested ? 0x40 : 0)
    const head = concat(await sha256(utf8(rpId)), [flags], u32(this.counter))
    if (!attested) return head
    return concat(head, new Uint8Array(16), [this.credentialId.length >> 8, this.credentialId.length & 255], this.credentialId, await this.coseKey())
  }

  private clientData(type: string, challenge: string, origin: string): Uint8Array {
    return utf8(JSON.stringify({ type, challenge, origin, crossOrigin: false }))
  }

  async register(options: CreationOptions, c: Ceremony = {}) {
    this.userHandle = options.user.id
    const clientDataJSON = this.clientData(c.type ?? 'webauthn.create', options.challenge, c.origin ?? ORIGIN)
    const authData = await this.authData(c.rpId ?? options.rp.id, c.uv ?? true, true)
    const attestationObject = isoCBOR.encode(new Map<string, string | Uint8Array | Map<string, number>>([['fmt', 'none'], ['attStmt', new Map<string, number>()], ['authData', authData]]))
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: base64url(clientDataJSON), attestationObject: base64url(attestationObject), transports: ['internal'] },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    }
  }

  async authenticate(options: RequestOptions, c: Ceremony & { userHandle?: string } = {}) {
    const clientDataJSON = this.clientData(c.type ?? 'webauthn.get', options.challenge, c.origin ?? ORIGIN)
    const authData = await this.authData(c.rpId ?? options.rpId, c.uv ?? true, false)
    const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, this.keys.privateKey, concat(authData, await sha256(clientDataJSON))))
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: base64url(clientDataJSON),
        authenticatorData: base64url(authData),
        signature: base64url(derSignature(raw)),
        userHandle: c.userHandle ?? this.userHandle,
      },
      clientExtensionResults: {},
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts, sessions and requests

interface CreationOptions {
  challenge: string
  rp: { id: string; name: string }
  user: { id: string; name: string; displayName: string }
  excludeCredentials: Array<{ id: string }>
  authenticatorSelection: { residentKey: string; userVerification: string }
  attestation: string
  pubKeyCredParams: Array<{ alg: number }>
}
interface RequestOptions {
  challenge: string
  rpId: string
  allowCredentials: Array<{ id: string }>
  userVerification: string
}
type Problem = { status: number; code: string; detail?: string; errors?: Array<{ path: string; message: string }>; [extension: string]: unknown }

let counter = 0

async function createUser(status: 'active' | 'disabled' = 'active'): Promise<{ id: string; email: string }> {
  const id = newId('user')
  const email = `passkey.${++counter}.${Date.now()}@example.com`
  const now = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, email_verified_at_ms, display_name, status, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(id, email, email, now, 'Pat Key', status, now, now)
    .run()
  return { id, email }
}

/** The IdP cookie of a fresh `fanz-sso` session that authenticated `ageS` seconds ago. */
async function signIn(userId: string, ageS = 0): Promise<string> {
  const created = await userSessions(env, userId).createSession({ clientId: 'fanz-sso', device: 'test', amr: ['pwd'], authTimeS: Math.floor(Date.now() / 1000) - ageS })
  if (!created.ok) throw new Error(created.message)
  return `fanz_sso=${userId}.${created.refreshToken}`
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(SSO, path, { method: 'POST', body, headers: { origin: ORIGIN, ...headers } })
}

async function problem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as Problem
}

async function registerOptions(cookie: string): Promise<CreationOptions> {
  const res = await post('/passkeys/register/options', {}, { cookie })
  expect(res.status).toBe(200)
  return (await res.json()) as CreationOptions
}

async function register(cookie: string, authenticator: SoftAuthenticator, name = 'Test key') {
  const response = await authenticator.register(await registerOptions(cookie))
  return post('/passkeys/register/verify', { name, response }, { cookie })
}

async function authenticateOptions(body: unknown = {}, headers: Record<string, string> = {}): Promise<RequestOptions> {
  const res = await post('/passkeys/authenticate/options', body, headers)
  expect(res.status).toBe(200)
  return (await res.json()) as RequestOptions
}

async function userWithPasskey(options: { counter?: number; counts?: boolean } = {}) {
  const user = await createUser()
  const cookie = await signIn(user.id)
  const authenticator = await SoftAuthenticator.create(options)
  expect((await register(cookie, authenticator)).status).toBe(201)
  return { user, cookie, authenticator }
}

function audits(action: string, subject: string) {
  return auditLog(env).list({ afterSeq: 0, limit: 100, action, subject })
}

function idpCookie(res: Response): string | undefined {
  return /fanz_sso=(usr_[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
}

// ---------------------------------------------------------------------------------------------

describe('passkey registration', () => {
  it('offers discoverable, user-verifying options on the SSO rpId with an opaque user handle and the existing passkeys excluded', async () => {
    const { user, cookie, authenticator } = await userWithPasskey()
    const options = await registerOptions(cookie)
    expect(options.rp).toEqual({ id: 'sso.localhost', name: 'FANZ' })
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' })
    expect(options.attestation).toBe('none')
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-8, -7, -257])
    expect(options.user.name).toBe(user.email)
    // 32 opaque bytes: neither the email nor the user id, and the same for every ceremony of this user
    const handle = new TextDecoder().decode(fromBase64url(options.user.id))
    expect(fromBase64url(options.user.id)).toHaveLength(32)
    expect(handle).not.toContain(user.email)
    expect(handle).not.toContain(user.id)
    expect(options.user.id).toBe(authenticator.userHandle)
    expect(options.excludeCredentials.map((c) => c.id)).toEqual([authenticator.id])
  })

  it('stores the verified credential, lists it and audits it', async () => {
    const user = await createUser()
    const cookie = await signIn(user.id)
    const authenticator = await SoftAuthenticator.create()
    const res = await register(cookie, authenticator, '  Work laptop  ')
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ id: authenticator.id, name: 'Work laptop', last_used_at: null, backed_up: false, device_type: 'singleDevice' })

    const row = await env.DB.prepare('SELECT * FROM passkeys WHERE id = ?').bind(authenticator.id).first<Record<string, unknown>>()
    expect(row).toMatchObject({ user_id: user.id, counter: 1, transports_json: '["internal"]', device_type: 'singleDevice', backed_up: 0, name: 'Work laptop' })
    // the COSE key as the authenticator sent it: EC2 (kty 2), ES256 (alg -7)
    const cose = isoCBOR.decodeFirst<Map<number, unknown>>(fromBase64url(row!.public_key as string) as Uint8Array<ArrayBuffer>)
    expect([cose.get(1), cose.get(3)]).toEqual([2, -7])

    const list = await call(SSO, '/passkeys', { headers: { cookie } })
    expect(list.status).toBe(200)
    expect(((await list.json()) as { passkeys: Array<{ id: string }> }).passkeys.map((p) => p.id)).toEqual([authenticator.id])
    const [entry] = await audits('sso.passkey.register', `user:${user.id}`)
    expect(entry).toMatchObject({ actor: user.id })
    expect(JSON.parse(entry!.details)).toMatchObject({ credential_id: authenticator.id, device_type: 'singleDevice' })
  })

  it('needs a signed-in visitor (401) whose sign-in is at most 15 minutes old (403 step-up)', async () => {
    expect((await problem(await post('/passkeys/register/options', {}), 401)).code).toBe('UNAUTHENTICATED')
    expect((await problem(await post('/passkeys/register/options', {}, { cookie: 'fanz_sso=garbage' }), 401)).code).toBe('UNAUTHENTICATED')
    const user = await createUser()
    const stale = await problem(await post('/passkeys/register/options', {}, { cookie: await signIn(user.id, 16 * 60) }), 403)
    expect(stale.code).toBe('STEP_UP_REQUIRED')
    expect(stale.detail).toMatch(/re-authenticate/)
    expect(stale).toMatchObject({ max_auth_age_s: 900, reauth: '/account/reauth?return=%2Faccount' })
    expect((await post('/passkeys/register/options', {}, { cookie: await signIn(user.id, 14 * 60) })).status).toBe(200)
  })

  it('refuses a reused challenge, a challenge of another user, a wrong origin, a wrong rpId and an unverified user', async () => {
    const user = await createUser()
    const cookie = await signIn(user.id)
    const authenticator = await SoftAuthenticator.create()
    const response = await authenticator.register(await registerOptions(cookie))
    expect((await post('/passkeys/register/verify', { name: 'one', response }, { cookie })).status).toBe(201)
    const replay = await problem(await post('/passkeys/register/verify', { name: 'again', response }, { cookie }), 400)
    expect(replay.errors?.[0]?.path).toBe('body.response.response.clientDataJSON')

    // options issued to someone else are no good for this user
    const other = await createUser()
    const otherCookie = await signIn(other.id)
    const stolen = await (await SoftAuthenticator.create()).register(await registerOptions(otherCookie))
    await problem(await post('/passkeys/register/verify', { name: 'x', response: stolen }, { cookie }), 400)

    for (const ceremony of [{ origin: 'http://evil.localhost' }, { rpId: 'evil.localhost' }, { uv: false }, { type: 'webauthn.get' }]) {
      const fresh = await SoftAuthenticator.create()
      const res = await post('/passkeys/register/verify', { name: 'x', response: await fresh.register(await registerOptions(cookie), ceremony) }, { cookie })
      const body = await problem(res, 400)
      expect(body.errors?.[0]?.path, JSON.stringify(ceremony)).toBe('body.response')
    }
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?').bind(user.id).first('n')).toBe(1)
  })

  it('refuses a credential id that is already registered (409)', async () => {
    const { cookie, authenticator } = await userWithPasskey()
    const res = await register(cookie, authenticator.clone(), 'copy')
    expect((await problem(res, 409)).errors?.[0]?.path).toBe('body.response.id')
  })
})

describe('passkey sign-in', () => {
  it('signs in passwordless with a discoverable credential: IdP cookie, passkey amr, { next: "/account" }', async () => {
    const { user, authenticator } = await userWithPasskey()
    const options = await authenticateOptions()
    expect(options).toMatchObject({ rpId: 'sso.localhost', allowCredentials: [], userVerification: 'required' })
    const res = await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate(options) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ next: '/account' })
    const cookie = idpCookie(res)
    expect(cookie).toMatch(new RegExp(`^${user.id}\\.rt_`))

    // the cookie is a working IdP session with the passkey's methods
    const token = cookie!.slice(cookie!.indexOf('.') + 1)
    expect(await userSessions(env, user.id).introspect(token)).toMatchObject({ active: true, clientId: 'fanz-sso', amr: ['hwk', 'user', 'mfa'] })
    const row = await env.DB.prepare('SELECT counter, last_used_at_ms FROM passkeys WHERE id = ?').bind(authenticator.id).first<{ counter: number; last_used_at_ms: number }>()
    expect(row!.counter).toBe(2)
    expect(row!.last_used_at_ms).toBeGreaterThan(Date.now() - 60_000)
    const [entry] = await audits('sso.passkey.sign_in', `user:${user.id}`)
    expect(JSON.parse(entry!.details)).toMatchObject({ credential_id: authenticator.id, mode: 'passwordless', user_verified: true })
  })

  it('continues a pending authorization request', async () => {
    const { authenticator } = await userWithPasskey()
    const request = newId('authRequest')
    const options = await authenticateOptions({ request })
    const res = await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate(options), request })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ next: `/authorize/resume?request=${request}` })
  })

  it('refuses a reused challenge (a replayed assertion)', async () => {
    const { authenticator } = await userWithPasskey()
    const response = await authenticator.authenticate(await authenticateOptions())
    expect((await post('/passkeys/authenticate/verify', { response })).status).toBe(200)
    const replay = await problem(await post('/passkeys/authenticate/verify', { response }), 400)
    expect(replay.errors?.[0]?.path).toBe('body.response.response.clientDataJSON')
  })

  it('refuses a wrong origin, a wrong rpId, a missing user verification and a registration-type client data, spending the challenge', async () => {
    const { user, authenticator } = await userWithPasskey()
    for (const ceremony of [{ origin: 'http://evil.localhost' }, { origin: 'http://sso.localhost:9999' }, { rpId: 'boyfanz.localhost' }, { uv: false }, { type: 'webauthn.create' }]) {
      const options = await authenticateOptions()
      const bad = await authenticator.authenticate(options, ceremony)
      const body = await problem(await post('/passkeys/authenticate/verify', { response: bad }), 400)
      expect(body.errors?.[0]?.path, JSON.stringify(ceremony)).toBe('body.response')
      // the challenge went with the failed attempt
      const retry = await authenticator.authenticate(options)
      await problem(await post('/passkeys/authenticate/verify', { response: retry }), 400)
    }
    expect((await audits('sso.passkey.sign_in_failed', `user:${user.id}`)).length).toBe(5)
    expect(await audits('sso.passkey.sign_in', `user:${user.id}`)).toEqual([])
  })

  it('refuses a counter regression (cloned authenticator) and audits it; counters that stay 0 are fine', async () => {
    const { user, authenticator } = await userWithPasskey()
    const clone = authenticator.clone()
    expect((await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate(await authenticateOptions()) })).status).toBe(200)
    expect((await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate(await authenticateOptions()) })).status).toBe(200)
    // the clone still holds the counter of the moment it was copied (1) and signs 2 <= 3
    const regressed = await problem(await post('/passkeys/authenticate/verify', { response: await clone.authenticate(await authenticateOptions()) }), 400)
    expect(regressed.errors?.[0]?.path).toBe('body.response.response.authenticatorData')
    const [alarm] = await audits('sso.passkey.counter_regression', `user:${user.id}`)
    expect(JSON.parse(alarm!.details)).toMatchObject({ stored_counter: 3, received_counter: 2 })
    expect(await env.DB.prepare('SELECT counter FROM passkeys WHERE id = ?').bind(authenticator.id).first('counter')).toBe(3)

    const synced = await userWithPasskey({ counts: false })
    for (let i = 0; i < 2; i++) {
      expect((await post('/passkeys/authenticate/verify', { response: await synced.authenticator.authenticate(await authenticateOptions()) })).status).toBe(200)
    }
  })

  it('refuses an unknown credential, a user handle of another account and a disabled account', async () => {
    const stranger = await SoftAuthenticator.create()
    stranger.userHandle = base64url(new Uint8Array(32))
    const unknown = await problem(await post('/passkeys/authenticate/verify', { response: await stranger.authenticate(await authenticateOptions()) }), 400)
    expect(unknown.errors?.[0]?.path).toBe('body.response.id')

    const { authenticator } = await userWithPasskey()
    const other = await userWithPasskey()
    const swapped = await authenticator.authenticate(await authenticateOptions(), { userHandle: other.authenticator.userHandle })
    expect((await problem(await post('/passkeys/authenticate/verify', { response: swapped }), 400)).errors?.[0]?.path).toBe('body.response.response.userHandle')

    const disabled = await userWithPasskey()
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").bind(disabled.user.id).run()
    const res = await post('/passkeys/authenticate/verify', { response: await disabled.authenticator.authenticate(await authenticateOptions()) })
    expect((await problem(res, 403)).code).toBe('FORBIDDEN')
    expect(idpCookie(res)).toBeUndefined()
  })
})

describe('challenges', () => {
  it('are stored for 5 minutes, bound to their purpose (and user for registration), and refused once expired', async () => {
    const { user, cookie, authenticator } = await userWithPasskey()
    const before = Date.now()
    const creation = await registerOptions(cookie)
    const request = await authenticateOptions()
    const rows = await env.DB.prepare('SELECT user_id, purpose, expires_at_ms FROM webauthn_challenges WHERE challenge IN (?, ?) ORDER BY purpose DESC')
      .bind(creation.challenge, request.challenge)
      .all<{ user_id: string | null; purpose: string; expires_at_ms: number }>()
    expect(rows.results.map((r) => [r.purpose, r.user_id])).toEqual([['register', user.id], ['authenticate', null]])
    for (const row of rows.results) expect(row.expires_at_ms - before).toBeGreaterThanOrEqual(5 * 60_000)
    for (const row of rows.results) expect(row.expires_at_ms - Date.now()).toBeLessThanOrEqual(5 * 60_000)

    // a registration challenge does not sign anyone in
    await problem(await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate({ ...request, challenge: creation.challenge }) }), 400)
    // expired
    await env.DB.prepare('UPDATE webauthn_challenges SET expires_at_ms = ? WHERE challenge = ?').bind(Date.now() - 1, request.challenge).run()
    const late = await problem(await post('/passkeys/authenticate/verify', { response: await authenticator.authenticate(request) }), 400)
    expect(late.errors?.[0]?.path).toBe('body.response.response.clientDataJSON')
  })
})

describe('passkey as the second factor', () => {
  const PASSWORD = 'lantern orbit cactus 42'

  /** Password sign-in on /login of a user who has a passkey: the sign-in waits for a second factor. */
  async function passwordStep(userId: string, email: string): Promise<string> {
    await env.DB.prepare('UPDATE users SET password_hash = ? WHERE id = ?').bind(await hashPassword(PASSWORD), userId).run()
    const res = await call(SSO, '/login', {
      method: 'POST',
      body: new URLSearchParams({ email, password: PASSWORD }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'cf-connecting-ip': `203.0.113.${++counter}` },
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login/mfa')
    const pending = /(fanz_mfa_pending=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    expect(pending).toBeDefined()
    return pending!
  }

  it('offers only the pending user\'s passkeys and completes the sign-in with pwd + hwk', async () => {
    const { user, authenticator } = await userWithPasskey()
    const second = await SoftAuthenticator.create()
    expect((await register(await signIn(user.id), second, 'Backup key')).status).toBe(201)
    const pending = await passwordStep(user.id, user.email)

    const options = await authenticateOptions({}, { cookie: pending })
    expect(options.allowCredentials.map((c) => c.id).sort()).toEqual([authenticator.id, second.id].sort())
    expect(options.userVerification).toBe('preferred')
    // a security key without user verification is fine as a second factor
    const res = await post('/passkeys/authenticate/verify', { response: await second.authenticate(options, { uv: false }) }, { cookie: pending })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ next: '/account' })
    const token = idpCookie(res)!.split('.')[1]!
    const session = await userSessions(env, user.id).introspect(token)
    expect(session).toMatchObject({ active: true })
    expect([...(session as { amr: string[] }).amr].sort()).toEqual(['hwk', 'mfa', 'pwd'])
    const [entry] = await audits('sso.passkey.sign_in', `user:${user.id}`)
    expect(JSON.parse(entry!.details)).toMatchObject({ credential_id: second.id, mode: 'second_factor', user_verified: false })
  })

  it('refuses another account\'s passkey for the pending sign-in, and a second-factor challenge without the pending cookie', async () => {
    const { user } = await userWithPasskey()
    const other = await userWithPasskey()
    const pending = await passwordStep(user.id, user.email)
    const options = await authenticateOptions({}, { cookie: pending })
    const wrong = await problem(await post('/passkeys/authenticate/verify', { response: await other.authenticator.authenticate(options) }, { cookie: pending }), 400)
    expect(wrong.errors?.[0]?.path).toBe('body.response.id')
    expect(await audits('sso.passkey.sign_in_failed', `user:${other.user.id}`)).toHaveLength(1)

    const solo = await userWithPasskey()
    const soloPending = await passwordStep(solo.user.id, solo.user.email)
    const stray = await solo.authenticator.authenticate(await authenticateOptions({}, { cookie: soloPending }))
    await problem(await post('/passkeys/authenticate/verify', { response: stray }), 400)
  })
})

describe('passkey list', () => {
  it('removes and renames only the signed-in user\'s own passkeys, and audits both', async () => {
    const owner = await userWithPasskey()
    const intruder = await userWithPasskey()
    const path = `/passkeys/${owner.authenticator.id}`
    await problem(await call(SSO, path, { method: 'DELETE', headers: { origin: ORIGIN, cookie: intruder.cookie } }), 404)
    await problem(await post(`${path}/rename`, { name: 'mine now' }, { cookie: intruder.cookie }), 404)

    const renamed = await post(`${path}/rename`, { name: 'Phone' }, { cookie: owner.cookie })
    expect(renamed.status).toBe(200)
    expect(await renamed.json()).toMatchObject({ id: owner.authenticator.id, name: 'Phone' })
    const removed = await call(SSO, path, { method: 'DELETE', headers: { origin: ORIGIN, cookie: owner.cookie } })
    expect(removed.status).toBe(204)
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM passkeys WHERE id = ?').bind(owner.authenticator.id).first('n')).toBe(0)
    expect(await audits('sso.passkey.rename', `user:${owner.user.id}`)).toHaveLength(1)
    expect(await audits('sso.passkey.delete', `user:${owner.user.id}`)).toHaveLength(1)
    // a removed passkey no longer signs in
    const gone = await owner.authenticator.authenticate(await authenticateOptions())
    await problem(await post('/passkeys/authenticate/verify', { response: gone }), 400)
    await problem(await call(SSO, '/passkeys'), 401)
  })
})

describe('refused requests', () => {
  it('refuses state changes from another origin or without Origin (CSRF), before anything else', async () => {
    const { cookie, authenticator } = await userWithPasskey()
    const paths = ['/passkeys/register/options', '/passkeys/register/verify', '/passkeys/authenticate/options', '/passkeys/authenticate/verify', `/passkeys/${authenticator.id}/rename`]
    for (const path of paths) {
      for (const headers of [{ origin: 'http://boyfanz.localhost' }, { origin: 'null' }, { origin: ORIGIN, 'sec-fetch-site': 'same-site' }] as Array<Record<string, string>>) {
        expect((await problem(await post(path, {}, { cookie, ...headers }), 403)).code, `${path} ${JSON.stringify(headers)}`).toBe('FORBIDDEN')
      }
      const bare = await call(SSO, path, { method: 'POST', body: {}, headers: { cookie } })
      expect((await problem(bare, 403)).errors?.[0]?.path).toBe('header.origin')
    }
    await problem(await call(SSO, `/passkeys/${authenticator.id}`, { method: 'DELETE', headers: { cookie, origin: 'http://evil.localhost' } }), 403)
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM passkeys WHERE id = ?').bind(authenticator.id).first('n')).toBe(1)
  })

  it('answers every malformed body with a 4xx problem naming the field', async () => {
    const { cookie, authenticator } = await userWithPasskey()
    const valid = await authenticator.authenticate(await authenticateOptions())
    const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
      ['/passkeys/register/options', '{', 400, 'body', { 'content-type': 'application/json' }],
      ['/passkeys/register/options', { extra: 1 }, 422, 'body.extra'],
      ['/passkeys/register/options', 'x=1', 415, 'header.content-type', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/passkeys/register/verify', {}, 422, 'body.name'],
      ['/passkeys/register/verify', [], 422, 'body'],
      ['/passkeys/register/verify', 'null', 422, 'body', { 'content-type': 'application/json' }],
      ['/passkeys/register/verify', { name: '', response: {} }, 422, 'body.name'],
      ['/passkeys/register/verify', { name: 'x'.repeat(65), response: {} }, 422, 'body.name'],
      ['/passkeys/register/verify', { name: 'a\u0000b', response: {} }, 422, 'body.name'],
      ['/passkeys/register/verify', { name: 'ok', response: { id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'not base64!' } } }, 422, 'body.response.response.attestationObject'],
      ['/passkeys/register/verify', { name: 'ok', response: { id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'AA' } } }, 400, 'body.response.response.clientDataJSON'],
      ['/passkeys/authenticate/options', { request: 'arq_nope' }, 422, 'body.request'],
      ['/passkeys/authenticate/options', { request: 7 }, 422, 'body.request'],
      ['/passkeys/authenticate/verify', {}, 422, 'body.response'],
      ['/passkeys/authenticate/verify', { response: valid, request: 'usr_01JABCDEFGHJKMNPQRSTVWXYZ0' }, 422, 'body.request'],
      ['/passkeys/authenticate/verify', { response: { ...valid, type: 'password' } }, 422, 'body.response.type'],
      ['/passkeys/authenticate/verify', { response: { ...valid, response: { ...valid.response, signature: undefined } } }, 422, 'body.response.response.signature'],
      ['/passkeys/authenticate/verify', { response: { ...valid, response: { ...valid.response, clientDataJSON: base64url(utf8('not json')) } } }, 400, 'body.response.response.clientDataJSON'],
      ['/passkeys/authenticate/verify', { response: { ...valid, id: 'x'.repeat(2000), rawId: 'x' } }, 422, 'body.response.id'],
      ['/passkeys/authenticate/verify', 'x'.repeat(70_000), 413, '', { 'content-type': 'application/json' }],
      [`/passkeys/${authenticator.id}/rename`, { name: '   ' }, 422, 'body.name'],
      ['/passkeys/%2B%2B/rename', { name: 'ok' }, 400, 'param.id'],
    ]
    for (const [path, body, status, field, headers] of cases) {
      const res = await post(path, body, { cookie, ...headers })
      const p = await problem(res, status)
      if (field) expect(p.errors?.map((e) => e.path), `${path} ${JSON.stringify(body).slice(0, 80)}`).toContain(field)
    }
    // the valid response was never spent by the refusals above
    expect((await post('/passkeys/authenticate/verify', { response: valid })).status).toBe(200)
  })
})
