/**
 * `/api/vault/documents` and `/api/vault/downloads/{token}`: ID documents, selfies, consents, model
 * releases and depiction copies, sealed into the vault (store.ts) and read back only through a
 * short-lived, single-use link (download-links.ts).
 *
 * Who may do what (least privilege):
 * - upload, destroy: `vault:write` (compliance officers) with a recent two-factor sign-in;
 * - list, metadata: `vault:read` (compliance officers, custodians) with a stated purpose;
 * - download link: `vault:read` + step-up + purpose; the link is bound to the account that asked;
 * - the subject themself (a creator whose KYC document it is): `GET /documents/mine` lists the
 *   metadata of their own documents (GDPR Art. 15 transparency), but never the bytes: an ID image
 *   is the most damaging thing a stolen creator session could take, and the subject already holds
 *   the original. A copy goes to them through compliance staff as a `subject_access_request`;
 * - fans, creators (other than for their own metadata) and moderators: 403 on everything here.
 * Every read states a purpose (`Vault-Purpose`) and every operation is audited (`vault.document.*`).
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { ZodRequestBody } from '@asteasolutions/zod-to-openapi'
import type { Context } from 'hono'
import { readFileBody } from '../../api/file-body'
import { json, problemResponses } from '../../api/schemas'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newestFirstPage } from '../../lib/pagination'
import { permission, PUBLIC, withAccess } from '../../sso/roles/access'
import { purposeOr, requirePurpose, VAULT_STEP_UP, vaultAudit, vaultAuditAs, type VaultPurpose } from '../access'
import { DOWNLOAD_LINK_TTL_S, redeemNonce, verifyDownloadToken } from '../download-links'
import { VaultDecryptError } from '../envelope'
import { destroySealed, openSealed, putSealed, RetentionError, sealedObject, type VaultObject } from '../store'
import { documentOr404, issueLink } from './issue'
import { registerBreakGlass } from './break-glass'
import { checkDocument, EXTENSIONS, MAX_DOCUMENT_BYTES, type DocumentContentType } from './content'
import { DocumentIdParam, DocumentList, DocumentMetadata, DownloadLink, ListQuery, metadataOf, PurposeHeader, toMetadata, UploadQuery } from './schemas'
import { documentsOfUser, findSubject, METADATA_COLUMNS, recordTypeOf, type MetadataRow } from './subjects'

const tags = ['vault']

/** 28 CFR 75.4: records are kept 7 years from creation (documents are never amended, only added). */
export const RETENTION_YEARS_2257 = 7
export const RETENTION_BASIS_2257 = '28 CFR 75.4 (18 U.S.C. 2257): 7 years from creation'

const UPLOAD_DEFAULT_PURPOSE: VaultPurpose = { code: 'records_maintenance', note: 'document upload into the vault' }

function retainUntil(nowMs: number): number {
  const d = new Date(nowMs)
  d.setUTCFullYear(d.getUTCFullYear() + RETENTION_YEARS_2257)
  return d.getTime()
}

const binary = { type: 'string' as const, format: 'binary' }
const uploadBody: ZodRequestBody = {
  required: true,
  description: `The document, at most ${MAX_DOCUMENT_BYTES} bytes: either the raw bytes with their Content-Type, or multipart/form-data with one part \`file\`. Accepted: image/jpeg, image/png, image/webp, application/pdf, and video/mp4 for depiction copies; the bytes must be what the type says.`,
  content: {
    'multipart/form-data': { schema: { type: 'object', properties: { file: binary }, required: ['file'] } },
    'image/jpeg': { schema: binary },
    'image/png': { schema: binary },
    'image/webp': { schema: binary },
    'application/pdf': { schema: binary },
    'video/mp4': { schema: binary },
  },
}

const uploadRoute = createRoute(
  withIdempotency(
    withAccess(permission('vault:write', { stepUp: VAULT_STEP_UP }), {
      method: 'post',
      path: '/documents',
      tags,
      summary: 'Seal a document into the vault for a creator, performer or account (Idempotency-Key; Vault-Purpose optional, default records_maintenance)',
      request: { query: UploadQuery, headers: PurposeHeader, body: uploadBody },
      responses: { 201: json('Stored (metadata)', DocumentMetadata), ...problemResponses(400, 401, 403, 413, 415, 422) },
    }),
  ),
)

const listRoute = createRoute(
  withAccess(permission('vault:read'), {
    method: 'get',
    path: '/documents',
    tags,
    summary: "A subject's documents, newest first: metadata only (Vault-Purpose required)",
    request: { query: ListQuery, headers: PurposeHeader },
    responses: { 200: json('Documents', DocumentList), ...problemResponses(400, 401, 403) },
  }),
)

const mineRoute = createRoute(
  withAccess(permission('vault:kyc:self'), {
    method: 'get',
    path: '/documents/mine',
    tags,
    summary: 'The metadata of the documents the vault holds about you (never the bytes)',
    responses: { 200: json('Your documents', DocumentList), ...problemResponses(401, 403) },
  }),
)

const getRoute = createRoute(
  withAccess(permission('vault:read'), {
    method: 'get',
    path: '/documents/{id}',
    tags,
    summary: "A document's metadata (Vault-Purpose required)",
    request: { params: DocumentIdParam, headers: PurposeHeader },
    responses: { 200: json('Metadata', DocumentMetadata), ...problemResponses(400, 401, 403, 404) },
  }),
)

const linkRoute = createRoute(
  withAccess(permission('vault:read', { stepUp: VAULT_STEP_UP }), {
    method: 'post',
    path: '/documents/{id}/download-link',
    tags,
    summary: `A single-use download link valid ${DOWNLOAD_LINK_TTL_S} s, bound to you (Vault-Purpose required; recent two-factor sign-in)`,
    request: { params: DocumentIdParam, headers: PurposeHeader },
    responses: { 201: json('The link', DownloadLink), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const downloadRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'get',
    path: '/downloads/{token}',
    tags,
    summary: 'Follow a download link: the plaintext as an attachment, once (410 when used or expired)',
    request: { params: z.object({ token: z.string().max(2048) }) },
    responses: {
      200: { description: 'The document (content-disposition: attachment)', content: { 'application/octet-stream': { schema: binary } } },
      404: problemResponses(404)[404]!,
      410: { description: 'The link was already used, or expired, or the document was destroyed' },
      500: { description: 'The stored ciphertext does not open (tampered with or moved): never any bytes' },
    },
  }),
)

const deleteRoute = createRoute(
  withAccess(permission('vault:write', { stepUp: VAULT_STEP_UP }), {
    method: 'delete',
    path: '/documents/{id}',
    tags,
    summary: 'Destroy a document after its retention period (409 inside it); the metadata row stays as proof (Vault-Purpose required)',
    request: { params: DocumentIdParam, headers: PurposeHeader },
    responses: { 200: json('Destroyed (metadata with destroyed_at)', DocumentMetadata), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

/** The uploaded bytes and their declared type, from a raw body or a multipart `file` part. */
async function readUpload(c: Context<AppEnv>): Promise<{ bytes: Uint8Array; declared: string; fields: { type: string; bytes: string } }> {
  const file = await readFileBody(c, MAX_DOCUMENT_BYTES, 'a document')
  return { bytes: file.bytes, declared: file.declaredType, fields: file.field === 'body.file' ? { type: 'body.file', bytes: 'body.file' } : { type: 'header.content-type', bytes: 'body' } }
}

export function registerDocuments(app: OpenAPIHono<AppEnv>): void {
  app.openapi(uploadRoute, async (c) => {
    const auth = authenticated(c)
    const query = c.req.valid('query')
    const purpose = purposeOr(c, UPLOAD_DEFAULT_PURPOSE)
    const subject = await findSubject(c.env.DB, query.subject_type, query.subject_id)
    if (!subject) throw new ProblemError('BAD_REQUEST', { detail: `no ${query.subject_type} ${query.subject_id}`, errors: [{ path: 'query.subject_id', message: `is not a known ${query.subject_type}` }] })
    if (subject.region === 'eu' && query.region === 'global') {
      throw new ProblemError('BAD_REQUEST', { detail: `${subject.id} is an EU subject: their documents stay in the EU bucket`, errors: [{ path: 'query.region', message: 'must be eu for this subject' }] })
    }
    const region = query.region ?? subject.region ?? 'global'
    const upload = await readUpload(c)
    const contentType: DocumentContentType = checkDocument(query.kind, upload.declared, upload.bytes, upload.fields)
    const nowMs = Date.now()
    // creators and performers are 2257 subjects: their documents are records kept 7 years
    const retained = subject.type === 'user' ? null : retainUntil(nowMs)
    const row = await putSealed(
      c.env,
      {
        recordType: recordTypeOf(subject.type),
        recordId: subject.id,
        kind: query.kind,
        contentType,
        bytes: upload.bytes,
        region,
        createdBy: auth.subject,
        retainUntilMs: retained,
        retentionBasis: retained === null ? null : RETENTION_BASIS_2257,
      },
      nowMs,
    )
    upload.bytes.fill(0)
    await vaultAudit(c, 'vault.document.upload', `vault_object:${row.id}`, purpose, {
      subject_type: subject.type,
      subject_id: subject.id,
      kind: row.kind,
      content_type: row.contentType,
      size: row.byteLength,
      sha256: row.sha256Hex,
      region,
      retain_until_ms: row.retainUntilMs,
    })
    return c.json(toMetadata(metadataOf(row)), 201)
  })

  app.openapi(listRoute, async (c) => {
    const purpose = requirePurpose(c)
    const query = c.req.valid('query')
    const page = await newestFirstPage<MetadataRow>(c.env.DB, {
      from: 'vault_objects',
      columns: METADATA_COLUMNS,
      filters: [
        ['record_type', recordTypeOf(query.subject_type)],
        ['record_id', query.subject_id],
      ],
      cursor: query.cursor,
      limit: query.limit,
    })
    await vaultAudit(c, 'vault.document.list', `${query.subject_type}:${query.subject_id}`, purpose, { count: page.rows.length, ids: page.rows.map((r) => r.id) })
    return c.json({ documents: page.rows.map(toMetadata), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(mineRoute, async (c) => {
    const auth = authenticated(c)
    const rows = await documentsOfUser(c.env.DB, auth.subject)
    await vaultAudit(c, 'vault.document.list', `user:${auth.subject}`, { code: 'subject_access_request', note: 'the subject listing the metadata of their own documents' }, { self: true, count: rows.length, ids: rows.map((r) => r.id) })
    return c.json({ documents: rows.map(toMetadata), next_cursor: null }, 200)
  })

  app.openapi(getRoute, async (c) => {
    const purpose = requirePurpose(c)
    const row = await documentOr404(c, c.req.valid('param').id)
    await vaultAudit(c, 'vault.document.read', `vault_object:${row.id}`, purpose, { record_type: row.recordType, record_id: row.recordId, kind: row.kind })
    return c.json(toMetadata(metadataOf(row)), 200)
  })

  app.openapi(linkRoute, async (c) => {
    const purpose = requirePurpose(c)
    const row = await documentOr404(c, c.req.valid('param').id)
    const { claims, body } = await issueLink(c, row, purpose.code)
    await vaultAudit(c, 'vault.document.link', `vault_object:${row.id}`, purpose, { record_type: row.recordType, record_id: row.recordId, kind: row.kind, link_id: claims.n, expires_at_s: claims.e })
    return c.json(body, 201)
  })

  app.openapi(downloadRoute, async (c) => {
    const token = c.req.valid('param').token
    const check = await verifyDownloadToken(c.var.config.signingMasterKey, token)
    if (!check.ok) {
      if (check.reason === 'expired') throw new ProblemError('GONE', { detail: 'this download link has expired; ask for a new one' })
      throw new ProblemError('NOT_FOUND', { detail: 'no such download link' })
    }
    const claims = check.claims
    if (!(await redeemNonce(c.env, claims, token))) throw new ProblemError('GONE', { detail: 'this download link was already used; links are single use' })
    const row = await sealedObject(c.env, claims.o)
    if (!row) throw new ProblemError('NOT_FOUND', { detail: 'no such document' })
    if (row.destroyedAtMs) throw new ProblemError('GONE', { detail: 'the document was destroyed after its retention period' })
    const who = { env: c.env, actor: claims.u, actorRoles: [], requestId: c.var.requestId ?? null, brand: c.var.brand?.slug ?? null }
    const purpose: VaultPurpose = { code: claims.p, note: `download link ${claims.n} (purpose stated when it was issued)` }
    let plain: Uint8Array
    try {
      plain = await openSealed(c.env, row)
    } catch (err) {
      // never any bytes: a tampered or moved ciphertext is an incident, not a client error
      const reason = err instanceof VaultDecryptError ? err.message : 'the stored object is missing or unreadable'
      await vaultAuditAs(who, 'vault.document.integrity_failure', `vault_object:${row.id}`, purpose, { severity: 'critical', reason, link_id: claims.n })
      log('error', c.var.config.logLevel, 'vault_integrity_failure', { request_id: c.var.requestId, object_id: row.id, reason })
      throw new ProblemError('INTERNAL_ERROR', { detail: reason, cause: err })
    }
    await vaultAuditAs(who, 'vault.document.download', `vault_object:${row.id}`, purpose, {
      record_type: row.recordType,
      record_id: row.recordId,
      kind: row.kind,
      size: row.byteLength,
      link_id: claims.n,
      break_glass: claims.bg === 1,
    })
    const ext = EXTENSIONS[row.contentType as DocumentContentType] ?? 'bin'
    return new Response(plain, {
      status: 200,
      headers: {
        'content-type': row.contentType,
        'content-length': String(plain.length),
        'content-disposition': `attachment; filename="${row.id}.${ext}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    })
  })

  app.openapi(deleteRoute, async (c) => {
    const purpose = requirePurpose(c)
    const row = await documentOr404(c, c.req.valid('param').id)
    let destroyed: VaultObject
    try {
      destroyed = await destroySealed(c.env, row)
    } catch (err) {
      if (!(err instanceof RetentionError)) throw err
      throw new ProblemError('CONFLICT', {
        detail: `document ${row.id} is retained until ${new Date(err.retainUntilMs).toISOString()}: ${err.basis ?? 'retention period'}`,
        extensions: { retain_until: new Date(err.retainUntilMs).toISOString(), retention_basis: err.basis },
      })
    }
    if (destroyed.destroyedAtMs !== row.destroyedAtMs) {
      await vaultAudit(c, 'vault.document.destroy', `vault_object:${row.id}`, purpose, { record_type: row.recordType, record_id: row.recordId, kind: row.kind, retain_until_ms: row.retainUntilMs, retention_basis: row.retentionBasis })
    }
    return c.json(toMetadata(metadataOf(destroyed)), 200)
  })

  registerBreakGlass(app)
}
