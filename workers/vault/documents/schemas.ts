import { z } from '@hono/zod-openapi'
import { PageQuery } from '../../lib/pagination'
import { PURPOSE_HEADER } from '../access'
import type { VaultObject } from '../store'
import { DOCUMENT_KINDS } from './content'
import { SUBJECT_ID_PATTERN, SUBJECT_TYPES, subjectOfObject, type MetadataRow } from './subjects'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const subjectFields = {
  subject_type: z.enum(SUBJECT_TYPES).openapi({ description: 'creator (`crt_`), performer (`prf_`) or account (`usr_`)' }),
  subject_id: z.string().max(64),
}

/** subject_id must be an id of the named subject type */
const subjectIdMatches = <T extends { subject_type: (typeof SUBJECT_TYPES)[number]; subject_id: string }>(q: T, ctx: z.RefinementCtx) => {
  if (!SUBJECT_ID_PATTERN[q.subject_type].test(q.subject_id)) ctx.addIssue({ code: 'custom', path: ['subject_id'], message: `is not a ${q.subject_type} id` })
}

export const UploadQuery = z
  .object({
    ...subjectFields,
    kind: z.enum(DOCUMENT_KINDS),
    region: z.enum(['global', 'eu']).optional().openapi({ description: 'where the bytes are kept; default: the subject record\'s region, else global. An EU subject is never stored outside the EU bucket.' }),
  })
  .superRefine(subjectIdMatches)

export const ListQuery = z.object({ ...subjectFields, ...PageQuery.shape }).superRefine(subjectIdMatches)

export const DocumentIdParam = z.object({ id: z.string().regex(/^vob_[0-9A-Za-z]{1,40}$/, 'must be a vault object id (vob_...)') })

export const PurposeHeader = z.object({
  [PURPOSE_HEADER]: z
    .string()
    .optional()
    .openapi({ param: { name: PURPOSE_HEADER, in: 'header' }, description: 'Why you read this: `<purpose>; note="<why, 10+ characters>"`. Required on every read.', example: 'kyc_review; note="checking the ID of creator crt_..."' }),
})

export const DocumentMetadata = z
  .object({
    id: z.string(),
    subject_type: z.enum(SUBJECT_TYPES).nullable(),
    subject_id: z.string().nullable(),
    record_type: z.string(),
    record_id: z.string(),
    kind: z.string(),
    content_type: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    region: z.enum(['global', 'eu']),
    created_at: z.string(),
    created_by: z.string(),
    retain_until: z.string().nullable(),
    retention_basis: z.string().nullable(),
    destroyed_at: z.string().nullable(),
  })
  .openapi('VaultDocument')

export const DocumentList = z.object({ documents: z.array(DocumentMetadata), next_cursor: z.string().nullable() }).openapi('VaultDocumentList')

export const DownloadLink = z
  .object({
    object_id: z.string(),
    url: z.string().openapi({ description: 'GET it without a bearer token, once, before expires_at' }),
    expires_at: z.string(),
    expires_in_s: z.number().int(),
  })
  .openapi('VaultDownloadLink')

export function toMetadata(row: MetadataRow): z.infer<typeof DocumentMetadata> {
  const subject = subjectOfObject({ recordType: row.record_type, recordId: row.record_id })
  return {
    id: row.id,
    subject_type: subject?.type ?? null,
    subject_id: subject?.id ?? null,
    record_type: row.record_type,
    record_id: row.record_id,
    kind: row.kind,
    content_type: row.content_type,
    size: row.byte_length,
    sha256: row.sha256_hex,
    region: row.bucket === 'VAULT_EU' ? 'eu' : 'global',
    created_at: iso(row.created_at_ms)!,
    created_by: row.created_by,
    retain_until: iso(row.retain_until_ms),
    retention_basis: row.retention_basis,
    destroyed_at: iso(row.destroyed_at_ms),
  }
}

/** The metadata columns of a full row (never its wrapped key or R2 key). */
export function metadataOf(row: VaultObject): MetadataRow {
  return {
    id: row.id,
    record_type: row.recordType,
    record_id: row.recordId,
    kind: row.kind,
    content_type: row.contentType,
    byte_length: row.byteLength,
    sha256_hex: row.sha256Hex,
    bucket: row.bucket,
    kek_version: row.kekVersion,
    retain_until_ms: row.retainUntilMs,
    retention_basis: row.retentionBasis,
    created_by: row.createdBy,
    created_at_ms: row.createdAtMs,
    destroyed_at_ms: row.destroyedAtMs,
  }
}
