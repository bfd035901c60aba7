/**
 * Size limits, quotas and the R2 part size of an upload.
 * @module
 */
import { z } from 'zod'
import { ProblemError } from '../../edge/problem'
import { kindOf, type UploadType } from './sniff'

const MiB = 1024 * 1024

/** R2 multipart: parts of at least 5 MiB, at most 10,000 parts (media.md §4). */
export const R2_MIN_PART_BYTES = 5 * MiB
export const R2_MAX_PARTS = 10_000
/** The default part size: few enough R2 calls, small enough to hold a part in memory. */
export const DEFAULT_PART_BYTES = 8 * MiB
/** An upload not touched for this long expires (tus expiration extension). */
export const UPLOAD_IDLE_MS = 24 * 3_600_000

const Limits = z.object({
  MEDIA_QUOTA_BYTES: z.coerce.number().int().positive(),
  MEDIA_MAX_IMAGE_BYTES: z.coerce.number().int().positive(),
  MEDIA_MAX_VIDEO_BYTES: z.coerce.number().int().positive(),
})

export interface MediaLimits {
  quotaBytes: number
  maxImageBytes: number
  maxVideoBytes: number
}

/** The limits from the Worker's vars (wrangler.toml). */
export function mediaLimits(env: Env): MediaLimits {
  const parsed = Limits.parse(env)
  return { quotaBytes: parsed.MEDIA_QUOTA_BYTES, maxImageBytes: parsed.MEDIA_MAX_IMAGE_BYTES, maxVideoBytes: parsed.MEDIA_MAX_VIDEO_BYTES }
}

export function maxBytesFor(limits: MediaLimits, type: UploadType): number {
  return kindOf(type) === 'image' ? limits.maxImageBytes : limits.maxVideoBytes
}

/**
 * One part size for the whole upload (R2 wants every non-final part the same length): 8 MiB, or
 * larger in whole MiB when the file would otherwise need more than 10,000 parts. An upload of
 * unknown length (tus deferred) gets the part size that fits the largest video.
 */
export function partSizeFor(length: number | null, limits: MediaLimits): number {
  const size = length ?? limits.maxVideoBytes
  const needed = Math.ceil(size / R2_MAX_PARTS / MiB) * MiB
  return Math.max(DEFAULT_PART_BYTES, needed)
}

export function partCountFor(length: number, partSize: number): number {
  return Math.max(1, Math.ceil(length / partSize))
}

/** A creator's quota: their override in media_quotas, else the platform default. */
export async function quotaOf(env: Env, creatorId: string): Promise<number> {
  const row = await env.DB.prepare('SELECT quota_bytes FROM media_quotas WHERE creator_id = ?').bind(creatorId).first<{ quota_bytes: number }>()
  return row?.quota_bytes ?? mediaLimits(env).quotaBytes
}

/**
 * Bytes a creator uses: stored items not removed, plus what open uploads promised (so two uploads
 * started side by side cannot both fit into the last free gigabyte).
 */
export async function usageOf(env: Env, creatorId: string): Promise<{ storedBytes: number; reservedBytes: number }> {
  const stored = await env.DB.prepare("SELECT COALESCE(SUM(size_bytes), 0) AS n FROM media_items WHERE creator_id = ? AND status != 'removed' AND size_bytes IS NOT NULL")
    .bind(creatorId)
    .first<{ n: number }>()
  const reserved = await env.DB.prepare("SELECT COALESCE(SUM(declared_length), 0) AS n FROM media_uploads WHERE creator_id = ? AND status = 'open'").bind(creatorId).first<{ n: number }>()
  return { storedBytes: stored?.n ?? 0, reservedBytes: reserved?.n ?? 0 }
}

/** 413 naming the limit when `length` bytes of `type` cannot be accepted from this creator. */
export async function assertFits(env: Env, creatorId: string, type: UploadType, length: number, field: string): Promise<void> {
  const limits = mediaLimits(env)
  const max = maxBytesFor(limits, type)
  if (length > max) {
    const limit = kindOf(type) === 'image' ? 'MEDIA_MAX_IMAGE_BYTES' : 'MEDIA_MAX_VIDEO_BYTES'
    throw new ProblemError('PAYLOAD_TOO_LARGE', {
      detail: `${length} bytes is more than the largest ${kindOf(type)} accepted (${max} bytes)`,
      errors: [{ path: field, message: `at most ${max} bytes` }],
      extensions: { limit, limit_bytes: max },
    })
  }
  const quota = await quotaOf(env, creatorId)
  const usage = await usageOf(env, creatorId)
  if (usage.storedBytes + usage.reservedBytes + length > quota) throw await quotaProblem(env, creatorId, length, field)
}

/**
 * SQL for the bytes a creator uses (what `usageOf` adds up), with `creatorParam` (e.g. `?2`) naming
 * the creator: put inside a conditional write, it makes the quota check and the reservation one step.
 */
export function usedBytesSql(creatorParam: string): string {
  return `((SELECT COALESCE(SUM(size_bytes), 0) FROM media_items WHERE creator_id = ${creatorParam} AND status != 'removed' AND size_bytes IS NOT NULL)
    + (SELECT COALESCE(SUM(declared_length), 0) FROM media_uploads WHERE creator_id = ${creatorParam} AND status = 'open'))`
}

/** 413 naming the quota, with what is left now. */
export async function quotaProblem(env: Env, creatorId: string, length: number, field: string): Promise<ProblemError> {
  const quota = await quotaOf(env, creatorId)
  const usage = await usageOf(env, creatorId)
  const used = usage.storedBytes + usage.reservedBytes
  return new ProblemError('PAYLOAD_TOO_LARGE', {
    detail: `the creator's storage quota (${quota} bytes) has ${Math.max(0, quota - used)} bytes left; this upload needs ${length}`,
    errors: [{ path: field, message: 'exceeds the storage quota' }],
    extensions: { limit: 'quota', limit_bytes: quota, used_bytes: used },
  })
}
