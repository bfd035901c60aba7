/**
 * `/api/vault/records/*`: 18 U.S.C. 2257 / 28 CFR Part 75 performer records. Every route needs its
 * records:2257:* permission and a recent strong sign-in (VAULT_STEP_UP), states a purpose
 * (`Vault-Purpose`), and is audited as `records.*` with that purpose; subjects are
 * `performer:<id>`, so an inspection export can extract each record's access log. Names never
 * reach the audit log or D1 in clear (blind indexes).
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { auditLog } from '../../compliance/audit'
import { canonicalJson } from '../../lib/canonical-json'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { base64url, timingSafeEqualText, utf8 } from '../../lib/encoding'
import { withIdempotency } from '../../lib/idempotency'
import { isId } from '../../lib/ids'
import { derivedSecret } from '../../lib/secret-box'
import { permission, withAccess } from '../../sso/roles/access'
import type { Permission } from '../../sso/roles/permissions'
import { requirePurpose, VAULT_STEP_UP, vaultAudit, type VaultPurpose } from '../access'
import { openSealed, putSealed, sealedObject } from '../store'
import { ContentInput, ContentPatch, Producer } from './content'
import { buildInspectionArchive } from './inspection-export'
import { cessationFloor, recordCessation, retentionEvents, type RetentionEvent as RetentionEventRow } from './cessation'
import {
  amendPerformer,
  createPerformer,
  deleteAfterRetention,
  ERASURE_BASIS,
  erasureRequestsOf,
  linkMedia,
  mediaOf,
  contentAt,
  performerOr404,
  recordErasureRequest as recordErasure,
  RETENTION_BASIS,
  search,
  urlsOf,
  versionsOf,
  type PerformerRow,
} from './performers'

const tags = ['vault-records']
const iso = (ms: number) => new Date(ms).toISOString()

const PurposeHeader = z.object({
  'vault-purpose': z.string().optional().openapi({ param: { name: 'vault-purpose', in: 'header', required: true }, description: 'Why: `<purpose>; note="<at least 10 characters>"`', example: 'records_maintenance; note="adding a new scene for this performer"' }),
})

const access = (p: Permission) => permission(p, { stepUp: VAULT_STEP_UP })

const PerformerId = z.object({ id: z.string().refine((v) => isId('performer', v), 'a performer id (prf_...)') })
const Document = z.union([z.object({ object_id: z.string().regex(/^vob_[0-9A-HJKMNP-TV-Z]{26}$/) }).strict(), z.object({ content_type: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/), content_base64: z.string().min(4).max(100_000) }).strict()])

const CreateBody = z
  .object({
    custodian_brand_id: z.string().min(1).max(64),
    data_region: z.enum(['global', 'eu']).default('global'),
    user_id: z.string().regex(/^usr_[0-9A-Za-z]{1,40}$/).nullable().default(null),
    kyc_verification_id: z.string().regex(/^kyc_[0-9A-Za-z]{1,40}$/).nullable().default(null),
    content: ContentInput,
  })
  .strict()
  .openapi('PerformerCreate')

const AmendBody = z
  .object({ reason: z.string().trim().min(5).max(500), content: ContentInput.optional(), patch: ContentPatch.optional() })
  .strict()
  .refine((b) => (b.content === undefined) !== (b.patch === undefined), { message: 'send exactly one of content (the full new record) or patch', path: ['content'] })
  .openapi('PerformerAmendment')

const MediaBody = z
  .object({
    media_id: z.string().trim().min(1).max(100),
    brand_id: z.string().min(1).max(64),
    title: z.string().trim().min(1).max(500),
    production_date: z.iso.date(),
    urls: z.array(z.url({ protocol: /^https?$/ }).max(2000)).min(1).max(100),
    consent: Document,
    model_release: Document,
    primary_producer: Producer.nullable().optional(),
  })
  .strict()
  .openapi('PerformerMediaLink')

const ErasureBody = z
  .object({ regime: z.enum(['gdpr', 'ccpa', 'other']), received_at: z.iso.datetime({ offset: true }), channel: z.string().trim().min(2).max(100), note: z.string().max(1000).optional() })
  .strict()
  .openapi('PerformerErasureRequest')

const SearchQuery = z
  .object({
    legal_name: z.string().trim().min(1).max(300).optional(),
    alias: z.string().trim().min(1).max(300).optional(),
    title: z.string().min(1).max(500).optional(),
    url: z.string().min(1).max(2000).optional(),
    match: z.enum(['exact', 'prefix']).default('exact'),
  })
  .refine((q) => [q.legal_name, q.alias, q.title, q.url].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of legal_name, alias, title, url', path: ['legal_name'] })
  .refine((q) => q.match === 'exact' || q.title !== undefined || q.url !== undefined, { message: 'names match exactly (blind index); prefix is for title and url', path: ['match'] })

const ExportBody = z.object({ brand_id: z.string().min(1).max(64).nullable().default(null) }).strict().openapi('InspectionExportRequest')

const Retention = z.object({ created_at: z.string(), last_amended_at: z.string(), retain_until: z.string(), basis: z.string() })
const PerformerSummary = z.object({ id: z.string(), current_version: z.number().int(), custodian_brand_id: z.string(), data_region: z.enum(['global', 'eu']), retention: Retention }).openapi('PerformerRecordSummary')
const summary = (row: PerformerRow) => ({
  id: row.id,
  current_version: row.current_version,
  custodian_brand_id: row.custodian_brand_id,
  data_region: row.data_region,
  retention: { created_at: iso(row.created_at_ms), last_amended_at: iso(row.last_amended_at_ms), retain_until: iso(row.retain_until_ms), basis: RETENTION_BASIS },
})

const MediaLink = z.object({
  media_id: z.string(),
  brand_id: z.string(),
  title: z.string(),
  production_date: z.string(),
  urls: z.array(z.string()),
  consent_object_id: z.string(),
  model_release_object_id: z.string(),
  primary_producer: Producer.nullable(),
  linked_by: z.string(),
  linked_at: z.string(),
})

const PerformerView = PerformerSummary.extend({
  user_id: z.string().nullable(),
  kyc_verification_id: z.string().nullable(),
  version: z.number().int(),
  record: z.record(z.string(), z.unknown()),
  versions: z.array(z.object({ version: z.number().int(), reason: z.string(), amended_by: z.string(), created_at: z.string(), object_id: z.string() })),
  media: z.array(MediaLink),
  erasure_requests: z.array(z.object({ id: z.string(), received: z.string(), retention_basis: z.string() })),
}).openapi('PerformerRecord')

const subjectOf = (id: string) => `performer:${id}`
const actorOf = (c: Context<AppEnv>) => c.var.auth?.subject ?? 'anonymous'

const createRouteDef = createRoute(
  withIdempotency(
    withAccess(access('records:2257:write'), {
      method: 'post',
      path: '/records/performers',
      tags,
      summary: 'Create a 2257 performer record (sealed); ID copies are sealed here or referenced by vault object id',
      request: { headers: PurposeHeader, body: jsonBody(CreateBody) },
      responses: { 201: json('Created', PerformerSummary), ...problemResponses(400, 401, 403, 415, 422) },
    }),
  ),
)

const readRoute = createRoute(
  withAccess(access('records:2257:read'), {
    method: 'get',
    path: '/records/performers/{id}',
    tags,
    summary: 'A performer record at its current (or a given) version, with its version history, media links and erasure requests',
    request: { headers: PurposeHeader, params: PerformerId, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
    responses: { 200: json('The record', PerformerView), ...problemResponses(400, 401, 403, 404) },
  }),
)

const amendRoute = createRoute(
  withAccess(access('records:2257:write'), {
    method: 'post',
    path: '/records/performers/{id}/amendments',
    tags,
    summary: 'Append a version: the full new record or a patch, with a reason; aliases can only be added; retention restarts',
    request: { headers: PurposeHeader, params: PerformerId, body: jsonBody(AmendBody) },
    responses: { 201: json('The new version', PerformerSummary), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  }),
)

const mediaRoute = createRoute(
  withAccess(access('records:2257:write'), {
    method: 'post',
    path: '/records/performers/{id}/media',
    tags,
    summary: 'Link a depiction (title, production date, every URL, consent and model release); refused if the performer was under 18 then',
    request: { headers: PurposeHeader, params: PerformerId, body: jsonBody(MediaBody) },
    responses: { 201: json('Linked', z.object({ performer_id: z.string(), media: MediaLink, retain_until: z.string() })), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  }),
)

const searchRoute = createRoute(
  withAccess(access('records:2257:read'), {
    method: 'get',
    path: '/records/search',
    tags,
    summary: 'Find records by legal name or alias (exact, case- and spacing-insensitive, by blind index), or by title or URL (exact or prefix)',
    request: { headers: PurposeHeader, query: SearchQuery },
    responses: {
      200: json(
        'Matching records with their custodian',
        z.object({ items: z.array(z.object({ performer_id: z.string(), custodian_brand_id: z.string(), matched: z.string(), media_id: z.string().optional(), title: z.string().optional(), url: z.string().optional() })) }),
      ),
      ...problemResponses(400, 401, 403),
    },
  }),
)

const deleteRoute = createRoute(
  withAccess(access('records:2257:write'), {
    method: 'delete',
    path: '/records/performers/{id}',
    tags,
    summary: 'Delete a record after its retention (409 inside it, naming retain_until and 28 CFR 75.4)',
    request: { headers: PurposeHeader, params: PerformerId },
    responses: { 200: json('Deleted', z.object({ id: z.string(), deleted: z.literal(true), destroyed_objects: z.number().int() })), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const erasureRoute = createRoute(
  withAccess(access('records:2257:write'), {
    method: 'post',
    path: '/records/performers/{id}/erasure-requests',
    tags,
    summary: 'Record a privacy erasure request: the 2257 record is kept until retain_until, with the legal basis stored; answers what was kept and why',
    request: { headers: PurposeHeader, params: PerformerId, body: jsonBody(ErasureBody) },
    responses: { 201: json('Recorded', z.record(z.string(), z.unknown())), ...problemResponses(400, 401, 403, 404, 415, 422) },
  }),
)

const RetentionEventBody = z
  .object({
    kind: z.enum(['business_ceased', 'organisation_dissolved']),
    effective_on: z.iso.date().refine((d) => d >= '2000-01-01', 'a date from 2000 on'),
    note: z.string().trim().min(10, 'say what happened, in at least 10 characters').max(1000),
  })
  .strict()

const RetentionEvent = z.object({ id: z.number().int(), kind: z.string(), effective_on: z.string(), keeps_until: z.iso.datetime(), note: z.string(), recorded_by: z.string(), recorded_at: z.iso.datetime() })

const retentionEventRoute = createRoute(
  withAccess(access('records:2257:write'), {
    method: 'post',
    path: '/records/retention-events',
    tags,
    summary: 'Record that the producer ceased business or the organisation dissolved: every record is kept at least 5 years after that date (28 CFR 75.4)',
    request: { headers: PurposeHeader, body: jsonBody(RetentionEventBody) },
    responses: { 201: json('Recorded; records extended', z.object({ event: RetentionEvent, extended_records: z.number().int() })), ...problemResponses(400, 401, 403, 415, 422) },
  }),
)

const retentionEventsRoute = createRoute(
  withAccess(access('records:2257:read'), {
    method: 'get',
    path: '/records/retention-events',
    tags,
    summary: 'The recorded cessation and dissolution events and the retention floor they set',
    request: { headers: PurposeHeader },
    responses: { 200: json('Events', z.object({ items: z.array(RetentionEvent) })), ...problemResponses(400, 401, 403) },
  }),
)

const eventJson = (e: RetentionEventRow) => ({ id: e.id, kind: e.kind, effective_on: e.effective_on, keeps_until: iso(cessationFloor(e.effective_on)), note: e.note, recorded_by: e.recorded_by, recorded_at: iso(e.recorded_at_ms) })

const exportRoute = createRoute(
  withAccess(access('records:2257:export'), {
    method: 'post',
    path: '/records/exports',
    tags,
    summary: "Build the inspection archive (zip) for one brand's custodian or all; stored sealed in the vault; answers a short-lived download path",
    request: { headers: PurposeHeader, body: jsonBody(ExportBody) },
    responses: {
      201: json(
        'Built',
        z.object({ export_id: z.string(), download_path: z.string(), expires_at: z.string(), sha256: z.string(), manifest_sha256: z.string(), bytes: z.number().int(), performers: z.number().int(), files: z.number().int() }),
      ),
      ...problemResponses(400, 401, 403, 409, 415, 422),
    },
  }),
)

const downloadRoute = createRoute(
  withAccess(access('records:2257:export'), {
    method: 'get',
    path: '/records/exports/{id}',
    tags,
    summary: 'Download an inspection archive through the signed, short-lived path the export answered (same caller only)',
    request: { headers: PurposeHeader, params: z.object({ id: z.string().regex(/^vob_[0-9A-HJKMNP-TV-Z]{26}$/) }), query: z.object({ expires: z.coerce.number().int(), sig: z.string().min(10).max(100) }) },
    responses: { 200: { description: 'The zip archive', content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problemResponses(400, 401, 403, 404) },
  }),
)

const DOWNLOAD_TTL_S = 15 * 60
const DOWNLOAD_LABEL = 'fanz/vault/2257/export-download/v1'

async function downloadSignature(masterKey: string, exportId: string, expiresS: number, subject: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(await derivedSecret(masterKey, DOWNLOAD_LABEL)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(`${exportId}.${expiresS}.${subject}`))))
}

function inspectionPurpose(c: Context<AppEnv>): VaultPurpose {
  const purpose = requirePurpose(c)
  if (purpose.code !== 'inspection') {
    throw new ProblemError('BAD_REQUEST', { detail: 'an inspection export states the purpose inspection', errors: [{ path: 'header.vault-purpose', message: 'must be inspection' }] })
  }
  return purpose
}

/**
 * One `records.performer.export` entry per exported record, appended in batches, so each record's
 * own access log (subject `performer:<id>`) shows every export that carried it.
 */
async function auditExportedRecords(c: Context<AppEnv>, exportId: string, performerIds: string[], purpose: VaultPurpose): Promise<void> {
  const auth = c.var.auth
  const details = canonicalJson({ export_id: exportId, purpose: purpose.code, purpose_note: purpose.note })
  for (let i = 0; i < performerIds.length; i += 200) {
    await auditLog(c.env).append(
      performerIds.slice(i, i + 200).map((id) => ({
        action: 'records.performer.export',
        subject: subjectOf(id),
        actor: auth?.subject ?? 'anonymous',
        actorRoles: auth?.roles ?? [],
        requestId: c.var.requestId ?? null,
        brand: c.var.brand?.slug ?? null,
        details,
      })),
    )
  }
}

export function registerRecords(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createRouteDef, async (c) => {
    const purpose = requirePurpose(c)
    const body = c.req.valid('json')
    const row = await createPerformer(c.env, c.var.config.signingMasterKey, actorOf(c), {
      custodianBrandId: body.custodian_brand_id,
      dataRegion: body.data_region,
      userId: body.user_id,
      kycVerificationId: body.kyc_verification_id,
      content: body.content,
    })
    await vaultAudit(c, 'records.performer.create', subjectOf(row.id), purpose, { version: 1, custodian_brand_id: row.custodian_brand_id, data_region: row.data_region, retain_until_ms: row.retain_until_ms })
    return c.json(summary(row), 201)
  })

  app.openapi(readRoute, async (c) => {
    const purpose = requirePurpose(c)
    const { id } = c.req.valid('param')
    const { version: asked } = c.req.valid('query')
    const row = await performerOr404(c.env.DB, id)
    const version = asked ?? row.current_version
    const record = await contentAt(c.env, id, version)
    const [versions, media, urls, erasures] = await Promise.all([versionsOf(c.env.DB, id), mediaOf(c.env.DB, id), urlsOf(c.env.DB, id), erasureRequestsOf(c.env.DB, id)])
    await vaultAudit(c, 'records.performer.read', subjectOf(id), purpose, { version })
    return c.json(
      {
        ...summary(row),
        user_id: row.user_id,
        kyc_verification_id: row.kyc_verification_id,
        version,
        record: record as unknown as Record<string, unknown>,
        versions: versions.map((v) => ({ version: v.version, reason: v.reason, amended_by: v.amended_by, created_at: iso(v.created_at_ms), object_id: v.object_id })),
        media: media.map((m) => ({
          media_id: m.media_id,
          brand_id: m.brand_id,
          title: m.title,
          production_date: m.production_date,
          urls: urls.get(m.media_id) ?? (JSON.parse(m.urls_json) as string[]),
          consent_object_id: m.consent_object_id,
          model_release_object_id: m.release_object_id,
          primary_producer: m.primary_producer_json ? (JSON.parse(m.primary_producer_json) as { name: string; address: string }) : null,
          linked_by: m.linked_by,
          linked_at: iso(m.linked_at_ms),
        })),
        erasure_requests: erasures.map((e) => ({ id: e.id, received: iso(e.created_at_ms), retention_basis: e.retention_basis })),
      },
      200,
    )
  })

  app.openapi(amendRoute, async (c) => {
    const purpose = requirePurpose(c)
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const { row, version } = await amendPerformer(c.env, c.var.config.signingMasterKey, actorOf(c), id, { reason: body.reason, ...(body.content ? { content: body.content } : {}), ...(body.patch ? { patch: body.patch } : {}) })
    await vaultAudit(c, 'records.performer.amend', subjectOf(id), purpose, {
      version,
      mode: body.content ? 'content' : 'patch',
      fields: Object.keys(body.content ?? body.patch ?? {}),
      retain_until_ms: row.retain_until_ms,
    })
    return c.json(summary(row), 201)
  })

  app.openapi(mediaRoute, async (c) => {
    const purpose = requirePurpose(c)
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const { media, retainUntilMs } = await linkMedia(c.env, actorOf(c), id, body)
    await vaultAudit(c, 'records.media.link', subjectOf(id), purpose, { media_id: media.media_id, brand_id: media.brand_id, production_date: media.production_date, urls: JSON.parse(media.urls_json) as string[], consent_object_id: media.consent_object_id, release_object_id: media.release_object_id })
    return c.json(
      {
        performer_id: id,
        media: {
          media_id: media.media_id,
          brand_id: media.brand_id,
          title: media.title,
          production_date: media.production_date,
          urls: JSON.parse(media.urls_json) as string[],
          consent_object_id: media.consent_object_id,
          model_release_object_id: media.release_object_id,
          primary_producer: media.primary_producer_json ? (JSON.parse(media.primary_producer_json) as { name: string; address: string }) : null,
          linked_by: media.linked_by,
          linked_at: iso(media.linked_at_ms),
        },
        retain_until: iso(retainUntilMs),
      },
      201,
    )
  })

  app.openapi(searchRoute, async (c) => {
    const purpose = requirePurpose(c)
    const q = c.req.valid('query')
    const items = await search(c.env.DB, c.var.config.signingMasterKey, q)
    const by = q.legal_name !== undefined ? 'legal_name' : q.alias !== undefined ? 'alias' : q.title !== undefined ? 'title' : 'url'
    // names stay out of the log; titles and URLs are public
    await vaultAudit(c, 'records.performer.search', 'performer_records', purpose, {
      by,
      match: q.match,
      ...(by === 'title' ? { title: q.title! } : by === 'url' ? { url: q.url! } : {}),
      performer_ids: [...new Set(items.map((i) => i.performer_id))],
    })
    return c.json({ items }, 200)
  })

  app.openapi(deleteRoute, async (c) => {
    const purpose = requirePurpose(c)
    const { id } = c.req.valid('param')
    const row = await performerOr404(c.env.DB, id)
    const now = Date.now()
    if (row.retain_until_ms > now) {
      await vaultAudit(c, 'records.performer.delete_refused', subjectOf(id), purpose, { retain_until_ms: row.retain_until_ms })
      throw new ProblemError('CONFLICT', {
        detail: `performer record ${id} is inside its retention period until ${iso(row.retain_until_ms)} (28 CFR 75.4: 7 years from creation or last amendment); it cannot be deleted`,
        extensions: { retain_until: iso(row.retain_until_ms), basis: '28 CFR 75.4' },
      })
    }
    const { destroyedObjects } = await deleteAfterRetention(c.env, id, now)
    await vaultAudit(c, 'records.performer.delete', subjectOf(id), purpose, { retain_until_ms: row.retain_until_ms, destroyed_objects: destroyedObjects })
    return c.json({ id, deleted: true as const, destroyed_objects: destroyedObjects }, 200)
  })

  app.openapi(retentionEventRoute, async (c) => {
    const purpose = requirePurpose(c)
    const body = c.req.valid('json')
    const recorded = await recordCessation(c.env.DB, { kind: body.kind, effectiveOn: body.effective_on, note: body.note, actor: actorOf(c) })
    await vaultAudit(c, 'records.retention.cessation', `records_retention_event:${recorded.event.id}`, purpose, { kind: body.kind, effective_on: body.effective_on, keeps_until: iso(recorded.floorMs), extended_records: recorded.extended })
    return c.json({ event: eventJson(recorded.event), extended_records: recorded.extended }, 201)
  })

  app.openapi(retentionEventsRoute, async (c) => {
    const purpose = requirePurpose(c)
    const items = (await retentionEvents(c.env.DB)).map(eventJson)
    await vaultAudit(c, 'records.retention.list', 'records_retention_events', purpose, { count: items.length })
    return c.json({ items }, 200)
  })

  app.openapi(erasureRoute, async (c) => {
    const purpose = requirePurpose(c)
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const answer = await recordErasure(c.env, actorOf(c), id, body)
    await vaultAudit(c, 'records.erasure.request', subjectOf(id), purpose, { request_id: answer.request_id, regime: body.regime, decision: answer.decision, retain_until: answer.retain_until, legal_basis: ERASURE_BASIS[body.regime] })
    return c.json(answer as unknown as Record<string, unknown>, 201)
  })

  app.openapi(exportRoute, async (c) => {
    const purpose = inspectionPurpose(c)
    const { brand_id } = c.req.valid('json')
    const now = Date.now()
    const archive = await buildInspectionArchive(c.env, brand_id, now)
    const regions = brand_id
      ? await c.env.DB.prepare("SELECT count(*) AS n FROM performer_records WHERE data_region = 'eu' AND custodian_brand_id = ?").bind(brand_id).first<{ n: number }>()
      : await c.env.DB.prepare("SELECT count(*) AS n FROM performer_records WHERE data_region = 'eu'").first<{ n: number }>()
    // the archive holds every exported record's personal data: sealed like the records themselves, in
    // the EU bucket as soon as one EU performer is in it
    const stored = await putSealed(
      c.env,
      {
        recordType: 'inspection_export',
        recordId: brand_id ?? 'all',
        kind: 'inspection_archive',
        contentType: 'application/zip',
        bytes: archive.bytes,
        region: (regions?.n ?? 0) > 0 ? 'eu' : 'global',
        createdBy: actorOf(c),
        retentionBasis: 'copy of 2257 records produced for an inspection; the records themselves carry the retention',
      },
      now,
    )
    const expiresS = Math.floor(now / 1000) + DOWNLOAD_TTL_S
    const sig = await downloadSignature(c.var.config.signingMasterKey, stored.id, expiresS, actorOf(c))
    await vaultAudit(c, 'records.export.create', `inspection_export:${stored.id}`, purpose, {
      scope: brand_id ?? 'all',
      performers: archive.performers,
      files: archive.files,
      sha256: stored.sha256Hex,
      manifest_sha256: archive.manifestSha256,
    })
    await auditExportedRecords(c, stored.id, archive.performerIds, purpose)
    return c.json(
      {
        export_id: stored.id,
        download_path: `/api/vault/records/exports/${stored.id}?expires=${expiresS}&sig=${sig}`,
        expires_at: iso(expiresS * 1000),
        sha256: stored.sha256Hex,
        manifest_sha256: archive.manifestSha256,
        bytes: stored.byteLength,
        performers: archive.performers,
        files: archive.files,
      },
      201,
    )
  })

  app.openapi(downloadRoute, async (c) => {
    const purpose = inspectionPurpose(c)
    const { id } = c.req.valid('param')
    const { expires, sig } = c.req.valid('query')
    const expected = await downloadSignature(c.var.config.signingMasterKey, id, expires, actorOf(c))
    // a link of another caller, an altered one and an expired one all look like no link at all
    if (!timingSafeEqualText(sig, expected)) throw new ProblemError('NOT_FOUND', { detail: 'no such download link for this caller' })
    if (expires * 1000 < Date.now()) throw new ProblemError('NOT_FOUND', { detail: 'the download link has expired; build a new export' })
    const object = await sealedObject(c.env, id)
    if (!object || object.recordType !== 'inspection_export') throw new ProblemError('NOT_FOUND', { detail: `no inspection export ${id}` })
    const bytes = await openSealed(c.env, object)
    await vaultAudit(c, 'records.export.download', `inspection_export:${id}`, purpose, { sha256: object.sha256Hex, bytes: object.byteLength })
    return new Response(bytes, {
      status: 200,
      headers: { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="2257-inspection-${id}.zip"`, 'cache-control': 'no-store', 'x-content-sha256': object.sha256Hex },
    }) as never
  })
}
