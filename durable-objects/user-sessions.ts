/**
 * UserSessions: one object per user (`user:<userId>`) holding that user's sign-in sessions and
 * their refresh-token families (sso.md §4; RFC 9700 §4.14.2).
 *
 * Why a Durable Object: rotation is read-check-write on a shared secret. KV has no compare-and-swap
 * and is eventually consistent, so two tabs refreshing at once could both win. Here every method's
 * read-check-write runs in one synchronous `transactionSync` (hashing with noble's sync SHA-256), so
 * two rotations of the same token are strictly ordered and at most one successor ever exists.
 *
 * Model: each session has exactly one family; each family has a current generation. A refresh
 * token is opaque (`rt_` + 32 random bytes, base64url) and only its SHA-256 is stored. Presenting:
 * - the current generation -> the next generation is issued, the presented one is marked used;
 * - the immediately previous generation, within the family's grace window after it was used ->
 *   the SAME successor again (lost responses, concurrent tabs), never a second live token;
 * - anything older, or the previous generation after the window -> reuse: the family and its
 *   session are revoked (`refresh_token_reused`).
 *
 * Clock: every method takes an optional trailing `nowMs` (epoch ms, default `Date.now()`). Tests use
 * it to move time; callers may pass their request time. The object is reachable only through the
 * `USER_SESSIONS` binding (never from the Internet), so the clock is as trusted as the caller.
 * The purge alarm always runs on the real clock.
 *
 * RPC rules (conventions.md §8): prototype methods only, plain-object results, domain outcomes as
 * `{ ok: false, code }`, `#private` for everything that is not RPC.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { DurableObject } from 'cloudflare:workers'
import { migrateSql } from './sql-migrations'
import { base64url, fromBase64url, randomToken, sha256Hex, utf8 } from '../workers/lib/encoding'
import { isId, newId } from '../workers/lib/ids'

const SECOND = 1000
const DAY = 86_400 * SECOND

/** Defaults of a session's policy; `createSession` may narrow them per client. */
export const SESSION_DEFAULTS = {
  /** absolute lifetime of a session (and of every refresh token in its family) */
  absoluteTtlMs: 30 * DAY,
  /** a session not seen (touched or rotated) for this long is over */
  idleTimeoutMs: 14 * DAY,
  /** how long after a rotation the previous token still yields the same successor */
  refreshGraceMs: 10 * SECOND,
} as const

/** Upper bounds callers may ask for. */
const LIMITS = { absoluteTtlMs: 400 * DAY, idleTimeoutMs: 400 * DAY, refreshGraceMs: 60 * SECOND } as const

/** Sessions expired or revoked longer ago than this are deleted by the alarm. */
export const PURGE_AFTER_MS = 30 * DAY
/** When a session row may be deleted: PURGE_AFTER_MS after it was revoked or expired (absolute or idle). */
const PURGE_AT_SQL = `(COALESCE(revoked_at_ms, MIN(expires_at_ms, last_seen_at_ms + idle_timeout_ms)) + ${PURGE_AFTER_MS})`
/** The alarm never fires sooner than this from now: purging is housekeeping, batch it. */
const MIN_ALARM_DELAY_MS = 60 * 60 * SECOND

const REFRESH_TOKEN_RE = /^rt_[A-Za-z0-9_-]{43}$/
const REASON_RE = /^[a-z][a-z0-9_]{0,63}$/
const AMR_RE = /^[a-z0-9_]{1,32}$/
const COUNTRY_RE = /^[A-Z0-9]{2}$/
const CLIENT_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/
/** domain separation between the stored hash of a token and the key that wraps its successor */
const WRAP_CONTEXT = 'fanz/refresh-successor/v1\0'

export interface CreateSessionInput {
  /** the brand / OAuth client the session was opened for */
  clientId: string
  /** user-agent summary, e.g. "Firefox on macOS" (at most 256 characters) */
  device: string
  ip?: string | null
  /** ISO 3166-1 alpha-2 as `request.cf.country` reports it (XX/T1 included) */
  country?: string | null
  /** RFC 8176 authentication methods, e.g. ['pwd'] or ['pwd', 'otp', 'mfa'] */
  amr: string[]
  /** epoch seconds the user authenticated (OIDC `auth_time`) */
  authTimeS: number
  absoluteTtlMs?: number
  idleTimeoutMs?: number
  refreshGraceMs?: number
  /** the IdP session this client session was authorised by (revoked with it) */
  parentId?: string
  /** clock override (see module doc) */
  nowMs?: number
}

export type InvalidRequest = { ok: false; code: 'invalid_request'; message: string }

export type CreateSessionResult =
  | { ok: true; sessionId: string; familyId: string; refreshToken: string; expiresAtMs: number }
  | InvalidRequest

export interface SessionInfo {
  sessionId: string
  clientId: string
  /** the IdP session that authorised this one, null for IdP sessions themselves */
  parentId: string | null
  device: string
  ip: string | null
  country: string | null
  amr: string[]
  authTimeS: number
  createdAtMs: number
  lastSeenAtMs: number
  /** absolute end */
  expiresAtMs: number
  /** end if not seen again before then */
  idleExpiresAtMs: number
}

export interface RotateOptions {
  /** when given, a token of another client is refused as `invalid_grant` (RFC 9700 §4.14.2 binding) */
  clientId?: string
  nowMs?: number
}

export type RotateResult =
  | {
      ok: true
      refreshToken: string
      generation: number
      /** true when this is the grace-window replay of the previous token (same successor as before) */
      replayed: boolean
      sessionId: string
      clientId: string
      /** the IdP session that authorised this one (OIDC `sid`), null for IdP sessions */
      parentId: string | null
      /** the OAuth scope granted to the session, null when it was opened without one */
      scope: string | null
      amr: string[]
      authTimeS: number
      expiresAtMs: number
    }
  | { ok: false; code: 'invalid_grant' | 'session_expired' | 'session_revoked' }
  | { ok: false; code: 'refresh_token_reused'; revoked: RevokedSession }
  | InvalidRequest

export type TouchResult =
  | { ok: true; sessionId: string; lastSeenAtMs: number; idleExpiresAtMs: number }
  | { ok: false; code: 'not_found' | 'session_expired' | 'session_revoked' }
  | InvalidRequest

export interface RevokedSession {
  sessionId: string
  clientId: string
  /** the IdP session that authorised it (OIDC `sid` for back-channel logout), null for IdP sessions */
  parentId: string | null
}

export type RevokeResult =
  | {
      ok: true
      sessionId: string
      clientId: string
      alreadyRevoked: boolean
      /** every session this call ended: the session itself and the client sessions it authorised */
      revoked: RevokedSession[]
    }
  | { ok: false; code: 'not_found' }
  | InvalidRequest

export type RevokeAllResult = { ok: true; revoked: RevokedSession[] } | InvalidRequest

/** RFC 7662-shaped: `{ active: false }` carries nothing else. */
export type IntrospectResult =
  | {
      active: true
      sessionId: string
      familyId: string
      clientId: string
      parentId: string | null
      scope: string | null
      generation: number
      issuedAtMs: number
      expiresAtMs: number
      amr: string[]
      authTimeS: number
    }
  | { active: false }

/** Authorization codes live one minute (RFC 6749 §4.1.2 recommends at most ten). */
export const AUTH_CODE_TTL_MS = 60 * SECOND
const AUTH_CODE_RE = /^ac_[A-Za-z0-9_-]{43}$/
const PKCE_VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/

export interface IssueCodeInput {
  clientId: string
  redirectUri: string
  /** S256 challenge (the provider refuses `plain` before it gets here) */
  codeChallenge: string
  scope: string
  nonce?: string | null
  idpSessionId: string
  nowMs?: number
}

export type IssueCodeResult = { ok: true; code: string; expiresAtMs: number } | { ok: false; code: 'session_inactive' } | InvalidRequest

export interface RedeemCodeInput {
  clientId: string
  redirectUri: string
  codeVerifier: string
  device: string
  ip?: string | null
  country?: string | null
  nowMs?: number
}

export type RedeemCodeResult =
  | {
      ok: true
      /** the client session opened by this exchange */
      sessionId: string
      /** the IdP session (OIDC `sid`) */
      idpSessionId: string
      refreshToken: string
      expiresAtMs: number
      scope: string
      nonce: string | null
      amr: string[]
      authTimeS: number
    }
  | { ok: false; code: 'invalid_grant'; reason: string; revoked?: RevokedSession[] }
  | InvalidRequest

type CodeRow = {
  code_hash: string
  client_id: string
  redirect_uri: string
  code_challenge: string
  scope: string
  nonce: string | null
  idp_session_id: string
  created_at_ms: number
  expires_at_ms: number
  used_at_ms: number | null
  issued_session_id: string | null
}

const MIGRATIONS = [
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     device TEXT NOT NULL,
     ip TEXT,
     country TEXT,
     amr TEXT NOT NULL,
     auth_time_s INTEGER NOT NULL,
     created_at_ms INTEGER NOT NULL,
     last_seen_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     idle_timeout_ms INTEGER NOT NULL,
     revoked_at_ms INTEGER,
     revoke_reason TEXT
   );
   CREATE TABLE refresh_families (
     id TEXT PRIMARY KEY,
     session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id),
     generation INTEGER NOT NULL,
     grace_ms INTEGER NOT NULL,
     revoked_at_ms INTEGER,
     revoke_reason TEXT
   );
   CREATE TABLE refresh_tokens (
     token_hash TEXT PRIMARY KEY,
     family_id TEXT NOT NULL REFERENCES refresh_families(id),
     generation INTEGER NOT NULL,
     issued_at_ms INTEGER NOT NULL,
     used_at_ms INTEGER,
     successor_wrapped TEXT,
     UNIQUE (family_id, generation)
   );`,
  // v2: OIDC. A client session (a brand's) hangs off the IdP session that authorised it, so ending
  // the IdP session ends every brand session it spawned; authorization codes live here too, so
  // redeeming one and revoking what it issued are one transaction.
  `ALTER TABLE sessions ADD COLUMN parent_id TEXT;
   ALTER TABLE sessions ADD COLUMN scope TEXT;
   CREATE INDEX sessions_parent_idx ON sessions (parent_id);
   CREATE TABLE auth_codes (
     code_hash TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     redirect_uri TEXT NOT NULL,
     code_challenge TEXT NOT NULL,
     scope TEXT NOT NULL,
     nonce TEXT,
     idp_session_id TEXT NOT NULL REFERENCES sessions(id),
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     used_at_ms INTEGER,
     issued_session_id TEXT
   );`,
]

type SessionRow = {
  id: string
  client_id: string
  device: string
  ip: string | null
  country: string | null
  amr: string
  auth_time_s: number
  created_at_ms: number
  last_seen_at_ms: number
  expires_at_ms: number
  idle_timeout_ms: number
  revoked_at_ms: number | null
  revoke_reason: string | null
  parent_id: string | null
  scope: string | null
}

type FamilyRow = { id: string; session_id: string; generation: number; grace_ms: number; revoked_at_ms: number | null }

type TokenRow = {
  token_hash: string
  family_id: string
  generation: number
  issued_at_ms: number
  used_at_ms: number | null
  successor_wrapped: string | null
}

type SessionState = 'active' | 'expired' | 'revoked'

function sessionState(row: SessionRow, now: number): SessionState {
  if (row.revoked_at_ms !== null) return 'revoked'
  if (now >= row.expires_at_ms || now >= row.last_seen_at_ms + row.idle_timeout_ms) return 'expired'
  return 'active'
}

function toInfo(row: SessionRow): SessionInfo {
  return {
    sessionId: row.id,
    clientId: row.client_id,
    parentId: row.parent_id,
    device: row.device,
    ip: row.ip,
    country: row.country,
    amr: JSON.parse(row.amr) as string[],
    authTimeS: row.auth_time_s,
    createdAtMs: row.created_at_ms,
    lastSeenAtMs: row.last_seen_at_ms,
    expiresAtMs: row.expires_at_ms,
    idleExpiresAtMs: Math.min(row.expires_at_ms, row.last_seen_at_ms + row.idle_timeout_ms),
  }
}

function invalid(message: string): InvalidRequest {
  return { ok: false, code: 'invalid_request', message }
}

/** `nowMs` if given and sane, else the real clock; `null` when given but not an epoch-ms integer. */
function clock(nowMs: unknown): number | null {
  if (nowMs === undefined) return Date.now()
  return Number.isSafeInteger(nowMs) && (nowMs as number) >= 0 ? (nowMs as number) : null
}

function isDuration(value: unknown, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= max
}

/** A fresh refresh token: `rt_` + 32 random bytes (base64url, 43 characters). */
function mintRefreshToken(): string {
  return `rt_${randomToken(32)}`
}

/**
 * How the grace window returns the SAME successor without keeping it in plaintext at rest: the
 * successor's 32 random bytes are XORed with SHA-256(context || presented token) and stored on the
 * presented token's row. Only a holder of the presented token can unwrap it, and that token itself
 * is stored only as a hash, so a copy of the database yields no live token. The pad is used once
 * (each token is rotated as "current" exactly once), and the unwrapped value is checked against the
 * successor's stored hash. The wrap is cleared as soon as the successor is itself rotated or the
 * family is revoked; after the grace window it is never read (the replay counts as reuse).
 * Alternatives rejected: plaintext until first use (live secret at rest for the whole window) and
 * AES-GCM with a platform key (async WebCrypto would break the synchronous transaction).
 */
function wrapSuccessor(presented: string, successor: string): string {
  const pad = sha256(utf8(WRAP_CONTEXT + presented))
  const raw = fromBase64url(successor.slice(3))
  return base64url(raw.map((byte, i) => byte ^ pad[i]!))
}

function unwrapSuccessor(presented: string, wrapped: string): string {
  const pad = sha256(utf8(WRAP_CONTEXT + presented))
  const raw = fromBase64url(wrapped)
  return `rt_${base64url(raw.map((byte, i) => byte ^ pad[i]!))}`
}

export class UserSessions extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS))
  }


  /** Opens a session with a new refresh-token family (generation 1). */
  async createSession(input: CreateSessionInput): Promise<CreateSessionResult> {
    if (typeof input !== 'object' || input === null) return invalid('input must be an object')
    const now = clock(input.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof input.clientId !== 'string' || !CLIENT_ID_RE.test(input.clientId)) return invalid('clientId must be 1-128 characters of [A-Za-z0-9._:-]')
    if (typeof input.device !== 'string' || input.device.length > 256) return invalid('device must be a string of at most 256 characters')
    const ip = input.ip ?? null
    if (ip !== null && (typeof ip !== 'string' || ip.length === 0 || ip.length > 64)) return invalid('ip must be 1-64 characters or null')
    const country = input.country ?? null
    if (country !== null && (typeof country !== 'string' || !COUNTRY_RE.test(country))) return invalid('country must be two upper-case characters or null')
    if (!Array.isArray(input.amr) || input.amr.length === 0 || input.amr.length > 10 || !input.amr.every((m) => typeof m === 'string' && AMR_RE.test(m))) {
      return invalid('amr must be 1-10 method names of [a-z0-9_]')
    }
    if (!Number.isSafeInteger(input.authTimeS) || input.authTimeS <= 0 || input.authTimeS * 1000 > now + 60 * SECOND) {
      return invalid('authTimeS must be a positive integer (epoch seconds) not in the future')
    }
    const absoluteTtlMs = input.absoluteTtlMs ?? SESSION_DEFAULTS.absoluteTtlMs
    const idleTimeoutMs = input.idleTimeoutMs ?? SESSION_DEFAULTS.idleTimeoutMs
    const graceMs = input.refreshGraceMs ?? SESSION_DEFAULTS.refreshGraceMs
    if (!isDuration(absoluteTtlMs, LIMITS.absoluteTtlMs)) return invalid(`absoluteTtlMs must be 1-${LIMITS.absoluteTtlMs} ms`)
    if (!isDuration(idleTimeoutMs, LIMITS.idleTimeoutMs)) return invalid(`idleTimeoutMs must be 1-${LIMITS.idleTimeoutMs} ms`)
    if (!(graceMs === 0 || isDuration(graceMs, LIMITS.refreshGraceMs))) return invalid(`refreshGraceMs must be 0-${LIMITS.refreshGraceMs} ms`)
    const parentId = input.parentId ?? null
    if (parentId !== null && (typeof parentId !== 'string' || !isId('session', parentId))) return invalid('parentId must be a session id')

    const sessionId = newId('session', now)
    const familyId = newId('refreshFamily', now)
    const refreshToken = mintRefreshToken()
    const expiresAtMs = now + absoluteTtlMs
    const sql = this.ctx.storage.sql
    const result = this.ctx.storage.transactionSync((): CreateSessionResult => {
      if (parentId !== null) {
        const parent = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', parentId).toArray()[0]
        if (!parent || sessionState(parent, now) !== 'active') return invalid('parentId must be an active session of this user')
      }
      this.#insertSession({ sessionId, familyId, refreshToken, clientId: input.clientId, device: input.device, ip, country, amr: input.amr, authTimeS: input.authTimeS, now, expiresAtMs, idleTimeoutMs, graceMs, parentId })
      return { ok: true, sessionId, familyId, refreshToken, expiresAtMs }
    })
    if (result.ok) await this.#schedulePurge()
    return result
  }

  /**
   * Issues a single-use authorization code (60 s) for a client, bound to the IdP session that
   * authenticated the user, the redirect URI and the PKCE challenge (RFC 6749 §4.1.2, RFC 7636).
   */
  issueCode(input: IssueCodeInput): IssueCodeResult {
    if (typeof input !== 'object' || input === null) return invalid('input must be an object')
    const now = clock(input.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof input.clientId !== 'string' || !CLIENT_ID_RE.test(input.clientId)) return invalid('clientId must be 1-128 characters of [A-Za-z0-9._:-]')
    if (typeof input.idpSessionId !== 'string' || !isId('session', input.idpSessionId)) return invalid('idpSessionId must be a session id')
    for (const [name, value, max] of [['redirectUri', input.redirectUri, 2048], ['codeChallenge', input.codeChallenge, 128], ['scope', input.scope, 1024]] as const) {
      if (typeof value !== 'string' || value.length === 0 || value.length > max) return invalid(`${name} must be 1-${max} characters`)
    }
    const nonce = input.nonce ?? null
    if (nonce !== null && (typeof nonce !== 'string' || nonce.length > 512)) return invalid('nonce must be at most 512 characters')
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync((): IssueCodeResult => {
      const idp = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', input.idpSessionId).toArray()[0]
      if (!idp || sessionState(idp, now) !== 'active') return { ok: false, code: 'session_inactive' }
      const code = `ac_${randomToken(32)}`
      sql.exec(
        `INSERT INTO auth_codes (code_hash, client_id, redirect_uri, code_challenge, scope, nonce, idp_session_id, created_at_ms, expires_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        sha256Hex(code), input.clientId, input.redirectUri, input.codeChallenge, input.scope, nonce, idp.id, now, now + AUTH_CODE_TTL_MS,
      )
      sql.exec('UPDATE sessions SET last_seen_at_ms = MAX(last_seen_at_ms, ?) WHERE id = ?', now, idp.id)
      return { ok: true, code, expiresAtMs: now + AUTH_CODE_TTL_MS }
    })
  }

  /**
   * Redeems an authorization code: checks client, redirect URI and PKCE verifier, then opens the
   * client's session (a child of the IdP session) with its first refresh token. A second redemption
   * is refused and revokes the session the first one opened (RFC 6749 §4.1.2, §10.5).
   */
  async redeemCode(code: string, input: RedeemCodeInput): Promise<RedeemCodeResult> {
    if (typeof input !== 'object' || input === null) return invalid('input must be an object')
    const now = clock(input.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof code !== 'string' || !AUTH_CODE_RE.test(code)) return { ok: false, code: 'invalid_grant', reason: 'unknown code' }
    if (typeof input.clientId !== 'string' || typeof input.redirectUri !== 'string' || typeof input.codeVerifier !== 'string') {
      return invalid('clientId, redirectUri and codeVerifier must be strings')
    }
    if (typeof input.device !== 'string' || input.device.length > 256) return invalid('device must be a string of at most 256 characters')
    const sql = this.ctx.storage.sql
    const result = this.ctx.storage.transactionSync((): RedeemCodeResult => {
      const row = sql.exec<CodeRow>('SELECT * FROM auth_codes WHERE code_hash = ?', sha256Hex(code)).toArray()[0]
      if (!row) return { ok: false, code: 'invalid_grant', reason: 'unknown code' }
      if (row.used_at_ms !== null) {
        const revoked = row.issued_session_id ? this.#revoke(row.issued_session_id, 'authorization_code_reused', now) : []
        return { ok: false, code: 'invalid_grant', reason: 'code already used', revoked }
      }
      // burn it whatever happens next: a code that failed once must not be tried again
      sql.exec('UPDATE auth_codes SET used_at_ms = ? WHERE code_hash = ?', now, row.code_hash)
      if (now >= row.expires_at_ms) return { ok: false, code: 'invalid_grant', reason: 'code expired' }
      if (row.client_id !== input.clientId) return { ok: false, code: 'invalid_grant', reason: 'code was issued to another client' }
      if (row.redirect_uri !== input.redirectUri) return { ok: false, code: 'invalid_grant', reason: 'redirect_uri differs from the authorization request' }
      if (!PKCE_VERIFIER_RE.test(input.codeVerifier) || base64url(sha256(utf8(input.codeVerifier))) !== row.code_challenge) {
        return { ok: false, code: 'invalid_grant', reason: 'code_verifier does not match the code_challenge' }
      }
      const idp = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', row.idp_session_id).toArray()[0]
      if (!idp || sessionState(idp, now) !== 'active') return { ok: false, code: 'invalid_grant', reason: 'the sign-in session has ended' }
      const sessionId = newId('session', now)
      const familyId = newId('refreshFamily', now)
      const refreshToken = mintRefreshToken()
      const expiresAtMs = Math.min(idp.expires_at_ms, now + SESSION_DEFAULTS.absoluteTtlMs)
      const amr = JSON.parse(idp.amr) as string[]
      this.#insertSession({
        sessionId, familyId, refreshToken, clientId: row.client_id, device: input.device, ip: input.ip ?? null, country: input.country ?? null,
        amr, authTimeS: idp.auth_time_s, now, expiresAtMs, idleTimeoutMs: SESSION_DEFAULTS.idleTimeoutMs, graceMs: SESSION_DEFAULTS.refreshGraceMs, parentId: idp.id, scope: row.scope,
      })
      sql.exec('UPDATE auth_codes SET issued_session_id = ? WHERE code_hash = ?', sessionId, row.code_hash)
      return {
        ok: true, sessionId, idpSessionId: idp.id, refreshToken, expiresAtMs, scope: row.scope, nonce: row.nonce, amr, authTimeS: idp.auth_time_s,
      }
    })
    if (result.ok) await this.#schedulePurge()
    return result
  }

  /**
   * Step-up: the user authenticated again on this (IdP) session; its methods become the union of
   * the old and new ones and `auth_time` moves to now. Client sessions see it on their next refresh.
   */
  elevate(sessionId: string, input: { amr: string[]; authTimeS: number; nowMs?: number }): TouchResult {
    const now = clock(input?.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof sessionId !== 'string' || !isId('session', sessionId)) return invalid('sessionId must be a session id')
    if (!Array.isArray(input.amr) || input.amr.length === 0 || input.amr.length > 10 || !input.amr.every((m) => typeof m === 'string' && AMR_RE.test(m))) {
      return invalid('amr must be 1-10 method names of [a-z0-9_]')
    }
    if (!Number.isSafeInteger(input.authTimeS) || input.authTimeS <= 0 || input.authTimeS * 1000 > now + 60 * SECOND) return invalid('authTimeS must be epoch seconds, not in the future')
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync((): TouchResult => {
      const session = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', sessionId).toArray()[0]
      if (!session) return { ok: false, code: 'not_found' }
      const state = sessionState(session, now)
      if (state !== 'active') return { ok: false, code: state === 'revoked' ? 'session_revoked' : 'session_expired' }
      const amr = [...new Set([...(JSON.parse(session.amr) as string[]), ...input.amr])].slice(0, 10)
      const lastSeenAtMs = Math.max(session.last_seen_at_ms, now)
      sql.exec('UPDATE sessions SET amr = ?, auth_time_s = MAX(auth_time_s, ?), last_seen_at_ms = ? WHERE id = ?', JSON.stringify(amr), input.authTimeS, lastSeenAtMs, sessionId)
      // client sessions authorised by this one carry the same authentication forward
      sql.exec('UPDATE sessions SET amr = ?, auth_time_s = MAX(auth_time_s, ?) WHERE parent_id = ? AND revoked_at_ms IS NULL', JSON.stringify(amr), input.authTimeS, sessionId)
      return { ok: true, sessionId, lastSeenAtMs, idleExpiresAtMs: Math.min(session.expires_at_ms, lastSeenAtMs + session.idle_timeout_ms) }
    })
  }

  /** One session's details (active or not), for callers that hold its id. */
  getSession(sessionId: string, options: { nowMs?: number } = {}): ({ state: SessionState } & SessionInfo) | null {
    const now = clock(options?.nowMs) ?? Date.now()
    if (typeof sessionId !== 'string' || !isId('session', sessionId)) return null
    const row = this.ctx.storage.sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', sessionId).toArray()[0]
    return row ? { state: sessionState(row, now), ...toInfo(row) } : null
  }

  /** Exchanges a refresh token for its successor (see module doc for the generation rules). */
  async rotate(refreshToken: string, options: RotateOptions = {}): Promise<RotateResult> {
    if (typeof options !== 'object' || options === null) return invalid('options must be an object')
    const now = clock(options.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof refreshToken !== 'string') return invalid('refreshToken must be a string')
    if (options.clientId !== undefined && typeof options.clientId !== 'string') return invalid('clientId must be a string')
    if (!REFRESH_TOKEN_RE.test(refreshToken)) return { ok: false, code: 'invalid_grant' }
    const tokenHash = sha256Hex(refreshToken)
    const sql = this.ctx.storage.sql

    const result = this.ctx.storage.transactionSync((): RotateResult => {
      const found = this.#lookup(tokenHash)
      if (!found) return { ok: false, code: 'invalid_grant' }
      const { token, family, session } = found
      if (options.clientId !== undefined && options.clientId !== session.client_id) return { ok: false, code: 'invalid_grant' }
      const state = family.revoked_at_ms !== null ? 'revoked' : sessionState(session, now)
      if (state === 'revoked') return { ok: false, code: 'session_revoked' }
      if (state === 'expired') return { ok: false, code: 'session_expired' }
      const granted = (issued: string, generation: number, replayed: boolean): RotateResult => ({
        ok: true, refreshToken: issued, generation, replayed, sessionId: session.id, clientId: session.client_id, parentId: session.parent_id, scope: session.scope,
        amr: JSON.parse(session.amr) as string[], authTimeS: session.auth_time_s, expiresAtMs: session.expires_at_ms,
      })

      if (token.generation === family.generation && token.used_at_ms === null) {
        const successor = mintRefreshToken()
        const next = family.generation + 1
        sql.exec('INSERT INTO refresh_tokens (token_hash, family_id, generation, issued_at_ms) VALUES (?, ?, ?, ?)', sha256Hex(successor), family.id, next, now)
        // The wrap is only needed for a grace replay; with no window, keep nothing.
        const wrapped = family.grace_ms > 0 ? wrapSuccessor(refreshToken, successor) : null
        sql.exec('UPDATE refresh_tokens SET used_at_ms = ?, successor_wrapped = ? WHERE token_hash = ?', now, wrapped, tokenHash)
        // The previous generation is now two behind: its wrap of this token can never be used again.
        sql.exec('UPDATE refresh_tokens SET successor_wrapped = NULL WHERE family_id = ? AND generation < ?', family.id, token.generation)
        sql.exec('UPDATE refresh_families SET generation = ? WHERE id = ?', next, family.id)
        sql.exec('UPDATE sessions SET last_seen_at_ms = MAX(last_seen_at_ms, ?) WHERE id = ?', now, session.id)
        return granted(successor, next, false)
      }

      if (
        token.generation === family.generation - 1 &&
        token.used_at_ms !== null &&
        token.successor_wrapped !== null &&
        now - token.used_at_ms <= family.grace_ms
      ) {
        const successor = unwrapSuccessor(refreshToken, token.successor_wrapped)
        const current = sql.exec<{ token_hash: string; used_at_ms: number | null }>(
          'SELECT token_hash, used_at_ms FROM refresh_tokens WHERE family_id = ? AND generation = ?', family.id, family.generation,
        ).toArray()[0]
        if (current && current.used_at_ms === null && current.token_hash === sha256Hex(successor)) {
          sql.exec('UPDATE sessions SET last_seen_at_ms = MAX(last_seen_at_ms, ?) WHERE id = ?', now, session.id)
          return granted(successor, family.generation, true)
        }
      }

      // Older than the previous generation, or the previous one after its window: the token leaked.
      this.#revoke(session.id, 'refresh_token_reused', now)
      return { ok: false, code: 'refresh_token_reused', revoked: { sessionId: session.id, clientId: session.client_id, parentId: session.parent_id } }
    })
    if (!result.ok && result.code === 'refresh_token_reused') await this.#schedulePurge()
    return result
  }

  /** Records activity on a session (pushes its idle expiry out). */
  touch(sessionId: string, options: { nowMs?: number } = {}): TouchResult {
    const now = clock(options?.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof sessionId !== 'string' || !isId('session', sessionId)) return invalid('sessionId must be a session id')
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync((): TouchResult => {
      const session = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', sessionId).toArray()[0]
      if (!session) return { ok: false, code: 'not_found' }
      const state = sessionState(session, now)
      if (state === 'revoked') return { ok: false, code: 'session_revoked' }
      if (state === 'expired') return { ok: false, code: 'session_expired' }
      const lastSeenAtMs = Math.max(session.last_seen_at_ms, now)
      sql.exec('UPDATE sessions SET last_seen_at_ms = ? WHERE id = ?', lastSeenAtMs, sessionId)
      return { ok: true, sessionId, lastSeenAtMs, idleExpiresAtMs: Math.min(session.expires_at_ms, lastSeenAtMs + session.idle_timeout_ms) }
    })
  }

  /** Active sessions, newest first; never any token material. */
  listSessions(options: { nowMs?: number } = {}): SessionInfo[] {
    const now = clock(options?.nowMs) ?? Date.now()
    return this.ctx.storage.sql
      .exec<SessionRow>(
        `SELECT * FROM sessions
         WHERE revoked_at_ms IS NULL AND expires_at_ms > ? AND last_seen_at_ms + idle_timeout_ms > ?
         ORDER BY created_at_ms DESC, id DESC`,
        now, now,
      )
      .toArray()
      .map(toInfo)
  }

  /** Revokes one session and its family; revoking again reports `alreadyRevoked` and keeps the first reason. */
  async revokeSession(sessionId: string, reason: string, options: { nowMs?: number } = {}): Promise<RevokeResult> {
    const now = clock(options?.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof sessionId !== 'string' || !isId('session', sessionId)) return invalid('sessionId must be a session id')
    if (typeof reason !== 'string' || !REASON_RE.test(reason)) return invalid('reason must be a snake_case code of at most 64 characters')
    const sql = this.ctx.storage.sql
    const result = this.ctx.storage.transactionSync((): RevokeResult => {
      const session = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', sessionId).toArray()[0]
      if (!session) return { ok: false, code: 'not_found' }
      if (session.revoked_at_ms !== null) return { ok: true, sessionId, clientId: session.client_id, alreadyRevoked: true, revoked: [] }
      const revoked = this.#revoke(sessionId, reason, now)
      return { ok: true, sessionId, clientId: session.client_id, alreadyRevoked: false, revoked }
    })
    if (result.ok && !result.alreadyRevoked) await this.#schedulePurge()
    return result
  }

  /**
   * "Sign out everywhere": revokes every session that is still active and returns them with their
   * client ids, so the caller can send back-channel logout tokens to each client.
   */
  async revokeAll(reason: string, options: { nowMs?: number } = {}): Promise<RevokeAllResult> {
    const now = clock(options?.nowMs)
    if (now === null) return invalid('nowMs must be a non-negative integer')
    if (typeof reason !== 'string' || !REASON_RE.test(reason)) return invalid('reason must be a snake_case code of at most 64 characters')
    const sql = this.ctx.storage.sql
    const revoked = this.ctx.storage.transactionSync(() => {
      const rows = sql.exec<SessionRow>('SELECT * FROM sessions WHERE revoked_at_ms IS NULL ORDER BY created_at_ms, id').toArray()
      const active = rows.filter((row) => sessionState(row, now) === 'active')
      for (const row of active) this.#revoke(row.id, reason, now)
      return active.map((row) => ({ sessionId: row.id, clientId: row.client_id, parentId: row.parent_id }))
    })
    if (revoked.length) await this.#schedulePurge()
    return { ok: true, revoked }
  }

  /**
   * Whether a refresh token is presently usable (RFC 7662): only the current generation of an
   * active session is; a used one still inside its grace window is not (it can only re-fetch).
   */
  introspect(refreshToken: string, options: { nowMs?: number } = {}): IntrospectResult {
    const now = clock(options?.nowMs)
    if (now === null || typeof refreshToken !== 'string' || !REFRESH_TOKEN_RE.test(refreshToken)) return { active: false }
    const found = this.#lookup(sha256Hex(refreshToken))
    if (!found) return { active: false }
    const { token, family, session } = found
    if (family.revoked_at_ms !== null || sessionState(session, now) !== 'active') return { active: false }
    if (token.generation !== family.generation || token.used_at_ms !== null) return { active: false }
    return {
      active: true,
      sessionId: session.id,
      familyId: family.id,
      clientId: session.client_id,
      parentId: session.parent_id,
      scope: session.scope,
      generation: token.generation,
      issuedAtMs: token.issued_at_ms,
      expiresAtMs: session.expires_at_ms,
      amr: JSON.parse(session.amr) as string[],
      authTimeS: session.auth_time_s,
    }
  }

  /** Deletes sessions (with families and tokens) expired or revoked more than PURGE_AFTER_MS ago. */
  override async alarm(): Promise<void> {
    const now = Date.now()
    const sql = this.ctx.storage.sql
    const doomed = `SELECT id FROM sessions WHERE ${PURGE_AT_SQL} <= ?`
    this.ctx.storage.transactionSync(() => {
      sql.exec('DELETE FROM auth_codes WHERE expires_at_ms + ? <= ?', PURGE_AFTER_MS, now)
      sql.exec(`DELETE FROM auth_codes WHERE idp_session_id IN (${doomed})`, now)
      sql.exec(`DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM refresh_families WHERE session_id IN (${doomed}))`, now)
      sql.exec(`DELETE FROM refresh_families WHERE session_id IN (${doomed})`, now)
      sql.exec(`DELETE FROM sessions WHERE id IN (${doomed})`, now)
    })
    await this.#schedulePurge(true)
  }

  #insertSession(row: {
    sessionId: string; familyId: string; refreshToken: string; clientId: string; device: string; ip: string | null; country: string | null
    amr: string[]; authTimeS: number; now: number; expiresAtMs: number; idleTimeoutMs: number; graceMs: number; parentId: string | null; scope?: string | null
  }): void {
    const sql = this.ctx.storage.sql
    sql.exec(
      `INSERT INTO sessions (id, client_id, device, ip, country, amr, auth_time_s, created_at_ms, last_seen_at_ms, expires_at_ms, idle_timeout_ms, parent_id, scope)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.sessionId, row.clientId, row.device, row.ip, row.country, JSON.stringify(row.amr), row.authTimeS, row.now, row.now, row.expiresAtMs, row.idleTimeoutMs, row.parentId, row.scope ?? null,
    )
    sql.exec('INSERT INTO refresh_families (id, session_id, generation, grace_ms) VALUES (?, ?, 1, ?)', row.familyId, row.sessionId, row.graceMs)
    sql.exec('INSERT INTO refresh_tokens (token_hash, family_id, generation, issued_at_ms) VALUES (?, ?, 1, ?)', sha256Hex(row.refreshToken), row.familyId, row.now)
  }

  /** Token row by hash with its family and session, or undefined. */
  #lookup(tokenHash: string): { token: TokenRow; family: FamilyRow; session: SessionRow } | undefined {
    const sql = this.ctx.storage.sql
    const token = sql.exec<TokenRow>('SELECT * FROM refresh_tokens WHERE token_hash = ?', tokenHash).toArray()[0]
    if (!token) return undefined
    const family = sql.exec<FamilyRow>('SELECT id, session_id, generation, grace_ms, revoked_at_ms FROM refresh_families WHERE id = ?', token.family_id).one()
    const session = sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', family.session_id).one()
    return { token, family, session }
  }

  /**
   * Marks a session, its family and every still-active client session it authorised revoked, and
   * drops their wrapped successors (call inside a transaction). Returns what it ended.
   */
  #revoke(sessionId: string, reason: string, now: number): RevokedSession[] {
    const sql = this.ctx.storage.sql
    const doomed = sql
      .exec<{ id: string; client_id: string; parent_id: string | null }>(
        'SELECT id, client_id, parent_id FROM sessions WHERE (id = ? OR parent_id = ?) AND revoked_at_ms IS NULL ORDER BY id = ? DESC, created_at_ms, id',
        sessionId, sessionId, sessionId,
      )
      .toArray()
    for (const { id } of doomed) {
      sql.exec('UPDATE sessions SET revoked_at_ms = ?, revoke_reason = ? WHERE id = ?', now, reason, id)
      sql.exec('UPDATE refresh_families SET revoked_at_ms = ?, revoke_reason = ? WHERE session_id = ? AND revoked_at_ms IS NULL', now, reason, id)
      sql.exec('UPDATE refresh_tokens SET successor_wrapped = NULL WHERE family_id IN (SELECT id FROM refresh_families WHERE session_id = ?)', id)
    }
    return doomed.map((row) => ({ sessionId: row.id, clientId: row.client_id, parentId: row.parent_id }))
  }

  /**
   * Points the alarm at the earliest moment any session becomes purgeable (but not sooner than
   * MIN_ALARM_DELAY_MS from now), or clears it when no session is left. Idle expiry can only move
   * later, so an alarm that fires early finds nothing and reschedules itself.
   */
  async #schedulePurge(replace = false): Promise<void> {
    const next = this.ctx.storage.sql.exec<{ at: number | null }>(`SELECT MIN(${PURGE_AT_SQL}) AS at FROM sessions`).one().at
    if (next === null) {
      await this.ctx.storage.deleteAlarm()
      return
    }
    const at = Math.max(next, Date.now() + MIN_ALARM_DELAY_MS)
    const current = replace ? null : await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }
}
