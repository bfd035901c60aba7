/**
 * MediaUpload: one Durable Object per upload (named by its `upl_` id), the single writer of that
 * upload's live state: the R2 multipart upload it feeds, the fixed part size, the parts written
 * (number, etag, size), how many bytes wait in the spill object (fewer than a part: R2 wants every
 * non-final part the same length, so a tus PATCH's tail is kept until the next PATCH fills a part),
 * the expiry, and the write lease.
 *
 * The lease serialises tus PATCHes: a PATCH holds it while it streams, renews it with every part,
 * and releases it when it ends; a second PATCH meanwhile is told `locked` (the client retries after
 * reading the offset again). A writer that died without releasing blocks for at most LEASE_MS.
 * Every write checks the lease token, so a writer that lost its lease can record nothing.
 *
 * The object never touches R2 itself: the Worker streams the bytes (no body passes through RPC)
 * and reports what it wrote. Methods return `{ ok: false, code }` instead of throwing (a throwing
 * RPC surfaces as an unhandled rejection in the caller, stack.md).
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { migrateSql } from './sql-migrations'

/** How long a PATCH may go without recording progress before another may take over. */
export const LEASE_MS = 60_000

export type UploadProtocol = 'tus' | 'multipart'
export type UploadStatus = 'open' | 'completed' | 'terminated' | 'expired'

export interface UploadInit {
  uploadId: string
  itemId: string
  creatorId: string
  protocol: UploadProtocol
  objectKey: string
  r2UploadId: string
  claimedType: string
  /** null: a tus upload that deferred its length */
  length: number | null
  partSize: number
  metadata: Record<string, string>
  idleMs: number
  nowMs: number
}

export interface UploadPart {
  partNumber: number
  etag: string
  size: number
}

export interface UploadState {
  uploadId: string
  itemId: string
  creatorId: string
  protocol: UploadProtocol
  objectKey: string
  r2UploadId: string
  claimedType: string
  sniffedType: string | null
  length: number | null
  partSize: number
  /** tus: bytes in parts written so far (always whole parts) */
  partsBytes: number
  spillLength: number
  /** tus: bytes received and kept (parts + spill); multipart: sum of part sizes */
  offset: number
  status: UploadStatus
  expiresAtMs: number
  idleMs: number
  metadata: Record<string, string>
  parts: UploadPart[]
  createdAtMs: number
}

export type UploadResult<T> = { ok: true; value: T } | { ok: false; code: UploadErrorCode; state?: UploadState }
export type UploadErrorCode = 'not_found' | 'exists' | 'expired' | 'terminated' | 'completed' | 'locked' | 'offset_mismatch' | 'lease_lost' | 'not_open' | 'length_known' | 'bad_part'

type Row = {
  upload_id: string
  item_id: string
  creator_id: string
  protocol: UploadProtocol
  object_key: string
  r2_upload_id: string
  claimed_type: string
  sniffed_type: string | null
  length: number | null
  part_size: number
  parts_bytes: number
  spill_length: number
  status: UploadStatus
  expires_at_ms: number
  idle_ms: number
  metadata_json: string
  lease: string | null
  lease_until_ms: number | null
  created_at_ms: number
}

const MIGRATIONS = [
  `CREATE TABLE upload (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     upload_id TEXT NOT NULL,
     item_id TEXT NOT NULL,
     creator_id TEXT NOT NULL,
     protocol TEXT NOT NULL,
     object_key TEXT NOT NULL,
     r2_upload_id TEXT NOT NULL,
     claimed_type TEXT NOT NULL,
     sniffed_type TEXT,
     length INTEGER,
     part_size INTEGER NOT NULL,
     parts_bytes INTEGER NOT NULL DEFAULT 0,
     spill_length INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     idle_ms INTEGER NOT NULL,
     metadata_json TEXT NOT NULL,
     lease TEXT,
     lease_until_ms INTEGER,
     created_at_ms INTEGER NOT NULL
   )`,
  `CREATE TABLE parts (part_number INTEGER PRIMARY KEY, etag TEXT NOT NULL, size INTEGER NOT NULL)`,
]

export class MediaUpload extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS))
  }

  #row(): Row | undefined {
    return this.ctx.storage.sql.exec<Row>('SELECT * FROM upload WHERE id = 1').toArray()[0]
  }

  #parts(): UploadPart[] {
    return this.ctx.storage.sql
      .exec<{ part_number: number; etag: string; size: number }>('SELECT part_number, etag, size FROM parts ORDER BY part_number')
      .toArray()
      .map((p) => ({ partNumber: p.part_number, etag: p.etag, size: p.size }))
  }

  #state(row: Row, nowMs: number): UploadState {
    const parts = this.#parts()
    const expired = row.status === 'open' && nowMs >= row.expires_at_ms
    return {
      uploadId: row.upload_id,
      itemId: row.item_id,
      creatorId: row.creator_id,
      protocol: row.protocol,
      objectKey: row.object_key,
      r2UploadId: row.r2_upload_id,
      claimedType: row.claimed_type,
      sniffedType: row.sniffed_type,
      length: row.length,
      partSize: row.part_size,
      partsBytes: row.parts_bytes,
      spillLength: row.spill_length,
      offset: row.protocol === 'tus' ? row.parts_bytes + row.spill_length : parts.reduce((n, p) => n + p.size, 0),
      status: expired ? 'expired' : row.status,
      expiresAtMs: row.expires_at_ms,
      idleMs: row.idle_ms,
      metadata: JSON.parse(row.metadata_json) as Record<string, string>,
      parts,
      createdAtMs: row.created_at_ms,
    }
  }

  /** The row when the upload is open and unexpired; otherwise the reason. */
  #open(nowMs: number): { ok: true; row: Row } | { ok: false; code: UploadErrorCode; state?: UploadState } {
    const row = this.#row()
    if (!row) return { ok: false, code: 'not_found' }
    const state = this.#state(row, nowMs)
    if (state.status !== 'open') return { ok: false, code: state.status as UploadErrorCode, state }
    return { ok: true, row }
  }

  #touch(row: Row, nowMs: number): void {
    this.ctx.storage.sql.exec('UPDATE upload SET expires_at_ms = ? WHERE id = 1', nowMs + row.idle_ms)
  }

  /** Starts the upload (once). */
  async create(init: UploadInit): Promise<UploadResult<UploadState>> {
    return this.ctx.storage.transactionSync(() => {
      if (this.#row()) return { ok: false, code: 'exists' } as const
      this.ctx.storage.sql.exec(
        `INSERT INTO upload (id, upload_id, item_id, creator_id, protocol, object_key, r2_upload_id, claimed_type, length, part_size, status, expires_at_ms, idle_ms, metadata_json, created_at_ms)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
        init.uploadId,
        init.itemId,
        init.creatorId,
        init.protocol,
        init.objectKey,
        init.r2UploadId,
        init.claimedType,
        init.length,
        init.partSize,
        init.nowMs + init.idleMs,
        init.idleMs,
        JSON.stringify(init.metadata),
        init.nowMs,
      )
      return { ok: true, value: this.#state(this.#row()!, init.nowMs) } as const
    })
  }

  /** The upload as it stands (an open upload past its expiry reads as `expired`). */
  async state(nowMs: number): Promise<UploadResult<UploadState>> {
    const row = this.#row()
    return row ? { ok: true, value: this.#state(row, nowMs) } : { ok: false, code: 'not_found' }
  }

  /** tus PATCH: takes the write lease when `offset` is where the upload stands. */
  async beginWrite(offset: number, nowMs: number): Promise<UploadResult<{ lease: string; state: UploadState }>> {
    return this.ctx.storage.transactionSync(() => {
      const open = this.#open(nowMs)
      if (!open.ok) return open
      const row = open.row
      const state = this.#state(row, nowMs)
      if (row.lease && (row.lease_until_ms ?? 0) > nowMs) return { ok: false, code: 'locked', state } as const
      if (offset !== state.offset) return { ok: false, code: 'offset_mismatch', state } as const
      const lease = crypto.randomUUID()
      this.ctx.storage.sql.exec('UPDATE upload SET lease = ?, lease_until_ms = ?, expires_at_ms = ? WHERE id = 1', lease, nowMs + LEASE_MS, nowMs + row.idle_ms)
      return { ok: true, value: { lease, state: this.#state(this.#row()!, nowMs) } } as const
    })
  }

  #leased(lease: string, nowMs: number): { ok: true; row: Row } | { ok: false; code: UploadErrorCode; state?: UploadState } {
    const open = this.#open(nowMs)
    if (!open.ok) return open
    if (open.row.lease !== lease) return { ok: false, code: 'lease_lost' }
    return open
  }

  /**
   * tus: part `partNumber` (the next one) is in R2; the bytes held besides it are now `spillLength`
   * (0: what was spilled went into this part). Renews the lease.
   */
  async commitPart(lease: string, part: UploadPart, spillLength: number, nowMs: number): Promise<UploadResult<{ offset: number }>> {
    return this.commitParts(lease, [part], spillLength, nowMs)
  }

  /**
   * tus: several parts, the next ones in order, are in R2 and are recorded together (a PATCH with
   * `Upload-Checksum` holds its parts back until its digest is verified, then commits them at once,
   * or none). Each must be the next and of the part size (the last may be shorter when it ends the
   * upload). Renews the lease.
   */
  async commitParts(lease: string, parts: UploadPart[], spillLength: number, nowMs: number): Promise<UploadResult<{ offset: number }>> {
    return this.ctx.storage.transactionSync(() => {
      const held = this.#leased(lease, nowMs)
      if (!held.ok) return held
      const row = held.row
      let partsBytes = row.parts_bytes
      // all checked before any is written: a batch is recorded whole or not at all
      for (const part of parts) {
        const expected = partsBytes / row.part_size + 1
        if (part.partNumber !== expected || (part.size !== row.part_size && row.length !== partsBytes + part.size)) return { ok: false, code: 'bad_part' } as const
        partsBytes += part.size
      }
      for (const part of parts) this.ctx.storage.sql.exec('INSERT OR REPLACE INTO parts (part_number, etag, size) VALUES (?, ?, ?)', part.partNumber, part.etag, part.size)
      this.ctx.storage.sql.exec('UPDATE upload SET parts_bytes = ?, spill_length = ?, lease_until_ms = ? WHERE id = 1', partsBytes, spillLength, nowMs + LEASE_MS)
      this.#touch(row, nowMs)
      return { ok: true, value: { offset: partsBytes + spillLength } } as const
    })
  }

  /** tus: the writer is still streaming (parts uploaded but not yet committed): keeps the lease. */
  async renewLease(lease: string, nowMs: number): Promise<UploadResult<null>> {
    return this.ctx.storage.transactionSync(() => {
      const held = this.#leased(lease, nowMs)
      if (!held.ok) return held
      this.ctx.storage.sql.exec('UPDATE upload SET lease_until_ms = ? WHERE id = 1', nowMs + LEASE_MS)
      this.#touch(held.row, nowMs)
      return { ok: true, value: null } as const
    })
  }

  /**
   * tus: the PATCH keeps nothing (its checksum did not match, or it broke before it could be
   * verified): releases the lease, the offset and spill stay as they were.
   */
  async abandonWrite(lease: string, nowMs: number): Promise<UploadResult<{ offset: number }>> {
    return this.ctx.storage.transactionSync(() => {
      const held = this.#leased(lease, nowMs)
      if (!held.ok) return held
      this.ctx.storage.sql.exec('UPDATE upload SET lease = NULL, lease_until_ms = NULL WHERE id = 1')
      this.#touch(held.row, nowMs)
      return { ok: true, value: { offset: held.row.parts_bytes + held.row.spill_length } } as const
    })
  }

  /** tus: the PATCH ended (all read, or the connection broke); `spillLength` bytes are in the spill object. Releases the lease. */
  async endWrite(lease: string, spillLength: number, nowMs: number): Promise<UploadResult<{ offset: number }>> {
    return this.ctx.storage.transactionSync(() => {
      const held = this.#leased(lease, nowMs)
      if (!held.ok) return held
      if (spillLength >= held.row.part_size) return { ok: false, code: 'bad_part' } as const
      this.ctx.storage.sql.exec('UPDATE upload SET spill_length = ?, lease = NULL, lease_until_ms = NULL WHERE id = 1', spillLength)
      this.#touch(held.row, nowMs)
      return { ok: true, value: { offset: held.row.parts_bytes + spillLength } } as const
    })
  }

  /** The type read from the first bytes. */
  async recordSniffed(type: string, nowMs: number): Promise<UploadResult<null>> {
    const open = this.#open(nowMs)
    if (!open.ok) return open
    this.ctx.storage.sql.exec('UPDATE upload SET sniffed_type = ? WHERE id = 1', type)
    return { ok: true, value: null }
  }

  /** tus `Upload-Defer-Length`: the length, once known. */
  async setLength(length: number, nowMs: number): Promise<UploadResult<null>> {
    return this.ctx.storage.transactionSync(() => {
      const open = this.#open(nowMs)
      if (!open.ok) return open
      if (open.row.length !== null) return { ok: false, code: 'length_known' } as const
      this.ctx.storage.sql.exec('UPDATE upload SET length = ? WHERE id = 1', length)
      return { ok: true, value: null } as const
    })
  }

  /** multipart: part `partNumber` is in R2 (a part sent again replaces the first). */
  async recordPart(part: UploadPart, nowMs: number): Promise<UploadResult<UploadState>> {
    return this.ctx.storage.transactionSync(() => {
      const open = this.#open(nowMs)
      if (!open.ok) return open
      this.ctx.storage.sql.exec('INSERT OR REPLACE INTO parts (part_number, etag, size) VALUES (?, ?, ?)', part.partNumber, part.etag, part.size)
      this.#touch(open.row, nowMs)
      return { ok: true, value: this.#state(this.#row()!, nowMs) } as const
    })
  }

  /** The R2 object is complete: no more writes. */
  async markCompleted(nowMs: number): Promise<UploadResult<UploadState>> {
    return this.#finish('completed', nowMs)
  }

  /** Terminated (client DELETE, refused type, item deleted): the caller aborts the R2 upload. */
  async markTerminated(nowMs: number): Promise<UploadResult<UploadState>> {
    return this.#finish('terminated', nowMs)
  }

  /**
   * The expiry sweep: marks the upload expired when it really is idle past its expiry (the D1
   * index may lag behind PATCHes); `not_open` with the state otherwise.
   */
  async expireIfIdle(nowMs: number): Promise<UploadResult<UploadState>> {
    return this.ctx.storage.transactionSync(() => {
      const row = this.#row()
      if (!row) return { ok: false, code: 'not_found' } as const
      if (row.status !== 'open' || nowMs < row.expires_at_ms) return { ok: false, code: 'not_open', state: this.#state(row, nowMs) } as const
      this.ctx.storage.sql.exec("UPDATE upload SET status = 'expired', lease = NULL, lease_until_ms = NULL WHERE id = 1")
      return { ok: true, value: this.#state(this.#row()!, nowMs) } as const
    })
  }

  async #finish(status: 'completed' | 'terminated', nowMs: number): Promise<UploadResult<UploadState>> {
    return this.ctx.storage.transactionSync(() => {
      const open = this.#open(nowMs)
      if (!open.ok) return open
      this.ctx.storage.sql.exec('UPDATE upload SET status = ?, lease = NULL, lease_until_ms = NULL WHERE id = 1', status)
      return { ok: true, value: this.#state(this.#row()!, nowMs) } as const
    })
  }
}

/** The object of one upload. */
export function mediaUploadStub(env: Env, uploadId: string): DurableObjectStub<MediaUpload> {
  return env.MEDIA_UPLOADS.get(env.MEDIA_UPLOADS.idFromName(uploadId))
}
