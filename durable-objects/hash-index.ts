/**
 * HashIndex: every hash list's entries (PDQ and MD5) and the multi-index over the PDQs, in one
 * SQLite-backed object (`idFromName('global')`; the benchmark uses its own instance).
 *
 * Layout (media.md §1.1 multi-index hashing):
 * - `lists` interns list ids (a 1-4 byte integer per entry instead of a 29-character text twice).
 * - `entries` one row per (kind, hash, list): hash as a BLOB (32 bytes PDQ, 16 bytes MD5), the
 *   provider's reference (or the removed item's id), when it was added. Unique on (kind, hash,
 *   list), which is also the MD5 lookup index.
 * - `pdq_slots(seg, key, entry)` WITHOUT ROWID: 16 rows per PDQ, key = slot << 16 | 16-bit slot
 *   value. One table and one B-tree instead of 16 indexed columns: an insert touches 2 B-trees,
 *   not 17, and a lookup is one join of the probe keys (json_each) with the primary key.
 * - `segments(seg, entries)`: each `add` batch's PDQs get a new segment number, so their slot rows
 *   (sorted) are appended after every existing row instead of being spread over the whole B-tree.
 *   Why: a batch's slot keys cover the whole key space, so inserting them into one big key-ordered
 *   B-tree rewrites pages all over it, and once the table outgrows SQLite's page cache every batch
 *   costs about a rewrite of the table (measured: 320,000 slot rows took 1.3 s into an empty
 *   table, 5.3 s at 2.2 M rows, and a 32,768-hash batch 3x longer than the one before it in the
 *   same region). Small segments (< BIG_SEGMENT PDQs) are merged once there are more than
 *   MAX_SMALL_SEGMENTS of them or they add up to a big one (a sorted copy, also an append), so a
 *   lookup probes at most about N / 131,072 + 8 segments (8 x 272 seeks at a million entries).
 * A lookup at d <= 31 probes each slot value and its 16 one-bit neighbours (272 keys per query
 * hash), gathers the distinct entries behind them and verifies the full 256-bit distance in JS
 * (SQLite has no popcount). Beyond d = 47 the probe set outgrows a scan and `scan` answers.
 *
 * Why one object and not shards by hash prefix: a near neighbour may differ in any bit, so a
 * lookup would have to ask every shard (each of them probing all 16 slots) and merge; sharding
 * would only spread writes, and list imports are rare, batched writes. A million PDQs take about
 * 16 M slot rows (a few hundred MB), far below an object's storage limit.
 *
 * Domain outcomes are returned as `{ ok: false, code }`: an RPC that throws loses its error type
 * and surfaces as an unhandled rejection (stack.md). Every write runs in one `transactionSync`.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { bytesDistance, bytesToHex, type HashKind, hexToBytes, MAX_PROBE_RADIUS, normalizeHash, pdqWords, probeKeys, probeRadius, slotKeys } from '../workers/media/hashlists/hamming'
import { migrateSql } from './sql-migrations'

/** Entries per `add` call: bounds one transaction and one RPC message (about 100 bytes each). */
export const MAX_ADD_BATCH = 50_000
/** Hashes per `remove` call. */
export const MAX_REMOVE_BATCH = 10_000
/** Query PDQs per `match` (the 8 dihedral hashes of one image, with room to spare). */
export const MAX_QUERY_HASHES = 16
/** Largest distance `match` accepts (PDQ has 256 bits). */
export const MAX_DISTANCE = 128
/** a segment with fewer PDQs than this is small: small segments are merged (see the module comment) */
export const BIG_SEGMENT = 131_072
/** more small segments than this are merged into one */
export const MAX_SMALL_SEGMENTS = 8
/** slot row encoding (pushSlotRows): key (20 bits: 4 slot + 16 value) | entry (31 bits) */
const ENTRY_BITS = 31
const ENTRY_MASK = 2 ** ENTRY_BITS - 1
const KEY_MASK = 2 ** 20 - 1
/** (key, entry) from one encoded integer `x`, for INSERT/DELETE ... SELECT FROM json_each */
const slotColumns = (x: string) => `(${x} >> ${ENTRY_BITS}) & ${KEY_MASK}, ${x} & ${ENTRY_MASK}`
/**
 * Rows per statement: each batch is one JSON argument, and a SQLite string in a Durable Object is
 * at most 2 MB (an entry row is at most ~300 bytes of JSON, a slot row ~25).
 */
const ENTRY_ROWS_PER_STATEMENT = 5_000
const SLOT_ROWS_PER_STATEMENT = 40_000

export interface IndexEntryInput {
  kind: HashKind
  /** hex; upper case is accepted and stored lower case */
  hash: string
  ref?: string | null
}

export interface IndexMatch {
  listId: string
  kind: HashKind
  entryHash: string
  queryHash: string
  distance: number
  ref: string | null
}

export type HashIndexError =
  | { ok: false; code: 'INVALID_LIST_ID' }
  | { ok: false; code: 'BATCH_TOO_LARGE'; max: number }
  | { ok: false; code: 'INVALID_HASH'; index: number; value: string }
  | { ok: false; code: 'INVALID_DISTANCE' }
  | { ok: false; code: 'TOO_MANY_QUERY_HASHES'; max: number }

export type AddResult = { ok: true; added: number; duplicates: number } | HashIndexError
export type RemoveResult = { ok: true; removed: number; notFound: number } | HashIndexError
export type DropResult = { ok: true; removed: number; remaining: number } | HashIndexError
export type MatchResult = { ok: true; matches: IndexMatch[]; candidates: number; method: 'multi-index' | 'scan' } | HashIndexError

export interface ListCounts {
  listId: string
  pdq: number
  md5: number
}

export interface IndexStats {
  entries: number
  pdq: number
  md5: number
  /** always 16 x pdq (one row per slot) */
  slotRows: number
  lists: ListCounts[]
  databaseBytes: number
}

const LIST_ID = /^[A-Za-z0-9_:-]{1,64}$/

const MIGRATIONS = [
  `CREATE TABLE lists (n INTEGER PRIMARY KEY, list_id TEXT NOT NULL UNIQUE)`,
  `CREATE TABLE entries (
     id INTEGER PRIMARY KEY,
     list INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('pdq', 'md5')),
     hash BLOB NOT NULL,
     ref TEXT,
     added_at_ms INTEGER NOT NULL,
     seg INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE UNIQUE INDEX entries_hash_uq ON entries (kind, hash, list)`,
  `CREATE INDEX entries_list_idx ON entries (list, kind)`,
  `CREATE INDEX entries_seg_idx ON entries (seg)`,
  `CREATE TABLE segments (seg INTEGER PRIMARY KEY, entries INTEGER NOT NULL)`,
  `CREATE TABLE pdq_slots (seg INTEGER NOT NULL, key INTEGER NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (seg, key, entry)) WITHOUT ROWID`,
]

type Hit = { id: number; hash: string; queryHash: string; distance: number }
type StoredEntry = { id: number; kind: HashKind; hash: ArrayBuffer; seg: number }

export class HashIndex extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS))
  }

  /**
   * Adds entries to a list; the same (kind, hash) in the same list is stored once (a repeat, in
   * this batch or an earlier one, is counted as a duplicate and keeps the first ref).
   */
  add(listId: string, entries: IndexEntryInput[], nowMs: number = Date.now()): AddResult {
    if (!LIST_ID.test(listId)) return { ok: false, code: 'INVALID_LIST_ID' }
    if (entries.length > MAX_ADD_BATCH) return { ok: false, code: 'BATCH_TOO_LARGE', max: MAX_ADD_BATCH }
    const rows: Array<[HashKind, string, string | null]> = []
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      const parsed = typeof e?.hash === 'string' ? normalizeHash(e.hash) : null
      if (!parsed || parsed.kind !== e.kind) return { ok: false, code: 'INVALID_HASH', index: i, value: String(e?.hash).slice(0, 80) }
      rows.push([parsed.kind, parsed.hex, e.ref == null ? null : String(e.ref).slice(0, 200)])
    }
    if (!rows.length) return { ok: true, added: 0, duplicates: 0 }
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync(() => {
      const list = this.#listNumber(listId, true)!
      // this batch's PDQs form a new segment: their slot rows are appended after every existing one
      const segment = sql.exec<{ seg: number }>('SELECT COALESCE(MAX(seg), 0) + 1 AS seg FROM segments').one().seg
      const inserted: Array<{ id: number; kind: HashKind; hash: ArrayBuffer }> = []
      for (let i = 0; i < rows.length; i += ENTRY_ROWS_PER_STATEMENT) {
        const cursor = sql.exec<{ id: number; kind: HashKind; hash: ArrayBuffer }>(
          // `WHERE true` lets SQLite tell the upsert clause from a join constraint (lang_upsert)
          `INSERT INTO entries (list, kind, hash, ref, added_at_ms, seg)
           SELECT ?, j.value ->> 0, unhex(j.value ->> 1), j.value ->> 2, ?, iif(j.value ->> 0 = 'pdq', ?, 0) FROM json_each(?) j WHERE true
           ON CONFLICT (kind, hash, list) DO NOTHING
           RETURNING id, kind, hash`,
          list, nowMs, segment, JSON.stringify(rows.slice(i, i + ENTRY_ROWS_PER_STATEMENT)),
        )
        for (const row of cursor) inserted.push(row)
      }
      const slots: number[] = []
      for (const row of inserted) if (row.kind === 'pdq') pushSlotRows(slots, row.id, new Uint8Array(row.hash))
      if (slots.length) {
        this.#insertSlots(segment, slots)
        sql.exec('INSERT INTO segments (seg, entries) VALUES (?, ?)', segment, slots.length / 16)
        this.#compact()
      }
      return { ok: true as const, added: inserted.length, duplicates: rows.length - inserted.length }
    })
  }

  /** Removes hashes (PDQ or MD5 hex) from one list; hashes not in it are counted, not an error. */
  remove(listId: string, hashes: string[]): RemoveResult {
    if (!LIST_ID.test(listId)) return { ok: false, code: 'INVALID_LIST_ID' }
    if (hashes.length > MAX_REMOVE_BATCH) return { ok: false, code: 'BATCH_TOO_LARGE', max: MAX_REMOVE_BATCH }
    const wanted: Array<[HashKind, string]> = []
    for (let i = 0; i < hashes.length; i++) {
      const parsed = typeof hashes[i] === 'string' ? normalizeHash(hashes[i]!) : null
      if (!parsed) return { ok: false, code: 'INVALID_HASH', index: i, value: String(hashes[i]).slice(0, 80) }
      wanted.push([parsed.kind, parsed.hex])
    }
    const distinct = new Set(wanted.map(([k, h]) => `${k}:${h}`)).size
    const list = this.#listNumber(listId, false)
    if (list === null || !wanted.length) return { ok: true, removed: 0, notFound: distinct }
    return this.ctx.storage.transactionSync(() => {
      const found = this.ctx.storage.sql
        .exec<StoredEntry>(
          `SELECT DISTINCT e.id, e.kind, e.hash, e.seg FROM json_each(?) j
           JOIN entries e ON e.kind = j.value ->> 0 AND e.hash = unhex(j.value ->> 1) AND e.list = ?`,
          JSON.stringify(wanted), list,
        )
        .toArray()
      this.#deleteEntries(found)
      return { ok: true as const, removed: found.length, notFound: distinct - found.length }
    })
  }

  /** Deletes up to `limit` of a list's entries per call; call again while `remaining` > 0. */
  dropList(listId: string, limit = 20_000): DropResult {
    if (!LIST_ID.test(listId)) return { ok: false, code: 'INVALID_LIST_ID' }
    const list = this.#listNumber(listId, false)
    if (list === null) return { ok: true, removed: 0, remaining: 0 }
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync(() => {
      const batch = sql
        .exec<StoredEntry>('SELECT id, kind, hash, seg FROM entries WHERE list = ? LIMIT ?', list, Math.max(1, Math.min(limit, MAX_ADD_BATCH)))
        .toArray()
      this.#deleteEntries(batch)
      const remaining = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM entries WHERE list = ?', list).one().n
      if (remaining === 0) sql.exec('DELETE FROM lists WHERE n = ?', list)
      return { ok: true as const, removed: batch.length, remaining }
    })
  }

  /**
   * Every entry of the given lists within `maxDistance` of any query PDQ (one match per entry, with
   * its closest query hash), or equal to the MD5; sorted by distance. Multi-index up to d = 47,
   * a scan beyond.
   */
  match(query: { pdq: string[]; md5?: string | null }, maxDistance: number, activeListIds: string[]): MatchResult {
    const checked = this.#checkQuery(query, maxDistance)
    if (!checked.ok) return checked
    if (probeRadius(maxDistance) > MAX_PROBE_RADIUS) return this.scan(query, maxDistance, activeListIds)
    const lists = this.#listNumbers(activeListIds)
    let candidates = 0
    const hits: Hit[] = []
    if (checked.pdq.length && lists !== '[]') {
      const keys = new Set<number>()
      for (const q of checked.pdq) probeKeys(q.bytes, probeRadius(maxDistance), keys)
      const cursor = this.ctx.storage.sql.exec<{ id: number; hash: ArrayBuffer }>(
        // CROSS JOIN fixes the join order (SQLite never reorders it): probe keys drive primary-key
        // seeks; left to itself the planner may walk a list's million entries instead
        `SELECT e.id, e.hash
         FROM (SELECT DISTINCT s.entry FROM json_each(?) g CROSS JOIN json_each(?) k CROSS JOIN pdq_slots s ON s.seg = g.value AND s.key = k.value) c
         CROSS JOIN entries e ON e.id = c.entry
         WHERE e.list IN (SELECT value FROM json_each(?))`,
        JSON.stringify(this.#segments()), JSON.stringify([...keys]), lists,
      )
      for (const row of cursor) {
        candidates++
        this.#verifyRow(row.id, new Uint8Array(row.hash), checked.pdq, maxDistance, hits)
      }
    }
    const matches = this.#describe(hits)
    matches.push(...this.#md5Matches(checked.md5, lists))
    return { ok: true, matches: sortMatches(matches), candidates, method: 'multi-index' }
  }

  /**
   * The same answer as `match` by reading every stored PDQ of the given lists: the baseline the
   * multi-index is measured against, and the path for distances the multi-index does not cover.
   */
  scan(query: { pdq: string[]; md5?: string | null }, maxDistance: number, activeListIds: string[]): MatchResult {
    const checked = this.#checkQuery(query, maxDistance)
    if (!checked.ok) return checked
    const lists = this.#listNumbers(activeListIds)
    let candidates = 0
    const hits: Hit[] = []
    if (checked.pdq.length && lists !== '[]') {
      // `+kind`: no index for the kind, so this is one pass over the table, the fastest scan there is
      const cursor = this.ctx.storage.sql.exec<{ id: number; hash: ArrayBuffer }>(
        `SELECT id, hash FROM entries WHERE +kind = 'pdq' AND list IN (SELECT value FROM json_each(?))`,
        lists,
      )
      for (const row of cursor) {
        candidates++
        this.#verifyRow(row.id, new Uint8Array(row.hash), checked.pdq, maxDistance, hits)
      }
    }
    const matches = this.#describe(hits)
    matches.push(...this.#md5Matches(checked.md5, lists))
    return { ok: true, matches: sortMatches(matches), candidates, method: 'scan' }
  }

  /** Entry counts per list (one list, or all). */
  listCounts(listId?: string): ListCounts[] {
    return this.ctx.storage.sql
      .exec<{ list_id: string; pdq: number; md5: number }>(
        `SELECT l.list_id,
                (SELECT COUNT(*) FROM entries e WHERE e.list = l.n AND e.kind = 'pdq') AS pdq,
                (SELECT COUNT(*) FROM entries e WHERE e.list = l.n AND e.kind = 'md5') AS md5
         FROM lists l WHERE ?1 IS NULL OR l.list_id = ?1 ORDER BY l.list_id`,
        listId ?? null,
      )
      .toArray()
      .map((r) => ({ listId: r.list_id, pdq: r.pdq, md5: r.md5 }))
  }

  stats(): IndexStats {
    const lists = this.listCounts()
    const pdq = lists.reduce((s, l) => s + l.pdq, 0)
    const md5 = lists.reduce((s, l) => s + l.md5, 0)
    return { entries: pdq + md5, pdq, md5, slotRows: pdq * 16, lists, databaseBytes: this.ctx.storage.sql.databaseSize }
  }

  /** Every segment holding slot rows. */
  #segments(): number[] {
    return this.ctx.storage.sql.exec<{ seg: number }>('SELECT seg FROM segments').toArray().map((r) => r.seg)
  }

  /**
   * Merges the small segments into one once there are more than MAX_SMALL_SEGMENTS of them or they
   * add up to a big one, so a lookup never probes more than about N / BIG_SEGMENT + 8 segments. The
   * merged rows are copied in key order into a new segment (an append, like a batch) and the old
   * regions deleted whole.
   */
  #compact(): void {
    const sql = this.ctx.storage.sql
    const small = sql.exec<{ seg: number; entries: number }>('SELECT seg, entries FROM segments WHERE entries < ? ORDER BY seg', BIG_SEGMENT).toArray()
    const total = small.reduce((sum, s) => sum + s.entries, 0)
    if (small.length < 2 || (small.length <= MAX_SMALL_SEGMENTS && total < BIG_SEGMENT)) return
    const target = sql.exec<{ seg: number }>('SELECT MAX(seg) + 1 AS seg FROM segments').one().seg
    const merged = JSON.stringify(small.map((s) => s.seg))
    sql.exec('INSERT INTO pdq_slots (seg, key, entry) SELECT ?, key, entry FROM pdq_slots WHERE seg IN (SELECT value FROM json_each(?)) ORDER BY key, entry', target, merged)
    sql.exec('DELETE FROM pdq_slots WHERE seg IN (SELECT value FROM json_each(?))', merged)
    sql.exec('UPDATE entries SET seg = ? WHERE seg IN (SELECT value FROM json_each(?))', target, merged)
    sql.exec('DELETE FROM segments WHERE seg IN (SELECT value FROM json_each(?))', merged)
    sql.exec('INSERT INTO segments (seg, entries) VALUES (?, ?)', target, total)
  }

  #listNumber(listId: string, create: boolean): number | null {
    const sql = this.ctx.storage.sql
    const row = sql.exec<{ n: number }>('SELECT n FROM lists WHERE list_id = ?', listId).toArray()[0]
    if (row) return row.n
    if (!create) return null
    return sql.exec<{ n: number }>('INSERT INTO lists (list_id) VALUES (?) RETURNING n', listId).one().n
  }

  #insertSlots(segment: number, slots: number[]): void {
    // in key order: each statement walks its segment's region left to right
    slots.sort((a, b) => a - b)
    for (let i = 0; i < slots.length; i += SLOT_ROWS_PER_STATEMENT) {
      this.ctx.storage.sql.exec(
        `INSERT INTO pdq_slots (seg, key, entry) SELECT ?, ${slotColumns('j.value')} FROM json_each(?) j`,
        segment,
        JSON.stringify(slots.slice(i, i + SLOT_ROWS_PER_STATEMENT)),
      )
    }
  }

  #deleteEntries(rows: StoredEntry[]): void {
    const sql = this.ctx.storage.sql
    const slots: Array<[number, number]> = []
    const perSegment = new Map<number, number>()
    for (const row of rows) {
      if (row.kind !== 'pdq') continue
      const codes: number[] = []
      pushSlotRows(codes, row.id, new Uint8Array(row.hash))
      for (const code of codes) slots.push([row.seg, code])
      perSegment.set(row.seg, (perSegment.get(row.seg) ?? 0) + 1)
    }
    for (let i = 0; i < slots.length; i += SLOT_ROWS_PER_STATEMENT) {
      sql.exec(
        `DELETE FROM pdq_slots WHERE (seg, key, entry) IN (SELECT j.value ->> 0, ${slotColumns('(j.value ->> 1)')} FROM json_each(?) j)`,
        JSON.stringify(slots.slice(i, i + SLOT_ROWS_PER_STATEMENT)),
      )
    }
    for (const [seg, n] of perSegment) sql.exec('UPDATE segments SET entries = entries - ? WHERE seg = ?', n, seg)
    sql.exec('DELETE FROM segments WHERE entries <= 0')
    for (let i = 0; i < rows.length; i += SLOT_ROWS_PER_STATEMENT) {
      sql.exec('DELETE FROM entries WHERE id IN (SELECT value FROM json_each(?))', JSON.stringify(rows.slice(i, i + SLOT_ROWS_PER_STATEMENT).map((r) => r.id)))
    }
  }

  #checkQuery(
    query: { pdq: string[]; md5?: string | null },
    maxDistance: number,
  ): { ok: true; pdq: Array<{ hex: string; bytes: Uint8Array; words: Uint32Array }>; md5: string | null } | HashIndexError {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > MAX_DISTANCE) return { ok: false, code: 'INVALID_DISTANCE' }
    const given = Array.isArray(query?.pdq) ? query.pdq : []
    if (given.length > MAX_QUERY_HASHES) return { ok: false, code: 'TOO_MANY_QUERY_HASHES', max: MAX_QUERY_HASHES }
    const pdq: Array<{ hex: string; bytes: Uint8Array; words: Uint32Array }> = []
    for (let i = 0; i < given.length; i++) {
      const parsed = typeof given[i] === 'string' ? normalizeHash(given[i]!) : null
      if (!parsed || parsed.kind !== 'pdq') return { ok: false, code: 'INVALID_HASH', index: i, value: String(given[i]).slice(0, 80) }
      const bytes = hexToBytes(parsed.hex)
      if (!pdq.some((q) => q.hex === parsed.hex)) pdq.push({ hex: parsed.hex, bytes, words: pdqWords(bytes) })
    }
    let md5: string | null = null
    if (query?.md5 != null) {
      const parsed = typeof query.md5 === 'string' ? normalizeHash(query.md5) : null
      if (!parsed || parsed.kind !== 'md5') return { ok: false, code: 'INVALID_HASH', index: -1, value: String(query.md5).slice(0, 80) }
      md5 = parsed.hex
    }
    return { ok: true, pdq, md5 }
  }

  /** Records the entry when its closest query hash is within maxDistance. */
  #verifyRow(id: number, bytes: Uint8Array, pdq: Array<{ hex: string; words: Uint32Array }>, maxDistance: number, hits: Hit[]): void {
    let best = -1
    let bestD = maxDistance + 1
    for (let q = 0; q < pdq.length; q++) {
      const d = bytesDistance(pdq[q]!.words, bytes)
      if (d < bestD) (bestD = d), (best = q)
    }
    if (best >= 0) hits.push({ id, hash: bytesToHex(bytes), queryHash: pdq[best]!.hex, distance: bestD })
  }

  /** List id and ref of the entries that matched (read only for those, not for every candidate). */
  #describe(hits: Hit[]): IndexMatch[] {
    if (!hits.length) return []
    const rows = this.ctx.storage.sql
      .exec<{ id: number; list_id: string; ref: string | null }>(
        'SELECT e.id, l.list_id, e.ref FROM json_each(?) j CROSS JOIN entries e ON e.id = j.value CROSS JOIN lists l ON l.n = e.list',
        JSON.stringify(hits.map((h) => h.id)),
      )
      .toArray()
    const byId = new Map(rows.map((r) => [r.id, r]))
    return hits.map((h) => ({ listId: byId.get(h.id)!.list_id, kind: 'pdq' as const, entryHash: h.hash, queryHash: h.queryHash, distance: h.distance, ref: byId.get(h.id)!.ref }))
  }

  /** The interned numbers of the given lists, as a JSON array for `IN (SELECT value FROM json_each(?))`. */
  #listNumbers(listIds: string[]): string {
    const ids = JSON.stringify(listIds.filter((id) => typeof id === 'string'))
    return JSON.stringify(this.ctx.storage.sql.exec<{ n: number }>('SELECT n FROM lists WHERE list_id IN (SELECT value FROM json_each(?))', ids).toArray().map((r) => r.n))
  }

  #md5Matches(md5: string | null, lists: string): IndexMatch[] {
    if (!md5) return []
    return this.ctx.storage.sql
      .exec<{ list_id: string; ref: string | null }>(
        `SELECT l.list_id, e.ref FROM entries e CROSS JOIN lists l ON l.n = e.list
         WHERE e.kind = 'md5' AND e.hash = unhex(?) AND e.list IN (SELECT value FROM json_each(?))`,
        md5, lists,
      )
      .toArray()
      .map((r) => ({ listId: r.list_id, kind: 'md5' as const, entryHash: md5, queryHash: md5, distance: 0, ref: r.ref }))
  }
}

/**
 * Slot rows travel to SQLite as one integer each, key * 2^31 + entry (< 2^51: exact in a double and
 * in SQLite's int64), so json_each yields plain numbers that SQL splits with shifts (slotColumns)
 * instead of re-parsing a JSON array per row; numeric order is the segment's (key, entry) order.
 */
function pushSlotRows(into: number[], entry: number, hash: Uint8Array): void {
  if (entry > ENTRY_MASK) throw new Error(`entry id ${entry} exceeds ${ENTRY_BITS} bits`)
  for (const key of slotKeys(hash)) into.push(key * 2 ** ENTRY_BITS + entry)
}

function sortMatches(matches: IndexMatch[]): IndexMatch[] {
  return matches.sort((a, b) => a.distance - b.distance || a.listId.localeCompare(b.listId) || a.entryHash.localeCompare(b.entryHash))
}
