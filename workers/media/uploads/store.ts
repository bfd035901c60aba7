/**
 * Uploads on R2 multipart uploads, shared by the tus server and the direct multipart API: opening
 * (item row with status `uploading`, upload row, R2 multipart upload, MediaUpload object), writing a
 * tus PATCH stream into fixed-size parts, finishing (R2 complete, item `processing`, ingest message),
 * terminating and expiring.
 *
 * Order of effects: R2 and the object first, then D1; a crash in between leaves an R2 multipart
 * upload nobody references, which the bucket's lifecycle rule aborts (R2 aborts incomplete
 * multipart uploads after 7 days by default), never a row pointing at nothing writable.
 * @module
 */
import type { Context } from 'hono'
import { mediaUploadStub, type MediaUpload, type UploadErrorCode, type UploadPart, type UploadProtocol, type UploadState } from '../../../durable-objects/media-upload'
import { mediaKeys } from '../../../r2/keys'
import { audit, type AuditContext } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import { BodyDigest, ChecksumMismatch, type UploadChecksum } from './checksum'
import type { CreatorProfile } from './creator'
import { assertFits, mediaLimits, partSizeFor, quotaOf, quotaProblem, UPLOAD_IDLE_MS, usedBytesSql } from './limits'
import { checkClaim, kindOf, SNIFF_BYTES, type UploadType } from './sniff'

export interface OpenUploadInput {
  creator: CreatorProfile
  protocol: UploadProtocol
  type: UploadType
  /** null: tus Upload-Defer-Length */
  length: number | null
  title: string
  metadata: Record<string, string>
  /** where a size/quota refusal points (`header.upload-length`, `body.size`) */
  lengthField: string
}

export interface OpenedUpload {
  uploadId: string
  itemId: string
  partSize: number
  expiresAtMs: number
}

/** Why an upload's item did not make it (status `failed`, `status_reason`). */
export type UploadEndReason = 'upload_terminated' | 'upload_expired' | 'type_refused' | 'deleted_by_creator'

export async function openUpload(c: Context<AppEnv>, input: OpenUploadInput, nowMs = Date.now()): Promise<OpenedUpload> {
  if (input.length !== null) await assertFits(c.env, input.creator.id, input.type, input.length, input.lengthField)
  const uploadId = newId('mediaUpload', nowMs)
  const itemId = newId('mediaItem', nowMs)
  const objectKey = mediaKeys.original(input.creator.brandSlug, input.creator.id, itemId)
  const partSize = partSizeFor(input.length, mediaLimits(c.env))
  const multipart = await c.env.MEDIA.createMultipartUpload(objectKey, { httpMetadata: { contentType: input.type }, customMetadata: { upload_id: uploadId, item_id: itemId } })
  const created = await mediaUploadStub(c.env, uploadId).create({
    uploadId,
    itemId,
    creatorId: input.creator.id,
    protocol: input.protocol,
    objectKey,
    r2UploadId: multipart.uploadId,
    claimedType: input.type,
    length: input.length,
    partSize,
    metadata: input.metadata,
    idleMs: UPLOAD_IDLE_MS,
    nowMs,
  })
  if (!created.ok) throw new Error(`MediaUpload ${uploadId}: ${created.code}`)
  const expiresAtMs = created.value.expiresAtMs
  // the quota is checked again inside the insert: D1 runs one statement at a time, so of two
  // uploads started side by side for the last free bytes only one row is written
  const quota = input.length === null ? null : await quotaOf(c.env, input.creator.id)
  const [, upload] = await c.env.DB.batch([
    c.env.DB.prepare(
      `INSERT INTO media_items (id, creator_id, brand_id, kind, status, title, original_key, created_at_ms, updated_at_ms)
       SELECT ?1, ?2, ?3, ?4, 'uploading', ?5, ?6, ?7, ?7 WHERE ?8 IS NULL OR ${usedBytesSql('?2')} + ?8 <= ?9`,
    ).bind(itemId, input.creator.id, input.creator.brandId, kindOf(input.type), input.title, objectKey, nowMs, input.length, quota),
    c.env.DB.prepare(
      `INSERT INTO media_uploads (id, item_id, creator_id, protocol, declared_length, received_bytes, status, metadata_json, expires_at_ms, created_at_ms)
       SELECT ?1, ?2, ?3, ?4, ?5, 0, 'open', ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM media_items WHERE id = ?2)`,
    ).bind(uploadId, itemId, input.creator.id, input.protocol, input.length, JSON.stringify(input.metadata), expiresAtMs, nowMs),
  ])
  // nothing written = no room (a write's count may include trigger rows, so only zero is telling)
  if (upload!.meta.changes === 0) {
    await discardBytes(c.env, created.value)
    await mediaUploadStub(c.env, uploadId).markTerminated(nowMs)
    throw await quotaProblem(c.env, input.creator.id, input.length!, input.lengthField)
  }
  await audit(c, 'media.upload.create', `media_upload:${uploadId}`, { item_id: itemId, creator_id: input.creator.id, protocol: input.protocol, type: input.type, length: input.length })
  return { uploadId, itemId, partSize, expiresAtMs }
}

export interface UploadRow {
  id: string
  item_id: string
  creator_id: string
  protocol: UploadProtocol
  declared_length: number | null
  status: 'open' | 'completed' | 'terminated' | 'expired'
}

/** The caller's own upload of `protocol` (someone else's answers 404, like an unknown one). */
export async function ownUpload(c: Context<AppEnv>, uploadId: string, protocol: UploadProtocol): Promise<UploadRow> {
  const subject = c.var.auth?.subject ?? ''
  const row = await c.env.DB.prepare(
    `SELECT u.id, u.item_id, u.creator_id, u.protocol, u.declared_length, u.status FROM media_uploads u JOIN creators c ON c.id = u.creator_id WHERE u.id = ? AND u.protocol = ? AND c.user_id = ?`,
  )
    .bind(uploadId, protocol, subject)
    .first<UploadRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no upload ${uploadId} of yours` })
  return row
}

/** The live state of an upload; 404 / 410 as the object says. */
export async function uploadState(env: Env, uploadId: string, nowMs = Date.now()): Promise<UploadState> {
  const res = await mediaUploadStub(env, uploadId).state(nowMs)
  if (!res.ok) throw new ProblemError('NOT_FOUND', { detail: `no upload ${uploadId}` })
  return res.value
}

/** The problem for an object refusal. */
export function uploadProblem(code: UploadErrorCode, uploadId: string, state?: UploadState): ProblemError {
  switch (code) {
    case 'expired':
      return new ProblemError('GONE', { detail: `upload ${uploadId} expired at ${new Date(state?.expiresAtMs ?? 0).toISOString()}; start a new one` })
    case 'terminated':
    case 'not_found':
      return new ProblemError('NOT_FOUND', { detail: `no upload ${uploadId}` })
    case 'completed':
      return new ProblemError('CONFLICT', { detail: `upload ${uploadId} is complete` })
    case 'locked':
      return new ProblemError('CONFLICT', { detail: `another request is writing to upload ${uploadId}; read its offset again and retry`, headers: { 'retry-after': '1' } })
    case 'offset_mismatch':
      return new ProblemError('CONFLICT', {
        detail: `upload ${uploadId} is at offset ${state?.offset ?? 0}`,
        errors: [{ path: 'header.upload-offset', message: `must equal the current offset ${state?.offset ?? 0}` }],
      })
    default:
      return new ProblemError('CONFLICT', { detail: `upload ${uploadId}: ${code}` })
  }
}

/** Ends an upload that will not complete: R2 multipart aborted, spill deleted, item `failed` with `reason`. */
export async function terminateUpload(actor: AuditContext, uploadId: string, reason: UploadEndReason, nowMs = Date.now()): Promise<boolean> {
  const env: Env = actor.env
  const ended = await mediaUploadStub(env, uploadId).markTerminated(nowMs)
  if (!ended.ok) return false
  await discardBytes(env, ended.value)
  await env.DB.batch([
    env.DB.prepare("UPDATE media_uploads SET status = 'terminated', received_bytes = ? WHERE id = ? AND status = 'open'").bind(ended.value.offset, uploadId),
    env.DB.prepare("UPDATE media_items SET status = 'failed', status_reason = ?, original_key = NULL, updated_at_ms = ? WHERE id = ? AND status = 'uploading'").bind(reason, nowMs, ended.value.itemId),
  ])
  await audit(actor, 'media.upload.terminate', `media_upload:${uploadId}`, { item_id: ended.value.itemId, reason, received_bytes: ended.value.offset })
  return true
}

/** Aborts the R2 multipart upload and deletes the spill; both may already be gone. */
export async function discardBytes(env: Env, state: UploadState): Promise<void> {
  try {
    await env.MEDIA.resumeMultipartUpload(state.objectKey, state.r2UploadId).abort()
  } catch {
    // already aborted or completed: nothing to free
  }
  await env.MEDIA.delete(mediaKeys.uploadSpill(state.uploadId))
}

/**
 * The last byte is in: R2 completes the object from its parts, the item becomes `processing` with
 * the sniffed type and size, and ingest is asked to fingerprint it.
 */
export async function finishUpload(actor: Context<AppEnv>, state: UploadState, nowMs = Date.now()): Promise<void> {
  const env = actor.env
  const object = await env.MEDIA.resumeMultipartUpload(state.objectKey, state.r2UploadId).complete(state.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })))
  const done = await mediaUploadStub(env, state.uploadId).markCompleted(nowMs)
  if (!done.ok) throw new Error(`MediaUpload ${state.uploadId} could not complete: ${done.code}`)
  await env.DB.batch([
    env.DB.prepare("UPDATE media_uploads SET status = 'completed', received_bytes = ?, completed_at_ms = ? WHERE id = ? AND status = 'open'").bind(object.size, nowMs, state.uploadId),
    env.DB.prepare("UPDATE media_items SET status = 'processing', mime = ?, size_bytes = ?, original_key = ?, updated_at_ms = ? WHERE id = ? AND status = 'uploading'").bind(
      state.sniffedType ?? state.claimedType,
      object.size,
      state.objectKey,
      nowMs,
      state.itemId,
    ),
  ])
  await env.MEDIA.delete(mediaKeys.uploadSpill(state.uploadId))
  await env.MEDIA_INGEST.send({ type: 'media.ingest', id: `ingest:${state.itemId}`, payload: { itemId: state.itemId } })
  await audit(actor, 'media.upload.complete', `media_upload:${state.uploadId}`, { item_id: state.itemId, size_bytes: object.size, type: state.sniffedType ?? state.claimedType, protocol: state.protocol })
}

/**
 * Checks the first bytes of an upload; a refused type terminates the upload and answers 415.
 * `record: false` checks without recording the type (bytes not yet verified against their checksum).
 */
export async function assertSniffed(c: Context<AppEnv>, state: UploadState, head: Uint8Array, record = true): Promise<UploadType> {
  const verdict = checkClaim(head, state.claimedType as UploadType)
  if (!verdict.ok) {
    await terminateUpload(c, state.uploadId, 'type_refused')
    throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: `${verdict.detail}; the upload is terminated`, errors: [{ path: 'body', message: verdict.detail }], extensions: { claimed_type: state.claimedType } })
  }
  if (record) await recordSniffed(c.env, state.uploadId, verdict.type)
  return verdict.type
}

async function recordSniffed(env: Env, uploadId: string, type: UploadType): Promise<void> {
  const recorded = await mediaUploadStub(env, uploadId).recordSniffed(type, Date.now())
  if (!recorded.ok) throw uploadProblem(recorded.code, uploadId, recorded.state)
}

export interface PatchOutcome {
  offset: number
  completed: boolean
  /** the body ended early */
  broken: boolean
  /** a checksummed body that broke: it could not be verified, so nothing of it was kept */
  discarded: boolean
}

export interface TusPatchOptions {
  /** `Upload-Checksum`: nothing of the body is appended unless its digest matches */
  checksum?: UploadChecksum
  nowMs?: number
}

/**
 * One tus PATCH: the body is appended at `offset` (the upload's current offset). Bytes are cut into
 * parts of exactly the upload's part size; what is left over goes to the spill object and is put in
 * front of the next PATCH's bytes. When the connection breaks mid-body, everything read so far is
 * kept and the answer says so (`broken`): the client resumes from the new offset.
 *
 * With a checksum the body is all or nothing: parts it fills are uploaded to R2 as they fill (a
 * body may be far larger than memory) but recorded in the MediaUpload object only once the digest
 * matches, together with the new spill and offset. On a mismatch, a break or bytes past the end,
 * nothing is recorded: the spill object keeps its content, the offset stays, and the R2 parts
 * uploaded meanwhile are orphans that the next PATCH's parts of the same numbers replace (R2 keeps
 * the last upload of a part number; completion names parts by number and etag).
 */
export async function writeTusPatch(c: Context<AppEnv>, uploadId: string, offset: number, body: ReadableStream<Uint8Array> | null, options: TusPatchOptions = {}): Promise<PatchOutcome> {
  const env = c.env
  const stub = mediaUploadStub(env, uploadId)
  const begun = await stub.beginWrite(offset, options.nowMs ?? Date.now())
  if (!begun.ok) {
    if (begun.code === 'completed' && begun.state && begun.state.length === offset) return { offset, completed: true, broken: false, discarded: false }
    throw uploadProblem(begun.code, uploadId, begun.state)
  }
  const { lease } = begun.value
  let state = begun.value.state
  const partSize = state.partSize
  const buffer = new Uint8Array(partSize)
  let filled = 0
  /** absolute offset of buffer[0] */
  let base = state.partsBytes
  let nextPart = state.partsBytes / partSize + 1
  let sniffed = state.sniffedType !== null
  const digest = options.checksum ? new BodyDigest(options.checksum) : null
  /** checksummed: parts in R2, recorded once the digest matches */
  const held: UploadPart[] = []
  /** checksummed: the type sniffed from bytes not yet verified */
  let unverifiedType: UploadType | null = null

  if (state.spillLength > 0) {
    const spill = await env.MEDIA.get(mediaKeys.uploadSpill(uploadId))
    const bytes = spill ? new Uint8Array(await spill.arrayBuffer()) : new Uint8Array()
    if (bytes.byteLength < state.spillLength) throw new Error(`upload ${uploadId}: spill holds ${bytes.byteLength} bytes, expected ${state.spillLength}`)
    buffer.set(bytes.subarray(0, state.spillLength), 0)
    filled = state.spillLength
  }

  const flushPart = async (size: number): Promise<void> => {
    const uploaded = await env.MEDIA.resumeMultipartUpload(state.objectKey, state.r2UploadId).uploadPart(nextPart, size === partSize ? buffer : buffer.slice(0, size))
    const part = { partNumber: nextPart, etag: uploaded.etag, size }
    if (digest) {
      held.push(part)
      const renewed = await stub.renewLease(lease, Date.now())
      if (!renewed.ok) throw uploadProblem(renewed.code, uploadId, renewed.state)
    } else {
      const committed = await stub.commitPart(lease, part, 0, Date.now())
      if (!committed.ok) throw uploadProblem(committed.code, uploadId, committed.state)
    }
    nextPart++
    base += size
    filled = 0
  }
  const sniffIfReady = async (): Promise<void> => {
    if (sniffed || base !== 0) return
    const needed = Math.min(SNIFF_BYTES, state.length ?? SNIFF_BYTES)
    if (filled < needed) return
    // a lie is refused as soon as it shows, verified or not; the type is recorded once verified
    const type = await assertSniffed(c, state, buffer.subarray(0, filled), !digest)
    if (digest) unverifiedType = type
    sniffed = true
  }

  let broken = false
  let tooLarge = false
  if (body) {
    const reader = body.getReader()
    let drained = false
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) {
          drained = true
          break
        }
        await digest?.update(value)
        let chunk = value
        if (state.length !== null && base + filled + chunk.byteLength > state.length) {
          // bytes beyond the declared length are not the file: keep what fits, refuse the rest
          chunk = chunk.subarray(0, Math.max(0, state.length - base - filled))
          tooLarge = true
        }
        while (chunk.byteLength > 0) {
          const take = Math.min(partSize - filled, chunk.byteLength)
          buffer.set(chunk.subarray(0, take), filled)
          filled += take
          chunk = chunk.subarray(take)
          await sniffIfReady()
          if (filled === partSize) await flushPart(partSize)
        }
        if (tooLarge) break
      }
    } catch (err) {
      digest?.abandon()
      if (err instanceof ProblemError) throw err
      // the client went away mid-body: keep what arrived
      broken = true
    } finally {
      if (!drained) await drainOrCancel(reader)
    }
  }

  if (digest) {
    const abandon = async (): Promise<number> => {
      const released = await stub.abandonWrite(lease, Date.now())
      if (!released.ok) throw uploadProblem(released.code, uploadId, released.state)
      return released.value.offset
    }
    if (broken) return { offset: await abandon(), completed: false, broken: true, discarded: true }
    if (tooLarge) {
      digest.abandon()
      const kept = await abandon()
      throw new ProblemError('PAYLOAD_TOO_LARGE', {
        detail: `the upload is ${state.length} bytes long and this body runs past its end, so its Upload-Checksum cannot be verified: nothing of it was kept`,
        errors: [{ path: 'body', message: `more bytes than Upload-Length ${state.length}` }],
        headers: { 'upload-offset': String(kept) },
      })
    }
    if (!(await digest.matches())) throw new ChecksumMismatch(digest.algorithm, await abandon())
    if (unverifiedType) await recordSniffed(env, uploadId, unverifiedType)
  }
  await sniffIfReady()

  if (state.length !== null && base + filled === state.length) {
    if (!sniffed) await assertSniffed(c, state, buffer.subarray(0, filled))
    if (filled > 0 || nextPart === 1) await flushPart(filled)
    await commitHeld(stub, lease, held, uploadId)
    const finished = await stub.state(Date.now())
    if (!finished.ok) throw uploadProblem(finished.code, uploadId)
    state = finished.value
    await finishUpload(c, state)
    if (tooLarge) throw pastTheEnd(state.length!, state.length!)
    return { offset: state.length!, completed: true, broken: false, discarded: false }
  }

  await commitHeld(stub, lease, held, uploadId)
  if (filled > 0) await env.MEDIA.put(mediaKeys.uploadSpill(uploadId), buffer.subarray(0, filled))
  const ended = await stub.endWrite(lease, filled, Date.now())
  if (!ended.ok) throw uploadProblem(ended.code, uploadId, ended.state)
  await env.DB.prepare("UPDATE media_uploads SET received_bytes = ?, expires_at_ms = ? WHERE id = ? AND status = 'open'").bind(ended.value.offset, Date.now() + state.idleMs, uploadId).run()
  if (tooLarge) throw pastTheEnd(state.length!, ended.value.offset)
  return { offset: ended.value.offset, completed: false, broken, discarded: false }
}

/** Records a verified PATCH's parts in one step (the spill becomes empty until endWrite says otherwise). */
async function commitHeld(stub: DurableObjectStub<MediaUpload>, lease: string, held: UploadPart[], uploadId: string): Promise<void> {
  if (held.length === 0) return
  const committed = await stub.commitParts(lease, held, 0, Date.now())
  if (!committed.ok) throw uploadProblem(committed.code, uploadId, committed.state)
}

/**
 * Reads and drops what is left of a refused body (up to DRAIN_LIMIT bytes) before the answer goes
 * out. A sender still writing when a 415/413 comes back otherwise sees a reset instead of the
 * answer, and local `wrangler dev` left the next connection hanging after a cancelled body; a rest
 * larger than the limit is still cancelled rather than read for nothing.
 */
async function drainOrCancel(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let dropped = 0
  try {
    while (dropped <= DRAIN_LIMIT) {
      const { done, value } = await reader.read()
      if (done) return
      dropped += value.byteLength
    }
  } catch {
    return
  }
  await reader.cancel().catch(() => undefined)
}
const DRAIN_LIMIT = 8 * 1024 * 1024

/** 413 for bytes sent past the declared length (those bytes were dropped; the rest is kept). */
function pastTheEnd(length: number, offset: number): ProblemError {
  return new ProblemError('PAYLOAD_TOO_LARGE', {
    detail: `the upload is ${length} bytes long; the bytes after offset ${length} were refused`,
    errors: [{ path: 'body', message: `more bytes than Upload-Length ${length}` }],
    headers: { 'upload-offset': String(offset) },
  })
}
