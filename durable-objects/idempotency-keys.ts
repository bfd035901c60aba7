/**
 * IdempotencyKeys: the records behind `Idempotency-Key` on money-moving POSTs
 * (draft-ietf-httpapi-idempotency-key-header-07; payments.md §5), strongly consistent per key.
 *
 * A record is addressed by its scope, the composite lookup key the draft's Security Considerations
 * ask for: (client identity, method, route template, key). It holds the request fingerprint, the
 * state (`in_flight` while the first request runs, `done` once its response is stored), that
 * response (status, selected headers, body up to a limit), and created/expiry times.
 *
 * Sharding: one object per 2-hex-digit prefix of SHA-256(scope), `idem:00` ... `idem:ff` (256
 * objects; see `shardName`). Why not one object: a Durable Object runs one request at a time, so a
 * single object would serialise every money-moving POST of the platform and cap it at one object's
 * throughput. Why not one object per key: each record would need its own alarm to be purged and
 * nothing could enumerate or sweep them; a bounded set of shards keeps the purge one indexed DELETE
 * per shard. SHA-256 spreads scopes evenly, and a client cannot aim at a shard without also
 * choosing its own identity. The shard count is part of the address: changing SHARD_HEX_DIGITS
 * re-homes every key, so it may only change with a 24 h period of reading both layouts.
 *
 * Atomicity: `begin` reads and writes in one `transactionSync` with no await in between, and the
 * object runs one call at a time, so of any number of concurrent `begin`s for a new scope exactly
 * one gets `proceed`. The winner receives an attempt token; `complete` and `abandon` must present
 * it, so an attempt that outlived its lease cannot overwrite or release the lock of a later one.
 *
 * Lease: an `in_flight` record whose lease (IN_FLIGHT_LEASE_MS) ran out without `complete` or
 * `abandon` (the isolate died mid-request) is taken over by the next `begin`, which then proceeds.
 * Until then duplicates get `in_flight` (409). Handlers that move money pass the key on to the
 * object that owns the write (ledger) so even a takeover cannot apply an effect twice.
 *
 * Clock: methods take an optional `nowMs` so tests can move time; the purge alarm runs on the real clock.
 * RPC rules (conventions.md §8): prototype methods only, plain-object results, `#private` helpers.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { randomToken, sha256Hex } from '../workers/lib/encoding'
import { migrateSql } from './sql-migrations'

const SECOND = 1000
const HOUR = 3600 * SECOND

/** Records live this long after the first request (draft §2.3: expiry policy published in the API docs). */
export const DEFAULT_TTL_MS = 24 * HOUR
/** Callers may choose a TTL in this range. */
export const MIN_TTL_MS = 60 * SECOND
export const MAX_TTL_MS = 7 * 24 * HOUR
/** How long a `begin` holds the key before a later `begin` may assume the first attempt died. */
export const IN_FLIGHT_LEASE_MS = 5 * 60 * SECOND
/** Stored response bodies are capped (base64 characters; about 192 KiB of bytes); larger ones are recorded without a body. */
export const MAX_STORED_BODY_BASE64 = 256 * 1024
/** The purge alarm never fires sooner than this after it is set: purging is housekeeping, batch it. */
const MIN_ALARM_DELAY_MS = 10 * 60 * SECOND
/** Hex digits of SHA-256(scope) that name the shard: 2 -> 256 objects. */
export const SHARD_HEX_DIGITS = 2

const MAX_SCOPE_LENGTH = 2048
const FINGERPRINT_RE = /^[0-9a-f]{64}$/
const ATTEMPT_RE = /^[A-Za-z0-9_-]{22}$/

export interface StoredHeader {
  /** lower case */
  name: string
  value: string
}

/** The response of the first request, as stored and replayed. */
export interface StoredResponse {
  status: number
  /** lower-case names, in order; only headers worth replaying (no cookies, no per-request ids) */
  headers: StoredHeader[]
  /** base64 of the body bytes; null when the body was over the size limit and was not kept */
  bodyBase64: string | null
}

export type BeginResult =
  /** first request (or a takeover after an expired lease): run it, then `complete` or `abandon` with `attempt` */
  | { kind: 'proceed'; attempt: string }
  /** done before: answer with the stored response */
  | { kind: 'replay'; response: StoredResponse; createdAtMs: number }
  /** the first request is still running */
  | { kind: 'in_flight'; retryAfterS: number }
  /** the key was used with a different request fingerprint */
  | { kind: 'mismatch' }

export type FinishResult = { ok: true } | { ok: false; code: 'not_found' | 'superseded' | 'already_done' }

type RecordRow = {
  scope: string
  fingerprint: string
  state: 'in_flight' | 'done'
  attempt: string | null
  locked_until_ms: number | null
  status: number | null
  headers: string | null
  body_base64: string | null
  created_at_ms: number
  expires_at_ms: number
}

const MIGRATIONS = [
  `CREATE TABLE records (
     scope TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
     attempt TEXT,
     locked_until_ms INTEGER,
     status INTEGER,
     headers TEXT,
     body_base64 TEXT,
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL
   )`,
  'CREATE INDEX records_expiry ON records (expires_at_ms)',
]

/** The shard (object name) that holds `scope`. */
export function shardName(scope: string): string {
  return `idem:${sha256Hex(scope).slice(0, SHARD_HEX_DIGITS)}`
}

/** The object that holds `scope`. */
export function idempotencyShard(env: Pick<Env, 'IDEMPOTENCY'>, scope: string): DurableObjectStub<IdempotencyKeys> {
  return env.IDEMPOTENCY.getByName(shardName(scope))
}

function assertScope(scope: string): void {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) throw new TypeError('IdempotencyKeys: invalid scope')
}

function checkResponse(response: StoredResponse): StoredResponse {
  if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) throw new TypeError('IdempotencyKeys: invalid status')
  const headers = response.headers.map(({ name, value }): StoredHeader => ({ name: String(name).toLowerCase(), value: String(value) }))
  const body = response.bodyBase64 !== null && response.bodyBase64.length <= MAX_STORED_BODY_BASE64 ? response.bodyBase64 : null
  return { status: response.status, headers, bodyBase64: body }
}

export class IdempotencyKeys extends DurableObject<Env> {
  /** when the purge alarm is set for (null: none); kept here so `begin` need not await `getAlarm` */
  #alarmAtMs: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => {
      migrateSql(ctx.storage, MIGRATIONS)
      this.#alarmAtMs = await ctx.storage.getAlarm()
    })
  }

  /**
   * Claims `scope` for a request with `fingerprint`, or says why not. Atomic: of concurrent
   * callers for a new scope exactly one gets `proceed`. An expired record counts as absent.
   */
  begin(scope: string, fingerprint: string, nowMs: number = Date.now(), ttlMs: number = DEFAULT_TTL_MS): BeginResult {
    assertScope(scope)
    if (!FINGERPRINT_RE.test(fingerprint)) throw new TypeError('IdempotencyKeys: fingerprint must be 64 lower-case hex digits')
    const ttl = Math.min(Math.max(Math.trunc(ttlMs), MIN_TTL_MS), MAX_TTL_MS)
    const sql = this.ctx.storage.sql
    const result = this.ctx.storage.transactionSync((): BeginResult => {
      let row = this.#row(scope)
      if (row && row.expires_at_ms <= nowMs) {
        sql.exec('DELETE FROM records WHERE scope = ?', scope)
        row = undefined
      }
      if (!row) {
        const attempt = randomToken(16)
        sql.exec(
          `INSERT INTO records (scope, fingerprint, state, attempt, locked_until_ms, created_at_ms, expires_at_ms)
           VALUES (?, ?, 'in_flight', ?, ?, ?, ?)`,
          scope, fingerprint, attempt, nowMs + IN_FLIGHT_LEASE_MS, nowMs, nowMs + ttl,
        )
        return { kind: 'proceed', attempt }
      }
      // a different payload is a client bug whatever the state: say so rather than "retry later"
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' }
      if (row.state === 'done') {
        return {
          kind: 'replay',
          response: { status: row.status!, headers: JSON.parse(row.headers ?? '[]') as StoredHeader[], bodyBase64: row.body_base64 },
          createdAtMs: row.created_at_ms,
        }
      }
      if ((row.locked_until_ms ?? 0) > nowMs) {
        return { kind: 'in_flight', retryAfterS: Math.max(1, Math.min(5, Math.ceil((row.locked_until_ms! - nowMs) / SECOND))) }
      }
      // the attempt holding the lease never finished (isolate gone): this request takes over
      const attempt = randomToken(16)
      sql.exec('UPDATE records SET attempt = ?, locked_until_ms = ? WHERE scope = ?', attempt, nowMs + IN_FLIGHT_LEASE_MS, scope)
      return { kind: 'proceed', attempt }
    })
    if (result.kind === 'proceed') this.#purgeNoLaterThan(nowMs + ttl)
    return result
  }

  /** Stores the response of the attempt that holds `scope`; later `begin`s replay it. */
  complete(scope: string, attempt: string, response: StoredResponse): FinishResult {
    assertScope(scope)
    const stored = checkResponse(response)
    return this.#finish(scope, attempt, () => {
      this.ctx.storage.sql.exec(
        `UPDATE records SET state = 'done', attempt = NULL, locked_until_ms = NULL, status = ?, headers = ?, body_base64 = ? WHERE scope = ?`,
        stored.status, JSON.stringify(stored.headers), stored.bodyBase64, scope,
      )
    })
  }

  /** Releases `scope` after an attempt that produced no response, so a retry can proceed. */
  abandon(scope: string, attempt: string): FinishResult {
    assertScope(scope)
    return this.#finish(scope, attempt, () => {
      this.ctx.storage.sql.exec('DELETE FROM records WHERE scope = ?', scope)
    })
  }

  /** Deletes expired records and points the alarm at the next expiry (batched). */
  override async alarm(): Promise<void> {
    const now = Date.now()
    const sql = this.ctx.storage.sql
    sql.exec('DELETE FROM records WHERE expires_at_ms <= ?', now)
    this.#alarmAtMs = null
    const next = sql.exec<{ at: number | null }>('SELECT MIN(expires_at_ms) AS at FROM records').one().at
    if (next !== null) {
      const at = Math.max(next, now + MIN_ALARM_DELAY_MS)
      this.#alarmAtMs = at
      await this.ctx.storage.setAlarm(at)
    }
  }

  #row(scope: string): RecordRow | undefined {
    return this.ctx.storage.sql.exec<RecordRow>('SELECT * FROM records WHERE scope = ?', scope).toArray()[0]
  }

  #finish(scope: string, attempt: string, write: () => void): FinishResult {
    if (!ATTEMPT_RE.test(attempt)) throw new TypeError('IdempotencyKeys: invalid attempt token')
    return this.ctx.storage.transactionSync((): FinishResult => {
      const row = this.#row(scope)
      if (!row) return { ok: false, code: 'not_found' }
      if (row.state === 'done') return { ok: false, code: 'already_done' }
      if (row.attempt !== attempt) return { ok: false, code: 'superseded' }
      write()
      return { ok: true }
    })
  }

  /** Makes sure the purge alarm fires at or before `expiresAtMs` (plus the batching delay). */
  #purgeNoLaterThan(expiresAtMs: number): void {
    const at = Math.max(expiresAtMs, Date.now() + MIN_ALARM_DELAY_MS)
    if (this.#alarmAtMs !== null && this.#alarmAtMs <= at) return
    this.#alarmAtMs = at
    void this.ctx.storage.setAlarm(at)
  }
}
