/**
 * What the run needs to know about a set of creators, read SET-BASED: one query per kind of fact
 * for a whole page of creators (a range of creator ids, or a short list of named ones), never one
 * query per creator. A run over 100,000 creators reads them in pages of `PAGE_SIZE` with seven
 * queries a page (creators+rules, KYC, holds, methods, balances, open payouts) plus the fee
 * schedules once: the number of queries grows with N / PAGE_SIZE, each on an index by creator id.
 *
 * KYC here agrees with `kycStanding` (workers/vault/kyc/verifications.ts) by construction: among a
 * creator's 20 newest verifications (created_at_ms desc, id desc) the newest approved one counts,
 * else the newest of all; verified = approved and the document not expired (expiry > today). The
 * window functions below are that rule in SQL (eligibility.test.ts compares the two).
 * @module
 */
import { ruleOf, type PayoutRule, type RuleKind } from '../rules/rules'
import type { PayoutRail } from '../../../d1/schema/payouts'

/** creators read per page of a run */
export const PAGE_SIZE = 5000
/** named creator ids per query (json_each of one bound JSON array) */
const IDS_PER_QUERY = 2000

export type Scope = { kind: 'range'; from: string; to: string } | { kind: 'ids'; ids: readonly string[] }

function scopeSql(column: string, scope: Scope): { sql: string; binds: unknown[] } {
  return scope.kind === 'range'
    ? { sql: `${column} BETWEEN ? AND ?`, binds: [scope.from, scope.to] }
    : { sql: `${column} IN (SELECT value FROM json_each(?))`, binds: [JSON.stringify(scope.ids)] }
}

export interface MethodFact {
  id: string
  type: string
  rail: PayoutRail
  currency: string
  usableFromMs: number
  isDefault: boolean
  createdAtMs: number
}

export interface KycFact {
  status: string
  documentExpiresOn: string | null
}

export interface CreatorFacts {
  creatorId: string
  rule: PayoutRule
  ruleUpdatedAtMs: number | null
  kyc: KycFact | null
  onHold: boolean
  /** methods not removed, newest first */
  methods: MethodFact[]
  /** available balance per currency (posted - held; reserve and pending are other accounts) */
  available: Map<string, number>
  /** currencies with a pending or queued payout, and the run that made it */
  inFlight: Map<string, string | null>
}

/** The creator's default method: the one flagged default, else the newest (not removed). */
export function defaultMethod(methods: readonly MethodFact[]): MethodFact | null {
  return methods.find((m) => m.isDefault) ?? methods[0] ?? null
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** KYC standing from the facts, the same answer `kycStanding` gives. */
export function kycVerified(kyc: KycFact | null, nowMs: number): { verified: boolean; code: 'kyc_not_verified' | 'kyc_expired' | null; status: string } {
  if (!kyc) return { verified: false, code: 'kyc_not_verified', status: 'none' }
  if (kyc.status === 'approved') {
    if (!kyc.documentExpiresOn || kyc.documentExpiresOn > isoDay(nowMs)) return { verified: true, code: null, status: kyc.status }
    return { verified: false, code: 'kyc_expired', status: kyc.status }
  }
  return { verified: false, code: kyc.status === 'expired' ? 'kyc_expired' : 'kyc_not_verified', status: kyc.status }
}

async function all<T>(db: D1Database, sql: string, binds: unknown[]): Promise<T[]> {
  return (await db.prepare(sql).bind(...binds).all<T>()).results
}

/** KYC standing of every creator in scope, set-based (see the module comment). */
export async function kycFacts(db: D1Database, scope: Scope): Promise<Map<string, KycFact>> {
  const s = scopeSql('subject_id', scope)
  const rows = await all<{ subject_id: string; status: string; document_expires_on: string | null }>(
    db,
    `WITH ranked AS (
       SELECT subject_id, status, document_expires_on,
              ROW_NUMBER() OVER (PARTITION BY subject_id ORDER BY created_at_ms DESC, id DESC) AS rn
       FROM kyc_verifications WHERE subject_type = 'creator' AND ${s.sql}
     ), picked AS (
       SELECT subject_id, status, document_expires_on,
              ROW_NUMBER() OVER (PARTITION BY subject_id ORDER BY (status = 'approved') DESC, rn) AS k
       FROM ranked WHERE rn <= 20
     )
     SELECT subject_id, status, document_expires_on FROM picked WHERE k = 1`,
    s.binds,
  )
  return new Map(rows.map((r) => [r.subject_id, { status: r.status, documentExpiresOn: r.document_expires_on }]))
}

interface CreatorRuleRow {
  id: string
  kind: RuleKind | null
  weekday: number | null
  threshold_minor: number | null
  dates_json: string | null
  currency: string | null
  method_id: string | null
  updated_at_ms: number | null
}

const CREATOR_RULE_COLUMNS = 'c.id, r.kind, r.weekday, r.threshold_minor, r.dates_json, r.currency, r.method_id, r.updated_at_ms'

/** Facts of every creator in `creatorRows` (all within `scope`). */
async function factsOf(db: D1Database, creatorRows: CreatorRuleRow[], scope: Scope): Promise<CreatorFacts[]> {
  if (!creatorRows.length) return []
  const holds = scopeSql('creator_id', scope)
  const [kyc, holdRows, methodRows, balanceRows, openRows] = await Promise.all([
    kycFacts(db, scope),
    all<{ creator_id: string }>(db, `SELECT DISTINCT creator_id FROM payout_compliance_holds WHERE released_at_ms IS NULL AND ${holds.sql}`, holds.binds),
    all<{ id: string; creator_id: string; type: string; rail: PayoutRail; currency: string; usable_from_ms: number; is_default: number; created_at_ms: number }>(
      db,
      `SELECT id, creator_id, type, rail, currency, usable_from_ms, is_default, created_at_ms FROM payout_methods WHERE removed_at_ms IS NULL AND ${holds.sql} ORDER BY creator_id, created_at_ms DESC, id DESC`,
      holds.binds,
    ),
    // creator_available is credit-normal and only ever debited pending (payout holds): posted + pending = available
    all<{ creator_id: string; currency: string; available: number }>(
      db,
      `SELECT creator_id, currency, posted_minor + pending_minor AS available FROM ledger_balances WHERE account = 'creator_available' AND ${holds.sql}`,
      holds.binds,
    ),
    all<{ creator_id: string; currency: string; run_id: string | null }>(db, `SELECT creator_id, currency, run_id FROM payouts WHERE state IN ('pending', 'queued') AND ${holds.sql}`, holds.binds),
  ])
  const onHold = new Set(holdRows.map((r) => r.creator_id))
  const methods = new Map<string, MethodFact[]>()
  for (const m of methodRows) {
    const list = methods.get(m.creator_id) ?? []
    list.push({ id: m.id, type: m.type, rail: m.rail, currency: m.currency, usableFromMs: m.usable_from_ms, isDefault: m.is_default === 1, createdAtMs: m.created_at_ms })
    methods.set(m.creator_id, list)
  }
  const balances = new Map<string, Map<string, number>>()
  for (const b of balanceRows) {
    const map = balances.get(b.creator_id) ?? new Map<string, number>()
    map.set(b.currency, b.available)
    balances.set(b.creator_id, map)
  }
  const open = new Map<string, Map<string, string | null>>()
  for (const o of openRows) {
    const map = open.get(o.creator_id) ?? new Map<string, string | null>()
    map.set(o.currency, o.run_id)
    open.set(o.creator_id, map)
  }
  return creatorRows.map((c) => {
    const own = methods.get(c.id) ?? []
    return {
      creatorId: c.id,
      rule: ruleOf(c, defaultMethod(own)?.currency ?? null),
      ruleUpdatedAtMs: c.updated_at_ms,
      kyc: kyc.get(c.id) ?? null,
      onHold: onHold.has(c.id),
      methods: own,
      available: balances.get(c.id) ?? new Map(),
      inFlight: open.get(c.id) ?? new Map(),
    }
  })
}

/** Facts of named creators (unknown ids are left out). */
export async function factsForCreators(db: D1Database, creatorIds: readonly string[]): Promise<CreatorFacts[]> {
  const out: CreatorFacts[] = []
  const unique = [...new Set(creatorIds)].sort()
  for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
    const scope: Scope = { kind: 'ids', ids: unique.slice(i, i + IDS_PER_QUERY) }
    const s = scopeSql('c.id', scope)
    const rows = await all<CreatorRuleRow>(db, `SELECT ${CREATOR_RULE_COLUMNS} FROM creators c LEFT JOIN payout_rules r ON r.creator_id = c.id WHERE ${s.sql} ORDER BY c.id`, s.binds)
    out.push(...(await factsOf(db, rows, scope)))
  }
  return out
}

/** Every creator's facts, one page at a time in creator id order. */
export async function* factPages(db: D1Database, pageSize = PAGE_SIZE): AsyncGenerator<CreatorFacts[]> {
  let after = ''
  for (;;) {
    const rows = await all<CreatorRuleRow>(db, `SELECT ${CREATOR_RULE_COLUMNS} FROM creators c LEFT JOIN payout_rules r ON r.creator_id = c.id WHERE c.id > ? ORDER BY c.id LIMIT ?`, [after, pageSize])
    if (!rows.length) return
    yield await factsOf(db, rows, { kind: 'range', from: rows[0]!.id, to: rows.at(-1)!.id })
    if (rows.length < pageSize) return
    after = rows.at(-1)!.id
  }
}
