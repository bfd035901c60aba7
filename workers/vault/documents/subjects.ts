/**
 * Whose a vault document is. Documents uploaded through `/api/vault/documents` belong to a subject:
 * a creator profile (`crt_`), a performer record (`prf_`) or a FanzSSO account (`usr_`); the record
 * type of the sealed object names the subject type (`creator_document`, ...) and the record id is
 * the subject id, so the ciphertext is bound to its subject (envelope AAD) and the R2 key reads
 * `<recordType>/<subjectId>/<objectId>`.
 *
 * The subject's own account (creators.user_id, performer_records.user_id, or the user itself) may
 * list the metadata of its documents, never download them (documents/api.ts says why).
 * @module
 */
import type { DataRegion, VaultObject } from '../store'

export const SUBJECT_TYPES = ['creator', 'performer', 'user'] as const
export type SubjectType = (typeof SUBJECT_TYPES)[number]

export const SUBJECT_ID_PATTERN: Record<SubjectType, RegExp> = {
  creator: /^crt_[0-9A-Za-z]{1,40}$/,
  performer: /^prf_[0-9A-Za-z]{1,40}$/,
  user: /^usr_[0-9A-Za-z]{1,40}$/,
}

export interface Subject {
  type: SubjectType
  id: string
  /** the account that is this subject (may list its own documents' metadata) */
  userId: string | null
  /** where the subject's vault data must stay, when the subject's record says so */
  region: DataRegion | null
}

export const recordTypeOf = (type: SubjectType): string => `${type}_document`

/** The subject a sealed object belongs to, when it was stored through the documents API. */
export function subjectOfObject(row: Pick<VaultObject, 'recordType' | 'recordId'>): { type: SubjectType; id: string } | null {
  const type = SUBJECT_TYPES.find((t) => recordTypeOf(t) === row.recordType)
  return type ? { type, id: row.recordId } : null
}

/** The subject, or null when there is no such creator, performer or account. */
export async function findSubject(d1: D1Database, type: SubjectType, id: string): Promise<Subject | null> {
  switch (type) {
    case 'creator': {
      const row = await d1.prepare('SELECT user_id FROM creators WHERE id = ?').bind(id).first<{ user_id: string | null }>()
      return row ? { type, id, userId: row.user_id, region: null } : null
    }
    case 'performer': {
      const row = await d1.prepare('SELECT user_id, data_region FROM performer_records WHERE id = ?').bind(id).first<{ user_id: string | null; data_region: DataRegion }>()
      return row ? { type, id, userId: row.user_id, region: row.data_region } : null
    }
    case 'user': {
      const row = await d1.prepare('SELECT id FROM users WHERE id = ?').bind(id).first<{ id: string }>()
      return row ? { type, id, userId: row.id, region: null } : null
    }
  }
}

/** Columns a metadata answer may carry: never `wrapped_dek`, never the R2 key. */
export const METADATA_COLUMNS =
  'id, record_type, record_id, kind, content_type, byte_length, sha256_hex, bucket, kek_version, retain_until_ms, retention_basis, created_by, created_at_ms, destroyed_at_ms'

export interface MetadataRow {
  id: string
  record_type: string
  record_id: string
  kind: string
  content_type: string
  byte_length: number
  sha256_hex: string
  bucket: 'VAULT' | 'VAULT_EU'
  kek_version: string
  retain_until_ms: number | null
  retention_basis: string | null
  created_by: string
  created_at_ms: number
  destroyed_at_ms: number | null
}

/** Documents of every subject `userId` is (their account, their creator profiles, their performer records), newest first. */
export async function documentsOfUser(d1: D1Database, userId: string, limit = 200): Promise<MetadataRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT ${METADATA_COLUMNS} FROM vault_objects
       WHERE (record_type = 'user_document' AND record_id = ?1)
          OR (record_type = 'creator_document' AND record_id IN (SELECT id FROM creators WHERE user_id = ?1))
          OR (record_type = 'performer_document' AND record_id IN (SELECT id FROM performer_records WHERE user_id = ?1))
       ORDER BY id DESC LIMIT ?2`,
    )
    .bind(userId, limit)
    .all<MetadataRow>()
  return results
}
