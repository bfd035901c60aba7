import { env } from 'cloudflare:workers'
import { strFromU8, unzipSync } from 'fflate'
import { beforeAll, describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import type { Role } from '../../edge/roles'
import { sha256Hex } from '../../lib/encoding'

const API = 'api.localhost'
const BOYFANZ = 'brd_01JFANZ0000000000000000001'
const GIRLFANZ = 'brd_01JFANZ0000000000000000002'
const MAINTAIN = 'records_maintenance; note="keeping the 2257 records current in tests"'
const INSPECT = 'inspection; note="producing the records on lawful demand (test)"'

async function mint(body: { roles: Role[]; amr?: string[]; auth_age_seconds?: number; subject?: string }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}
const strong = (roles: Role[], subject?: string) => mint({ roles, amr: ['pwd', 'otp', 'mfa'], ...(subject ? { subject } : {}) })

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
/** Stand-in ID scan bytes: a PNG signature followed by a marker, so the export can be compared byte for byte. */
const scan = (marker: string) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new TextEncoder().encode(`ID-SCAN:${marker}:`), ...Array.from({ length: 300 }, (_, i) => i % 251)])

interface PersonInput {
  first: string
  middle?: string | null
  last: string
  dob: string
  aliases: string[]
  marker: string
  issuerCountry?: string
  performerCountry?: string
  producerCountry?: string
  idType?: string
}

function content(p: PersonInput) {
  return {
    legal_name: { first: p.first, middle: p.middle ?? null, last: p.last },
    date_of_birth: p.dob,
    aliases: p.aliases,
    locations: { performer_country: p.performerCountry ?? 'US', producer_country: p.producerCountry ?? 'US' },
    producer_role: 'secondary',
    primary_producer: { name: `${p.first} ${p.last} Productions`, address: '500 Sunset Blvd, Los Angeles, CA 90028, USA' },
    id_document: {
      type: p.idType ?? 'drivers_license',
      issuer: 'California DMV',
      issuer_country: p.issuerCountry ?? 'US',
      number: `D${p.marker}`,
      expires_on: '2031-05-01',
      has_recent_photo: true,
      examined_by: 'usr_examiner01',
      examined_at: '2026-01-10T15:00:00Z',
      copies: [
        { side: 'front', content_type: 'image/png', content_base64: b64(scan(`${p.marker}-front`)) },
        { side: 'back', content_type: 'image/png', content_base64: b64(scan(`${p.marker}-back`)) },
      ],
    },
  }
}

let writer: string
let reader: string

async function create(p: PersonInput, brand = BOYFANZ): Promise<string> {
  const res = await call(API, '/api/vault/records/performers', {
    token: writer,
    headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': `"${crypto.randomUUID()}"` },
    body: { custodian_brand_id: brand, content: content(p) },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

async function link(id: string, media: { media_id: string; title: string; production_date: string; urls: string[]; brand_id?: string }) {
  return call(API, `/api/vault/records/performers/${id}/media`, {
    token: writer,
    headers: { 'vault-purpose': MAINTAIN },
    body: {
      brand_id: BOYFANZ,
      ...media,
      consent: { content_type: 'application/pdf', content_base64: b64(new TextEncoder().encode(`%PDF-1.7 consent ${media.media_id}`)) },
      model_release: { content_type: 'application/pdf', content_base64: b64(new TextEncoder().encode(`%PDF-1.7 release ${media.media_id}`)) },
    },
  })
}

const read = (id: string, query = '', token = reader, purpose: string | null = MAINTAIN) =>
  call(API, `/api/vault/records/performers/${id}${query}`, { token, headers: purpose ? { 'vault-purpose': purpose } : {} })

const searchFor = async (query: string) => {
  const res = await call(API, `/api/vault/records/search?${query}`, { token: reader, headers: { 'vault-purpose': MAINTAIN } })
  expect(res.status, await res.clone().text()).toBe(200)
  return ((await res.json()) as { items: Array<{ performer_id: string; custodian_brand_id: string; matched: string; title?: string; url?: string }> }).items
}

beforeAll(async () => {
  writer = await strong(['custodian'], 'usr_custodian0001')
  reader = writer
})

describe('performer records: versions, aliases, blind index', () => {
  it('creates version 1, appends version 2 on amendment, keeps version 1 readable, and D1 refuses rewriting a version', async () => {
    const id = await create({ first: 'Jane', middle: 'Quinn', last: 'Doe', dob: '1995-04-12', aliases: ['Janie D'], marker: 'jane' })
    const v1 = await read(id)
    expect(v1.status).toBe(200)
    const body1 = (await v1.json()) as { version: number; record: { legal_name: { last: string }; aliases: string[]; id_document: { copies: Array<{ sha256: string }> } }; retention: { retain_until: string; created_at: string } }
    expect(body1.version).toBe(1)
    expect(body1.record.legal_name.last).toBe('Doe')
    expect(body1.record.aliases).toEqual(['Janie D'])
    expect(body1.record.id_document.copies[0]!.sha256).toBe(sha256Hex(scan('jane-front')))
    expect(new Date(body1.retention.retain_until).getUTCFullYear() - new Date(body1.retention.created_at).getUTCFullYear()).toBe(7)

    const amend = await call(API, `/api/vault/records/performers/${id}/amendments`, { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { reason: 'new stage name', patch: { add_aliases: ['JD Star'] } } })
    expect(amend.status, await amend.clone().text()).toBe(201)
    expect(((await amend.json()) as { current_version: number }).current_version).toBe(2)

    const v2 = (await (await read(id)).json()) as { version: number; record: { aliases: string[] }; versions: Array<{ version: number; reason: string }> }
    expect(v2.version).toBe(2)
    expect(v2.record.aliases).toEqual(['Janie D', 'JD Star'])
    expect(v2.versions.map((v) => [v.version, v.reason])).toEqual([[1, 'created'], [2, 'new stage name']])
    const old = (await (await read(id, '?version=1')).json()) as { version: number; record: { aliases: string[] } }
    expect(old.version).toBe(1)
    expect(old.record.aliases).toEqual(['Janie D'])

    await expect(env.DB.prepare("UPDATE performer_record_versions SET reason = 'rewritten' WHERE performer_id = ?").bind(id).run()).rejects.toThrow(/append-only/)
    await expect(env.DB.prepare('DELETE FROM performer_record_versions WHERE performer_id = ?').bind(id).run()).rejects.toThrow(/append-only/)

    // a full replacement that drops an alias is refused; a legal-name change keeps the former name as an alias
    const dropped = await call(API, `/api/vault/records/performers/${id}/amendments`, {
      token: writer,
      headers: { 'vault-purpose': MAINTAIN },
      body: { reason: 'full rewrite', content: content({ first: 'Jane', middle: 'Quinn', last: 'Doe', dob: '1995-04-12', aliases: ['JD Star'], marker: 'jane2' }) },
    })
    expect(dropped.status).toBe(422)
    expect(((await dropped.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain('body.content.aliases')

    const renamed = await call(API, `/api/vault/records/performers/${id}/amendments`, { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { reason: 'married name', patch: { legal_name: { first: 'Jane', middle: 'Quinn', last: 'Roe' } } } })
    expect(renamed.status).toBe(201)
    const v3 = (await (await read(id)).json()) as { version: number; record: { aliases: string[]; legal_name: { last: string } } }
    expect(v3.version).toBe(3)
    expect(v3.record.legal_name.last).toBe('Roe')
    expect(v3.record.aliases).toEqual(['Janie D', 'JD Star', 'Jane Quinn Doe'])

    // aliases accumulate in the index too: every name ever indexed is still there
    expect((await searchFor('legal_name=Jane%20Roe')).map((h) => h.performer_id)).toEqual([id])
    expect((await searchFor('alias=jane%20quinn%20DOE')).map((h) => h.performer_id)).toEqual([id])
    expect((await searchFor('alias=Janie%20D')).map((h) => h.performer_id)).toEqual([id])
  })

  it('replays a create retried with the same Idempotency-Key instead of making a second record', async () => {
    const key = `"${crypto.randomUUID()}"`
    const send = () =>
      call(API, '/api/vault/records/performers', { token: writer, headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': key }, body: { custodian_brand_id: BOYFANZ, content: content({ first: 'Retry', last: 'Once', dob: '1990-10-10', aliases: [], marker: 'retry' }) } })
    const first = await send()
    const second = await send()
    expect(first.status).toBe(201)
    expect(second.status).toBe(201)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    const id = ((await first.json()) as { id: string }).id
    expect(((await second.json()) as { id: string }).id).toBe(id)
    expect((await searchFor('legal_name=Retry%20Once')).map((h) => h.performer_id)).toEqual([id])
  })

  it('finds records by legal name and alias ignoring case and spacing, and by title or URL, without storing names', async () => {
    const id = await create({ first: 'Maximilian', last: 'Straße', dob: '1990-02-02', aliases: ['Max Power'], marker: 'max' })
    expect((await link(id, { media_id: 'med_search_1', title: 'Summer Heat', production_date: '2026-03-01', urls: ['https://boyfanz.com/v/summer-heat', 'https://girlfanz.com/v/summer-heat'] })).status).toBe(201)

    expect(await searchFor('legal_name=%20%20maximilian%20%20%20STRASSE%20')).toEqual([{ performer_id: id, custodian_brand_id: BOYFANZ, matched: 'legal_name' }])
    expect((await searchFor('alias=max%20%20power')).map((h) => h.performer_id)).toEqual([id])
    expect(await searchFor('legal_name=Max%20Power')).toEqual([])
    expect(await searchFor('alias=Maximilian%20Strasse')).toEqual([])
    expect((await searchFor('title=Summer%20Heat')).map((h) => [h.performer_id, h.title])).toEqual([[id, 'Summer Heat']])
    expect(await searchFor('title=Summer')).toEqual([])
    expect((await searchFor('title=Summ&match=prefix')).map((h) => h.performer_id)).toEqual([id])
    expect((await searchFor(`url=${encodeURIComponent('https://girlfanz.com/v/summer-heat')}`)).map((h) => h.performer_id)).toEqual([id])
    expect((await searchFor(`url=${encodeURIComponent('https://boyfanz.com/v/')}&match=prefix`)).map((h) => h.url)).toContain('https://boyfanz.com/v/summer-heat')

    const prefixName = await call(API, '/api/vault/records/search?legal_name=Max&match=prefix', { token: reader, headers: { 'vault-purpose': MAINTAIN } })
    expect(prefixName.status).toBe(400)

    const index = await env.DB.prepare('SELECT * FROM performer_name_index WHERE performer_id = ?').bind(id).all<Record<string, string>>()
    expect(index.results.length).toBe(2)
    expect(JSON.stringify(index.results).toLowerCase()).not.toMatch(/maximilian|stra|power/)
  })

  it('keeps only ciphertext in R2: the raw record object holds no legal name or date of birth', async () => {
    const id = await create({ first: 'Cipher', last: 'Testperson', dob: '1991-07-07', aliases: [], marker: 'cipher' })
    const obj = await env.DB.prepare("SELECT bucket, r2_key FROM vault_objects WHERE record_type = 'performer_record' AND record_id = ? AND kind = 'record_json'").bind(id).first<{ bucket: 'VAULT'; r2_key: string }>()
    const raw = new Uint8Array(await (await env[obj!.bucket].get(obj!.r2_key))!.arrayBuffer())
    const text = new TextDecoder('latin1').decode(raw)
    expect(raw.length).toBeGreaterThan(100)
    expect(text).not.toContain('Testperson')
    expect(text).not.toContain('1991-07-07')
    const copy = await env.DB.prepare("SELECT bucket, r2_key FROM vault_objects WHERE record_id = ? AND kind = 'id_document_front'").bind(id).first<{ bucket: 'VAULT'; r2_key: string }>()
    const rawCopy = new TextDecoder('latin1').decode(new Uint8Array(await (await env[copy!.bucket].get(copy!.r2_key))!.arrayBuffer()))
    expect(rawCopy).not.toContain('ID-SCAN:cipher-front')
  })
})

describe('record rules', () => {
  it('refuses a depiction produced before the performer turned 18, and a minor or foreign-ID record', async () => {
    const id = await create({ first: 'Young', last: 'Adult', dob: '2007-06-15', aliases: [], marker: 'young' })
    const early = await link(id, { media_id: 'med_minor', title: 'Too Early', production_date: '2025-06-14', urls: ['https://boyfanz.com/v/too-early'] })
    expect(early.status).toBe(422)
    const problem = (await early.json()) as { errors: Array<{ path: string; message: string }> }
    expect(problem.errors[0]!.path).toBe('body.production_date')
    expect(problem.errors[0]!.message).toContain('17')
    expect((await env.DB.prepare("SELECT count(*) AS n FROM performer_media WHERE media_id = 'med_minor'").first<{ n: number }>())!.n).toBe(0)
    expect((await link(id, { media_id: 'med_ok', title: 'Birthday', production_date: '2025-06-15', urls: ['https://boyfanz.com/v/birthday'] })).status).toBe(201)

    // moving the date of birth so that a linked depiction would have a minor in it is refused
    const backdate = await call(API, `/api/vault/records/performers/${id}/amendments`, { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { reason: 'typo in DOB', patch: { date_of_birth: '2007-06-16' } } })
    expect(backdate.status).toBe(422)

    const { aliases: _omitted, ...withoutAliases } = content({ first: 'No', last: 'Aliases', dob: '1990-01-01', aliases: [], marker: 'noalias' })
    const missing = await call(API, '/api/vault/records/performers', {
      token: writer,
      headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: { custodian_brand_id: BOYFANZ, content: withoutAliases },
    })
    expect(missing.status).toBe(422)
    expect(((await missing.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain('body.content.aliases')

    const minor = await call(API, '/api/vault/records/performers', {
      token: writer,
      headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: { custodian_brand_id: BOYFANZ, content: content({ first: 'Not', last: 'Yet', dob: '2015-01-01', aliases: [], marker: 'minor' }) },
    })
    expect(minor.status).toBe(422)
    expect(((await minor.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.content.date_of_birth')

    const foreign = await call(API, '/api/vault/records/performers', {
      token: writer,
      headers: { 'vault-purpose': MAINTAIN, 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: { custodian_brand_id: BOYFANZ, content: content({ first: 'Hans', last: 'Muster', dob: '1990-01-01', aliases: [], marker: 'de', issuerCountry: 'DE', idType: 'foreign_passport', performerCountry: 'DE', producerCountry: 'US' }) },
    })
    expect(foreign.status).toBe(422)
    expect(((await foreign.json()) as { errors: Array<{ path: string; message: string }> }).errors[0]).toMatchObject({ path: 'body.content.id_document.issuer_country' })
    // both outside the US: a foreign ID is acceptable (75.1(b))
    await create({ first: 'Hans', last: 'Muster', dob: '1990-01-01', aliases: [], marker: 'de2', issuerCountry: 'DE', idType: 'foreign_passport', performerCountry: 'DE', producerCountry: 'NL' })
  })

  it('refuses deletion inside retention (API 409 naming retain_until and 28 CFR 75.4, and the D1 trigger), deletes after it', async () => {
    const id = await create({ first: 'Kept', last: 'Record', dob: '1988-08-08', aliases: [], marker: 'kept' })
    const res = await call(API, `/api/vault/records/performers/${id}`, { method: 'DELETE', token: writer, headers: { 'vault-purpose': MAINTAIN } })
    expect(res.status).toBe(409)
    const problem = (await res.json()) as { retain_until: string; basis: string; detail: string }
    expect(problem.basis).toBe('28 CFR 75.4')
    expect(Date.parse(problem.retain_until)).toBeGreaterThan(Date.now() + 6.9 * 365 * 86_400_000)
    await expect(env.DB.prepare('DELETE FROM performer_records WHERE id = ?').bind(id).run()).rejects.toThrow(/retention period/)
    expect((await read(id)).status).toBe(200)

    // seven years later (the clock moved by rewriting the retention instants)
    await env.DB.batch([
      env.DB.prepare('UPDATE performer_records SET retain_until_ms = ? WHERE id = ?').bind(Date.now() - 1000, id),
      env.DB.prepare("UPDATE vault_objects SET retain_until_ms = ? WHERE record_type = 'performer_record' AND record_id = ?").bind(Date.now() - 1000, id),
    ])
    const gone = await call(API, `/api/vault/records/performers/${id}`, { method: 'DELETE', token: writer, headers: { 'vault-purpose': MAINTAIN } })
    expect(gone.status).toBe(200)
    expect(((await gone.json()) as { destroyed_objects: number }).destroyed_objects).toBe(3)
    expect((await read(id)).status).toBe(404)
  })

  it('records an erasure request but keeps the 2257 record with its legal basis', async () => {
    const id = await create({ first: 'Erin', last: 'Erasure', dob: '1993-03-03', aliases: ['E.E.'], marker: 'erin' })
    const res = await call(API, `/api/vault/records/performers/${id}/erasure-requests`, { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { regime: 'gdpr', received_at: '2026-11-20T10:00:00Z', channel: 'privacy form' } })
    expect(res.status, await res.clone().text()).toBe(201)
    const answer = (await res.json()) as { decision: string; legal_basis: string; erased: string[]; kept: Array<{ what: string }>; retain_until: string; request_id: string }
    expect(answer.decision).toBe('kept_until_retention_ends')
    expect(answer.legal_basis).toContain('17(3)(e)')
    expect(answer.legal_basis).toContain('6(1)(f)')
    expect(answer.erased).toEqual([])
    expect(answer.kept.length).toBe(3)
    const ccpa = await call(API, `/api/vault/records/performers/${id}/erasure-requests`, { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { regime: 'ccpa', received_at: '2026-11-21T10:00:00Z', channel: 'email' } })
    expect(((await ccpa.json()) as { legal_basis: string }).legal_basis).toContain('1798.105(d)')

    const after = (await (await read(id)).json()) as { record: { legal_name: { last: string } }; erasure_requests: Array<{ id: string; retention_basis: string }> }
    expect(after.record.legal_name.last).toBe('Erasure')
    expect(after.erasure_requests.map((e) => e.id)).toContain(answer.request_id)
    const kept = await env.DB.prepare("SELECT retention_basis FROM vault_objects WHERE record_id = ? AND kind = 'record_json'").bind(id).first<{ retention_basis: string }>()
    expect(kept!.retention_basis).toContain('28 CFR 75.4')
    expect(kept!.retention_basis).toContain('1798.105(d)')
  })
})

describe('access', () => {
  it('refuses fans, creators and moderators (403), asks for a purpose (400) and a recent strong sign-in (401), and audits with the purpose', async () => {
    const id = await create({ first: 'Audit', last: 'Trail', dob: '1992-09-09', aliases: [], marker: 'audit' })
    for (const role of ['fan', 'creator', 'moderator', 'support'] as const) {
      const token = await strong([role])
      expect((await read(id, '', token)).status, role).toBe(403)
      expect((await call(API, '/api/vault/records/search?alias=x', { token, headers: { 'vault-purpose': MAINTAIN } })).status, role).toBe(403)
      expect((await call(API, '/api/vault/records/exports', { token, headers: { 'vault-purpose': INSPECT }, body: {} })).status, role).toBe(403)
    }
    // compliance officers maintain records but do not export them
    expect((await call(API, '/api/vault/records/exports', { token: await strong(['compliance_officer']), headers: { 'vault-purpose': INSPECT }, body: {} })).status).toBe(403)
    expect((await read(id, '', await strong(['compliance_officer']))).status).toBe(200)

    const noPurpose = await read(id, '', reader, null)
    expect(noPurpose.status).toBe(400)
    expect(((await noPurpose.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('header.vault-purpose')
    const weak = await mint({ roles: ['custodian'] })
    const stale = await read(id, '', weak)
    expect(stale.status).toBe(401)
    expect(stale.headers.get('www-authenticate')).toContain('insufficient_user_authentication')
    const old = await mint({ roles: ['custodian'], amr: ['pwd', 'otp', 'mfa'], auth_age_seconds: 1800 })
    expect((await read(id, '', old)).status).toBe(401)

    const entries = await auditLog(env).list({ subject: `performer:${id}`, limit: 50 })
    const byAction = (a: string) => entries.filter((e) => e.action === a).map((e) => JSON.parse(e.details) as Record<string, unknown>)
    expect(byAction('records.performer.create')[0]).toMatchObject({ purpose: 'records_maintenance', version: 1 })
    expect(byAction('records.performer.read')[0]).toMatchObject({ purpose: 'records_maintenance', purpose_note: 'keeping the 2257 records current in tests' })
    // the refused calls (403, 400, 401) read nothing: only the compliance officer's read is there
    expect(entries.filter((e) => e.action === 'records.performer.read').map((e) => e.actorRoles)).toEqual([['compliance_officer']])
    expect(JSON.stringify(entries)).not.toContain('Trail')
  })
})

describe('inspection export', () => {
  it('exports every performer sorted by last then first name with all fields, ID copies as stored, and the alias, title and URL cross-indexes', async () => {
    const zed = await create({ first: 'Zed', last: 'Adams', dob: '1989-01-01', aliases: ['Zee'], marker: 'zed' })
    const amy = await create({ first: 'Amy', last: 'Baker', dob: '1994-05-05', aliases: ['Amy B', 'Cookie'], marker: 'amy' }, GIRLFANZ)
    const bob = await create({ first: 'Bob', last: 'Adams', dob: '1987-12-12', aliases: [], marker: 'bob' })
    expect((await link(zed, { media_id: 'med_duo', title: 'Duo Night', production_date: '2026-02-02', urls: ['https://boyfanz.com/v/duo-night'] })).status).toBe(201)
    expect((await link(amy, { media_id: 'med_duo', title: 'Duo Night', production_date: '2026-02-02', urls: ['https://boyfanz.com/v/duo-night', 'https://girlfanz.com/v/duo-night'], brand_id: GIRLFANZ })).status).toBe(201)
    expect((await link(bob, { media_id: 'med_solo', title: 'Solo Morning', production_date: '2026-03-03', urls: ['https://boyfanz.com/v/solo-morning'] })).status).toBe(201)

    const exporter = await strong(['custodian'], 'usr_inspector0001')
    const wrongPurpose = await call(API, '/api/vault/records/exports', { token: exporter, headers: { 'vault-purpose': MAINTAIN }, body: {} })
    expect(wrongPurpose.status).toBe(400)
    const res = await call(API, '/api/vault/records/exports', { token: exporter, headers: { 'vault-purpose': INSPECT }, body: {} })
    expect(res.status, await res.clone().text()).toBe(201)
    const made = (await res.json()) as { export_id: string; download_path: string; sha256: string; performers: number }

    // the stored archive is sealed: no legal name in the raw object
    const obj = await env.DB.prepare('SELECT bucket, r2_key, record_type FROM vault_objects WHERE id = ?').bind(made.export_id).first<{ bucket: 'VAULT'; r2_key: string; record_type: string }>()
    expect(obj!.record_type).toBe('inspection_export')
    const raw = new Uint8Array(await (await env[obj!.bucket].get(obj!.r2_key))!.arrayBuffer())
    expect(raw[0] === 0x50 && raw[1] === 0x4b).toBe(false)
    expect(new TextDecoder('latin1').decode(raw)).not.toMatch(/Baker|Adams|index\/master-index/)

    // another caller cannot use the link
    expect((await call(API, made.download_path, { token: writer, headers: { 'vault-purpose': INSPECT } })).status).toBe(404)
    expect((await call(API, made.download_path.replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`), { token: exporter, headers: { 'vault-purpose': INSPECT } })).status).toBe(404)
    const dl = await call(API, made.download_path, { token: exporter, headers: { 'vault-purpose': INSPECT } })
    expect(dl.status).toBe(200)
    expect(dl.headers.get('content-type')).toBe('application/zip')
    const zip = new Uint8Array(await dl.arrayBuffer())
    expect(sha256Hex(zip)).toBe(made.sha256)
    const files = unzipSync(zip)
    const jsonOf = <T>(path: string): T => JSON.parse(strFromU8(files[path]!)) as T

    // manifest: every other file, with its SHA-256
    const manifest = jsonOf<{ files: Array<{ path: string; sha256: string }> }>('manifest.json')
    expect(manifest.files.map((f) => f.path).sort()).toEqual(Object.keys(files).filter((p) => p !== 'manifest.json').sort())
    for (const f of manifest.files) expect(sha256Hex(files[f.path]!), f.path).toBe(f.sha256)

    // master index in legal-name order; every performer from every brand is there
    const master = jsonOf<Array<{ last_name: string; first_name: string; record_id: string; folder: string }>>('index/master-index.json')
    expect(made.performers).toBe(master.length)
    const ours = master.filter((m) => [zed, amy, bob].includes(m.record_id))
    expect(ours.map((m) => `${m.last_name}, ${m.first_name}`)).toEqual(['Adams, Bob', 'Adams, Zed', 'Baker, Amy'])
    const keys = master.map((m) => [m.last_name.toLowerCase(), m.first_name.toLowerCase()] as const)
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]!.join('\u0000').localeCompare(keys[i]!.join('\u0000'), 'en', { sensitivity: 'base' }) <= 0, JSON.stringify(keys.slice(i - 1, i + 1))).toBe(true)
    const allIds = (await env.DB.prepare('SELECT id FROM performer_records').all<{ id: string }>()).results.map((r) => r.id).sort()
    expect(master.map((m) => m.record_id).sort()).toEqual(allIds)

    // each record: R1-R7 fields, the ID copies byte for byte, depictions with URLs, consent and release
    for (const m of ours) {
      const rec = jsonOf<{
        legal_name: { first: string; last: string }
        date_of_birth: string
        aliases: string[]
        id_document: { type: string; issuer: string; number: string; expires_on: string; examined_by: string; examined_at: string; copies: Array<{ side: string; file: string; sha256: string }> }
        primary_producer: { name: string; address: string }
        depictions: Array<{ title: string; production_date: string; urls: string[]; consent: { file: string }; model_release: { file: string }; age_on_production_date: number }>
        retention: { retain_until: string; basis: string }
        versions: Array<{ version: number }>
      }>(`${m.folder}/record.json`)
      expect(rec.legal_name.last).toBe(m.last_name)
      expect(rec.date_of_birth).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(Array.isArray(rec.aliases)).toBe(true)
      expect(rec.id_document).toMatchObject({ type: 'drivers_license', issuer: 'California DMV', examined_by: 'usr_examiner01', examined_at: '2026-01-10T15:00:00Z', expires_on: '2031-05-01' })
      expect(rec.id_document.copies.map((c) => c.side)).toEqual(['front', 'back'])
      const marker = m.first_name.toLowerCase()
      expect(files[`${m.folder}/${rec.id_document.copies[0]!.file}`]).toEqual(scan(`${marker}-front`))
      expect(rec.primary_producer.address).toContain('Sunset Blvd')
      expect(rec.depictions.length).toBe(1)
      expect(rec.depictions[0]!.age_on_production_date).toBeGreaterThanOrEqual(18)
      expect(strFromU8(files[`${m.folder}/${rec.depictions[0]!.consent.file}`]!)).toContain('consent')
      expect(strFromU8(files[`${m.folder}/${rec.depictions[0]!.model_release.file}`]!)).toContain('release')
      expect(rec.retention.basis).toContain('75.4')
      expect(rec.versions.map((v) => v.version)).toEqual([1])
      expect(files[`${m.folder}/versions/v1.json`]).toBeDefined()
    }

    const aliases = jsonOf<Array<{ alias: string; legal_name: string; record_id: string }>>('index/alias-index.json')
    expect(aliases.filter((a) => [zed, amy, bob].includes(a.record_id)).map((a) => [a.alias, a.legal_name])).toEqual([
      ['Amy B', 'Amy Baker'],
      ['Cookie', 'Amy Baker'],
      ['Zee', 'Zed Adams'],
    ])
    const titles = jsonOf<Array<{ title: string; performers: Array<{ record_id: string; legal_name: string }> }>>('index/title-index.json')
    expect(titles.find((t) => t.title === 'Duo Night')!.performers.map((p) => p.legal_name).sort()).toEqual(['Amy Baker', 'Zed Adams'])
    expect(titles.find((t) => t.title === 'Solo Morning')!.performers.map((p) => p.record_id)).toEqual([bob])
    const urls = jsonOf<Array<{ url: string; performers: Array<{ record_id: string }> }>>('index/url-index.json')
    expect(urls.find((u) => u.url === 'https://girlfanz.com/v/duo-night')!.performers.map((p) => p.record_id)).toEqual([amy])
    expect(urls.find((u) => u.url === 'https://boyfanz.com/v/duo-night')!.performers.map((p) => p.record_id).sort()).toEqual([amy, zed].sort())
    expect(strFromU8(files['index/alias-index.csv']!)).toContain('Cookie,Amy Baker,')

    expect(jsonOf<{ name: string; title: string; business_address: string }>('custodian/girlfanz.json')).toEqual({ brand_id: GIRLFANZ, brand: 'girlfanz', name: 'Custodian of Records', title: 'GirlFanz Records Custodian', business_address: 'FANZ Unlimited Network LLC, 30 N Gould St Ste 4000, Sheridan, WY 82801, USA' })
    expect(strFromU8(files['compliance-statement/boyfanz.txt']!)).toContain('18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement')
    expect(jsonOf<{ records: Array<{ record_id: string }> }>('retention.json').records.length).toBe(master.length)
    const log = jsonOf<{ entries: Array<{ action: string; subject: string; details: { purpose?: string } }> }>('access-log.json')
    expect(log.entries.filter((e) => e.subject === `performer:${amy}`).map((e) => e.action)).toEqual(['records.performer.create', 'records.media.link'])
    // segregation: nothing about payments or marketing anywhere in the archive
    const everything = Object.values(files).map((f) => strFromU8(f, true)).join('\n')
    expect(everything).not.toMatch(/subscription_id|payment_id|card_|marketing_opt/i)

    const recordLog = await auditLog(env).list({ subject: `performer:${bob}`, limit: 20 })
    expect(recordLog.filter((e) => e.action === 'records.performer.export').map((e) => JSON.parse(e.details) as { export_id: string; purpose: string })).toEqual([
      { export_id: made.export_id, purpose: 'inspection', purpose_note: 'producing the records on lawful demand (test)' },
    ])
    const exportAudit = await auditLog(env).list({ subject: `inspection_export:${made.export_id}`, limit: 10 })
    expect(exportAudit.map((e) => [e.action, (JSON.parse(e.details) as { purpose: string }).purpose])).toEqual([
      ['records.export.create', 'inspection'],
      ['records.export.download', 'inspection'],
    ])

    // one brand's custodian: only that brand's records
    const one = await call(API, '/api/vault/records/exports', { token: exporter, headers: { 'vault-purpose': INSPECT }, body: { brand_id: GIRLFANZ } })
    expect(one.status).toBe(201)
    const oneMade = (await one.json()) as { download_path: string }
    const oneFiles = unzipSync(new Uint8Array(await (await call(API, oneMade.download_path, { token: exporter, headers: { 'vault-purpose': INSPECT } })).arrayBuffer()))
    expect((JSON.parse(strFromU8(oneFiles['index/master-index.json']!)) as Array<{ record_id: string }>).map((m) => m.record_id)).toEqual([amy])
    expect(Object.keys(oneFiles).filter((p) => p.startsWith('custodian/'))).toEqual(['custodian/girlfanz.json'])
  })

  it('refuses to export when the custodian address is a P.O. box (R13)', async () => {
    const before = await env.DB.prepare('SELECT custodian_json FROM brands WHERE id = ?').bind(GIRLFANZ).first<{ custodian_json: string }>()
    await env.DB.prepare('UPDATE brands SET custodian_json = ? WHERE id = ?').bind(JSON.stringify({ name: 'Custodian', title: 'Records', address: 'P.O. Box 123, Sheridan, WY 82801', email: 'c@girlfanz.com' }), GIRLFANZ).run()
    try {
      const res = await call(API, '/api/vault/records/exports', { token: await strong(['custodian']), headers: { 'vault-purpose': INSPECT }, body: { brand_id: GIRLFANZ } })
      expect(res.status).toBe(409)
      expect(((await res.json()) as { detail: string }).detail).toContain('post-office box')
    } finally {
      await env.DB.prepare('UPDATE brands SET custodian_json = ? WHERE id = ?').bind(before!.custodian_json, GIRLFANZ).run()
    }
  })
})

describe('business cessation (28 CFR 75.4: 5 years after)', () => {
  it('keeps every record and its objects at least 5 years after the producer ceased business, also records made later', async () => {
    const id = await create({ first: 'Cess', last: 'Ation', dob: '1990-02-02', aliases: [], marker: 'cess' })
    const before = (await env.DB.prepare('SELECT retain_until_ms FROM performer_records WHERE id = ?').bind(id).first<{ retain_until_ms: number }>())!.retain_until_ms
    // ceasing in 2031: its 5 years end after this record's own 7
    const body = { kind: 'business_ceased', effective_on: '2031-06-01', note: 'the producer closes its studio business' }
    expect((await call(API, '/api/vault/records/retention-events', { token: writer, headers: { 'vault-purpose': MAINTAIN }, body: { ...body, effective_on: '2031-02-30' } })).status).toBe(422)
    expect((await call(API, '/api/vault/records/retention-events', { token: await strong(['moderator']), headers: { 'vault-purpose': MAINTAIN }, body })).status).toBe(403)
    const res = await call(API, '/api/vault/records/retention-events', { token: writer, headers: { 'vault-purpose': MAINTAIN }, body })
    expect(res.status, await res.clone().text()).toBe(201)
    const recorded = (await res.json()) as { event: { keeps_until: string }; extended_records: number }
    expect(recorded.event.keeps_until).toBe('2036-06-01T00:00:00.000Z')
    expect(recorded.extended_records).toBeGreaterThanOrEqual(1)

    const floor = Date.parse('2036-06-01T00:00:00Z')
    expect(floor).toBeGreaterThan(before)
    const row = await env.DB.prepare('SELECT retain_until_ms FROM performer_records WHERE id = ?').bind(id).first<{ retain_until_ms: number }>()
    expect(row!.retain_until_ms).toBe(floor)
    const objects = await env.DB.prepare("SELECT retain_until_ms, retention_basis FROM vault_objects WHERE record_type = 'performer_record' AND record_id = ?").bind(id).all<{ retain_until_ms: number; retention_basis: string }>()
    expect(objects.results.length).toBeGreaterThan(0)
    for (const o of objects.results) {
      expect(o.retain_until_ms).toBe(floor)
      expect(o.retention_basis).toContain('ceased business')
    }
    const refused = await call(API, `/api/vault/records/performers/${id}`, { method: 'DELETE', token: writer, headers: { 'vault-purpose': MAINTAIN } })
    expect(((await refused.json()) as { retain_until: string }).retain_until).toBe('2036-06-01T00:00:00.000Z')

    // a record made afterwards starts at the floor too
    const later = await create({ first: 'After', last: 'Closing', dob: '1991-03-03', aliases: [], marker: 'after' })
    expect((await env.DB.prepare('SELECT retain_until_ms FROM performer_records WHERE id = ?').bind(later).first<{ retain_until_ms: number }>())!.retain_until_ms).toBe(floor)

    // the event itself is append-only, listed for readers, and audited
    await expect(env.DB.prepare("UPDATE records_retention_events SET effective_on = '2020-01-01'").run()).rejects.toThrow(/append-only/)
    const listed = (await (await call(API, '/api/vault/records/retention-events', { token: reader, headers: { 'vault-purpose': MAINTAIN } })).json()) as { items: Array<{ effective_on: string }> }
    expect(listed.items.map((e) => e.effective_on)).toEqual(['2031-06-01'])
    expect((await auditLog(env).list({ action: 'records.retention.cessation', limit: 5 })).length).toBe(1)
  })
})
