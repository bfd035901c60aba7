/**
 * 2257 performer records in D1 + the vault: create, amend (a new sealed version; nothing is ever
 * rewritten), read any version, link depictions, search, retention and erasure requests. Callers
 * (api.ts) check access and audit; this module keeps the record rules.
 * @module
 */
import { ProblemError } from '../../edge/problem'
import { fromBase64url } from '../../lib/encoding'
import { newId } from '../../lib/ids'
import { openSealedJson, putSealed, putSealedJson, sealedObject, type DataRegion, type VaultObject } from '../store'
import { blindIndex, indexEntries } from './blind-index'
import { retentionFloorMs } from './cessation'
import {
  ageOn,
  assertNoProblems,
  normaliseName,
  PerformerRecordContent,
  recordProblems,
  type ContentInput,
  type ContentPatch,
  type StoredCopy,
} from './content'

export const RECORD_TYPE = 'performer_record'
export const RETENTION_BASIS = '28 CFR 75.4: 18 U.S.C. 2257 records are kept 7 years from creation or the last amendment or addition'
export const RETENTION_YEARS = 7

export interface PerformerRow {
  id: string
  user_id: string | null
  current_version: number
  kyc_verification_id: string | null
  custodian_brand_id: string
  data_region: DataRegion
  created_at_ms: number
  last_amended_at_ms: number
  retain_until_ms: number
}

export interface VersionRow {
  performer_id: string
  version: number
  object_id: string
  reason: string
  amended_by: string
  created_at_ms: number
}

export interface MediaRow {
  performer_id: string
  media_id: string
  brand_id: string
  title: string
  production_date: string
  urls_json: string
  consent_object_id: string
  release_object_id: string
  primary_producer_json: string | null
  linked_by: string
  linked_at_ms: number
}

/** max(created, last amended) + 7 calendar years. */
export function retainUntil(createdAtMs: number, lastAmendedAtMs: number): number {
  const d = new Date(Math.max(createdAtMs, lastAmendedAtMs))
  d.setUTCFullYear(d.getUTCFullYear() + RETENTION_YEARS)
  return d.getTime()
}

export async function performerOr404(db: D1Database, id: string): Promise<PerformerRow> {
  const row = await db.prepare('SELECT * FROM performer_records WHERE id = ?').bind(id).first<PerformerRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no performer record ${id}` })
  return row
}

export async function brandOr422(db: D1Database, brandId: string, path: string): Promise<{ id: string; slug: string; name: string; primary_domain: string; custodian_json: string }> {
  const row = await db.prepare('SELECT id, slug, name, primary_domain, custodian_json FROM brands WHERE id = ?').bind(brandId).first<{ id: string; slug: string; name: string; primary_domain: string; custodian_json: string }>()
  if (!row) throw new ProblemError('VALIDATION_FAILED', { detail: `no brand ${brandId}`, errors: [{ path, message: 'no such brand' }] })
  return row
}

interface SealContext {
  env: Env
  performerId: string
  region: DataRegion
  actor: string
  retainUntilMs: number
  nowMs: number
}

type CopyInput = ContentInput['id_document']['copies'][number]

/** Inline bytes are sealed under this record; an existing vault object is referenced with its integrity. */
async function storedObject(ctx: SealContext, input: { object_id: string } | { content_type: string; content_base64: string }, kind: string, path: string): Promise<VaultObject> {
  if ('object_id' in input) {
    const row = await sealedObject(ctx.env, input.object_id)
    if (!row || row.destroyedAtMs) throw new ProblemError('VALIDATION_FAILED', { detail: `no vault object ${input.object_id}`, errors: [{ path: `${path}.object_id`, message: 'no such vault object' }] })
    return row
  }
  let bytes: Uint8Array
  try {
    bytes = fromBase64url(input.content_base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))
  } catch {
    throw new ProblemError('VALIDATION_FAILED', { detail: 'content_base64 is not base64', errors: [{ path: `${path}.content_base64`, message: 'not base64' }] })
  }
  if (bytes.length === 0) throw new ProblemError('VALIDATION_FAILED', { detail: 'empty document', errors: [{ path: `${path}.content_base64`, message: 'empty' }] })
  return putSealed(
    ctx.env,
    { recordType: RECORD_TYPE, recordId: ctx.performerId, kind, contentType: input.content_type, bytes, region: ctx.region, createdBy: ctx.actor, retainUntilMs: ctx.retainUntilMs, retentionBasis: RETENTION_BASIS },
    ctx.nowMs,
  )
}

async function storeCopies(ctx: SealContext, copies: CopyInput[], path: string): Promise<StoredCopy[]> {
  const out: StoredCopy[] = []
  for (const [i, copy] of copies.entries()) {
    const row = await storedObject(ctx, copy, `id_document_${copy.side}`, `${path}.${i}`)
    out.push({ side: copy.side, object_id: row.id, sha256: row.sha256Hex, content_type: row.contentType, byte_length: row.byteLength })
  }
  return out
}

/** Validates first with the declared copy sides, so nothing is sealed for a record that will be refused. */
function precheck(content: Omit<PerformerRecordContent, 'id_document'> & { id_document: ContentInput['id_document'] | PerformerRecordContent['id_document'] }, productionDates: string[], prefix: string, nowMs: number) {
  const probe = { ...content, id_document: { ...content.id_document, copies: content.id_document.copies.map((c) => ({ side: c.side, object_id: '', sha256: '', content_type: '', byte_length: 0 })) } }
  assertNoProblems(recordProblems(probe, productionDates, prefix, nowMs))
}

function dedupeAliases(aliases: string[]): string[] {
  const seen = new Set<string>()
  return aliases.filter((a) => {
    const k = normaliseName(a)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

async function nameIndexStatements(db: D1Database, masterKey: string, performerId: string, content: PerformerRecordContent, version: number): Promise<D1PreparedStatement[]> {
  // INSERT OR IGNORE: a name already indexed keeps the version that introduced it; nothing is removed
  return (await indexEntries(masterKey, content)).map((e) =>
    db.prepare('INSERT OR IGNORE INTO performer_name_index (performer_id, kind, blind_index, since_version) VALUES (?, ?, ?, ?)').bind(performerId, e.kind, e.blindIndex, version),
  )
}

/** Every vault object the record relies on carries the record's retention (referenced uploads included). */
function retentionStatements(db: D1Database, performerId: string, objectIds: string[], retainUntilMs: number): D1PreparedStatement[] {
  const stmts = [
    db
      // a basis that also answers an erasure request is kept as it is (it starts with the 75.4 basis)
      .prepare(
        "UPDATE vault_objects SET retain_until_ms = ?, retention_basis = CASE WHEN retention_basis LIKE '%erasure request%' THEN retention_basis ELSE ? END WHERE record_type = ? AND record_id = ? AND kind != 'erasure_request' AND (retain_until_ms IS NULL OR retain_until_ms < ?)",
      )
      .bind(retainUntilMs, RETENTION_BASIS, RECORD_TYPE, performerId, retainUntilMs),
  ]
  for (const id of objectIds) {
    stmts.push(db.prepare('UPDATE vault_objects SET retain_until_ms = ?, retention_basis = ? WHERE id = ? AND (retain_until_ms IS NULL OR retain_until_ms < ?)').bind(retainUntilMs, RETENTION_BASIS, id, retainUntilMs))
  }
  return stmts
}

export interface CreateInput {
  custodianBrandId: string
  dataRegion: DataRegion
  userId: string | null
  kycVerificationId: string | null
  content: ContentInput
}

export async function createPerformer(env: Env, masterKey: string, actor: string, input: CreateInput, nowMs = Date.now()): Promise<PerformerRow> {
  await brandOr422(env.DB, input.custodianBrandId, 'body.custodian_brand_id')
  if (input.kycVerificationId) {
    const kyc = await env.DB.prepare('SELECT id FROM kyc_verifications WHERE id = ?').bind(input.kycVerificationId).first()
    if (!kyc) throw new ProblemError('VALIDATION_FAILED', { detail: `no KYC verification ${input.kycVerificationId}`, errors: [{ path: 'body.kyc_verification_id', message: 'no such KYC verification' }] })
  }
  const content = { ...input.content, aliases: dedupeAliases(input.content.aliases) }
  precheck(content, [], 'body.content', nowMs)
  const id = newId('performer', nowMs)
  const retain = Math.max(retainUntil(nowMs, nowMs), await retentionFloorMs(env.DB))
  const ctx: SealContext = { env, performerId: id, region: input.dataRegion, actor, retainUntilMs: retain, nowMs }
  const copies = await storeCopies(ctx, content.id_document.copies, 'body.content.id_document.copies')
  const sealedContent = PerformerRecordContent.parse({ ...content, id_document: { ...content.id_document, copies } })
  const object = await putSealedJson(env, { recordType: RECORD_TYPE, recordId: id, kind: 'record_json', value: sealedContent, region: input.dataRegion, createdBy: actor, retainUntilMs: retain, retentionBasis: RETENTION_BASIS }, nowMs)
  const row: PerformerRow = {
    id,
    user_id: input.userId,
    current_version: 1,
    kyc_verification_id: input.kycVerificationId,
    custodian_brand_id: input.custodianBrandId,
    data_region: input.dataRegion,
    created_at_ms: nowMs,
    last_amended_at_ms: nowMs,
    retain_until_ms: retain,
  }
  await env.DB.batch([
    env.DB.prepare(
      'INSERT INTO performer_records (id, user_id, current_version, kyc_verification_id, custodian_brand_id, data_region, created_at_ms, last_amended_at_ms, retain_until_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).bind(row.id, row.user_id, 1, row.kyc_verification_id, row.custodian_brand_id, row.data_region, nowMs, nowMs, retain),
    env.DB.prepare('INSERT INTO performer_record_versions (performer_id, version, object_id, reason, amended_by, created_at_ms) VALUES (?, 1, ?, ?, ?, ?)').bind(id, object.id, 'created', actor, nowMs),
    ...(await nameIndexStatements(env.DB, masterKey, id, sealedContent, 1)),
    ...retentionStatements(env.DB, id, copies.map((c) => c.object_id), retain),
  ])
  return row
}

export async function versionRow(db: D1Database, performerId: string, version: number): Promise<VersionRow> {
  const row = await db.prepare('SELECT * FROM performer_record_versions WHERE performer_id = ? AND version = ?').bind(performerId, version).first<VersionRow>()
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `performer record ${performerId} has no version ${version}` })
  return row
}

export async function versionsOf(db: D1Database, performerId: string): Promise<VersionRow[]> {
  return (await db.prepare('SELECT * FROM performer_record_versions WHERE performer_id = ? ORDER BY version').bind(performerId).all<VersionRow>()).results
}

export async function contentAt(env: Env, performerId: string, version: number): Promise<PerformerRecordContent> {
  const v = await versionRow(env.DB, performerId, version)
  const object = await sealedObject(env, v.object_id)
  if (!object) throw new Error(`record version ${performerId}@${version} points at a missing vault object ${v.object_id}`)
  return PerformerRecordContent.parse(await openSealedJson(env, object))
}

export async function mediaOf(db: D1Database, performerId: string): Promise<MediaRow[]> {
  return (await db.prepare('SELECT * FROM performer_media WHERE performer_id = ? ORDER BY production_date, linked_at_ms').bind(performerId).all<MediaRow>()).results
}

/** URLs per media item from the cross-index table (a URL added later appears here too). */
export async function urlsOf(db: D1Database, performerId: string): Promise<Map<string, string[]>> {
  const rows = (await db.prepare('SELECT media_id, url FROM performer_media_urls WHERE performer_id = ? ORDER BY url').bind(performerId).all<{ media_id: string; url: string }>()).results
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.media_id, [...(out.get(r.media_id) ?? []), r.url])
  return out
}

export interface AmendInput {
  reason: string
  content?: ContentInput
  patch?: ContentPatch
}

/** A new version. Aliases only accumulate; a changed legal name becomes an alias (R4: every name ever used). */
export async function amendPerformer(env: Env, masterKey: string, actor: string, performerId: string, input: AmendInput, nowMs = Date.now()): Promise<{ row: PerformerRow; version: number; content: PerformerRecordContent }> {
  const row = await performerOr404(env.DB, performerId)
  const previous = await contentAt(env, performerId, row.current_version)
  const prefix = input.content ? 'body.content' : 'body.patch'
  let next: Omit<PerformerRecordContent, 'id_document'> & { id_document: ContentInput['id_document'] | PerformerRecordContent['id_document'] }
  if (input.content) {
    const kept = new Set(input.content.aliases.map(normaliseName))
    const dropped = previous.aliases.filter((a) => !kept.has(normaliseName(a)))
    if (dropped.length) {
      throw new ProblemError('VALIDATION_FAILED', {
        detail: `aliases are never removed from a 2257 record (R4: every name ever used); ${dropped.length} earlier alias(es) missing`,
        errors: [{ path: 'body.content.aliases', message: `must keep every earlier alias (${dropped.length} missing)` }],
      })
    }
    next = input.content
  } else {
    const patch = input.patch ?? {}
    const { add_aliases, ...fields } = patch
    next = { ...previous, ...fields, aliases: [...previous.aliases, ...(add_aliases ?? [])] }
  }
  const oldName = previous.legal_name
  const newName = next.legal_name
  const renamed = normaliseName([oldName.first, oldName.middle, oldName.last].join(' ')) !== normaliseName([newName.first, newName.middle, newName.last].join(' '))
  const formerName = [oldName.first, oldName.middle, oldName.last].filter(Boolean).join(' ')
  next = { ...next, aliases: dedupeAliases([...next.aliases, ...(renamed ? [formerName] : [])]) }
  const productionDates = (await mediaOf(env.DB, performerId)).map((m) => m.production_date)
  precheck(next, productionDates, prefix, nowMs)

  const version = row.current_version + 1
  const retain = Math.max(retainUntil(row.created_at_ms, nowMs), await retentionFloorMs(env.DB))
  const ctx: SealContext = { env, performerId, region: row.data_region, actor, retainUntilMs: retain, nowMs }
  const idDoc = next.id_document
  const copies: StoredCopy[] =
    idDoc === previous.id_document ? previous.id_document.copies : await storeCopies(ctx, idDoc.copies as CopyInput[], `${prefix}.id_document.copies`)
  const content = PerformerRecordContent.parse({ ...next, id_document: { ...idDoc, copies } })
  const object = await putSealedJson(env, { recordType: RECORD_TYPE, recordId: performerId, kind: 'record_json', value: content, region: row.data_region, createdBy: actor, retainUntilMs: retain, retentionBasis: RETENTION_BASIS }, nowMs)
  try {
    await env.DB.batch([
      env.DB.prepare('INSERT INTO performer_record_versions (performer_id, version, object_id, reason, amended_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').bind(performerId, version, object.id, input.reason, actor, nowMs),
      env.DB.prepare('UPDATE performer_records SET current_version = ?, last_amended_at_ms = ?, retain_until_ms = ? WHERE id = ? AND current_version = ?').bind(version, nowMs, retain, performerId, row.current_version),
      ...(await nameIndexStatements(env.DB, masterKey, performerId, content, version)),
      ...retentionStatements(env.DB, performerId, copies.map((c) => c.object_id), retain),
    ])
  } catch (error) {
    if (String(error).includes('UNIQUE constraint failed')) throw new ProblemError('CONFLICT', { detail: `performer record ${performerId} was amended at the same time; read it again and retry` })
    throw error
  }
  return { row: { ...row, current_version: version, last_amended_at_ms: nowMs, retain_until_ms: retain }, version, content }
}

export interface MediaInput {
  media_id: string
  brand_id: string
  title: string
  production_date: string
  urls: string[]
  consent: { object_id: string } | { content_type: string; content_base64: string }
  model_release: { object_id: string } | { content_type: string; content_base64: string }
  primary_producer?: { name: string; address: string } | null | undefined
}

/** Links a depiction (R5, R6, R12): refused when the performer was under 18 on its production date. */
export async function linkMedia(env: Env, actor: string, performerId: string, input: MediaInput, nowMs = Date.now()): Promise<{ media: MediaRow; retainUntilMs: number }> {
  const row = await performerOr404(env.DB, performerId)
  await brandOr422(env.DB, input.brand_id, 'body.brand_id')
  const content = await contentAt(env, performerId, row.current_version)
  const errors = []
  const age = ageOn(content.date_of_birth, input.production_date)
  if (age < 18) errors.push({ path: 'body.production_date', message: `the performer was ${age < 0 ? 'not yet born' : `${age}`} on ${input.production_date}: under 18, the depiction cannot be linked` })
  if (input.production_date > new Date(nowMs).toISOString().slice(0, 10)) errors.push({ path: 'body.production_date', message: 'is in the future' })
  const expiry = content.id_document.expires_on
  if (expiry && input.production_date > expiry) {
    errors.push({ path: 'body.production_date', message: `the examined ID expired on ${expiry}, before this production: amend the record with a current ID first` })
  }
  const producer = input.primary_producer ?? content.primary_producer
  if (content.producer_role === 'secondary' && !producer) errors.push({ path: 'body.primary_producer', message: 'a secondary producer records the primary producer (28 CFR 75.2(b))' })
  assertNoProblems(errors)
  const existing = await env.DB.prepare('SELECT 1 AS x FROM performer_media WHERE performer_id = ? AND media_id = ?').bind(performerId, input.media_id).first()
  if (existing) throw new ProblemError('CONFLICT', { detail: `media ${input.media_id} is already linked to ${performerId}; links are append-only` })

  const retain = Math.max(retainUntil(row.created_at_ms, nowMs), await retentionFloorMs(env.DB))
  const ctx: SealContext = { env, performerId, region: row.data_region, actor, retainUntilMs: retain, nowMs }
  const consent = await storedObject(ctx, input.consent, 'consent', 'body.consent')
  const release = await storedObject(ctx, input.model_release, 'model_release', 'body.model_release')
  const urls = [...new Set(input.urls)]
  const media: MediaRow = {
    performer_id: performerId,
    media_id: input.media_id,
    brand_id: input.brand_id,
    title: input.title,
    production_date: input.production_date,
    urls_json: JSON.stringify(urls),
    consent_object_id: consent.id,
    release_object_id: release.id,
    primary_producer_json: producer ? JSON.stringify(producer) : null,
    linked_by: actor,
    linked_at_ms: nowMs,
  }
  try {
    await env.DB.batch([
      env.DB.prepare(
        'INSERT INTO performer_media (performer_id, media_id, brand_id, title, production_date, urls_json, consent_object_id, release_object_id, primary_producer_json, linked_by, linked_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).bind(performerId, media.media_id, media.brand_id, media.title, media.production_date, media.urls_json, media.consent_object_id, media.release_object_id, media.primary_producer_json, actor, nowMs),
      ...urls.map((u) => env.DB.prepare('INSERT OR IGNORE INTO performer_media_urls (url, performer_id, media_id) VALUES (?, ?, ?)').bind(u, performerId, media.media_id)),
      // an addition to the record restarts its 7 years (75.4)
      env.DB.prepare('UPDATE performer_records SET last_amended_at_ms = ?, retain_until_ms = ? WHERE id = ?').bind(nowMs, retain, performerId),
      ...retentionStatements(env.DB, performerId, [consent.id, release.id], retain),
    ])
  } catch (error) {
    if (String(error).includes('UNIQUE constraint failed')) throw new ProblemError('CONFLICT', { detail: `media ${input.media_id} is already linked to ${performerId}` })
    throw error
  }
  return { media, retainUntilMs: retain }
}

export interface SearchHit {
  performer_id: string
  custodian_brand_id: string
  matched: 'legal_name' | 'alias' | 'title' | 'url'
  media_id?: string
  title?: string
  url?: string
}

function likePrefix(value: string): string {
  return value.replace(/[\\%_]/g, (m) => `\\${m}`) + '%'
}

export async function search(db: D1Database, masterKey: string, q: { legal_name?: string; alias?: string; title?: string; url?: string; match: 'exact' | 'prefix' }): Promise<SearchHit[]> {
  if (q.legal_name !== undefined || q.alias !== undefined) {
    const kind = q.legal_name !== undefined ? 'legal_name' : 'alias'
    const bi = await blindIndex(masterKey, (q.legal_name ?? q.alias)!)
    const rows = await db
      .prepare('SELECT DISTINCT n.performer_id, p.custodian_brand_id FROM performer_name_index n JOIN performer_records p ON p.id = n.performer_id WHERE n.blind_index = ? AND n.kind = ? ORDER BY n.performer_id')
      .bind(bi, kind)
      .all<{ performer_id: string; custodian_brand_id: string }>()
    return rows.results.map((r) => ({ ...r, matched: kind }))
  }
  if (q.title !== undefined) {
    const where = q.match === 'prefix' ? "m.title LIKE ? ESCAPE '\\'" : 'm.title = ?'
    const rows = await db
      .prepare(`SELECT m.performer_id, p.custodian_brand_id, m.media_id, m.title FROM performer_media m JOIN performer_records p ON p.id = m.performer_id WHERE ${where} ORDER BY m.title, m.performer_id LIMIT 500`)
      .bind(q.match === 'prefix' ? likePrefix(q.title) : q.title)
      .all<{ performer_id: string; custodian_brand_id: string; media_id: string; title: string }>()
    return rows.results.map((r) => ({ ...r, matched: 'title' as const }))
  }
  const where = q.match === 'prefix' ? "u.url LIKE ? ESCAPE '\\'" : 'u.url = ?'
  const rows = await db
    .prepare(`SELECT u.performer_id, p.custodian_brand_id, u.media_id, u.url FROM performer_media_urls u JOIN performer_records p ON p.id = u.performer_id WHERE ${where} ORDER BY u.url, u.performer_id LIMIT 500`)
    .bind(q.match === 'prefix' ? likePrefix(q.url!) : q.url!)
    .all<{ performer_id: string; custodian_brand_id: string; media_id: string; url: string }>()
  return rows.results.map((r) => ({ ...r, matched: 'url' as const }))
}

/** Deletes a record whose retention has passed: sealed bytes destroyed (the vault rows stay as proof), name index dropped. */
export async function deleteAfterRetention(env: Env, performerId: string, nowMs = Date.now()): Promise<{ destroyedObjects: number }> {
  const objects = (await env.DB.prepare('SELECT * FROM vault_objects WHERE record_type = ? AND record_id = ? AND destroyed_at_ms IS NULL').bind(RECORD_TYPE, performerId).all<{ id: string; bucket: 'VAULT' | 'VAULT_EU'; r2_key: string; retain_until_ms: number | null }>()).results
  const held = objects.filter((o) => o.retain_until_ms !== null && o.retain_until_ms > nowMs)
  if (held.length) throw new ProblemError('CONFLICT', { detail: `${held.length} vault object(s) of ${performerId} are still inside their retention` })
  // the row first: the trigger is the last word on whether the record may go
  await env.DB.batch([
    env.DB.prepare('DELETE FROM performer_records WHERE id = ?').bind(performerId),
    env.DB.prepare('DELETE FROM performer_name_index WHERE performer_id = ?').bind(performerId),
    ...objects.map((o) => env.DB.prepare('UPDATE vault_objects SET destroyed_at_ms = ? WHERE id = ?').bind(nowMs, o.id)),
  ])
  for (const o of objects) await env[o.bucket].delete(o.r2_key)
  return { destroyedObjects: objects.length }
}

export const ERASURE_BASIS = {
  gdpr: 'GDPR Art. 17(3)(e) (establishment, exercise or defence of legal claims) and Art. 6(1)(f) (legitimate interest in meeting the 18 U.S.C. 2257 / 28 CFR Part 75 record-keeping duty); Art. 17(3)(b) covers only EU/Member-State law',
  ccpa: 'Cal. Civ. Code 1798.105(d): deletion exception for complying with a legal obligation (18 U.S.C. 2257; 28 CFR 75.4)',
  other: '18 U.S.C. 2257 and 28 CFR 75.4 oblige the producer to keep these records for 7 years from creation or last amendment',
} as const

/** CCPA request records are kept 24 months (11 CCR 7101). */
const REQUEST_RECORD_MS = 2 * 365 * 86_400_000

export interface ErasureInput {
  regime: 'gdpr' | 'ccpa' | 'other'
  received_at: string
  channel: string
  note?: string | undefined
}

/** Records an erasure request: nothing 2257 is erased before retain_until; the kept data and its basis are stored. */
export async function recordErasureRequest(env: Env, actor: string, performerId: string, input: ErasureInput, nowMs = Date.now()) {
  const row = await performerOr404(env.DB, performerId)
  const objects = (await env.DB.prepare('SELECT id, kind FROM vault_objects WHERE record_type = ? AND record_id = ? AND destroyed_at_ms IS NULL AND kind != ?').bind(RECORD_TYPE, performerId, 'erasure_request').all<{ id: string; kind: string }>()).results
  const versions = await versionsOf(env.DB, performerId)
  const media = await mediaOf(env.DB, performerId)
  const retentionBasis = `${RETENTION_BASIS}; erasure request refused until ${new Date(row.retain_until_ms).toISOString()} on: ${ERASURE_BASIS[input.regime]}`
  const answer = {
    performer_id: performerId,
    regime: input.regime,
    received_at: input.received_at,
    decided_at: new Date(nowMs).toISOString(),
    decision: 'kept_until_retention_ends' as const,
    retain_until: new Date(row.retain_until_ms).toISOString(),
    legal_basis: ERASURE_BASIS[input.regime],
    retention_basis: RETENTION_BASIS,
    kept: [
      { what: 'performer record versions (legal name, date of birth, aliases, examined ID and its copies, producer)', versions: versions.length },
      { what: 'depiction links (titles, production dates, URLs, consent and model release documents)', media: media.length },
      { what: 'sealed vault objects of the record', objects: objects.length },
    ],
    erased: [] as string[],
    outside_this_record:
      'marketing preferences, analytics, recommendations and optional profile data are not part of the 2257 record (it holds none, R9) and are erased by the privacy-request workflow',
  }
  const retain = Math.max(row.retain_until_ms, nowMs + REQUEST_RECORD_MS)
  const stored = await putSealedJson(
    env,
    { recordType: RECORD_TYPE, recordId: performerId, kind: 'erasure_request', value: { ...answer, channel: input.channel, note: input.note ?? null, recorded_by: actor }, region: row.data_region, createdBy: actor, retainUntilMs: retain, retentionBasis: '11 CCR 7101 / GDPR Art. 5(2): records of privacy requests and responses' },
    nowMs,
  )
  // every kept object names why it is kept
  await env.DB.prepare("UPDATE vault_objects SET retention_basis = ? WHERE record_type = ? AND record_id = ? AND kind != 'erasure_request'").bind(retentionBasis, RECORD_TYPE, performerId).run()
  return { request_id: stored.id, ...answer, retention_basis_stored: retentionBasis }
}

export async function erasureRequestsOf(db: D1Database, performerId: string) {
  return (await db.prepare("SELECT id, created_at_ms, retention_basis FROM vault_objects WHERE record_type = ? AND record_id = ? AND kind = 'erasure_request' ORDER BY created_at_ms").bind(RECORD_TYPE, performerId).all<{ id: string; created_at_ms: number; retention_basis: string }>()).results
}
