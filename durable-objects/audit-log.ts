/**
 * AuditLog: the single-writer sequencer of the tamper-evident audit log (compliance.md §7).
 *
 * Each entry stores the previous entry's hash; `hash = SHA-256(JCS(entry) || prev_hash)`, genesis
 * prev = 32 zero bytes. Appends run synchronously inside one storage transaction (noble's sync
 * SHA-256), so two appends can never read the same head. Any edit, deletion or reordering breaks
 * every later link, and `verify()` names the first broken one.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { migrateSql } from './sql-migrations'
import { canonicalJson } from '../workers/lib/canonical-json'
import { sha256Hex } from '../workers/lib/encoding'
import { newId } from '../workers/lib/ids'

export const GENESIS_HASH = '0'.repeat(64)

export interface AuditInput {
  action: string
  subject: string
  actor: string
  actorRoles: string[]
  requestId: string | null
  brand: string | null
  /** canonical JSON (RFC 8785) of the details object */
  details: string
}

export interface AuditEntry extends AuditInput {
  seq: number
  id: string
  atMs: number
  prevHash: string
  hash: string
}

export interface AuditQuery {
  afterSeq?: number
  limit: number
  action?: string
  subject?: string
  actor?: string
}

export type VerifyResult =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; firstBroken: { seq: number; id: string; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' } }

const MIGRATIONS = [
  `CREATE TABLE entries (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     at_ms INTEGER NOT NULL,
     action TEXT NOT NULL,
     subject TEXT NOT NULL,
     actor TEXT NOT NULL,
     actor_roles TEXT NOT NULL,
     request_id TEXT,
     brand TEXT,
     details TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX entries_action ON entries(action, seq);
   CREATE INDEX entries_subject ON entries(subject, seq);
   CREATE INDEX entries_actor ON entries(actor, seq);`,
]

type Row = {
  seq: number
  id: string
  at_ms: number
  action: string
  subject: string
  actor: string
  actor_roles: string
  request_id: string | null
  brand: string | null
  details: string
  prev_hash: string
  hash: string
}

/** The hashed content of an entry: everything but its own hash. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { prevHash, ...content } = entry
  return sha256Hex(canonicalJson(content) + prevHash)
}

function toEntry(row: Row): AuditEntry {
  return {
    seq: row.seq,
    id: row.id,
    atMs: row.at_ms,
    action: row.action,
    subject: row.subject,
    actor: row.actor,
    actorRoles: JSON.parse(row.actor_roles) as string[],
    requestId: row.request_id,
    brand: row.brand,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

export class AuditLog extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS))
  }


  /** Appends entries in order, atomically; returns them with their sequence numbers and hashes. */
  append(inputs: AuditInput[]): AuditEntry[] {
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync(() => {
      const head = sql.exec<{ seq: number; hash: string }>('SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1').toArray()[0]
      let seq = head?.seq ?? 0
      let prevHash = head?.hash ?? GENESIS_HASH
      const now = Date.now()
      return inputs.map((input) => {
        seq += 1
        const unsigned = { seq, id: newId('audit', now), atMs: now, ...input, prevHash }
        const entry: AuditEntry = { ...unsigned, hash: entryHash(unsigned) }
        sql.exec(
          `INSERT INTO entries (seq, id, at_ms, action, subject, actor, actor_roles, request_id, brand, details, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          entry.seq, entry.id, entry.atMs, entry.action, entry.subject, entry.actor, JSON.stringify(entry.actorRoles),
          entry.requestId, entry.brand, entry.details, entry.prevHash, entry.hash,
        )
        prevHash = entry.hash
        return entry
      })
    })
  }

  list(query: AuditQuery): AuditEntry[] {
    const where: string[] = ['seq > ?']
    const args: (string | number)[] = [query.afterSeq ?? 0]
    if (query.action) (where.push('action = ?'), args.push(query.action))
    if (query.subject) (where.push('subject = ?'), args.push(query.subject))
    if (query.actor) (where.push('actor = ?'), args.push(query.actor))
    args.push(query.limit)
    return this.ctx.storage.sql
      .exec<Row>(`SELECT * FROM entries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`, ...args)
      .toArray()
      .map(toEntry)
  }

  /** The newest entry's sequence number and hash (what a checkpoint commits to), or null when empty. */
  head(): { seq: number; hash: string } | null {
    return this.ctx.storage.sql.exec<{ seq: number; hash: string }>('SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1').toArray()[0] ?? null
  }

  /** Stored hashes at the given sequence numbers (missing entries are left out). */
  hashesAt(seqs: number[]): Array<{ seq: number; hash: string }> {
    if (!seqs.length) return []
    return this.ctx.storage.sql
      .exec<{ seq: number; hash: string }>(`SELECT seq, hash FROM entries WHERE seq IN (${seqs.map(() => '?').join(',')})`, ...seqs)
      .toArray()
  }

  /** Recomputes the whole chain from genesis; reports the first entry whose link does not hold. */
  verify(): VerifyResult {
    let expectedSeq = 1
    let prevHash = GENESIS_HASH
    let count = 0
    for (const row of this.ctx.storage.sql.exec<Row>('SELECT * FROM entries ORDER BY seq')) {
      const entry = toEntry(row)
      count += 1
      const broken = (reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap'): VerifyResult => ({ ok: false, entries: count, firstBroken: { seq: entry.seq, id: entry.id, reason } })
      if (entry.seq !== expectedSeq) return broken('sequence_gap')
      if (entry.prevHash !== prevHash) return broken('prev_hash_mismatch')
      const { hash, ...unsigned } = entry
      if (entryHash(unsigned) !== hash) return broken('hash_mismatch')
      prevHash = hash
      expectedSeq += 1
    }
    return { ok: true, entries: count, headHash: prevHash }
  }
}
