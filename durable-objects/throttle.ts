/**
 * Throttle: one Durable Object per throttled key (`account:<normalised email>` or `ip:<ip>`), the
 * single writer of that key's consecutive-failure count. DO storage is transactional and strongly
 * consistent, unlike KV, which has no compare-and-swap and would lose concurrent increments
 * (sso.md §4 "Concurrency"); `recordFailure` runs synchronously inside one storage transaction, so
 * any number of concurrent failures each count exactly once.
 *
 * Policy: the first FREE_FAILURES failures cost nothing; every further one sets a wait of
 * 1 s, 2 s, 4 s ... capped at MAX_DELAY_S (15 min). Success forgets the key.
 *
 * Why no hard lockout: anyone who knows an email address could otherwise lock its owner out just by
 * failing on purpose. `locked_until_ms` is only the end of the current backoff wait, never more than
 * 15 minutes away. NIST SP 800-63B limits consecutive failures on one account to at most 100
 * (sso.md §6): for `account:` keys the 100th failure closes the password path (`requiresReset`)
 * until another path succeeds — an emailed reset or a sign-in that calls `recordSuccess` — so the
 * owner always has a way back in, while a guesser gets at most 100 tries. `ip:` keys only slow down.
 *
 * Idle keys are forgotten by an alarm: 24 h after the last failure below the ceiling; a key at the
 * ceiling is kept for 30 days of silence (then the count starts over), so waiting a day does not
 * reopen 100 more guesses.
 *
 * Methods take an optional `nowMs` so tests and replays can drive the clock; callers pass nothing.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { migrateSql } from './sql-migrations'

export const FREE_FAILURES = 5
export const BASE_DELAY_S = 1
export const MAX_DELAY_S = 15 * 60
/** NIST SP 800-63B: at most 100 consecutive failed attempts on one account. */
export const ACCOUNT_FAILURE_LIMIT = 100
export const IDLE_FORGET_MS = 24 * 3_600_000
export const LIMIT_FORGET_MS = 30 * 24 * 3_600_000

export type ThrottleDecision =
  | { allowed: true; failures: number }
  | {
      allowed: false
      retryAfterS: number
      failures: number
      /** true once an account key reached ACCOUNT_FAILURE_LIMIT: only another path (reset) reopens it */
      requiresReset: boolean
    }

type Row = { key: string; failures: number; last_failure_at_ms: number; locked_until_ms: number }

const MIGRATIONS = [
  `CREATE TABLE state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     key TEXT NOT NULL,
     failures INTEGER NOT NULL,
     last_failure_at_ms INTEGER NOT NULL,
     locked_until_ms INTEGER NOT NULL
   )`,
]

/** The wait after the n-th consecutive failure, in seconds (0 while failures are still free). */
export function backoffDelayS(failures: number): number {
  if (failures <= FREE_FAILURES) return 0
  const exponent = failures - FREE_FAILURES - 1
  return exponent >= 20 ? MAX_DELAY_S : Math.min(BASE_DELAY_S * 2 ** exponent, MAX_DELAY_S)
}

function hasCeiling(key: string): boolean {
  return key.startsWith('account:')
}

export class Throttle extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS))
  }


  #row(): Row | undefined {
    return this.ctx.storage.sql.exec<Row>('SELECT key, failures, last_failure_at_ms, locked_until_ms FROM state WHERE id = 1').toArray()[0]
  }

  #decide(row: Row | undefined, nowMs: number): ThrottleDecision {
    if (!row) return { allowed: true, failures: 0 }
    if (hasCeiling(row.key) && row.failures >= ACCOUNT_FAILURE_LIMIT) {
      return { allowed: false, retryAfterS: MAX_DELAY_S, failures: row.failures, requiresReset: true }
    }
    if (nowMs < row.locked_until_ms) {
      return { allowed: false, retryAfterS: Math.ceil((row.locked_until_ms - nowMs) / 1000), failures: row.failures, requiresReset: false }
    }
    return { allowed: true, failures: row.failures }
  }

  /** May an attempt be made now? Does not count anything. */
  check(nowMs: number = Date.now()): ThrottleDecision {
    return this.#decide(this.#row(), nowMs)
  }

  /** Counts one failed attempt for `key` and returns what the next attempt will be told. */
  recordFailure(key: string, nowMs: number = Date.now()): ThrottleDecision {
    const sql = this.ctx.storage.sql
    const row = this.ctx.storage.transactionSync(() => {
      const current = this.#row()
      // past the ceiling the count stays put: refused attempts are not failures
      const failures = Math.min((current?.failures ?? 0) + 1, hasCeiling(key) ? ACCOUNT_FAILURE_LIMIT : Number.MAX_SAFE_INTEGER)
      const lockedUntil = Math.max(current?.locked_until_ms ?? 0, nowMs + backoffDelayS(failures) * 1000)
      sql.exec(
        `INSERT INTO state (id, key, failures, last_failure_at_ms, locked_until_ms) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET key = excluded.key, failures = excluded.failures,
           last_failure_at_ms = excluded.last_failure_at_ms, locked_until_ms = excluded.locked_until_ms`,
        key, failures, nowMs, lockedUntil,
      )
      return { key, failures, last_failure_at_ms: nowMs, locked_until_ms: lockedUntil }
    })
    const forgetAfter = hasCeiling(key) && row.failures >= ACCOUNT_FAILURE_LIMIT ? LIMIT_FORGET_MS : IDLE_FORGET_MS
    void this.ctx.storage.setAlarm(nowMs + forgetAfter)
    return this.#decide(row, nowMs)
  }

  /** A successful attempt (or a completed reset): the key starts over. */
  recordSuccess(): void {
    this.ctx.storage.sql.exec('DELETE FROM state')
    void this.ctx.storage.deleteAlarm()
  }

  /** Forgets the key once it has been idle long enough; re-arms otherwise. */
  override async alarm(): Promise<void> {
    const row = this.#row()
    if (!row) return
    const forgetAfter = hasCeiling(row.key) && row.failures >= ACCOUNT_FAILURE_LIMIT ? LIMIT_FORGET_MS : IDLE_FORGET_MS
    const due = row.last_failure_at_ms + forgetAfter
    if (Date.now() >= due) this.ctx.storage.sql.exec('DELETE FROM state')
    else await this.ctx.storage.setAlarm(due)
  }
}
