/**
 * Payout methods in D1 (`payout_methods`): the one reader and writer of the table. Details are
 * sealed (sealed.ts, additional data = the method id) before they reach D1; rows carry only the
 * type, rail, currency, masked summary, cool-off end and default flag.
 *
 * A method is never edited: a change is a new row that replaces the old one (the old gets
 * `removed_at_ms`), so every payout keeps pointing at the exact details it was sent to, and every
 * new set of details waits out its own cool-off.
 *
 * Payout currency = the currency the ledger debits for a payout to the method (the creator's
 * balance is kept per currency; the rail may convert after that, at the schedule's FX spread):
 * - wise: the recipient's currency (Wise pays GBP, EUR, USD locally);
 * - sepa: EUR (SEPA credit transfers are euro only); ach and check: USD (US rails);
 * - crypto: USD for every asset: the custodian is funded in USD and buys the asset at send time
 *   (USDT and USDC at their peg, BTC and ETH at the custodian's rate), so the creator's USD balance
 *   is what a crypto payout debits and the asset amount is fixed only when it leaves;
 * - paxum, epayservice, payoneer, wire: the creator picks (`currency`, default USD) among the
 *   currencies the rail has a fee schedule for.
 * @module
 */
import { and, asc, desc, eq, isNull } from 'drizzle-orm'
import { payoutMethods, type PayoutRail } from '../../../d1/schema/payouts'
import { db } from '../../lib/db'
import { railOf } from '../rails'
import type { PayoutMethod, PayoutMethodType } from './methods'
import { openMethod, sealMethod } from './sealed'
import { summarizeMethod } from './summary'

export type MethodRow = typeof payoutMethods.$inferSelect

/** a creator keeps at most this many methods at once (each is a place money can go) */
export const MAX_ACTIVE_METHODS = 10

/** currencies fixed by the method itself; other types choose among their rail's schedules */
const FIXED_CURRENCY: Partial<Record<PayoutMethodType, (m: PayoutMethod) => string>> = {
  wise: (m) => (m.type === 'wise' ? m.currency : 'USD'),
  sepa: () => 'EUR',
  ach: () => 'USD',
  check: () => 'USD',
  crypto: () => 'USD',
}

export type CurrencyChoice = { ok: true; currency: string } | { ok: false; message: string }

/**
 * The payout currency of `method` (module comment), given what the creator asked for and the
 * currencies its rail has a schedule for.
 */
export function payoutCurrencyOf(method: PayoutMethod, requested: string | undefined, railCurrencies: readonly string[]): CurrencyChoice {
  const fixed = FIXED_CURRENCY[method.type]?.(method)
  const currency = fixed ?? requested ?? 'USD'
  if (fixed !== undefined && requested !== undefined && requested !== fixed) {
    return { ok: false, message: `${method.type} methods are paid in ${fixed}${method.type === 'crypto' ? ' (the custodian buys the asset at send time)' : ''}, not ${requested}` }
  }
  if (!railCurrencies.includes(currency)) {
    return { ok: false, message: `${railOf(method.type)} pays ${railCurrencies.length ? railCurrencies.join(', ') : 'no currency yet'}, not ${currency}` }
  }
  return { ok: true, currency }
}

/** the creator's methods in use (not removed or replaced), default first, then newest first */
export async function methodsOf(env: Env, creatorId: string): Promise<MethodRow[]> {
  return db(env.DB)
    .select()
    .from(payoutMethods)
    .where(and(eq(payoutMethods.creatorId, creatorId), isNull(payoutMethods.removedAtMs)))
    .orderBy(desc(payoutMethods.isDefault), desc(payoutMethods.id))
}

/** every method the creator ever had, removed and replaced ones included, newest first */
export async function everyMethodOf(env: Env, creatorId: string): Promise<MethodRow[]> {
  return db(env.DB).select().from(payoutMethods).where(eq(payoutMethods.creatorId, creatorId)).orderBy(desc(payoutMethods.id))
}

/** one method by id, removed ones included (payouts keep their method id) */
export async function methodById(env: Env, id: string): Promise<MethodRow | null> {
  const [row] = await db(env.DB).select().from(payoutMethods).where(eq(payoutMethods.id, id)).limit(1)
  return row ?? null
}

/** the creator's default method in use, or null */
export async function defaultMethod(env: Env, creatorId: string): Promise<MethodRow | null> {
  const [row] = await db(env.DB)
    .select()
    .from(payoutMethods)
    .where(and(eq(payoutMethods.creatorId, creatorId), isNull(payoutMethods.removedAtMs), eq(payoutMethods.isDefault, true)))
    .orderBy(asc(payoutMethods.id))
    .limit(1)
  return row ?? null
}

interface RawMethodRow {
  id: string
  creator_id: string
  type: string
  rail: PayoutRail
  currency: string
  summary: string
  details_sealed: string
  usable_from_ms: number
  is_default: number
  created_by: string
  created_at_ms: number
  removed_at_ms: number | null
}

const fromRaw = (r: RawMethodRow): MethodRow => ({
  id: r.id,
  creatorId: r.creator_id,
  type: r.type,
  rail: r.rail,
  currency: r.currency,
  summary: r.summary,
  detailsSealed: r.details_sealed,
  usableFromMs: r.usable_from_ms,
  isDefault: r.is_default === 1,
  createdBy: r.created_by,
  createdAtMs: r.created_at_ms,
  removedAtMs: r.removed_at_ms,
})

/** ids per query: one JSON parameter, well under D1's statement and parameter limits */
const CHUNK = 2000

/**
 * Every method in use of the given creators, keyed by creator (default first), for runs over many
 * creators: one query per 2,000 creators instead of one per creator.
 */
export async function methodsOfCreators(env: Env, creatorIds: readonly string[]): Promise<Map<string, MethodRow[]>> {
  const out = new Map<string, MethodRow[]>()
  for (let i = 0; i < creatorIds.length; i += CHUNK) {
    const { results } = await env.DB.prepare(
      'SELECT * FROM payout_methods WHERE removed_at_ms IS NULL AND creator_id IN (SELECT value FROM json_each(?)) ORDER BY creator_id, is_default DESC, id DESC',
    )
      .bind(JSON.stringify(creatorIds.slice(i, i + CHUNK)))
      .all<RawMethodRow>()
    for (const r of results) {
      const list = out.get(r.creator_id)
      if (list) list.push(fromRaw(r))
      else out.set(r.creator_id, [fromRaw(r)])
    }
  }
  return out
}

/** the method's details, opened (the payout pipeline and the owner only; never log the result) */
export async function openMethodRow(env: Env, row: Pick<MethodRow, 'id' | 'detailsSealed'>): Promise<PayoutMethod> {
  return openMethod(env, row.id, row.detailsSealed)
}

/** true once the method's cool-off is over and it is still in use */
export function isUsable(row: Pick<MethodRow, 'usableFromMs' | 'removedAtMs'>, nowMs: number): boolean {
  return row.removedAtMs === null && row.usableFromMs <= nowMs
}

export interface NewMethod {
  id: string
  creatorId: string
  method: PayoutMethod
  currency: string
  createdBy: string
  nowMs: number
  coolOffMs: number
  /** make it the default (the first method of a creator always is) */
  makeDefault: boolean
}

const INSERT_COLUMNS = 'id, creator_id, type, rail, currency, summary, details_sealed, usable_from_ms, is_default, created_by, created_at_ms, removed_at_ms'

/**
 * Adds a method. It becomes the default when asked or when the creator has no default in use; the
 * insert is refused (null) when the creator already has MAX_ACTIVE_METHODS in use.
 */
export async function insertMethod(env: Env, input: NewMethod): Promise<MethodRow | null> {
  const sealed = await sealMethod(env, input.id, input.method)
  const usableFromMs = input.nowMs + input.coolOffMs
  const statements = [
    env.DB.prepare(
      `INSERT INTO payout_methods (${INSERT_COLUMNS})
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
              NOT EXISTS (SELECT 1 FROM payout_methods WHERE creator_id = ?2 AND removed_at_ms IS NULL AND is_default = 1),
              ?9, ?10, NULL
       WHERE (SELECT COUNT(*) FROM payout_methods WHERE creator_id = ?2 AND removed_at_ms IS NULL) < ?11`,
    ).bind(input.id, input.creatorId, input.method.type, railOf(input.method.type), input.currency, summarizeMethod(input.method), sealed, usableFromMs, input.createdBy, input.nowMs, MAX_ACTIVE_METHODS),
  ]
  // only when the insert happened: a refused add must not leave the creator without a default
  if (input.makeDefault) statements.push(defaultOnly(env, input.creatorId, input.id))
  const results = await env.DB.batch(statements)
  if (results[0]!.meta.changes !== 1) return null
  return methodById(env, input.id)
}

/**
 * Replaces method `oldId` by a new one in one transaction: the new row is written only while the
 * old is still in use, takes over its default flag and any payout rule naming it; the old gets
 * `removed_at_ms`. Null when the old one was already gone (removed or replaced concurrently).
 */
export async function replaceMethod(env: Env, oldId: string, input: NewMethod): Promise<MethodRow | null> {
  const sealed = await sealMethod(env, input.id, input.method)
  const usableFromMs = input.nowMs + input.coolOffMs
  const results = await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO payout_methods (${INSERT_COLUMNS})
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, old.is_default, ?9, ?10, NULL
       FROM payout_methods old WHERE old.id = ?11 AND old.creator_id = ?2 AND old.removed_at_ms IS NULL`,
    ).bind(input.id, input.creatorId, input.method.type, railOf(input.method.type), input.currency, summarizeMethod(input.method), sealed, usableFromMs, input.createdBy, input.nowMs, oldId),
    // only when the insert above happened (the new row exists)
    env.DB.prepare('UPDATE payout_methods SET removed_at_ms = ?, is_default = 0 WHERE id = ? AND removed_at_ms IS NULL AND EXISTS (SELECT 1 FROM payout_methods WHERE id = ?)').bind(input.nowMs, oldId, input.id),
    // a rule that named the old method now names its replacement (a rule naming a method means "pay there")
    env.DB.prepare('UPDATE payout_rules SET method_id = ?, updated_by = ?, updated_at_ms = ? WHERE method_id = ? AND EXISTS (SELECT 1 FROM payout_methods WHERE id = ?)').bind(input.id, input.createdBy, input.nowMs, oldId, input.id),
  ])
  if (results[0]!.meta.changes !== 1) return null
  return methodById(env, input.id)
}

/**
 * Removes a method in use (payouts already made keep pointing at the row). A rule naming it falls
 * back to the default method. False when it was not in use.
 */
export async function removeMethod(env: Env, creatorId: string, id: string, by: string, nowMs: number): Promise<boolean> {
  const results = await env.DB.batch([
    env.DB.prepare('UPDATE payout_methods SET removed_at_ms = ?, is_default = 0 WHERE id = ? AND creator_id = ? AND removed_at_ms IS NULL').bind(nowMs, id, creatorId),
    env.DB.prepare('UPDATE payout_rules SET method_id = NULL, updated_by = ?, updated_at_ms = ? WHERE creator_id = ? AND method_id = ?').bind(by, nowMs, creatorId, id),
  ])
  return results[0]!.meta.changes === 1
}

/** `id` becomes the creator's one default, in one statement, only while it is in use */
function defaultOnly(env: Env, creatorId: string, id: string): D1PreparedStatement {
  return env.DB.prepare(
    `UPDATE payout_methods SET is_default = (id = ?2)
     WHERE creator_id = ?1 AND removed_at_ms IS NULL AND (is_default = 1 OR id = ?2)
       AND EXISTS (SELECT 1 FROM payout_methods WHERE id = ?2 AND creator_id = ?1 AND removed_at_ms IS NULL)`,
  ).bind(creatorId, id)
}

/** Makes method `id` (in use) the creator's only default; false when it is not in use. */
export async function setDefaultMethod(env: Env, creatorId: string, id: string): Promise<boolean> {
  const result = await defaultOnly(env, creatorId, id).run()
  return result.meta.changes > 0
}
