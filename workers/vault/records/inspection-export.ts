/**
 * The inspection archive (28 CFR 75.2-75.6, compliance.md §1 "An inspection export contains"):
 * one folder per performer in legal-name order (R8) with the full record at every version, the ID
 * copies at original resolution as stored, every depiction with its URLs, consent and model release;
 * the alphabetical master index and the alias, title and URL cross-indexes; the custodian of
 * records and the compliance statement of each brand; retention metadata; the audit-log extract for
 * the exported records; a statement of segregation (R9: built only from the 2257 tables and the
 * record's own vault objects, never billing or marketing data); a manifest with SHA-256 of each file.
 * @module
 */
import { strToU8, zipSync } from 'fflate'
import { z } from 'zod'
import { auditLog } from '../../compliance/audit'
import type { AuditEntry } from '../../../durable-objects/audit-log'
import { ProblemError } from '../../edge/problem'
import { sha256Hex } from '../../lib/encoding'
import { STATEMENT_2257_TITLE } from '../../site/legal'
import { openSealed, sealedObject } from '../store'
import { ageOn, displayName, isPoBox, type PerformerRecordContent } from './content'
import { contentAt, erasureRequestsOf, mediaOf, RETENTION_BASIS, urlsOf, versionsOf, type PerformerRow } from './performers'
import { CESSATION_BASIS, cessationFloor, retentionEvents } from './cessation'

const CustodianJson = z.object({ name: z.string().trim().min(1), title: z.string().trim().min(1), address: z.string().trim().min(5) })

interface BrandRow {
  id: string
  slug: string
  name: string
  primary_domain: string
  custodian_json: string
}

export interface Custodian {
  brand_id: string
  brand: string
  name: string
  title: string
  business_address: string
}

/** The custodian of records of each brand in scope; refused when incomplete or a P.O. box (R10, R13). */
export function custodianOf(brand: BrandRow): Custodian {
  const parsed = CustodianJson.safeParse(JSON.parse(brand.custodian_json))
  if (!parsed.success) throw new ProblemError('CONFLICT', { detail: `brand ${brand.slug} has no complete custodian of records {name, title, address}: set it before exporting` })
  if (isPoBox(parsed.data.address)) {
    throw new ProblemError('CONFLICT', { detail: `brand ${brand.slug}'s custodian address is a post-office box; 18 U.S.C. 2257(e) and 28 CFR 75.6 require the street address where the records are kept` })
  }
  return { brand_id: brand.id, brand: brand.slug, name: parsed.data.name, title: parsed.data.title, business_address: parsed.data.address }
}

export function complianceStatement(brand: BrandRow, custodian: Custodian): string {
  return [
    STATEMENT_2257_TITLE,
    '',
    `All persons who appear in any visual depiction of actual or simulated sexually explicit conduct on ${brand.name} were 18 years of age or older at the time the depiction was created.`,
    '',
    `The records required by 18 U.S.C. 2257 and 2257A and 28 C.F.R. Part 75 for all such depictions published on ${brand.primary_domain} are kept by the following custodian of records:`,
    '',
    custodian.name,
    custodian.title,
    custodian.business_address,
    '',
    `Each depiction is identified in the records by its title or identifier and its date of production. Creators who publish on ${brand.name} are the primary producers of their content; ${brand.name} keeps records as a secondary producer.`,
    '',
  ].join('\n')
}

function csv(rows: (string | number | null)[][]): string {
  return rows.map((r) => r.map((v) => (v === null ? '' : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v))).join(',')).join('\r\n') + '\r\n'
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/heic': 'heic', 'image/tiff': 'tif', 'application/pdf': 'pdf', 'application/json': 'json', 'text/plain': 'txt' }
const extOf = (contentType: string) => EXT[contentType] ?? 'bin'
const slug = (s: string) => s.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'x'
const iso = (ms: number) => new Date(ms).toISOString()
const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true })

interface Loaded {
  row: PerformerRow
  content: PerformerRecordContent
}

export interface ExportResult {
  bytes: Uint8Array
  performers: number
  performerIds: string[]
  files: number
  manifestSha256: string
}

async function accessLog(env: Env, subjects: string[]): Promise<AuditEntry[]> {
  const log = auditLog(env)
  const out: AuditEntry[] = []
  for (const subject of subjects) {
    let after = 0
    for (;;) {
      const page = await log.list({ subject, afterSeq: after, limit: 500 })
      out.push(...page)
      if (page.length < 500) break
      after = page.at(-1)!.seq
    }
  }
  return out.sort((a, b) => a.seq - b.seq)
}

/** Builds the archive for one brand's custodian (`brandId`) or every brand (`null`). */
export async function buildInspectionArchive(env: Env, brandId: string | null, nowMs = Date.now()): Promise<ExportResult> {
  const brands = (await env.DB.prepare('SELECT id, slug, name, primary_domain, custodian_json FROM brands ORDER BY slug').all<BrandRow>()).results
  const inScope = brandId ? brands.filter((b) => b.id === brandId) : brands
  if (brandId && !inScope.length) throw new ProblemError('VALIDATION_FAILED', { detail: `no brand ${brandId}`, errors: [{ path: 'body.brand_id', message: 'no such brand' }] })
  const custodians = new Map(inScope.map((b) => [b.id, custodianOf(b)]))
  const brandById = new Map(brands.map((b) => [b.id, b]))

  const rows = (
    brandId
      ? await env.DB.prepare('SELECT * FROM performer_records WHERE custodian_brand_id = ?').bind(brandId).all<PerformerRow>()
      : await env.DB.prepare('SELECT * FROM performer_records').all<PerformerRow>()
  ).results
  const loaded: Loaded[] = []
  for (const row of rows) loaded.push({ row, content: await contentAt(env, row.id, row.current_version) })
  // R8: by legal last name, then first name (then middle, then record id for a stable order)
  loaded.sort(
    (a, b) =>
      collator.compare(a.content.legal_name.last, b.content.legal_name.last) ||
      collator.compare(a.content.legal_name.first, b.content.legal_name.first) ||
      collator.compare(a.content.legal_name.middle ?? '', b.content.legal_name.middle ?? '') ||
      a.row.id.localeCompare(b.row.id),
  )

  const files: Record<string, Uint8Array> = {}
  const put = (path: string, data: Uint8Array | string) => {
    files[path] = typeof data === 'string' ? strToU8(data) : data
  }
  const putJson = (path: string, value: unknown) => put(path, JSON.stringify(value, null, 2) + '\n')

  const master: Array<Record<string, string | number | null>> = []
  const aliasIndex: Array<{ alias: string; legal_name: string; record_id: string; folder: string }> = []
  const titleIndex = new Map<string, Array<{ record_id: string; legal_name: string; media_id: string; production_date: string; brand: string }>>()
  const urlIndex = new Map<string, Array<{ record_id: string; legal_name: string; media_id: string; title: string }>>()
  const retention: unknown[] = []

  for (const [i, { row, content }] of loaded.entries()) {
    const name = content.legal_name
    const legal = displayName(name)
    const folder = `performers/${String(i + 1).padStart(4, '0')}-${slug(name.last)}-${slug(name.first)}-${row.id}`
    const copies = []
    for (const copy of content.id_document.copies) {
      const object = await sealedObject(env, copy.object_id)
      if (!object) throw new Error(`ID copy ${copy.object_id} of ${row.id} is missing`)
      const file = `${folder}/id/${copy.side}-${copy.object_id}.${extOf(object.contentType)}`
      const bytes = await openSealed(env, object)
      if (sha256Hex(bytes) !== copy.sha256) throw new Error(`ID copy ${copy.object_id} of ${row.id} does not match its recorded SHA-256`)
      put(file, bytes)
      copies.push({ ...copy, file: file.slice(folder.length + 1) })
    }
    const versions = await versionsOf(env.DB, row.id)
    const versionFiles = []
    for (const v of versions) {
      const file = `versions/v${v.version}.json`
      putJson(`${folder}/${file}`, { version: v.version, reason: v.reason, amended_by: v.amended_by, created_at: iso(v.created_at_ms), record: await contentAt(env, row.id, v.version) })
      versionFiles.push({ version: v.version, reason: v.reason, amended_by: v.amended_by, created_at: iso(v.created_at_ms), file })
    }
    const urls = await urlsOf(env.DB, row.id)
    const depictions = []
    for (const m of await mediaOf(env.DB, row.id)) {
      const docs: Record<string, { file: string; sha256: string; content_type: string }> = {}
      for (const [kind, id] of [['consent', m.consent_object_id], ['model_release', m.release_object_id]] as const) {
        const object = await sealedObject(env, id)
        if (!object) throw new Error(`${kind} ${id} of ${row.id}/${m.media_id} is missing`)
        const file = `media/${slug(m.media_id)}/${kind}-${id}.${extOf(object.contentType)}`
        put(`${folder}/${file}`, await openSealed(env, object))
        docs[kind] = { file, sha256: object.sha256Hex, content_type: object.contentType }
      }
      const mediaUrls = urls.get(m.media_id) ?? (JSON.parse(m.urls_json) as string[])
      const brand = brandById.get(m.brand_id)?.slug ?? m.brand_id
      depictions.push({
        media_id: m.media_id,
        brand,
        title: m.title,
        production_date: m.production_date,
        age_on_production_date: ageOn(content.date_of_birth, m.production_date),
        urls: mediaUrls,
        primary_producer: m.primary_producer_json ? JSON.parse(m.primary_producer_json) : null,
        consent: docs.consent,
        model_release: docs.model_release,
        linked_by: m.linked_by,
        linked_at: iso(m.linked_at_ms),
      })
      const t = titleIndex.get(m.title) ?? []
      t.push({ record_id: row.id, legal_name: legal, media_id: m.media_id, production_date: m.production_date, brand })
      titleIndex.set(m.title, t)
      for (const url of mediaUrls) {
        const u = urlIndex.get(url) ?? []
        u.push({ record_id: row.id, legal_name: legal, media_id: m.media_id, title: m.title })
        urlIndex.set(url, u)
      }
    }
    const custodianBrand = brandById.get(row.custodian_brand_id)
    const ret = { record_id: row.id, created_at: iso(row.created_at_ms), last_amended_at: iso(row.last_amended_at_ms), retain_until: iso(row.retain_until_ms), basis: RETENTION_BASIS }
    retention.push(ret)
    putJson(`${folder}/record.json`, {
      record_id: row.id,
      custodian_brand: custodianBrand?.slug ?? row.custodian_brand_id,
      current_version: row.current_version,
      legal_name: name,
      date_of_birth: content.date_of_birth,
      aliases: content.aliases,
      id_document: { ...content.id_document, copies },
      locations: content.locations,
      producer_role: content.producer_role,
      primary_producer: content.primary_producer,
      depictions,
      versions: versionFiles,
      retention: ret,
      erasure_requests: (await erasureRequestsOf(env.DB, row.id)).map((e) => ({ id: e.id, received: iso(e.created_at_ms), retention_basis: e.retention_basis })),
    })
    master.push({ position: i + 1, last_name: name.last, first_name: name.first, middle_name: name.middle, date_of_birth: content.date_of_birth, record_id: row.id, custodian_brand: custodianBrand?.slug ?? row.custodian_brand_id, folder })
    for (const alias of content.aliases) aliasIndex.push({ alias, legal_name: legal, record_id: row.id, folder })
  }
  aliasIndex.sort((a, b) => collator.compare(a.alias, b.alias) || a.record_id.localeCompare(b.record_id))
  const titles = [...titleIndex.entries()].sort(([a], [b]) => collator.compare(a, b)).map(([title, performers]) => ({ title, performers }))
  const urlList = [...urlIndex.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([url, performers]) => ({ url, performers }))

  putJson('index/master-index.json', master)
  put('index/master-index.csv', csv([['position', 'last_name', 'first_name', 'middle_name', 'date_of_birth', 'record_id', 'custodian_brand', 'folder'], ...master.map((m) => Object.values(m))]))
  putJson('index/alias-index.json', aliasIndex)
  put('index/alias-index.csv', csv([['alias', 'legal_name', 'record_id', 'folder'], ...aliasIndex.map((a) => [a.alias, a.legal_name, a.record_id, a.folder])]))
  putJson('index/title-index.json', titles)
  put('index/title-index.csv', csv([['title', 'legal_name', 'record_id', 'media_id', 'production_date', 'brand'], ...titles.flatMap((t) => t.performers.map((p) => [t.title, p.legal_name, p.record_id, p.media_id, p.production_date, p.brand]))]))
  putJson('index/url-index.json', urlList)
  put('index/url-index.csv', csv([['url', 'legal_name', 'record_id', 'media_id', 'title'], ...urlList.flatMap((u) => u.performers.map((p) => [u.url, p.legal_name, p.record_id, p.media_id, p.title]))]))

  for (const b of inScope) {
    const custodian = custodians.get(b.id)!
    putJson(`custodian/${b.slug}.json`, custodian)
    put(`compliance-statement/${b.slug}.txt`, complianceStatement(b, custodian))
  }
  const cessation = await retentionEvents(env.DB)
  putJson('retention.json', {
    rule: RETENTION_BASIS,
    business_cessation_override: cessation.length ? cessation.map((e) => ({ kind: e.kind, effective_on: e.effective_on, keeps_until: new Date(cessationFloor(e.effective_on)).toISOString(), basis: CESSATION_BASIS })) : 'none recorded: 28 CFR 75.4 adds 5 years after the producer ceases business (POST /api/vault/records/retention-events)',
    records: retention,
  })
  const log = await accessLog(env, loaded.map((l) => `performer:${l.row.id}`))
  putJson('access-log.json', {
    source: 'AuditLog (hash-chained); verify at GET /api/compliance/audit/verify',
    entries: log.map((e) => ({ seq: e.seq, id: e.id, at: iso(e.atMs), action: e.action, subject: e.subject, actor: e.actor, actor_roles: e.actorRoles, request_id: e.requestId, details: JSON.parse(e.details) as unknown, hash: e.hash, prev_hash: e.prevHash })),
  })
  put(
    'segregation.txt',
    [
      '28 CFR 75.3 segregation statement',
      '',
      'These records were assembled only from the 2257 record store: performer_records, performer_record_versions,',
      'performer_media, performer_media_urls, the sealed vault objects of record type performer_record, the brands\'',
      'custodian of records, and the audit entries about these records. The store holds no billing, payment,',
      'subscription, marketing, analytics or recommendation data, and none is included here.',
      '',
    ].join('\n'),
  )
  const generated = {
    generated_at: iso(nowMs),
    scope: brandId ? { brand: inScope[0]!.slug, brand_id: brandId } : { brand: 'all' },
    performers: loaded.length,
    order: 'legal last name, then first name (28 CFR 75.2/75.3)',
    layout: {
      'performers/NNNN-<last>-<first>-<record id>/record.json': 'R1-R7 current record, depictions, versions, retention',
      'performers/.../id/': 'ID copies at original resolution as stored',
      'performers/.../versions/': 'every version of the record',
      'performers/.../media/<media id>/': 'consent and model release',
      'index/': 'master index, alias, title and URL cross-indexes (JSON and CSV)',
      'custodian/, compliance-statement/': 'custodian of records and statement per brand',
      'retention.json, access-log.json, segregation.txt': 'retention metadata, access log extract, segregation',
      'manifest.json': 'SHA-256 of every other file',
    },
  }
  put('README.json', JSON.stringify(generated, null, 2) + '\n')
  const manifest = { algorithm: 'SHA-256', files: Object.keys(files).sort().map((path) => ({ path, sha256: sha256Hex(files[path]!), bytes: files[path]!.length })) }
  const manifestText = JSON.stringify(manifest, null, 2) + '\n'
  put('manifest.json', manifestText)
  // already-compressed images gain nothing from deflate; JSON and CSV do
  const bytes = zipSync(files, { level: 6, mtime: new Date(nowMs) })
  return { bytes, performers: loaded.length, performerIds: loaded.map((l) => l.row.id), files: Object.keys(files).length, manifestSha256: sha256Hex(manifestText) }
}
