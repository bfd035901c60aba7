import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { sha256Hex } from '../../lib/encoding'
import { newLinkClaims, signDownloadToken } from '../download-links'
import { API, createCreator, createPerformer, createUser, jpeg, linkFor, mint, PURPOSE, strong, upload, uploaded } from './test-support'

type Meta = { id: string; subject_type: string; subject_id: string; kind: string; content_type: string; size: number; sha256: string; region: string; retain_until: string | null; retention_basis: string | null; destroyed_at: string | null }
type Problem = { code: string; status: number; detail?: string; errors?: Array<{ path: string; message: string }> }

const text = (bytes: Uint8Array | ArrayBuffer) => new TextDecoder().decode(bytes)

async function auditEntries(action: string, subject?: string) {
  return (await auditLog(env).list({ action, subject, limit: 500 })).map((e) => ({ ...e, details: JSON.parse(e.details as unknown as string) as Record<string, unknown> }))
}

describe('POST /api/vault/documents', () => {
  it('stores only ciphertext in R2, answers metadata, keeps 2257 subjects 7 years and audits the upload', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const bytes = jpeg('PASSPORT P<USAEXAMPLE<<JANE 1990-01-01 ')
    const res = await upload(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_front' }, bytes)
    expect(res.status).toBe(201)
    const meta = (await res.json()) as Meta & Record<string, unknown>
    expect(meta).toMatchObject({ subject_type: 'creator', subject_id: creator, kind: 'id_document_front', content_type: 'image/jpeg', size: bytes.length, sha256: sha256Hex(bytes), region: 'global', destroyed_at: null })
    expect(meta).not.toHaveProperty('wrapped_dek')
    expect(meta.retention_basis).toMatch(/28 CFR 75\.4/)
    const years = (Date.parse(meta.retain_until!) - Date.now()) / (365.25 * 86_400_000)
    expect(years).toBeGreaterThan(6.99)
    expect(years).toBeLessThan(7.01)

    // the raw object: FZV1 header, no plaintext anywhere
    const raw = new Uint8Array(await (await env.VAULT.get(`creator_document/${creator}/${meta.id}`))!.arrayBuffer())
    expect(text(raw.subarray(0, 4))).toBe('FZV1')
    expect(raw.length).toBe(bytes.length + 4 + 12 + 16)
    expect(text(raw)).not.toContain('EXAMPLE')
    expect(text(raw)).not.toContain('1990-01-01')

    const [entry] = await auditEntries('vault.document.upload', `vault_object:${meta.id}`)
    expect(entry!.details).toMatchObject({ purpose: 'records_maintenance', subject_id: creator, size: bytes.length })
  })

  it('accepts multipart/form-data with a file part', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const pdf = new TextEncoder().encode('%PDF-1.7\nmodel release signed by the performer\n%%EOF')
    const form = new FormData()
    form.append('file', new File([pdf], 'release.pdf', { type: 'application/pdf' }))
    const encoded = new Response(form)
    const res = await call(API, `/api/vault/documents?subject_type=creator&subject_id=${creator}&kind=model_release`, {
      method: 'POST',
      token: officer,
      headers: { 'content-type': encoded.headers.get('content-type')!, 'idempotency-key': `"${crypto.randomUUID()}"`, 'vault-purpose': 'records_maintenance; note="filing a signed release"' },
      body: new Uint8Array(await encoded.arrayBuffer()),
    })
    expect(res.status).toBe(201)
    const meta = (await res.json()) as Meta
    expect(meta).toMatchObject({ content_type: 'application/pdf', kind: 'model_release', size: pdf.length, sha256: sha256Hex(pdf) })
    const [entry] = await auditEntries('vault.document.upload', `vault_object:${meta.id}`)
    expect(entry!.details).toMatchObject({ purpose: 'records_maintenance', purpose_note: 'filing a signed release' })
  })

  it('refuses types off the list, bytes that are not what they claim, video outside depiction copies and unknown subjects', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const q = { subject_type: 'creator', subject_id: creator, kind: 'selfie' }
    const html = await upload(officer, q, new TextEncoder().encode('<html><script>alert(1)</script>'), 'text/html')
    expect(html.status).toBe(415)
    expect(((await html.json()) as Problem).errors).toEqual([expect.objectContaining({ path: 'header.content-type' })])

    const disguised = await upload(officer, q, new TextEncoder().encode('<html>not a png</html>'), 'image/png')
    expect(disguised.status).toBe(422)
    expect(((await disguised.json()) as Problem).errors).toEqual([{ path: 'body', message: 'content does not match image/png' }])

    const mp4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypmp42'), 1, 2, 3])
    expect((await upload(officer, q, mp4, 'video/mp4')).status).toBe(415)
    expect((await upload(officer, { ...q, kind: 'depiction_copy' }, mp4, 'video/mp4')).status).toBe(201)

    const unknown = await upload(officer, { ...q, subject_id: 'crt_01JNOSUCHCREATOR000000000' }, jpeg())
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as Problem).errors).toEqual([expect.objectContaining({ path: 'query.subject_id' })])

    const mismatched = await upload(officer, { ...q, subject_type: 'performer' }, jpeg())
    expect(mismatched.status).toBe(400)

    const huge = new Uint8Array(25 * 1024 * 1024 + 1)
    huge.set([0xff, 0xd8, 0xff, 0xe0])
    expect((await upload(officer, q, huge)).status).toBe(413)
  })

  it('needs vault:write, a fresh two-factor sign-in and an Idempotency-Key; a retry answers the first upload', async () => {
    const creator = await createCreator()
    const q = { subject_type: 'creator', subject_id: creator, kind: 'selfie' }
    const weak = await upload(await tokenFor(['compliance_officer']), q, jpeg())
    expect(weak.status).toBe(401)
    expect(weak.headers.get('www-authenticate')).toContain('insufficient_user_authentication')
    const stale = await upload(await mint({ roles: ['compliance_officer'], amr: ['pwd', 'mfa'], auth_age_seconds: 1000 }), q, jpeg())
    expect(stale.status).toBe(401)
    for (const role of ['custodian', 'creator', 'fan', 'moderator'] as const) expect((await upload(await strong([role]), q, jpeg())).status).toBe(403)

    const officer = await strong(['compliance_officer'])
    const missingKey = await call(API, `/api/vault/documents?${new URLSearchParams(q)}`, { method: 'POST', token: officer, headers: { 'content-type': 'image/jpeg' }, body: jpeg() })
    expect(missingKey.status).toBe(400)
    const bytes = jpeg()
    const key = `"${crypto.randomUUID()}"`
    const first = await upload(officer, q, bytes, 'image/jpeg', { 'idempotency-key': key })
    const again = await upload(officer, q, bytes, 'image/jpeg', { 'idempotency-key': key })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(((await again.json()) as Meta).id).toBe(((await first.json()) as Meta).id)
    const count = await env.DB.prepare('SELECT count(*) AS n FROM vault_objects WHERE record_id = ?').bind(creator).first<{ n: number }>()
    expect(count!.n).toBe(1)
  })

  it("keeps an EU performer's documents in the EU bucket and refuses to put them elsewhere", async () => {
    const officer = await strong(['compliance_officer'])
    const performer = await createPerformer('eu')
    const meta = await uploaded(officer, { subject_type: 'performer', subject_id: performer, kind: 'id_document_back' }, jpeg())
    expect(meta.region).toBe('eu')
    expect(await env.VAULT_EU.head(`performer_document/${performer}/${meta.id}`)).not.toBeNull()
    expect(await env.VAULT.head(`performer_document/${performer}/${meta.id}`)).toBeNull()
    const forced = await upload(officer, { subject_type: 'performer', subject_id: performer, kind: 'selfie', region: 'global' }, jpeg())
    expect(forced.status).toBe(400)
    expect(((await forced.json()) as Problem).errors).toEqual([expect.objectContaining({ path: 'query.region' })])
  })
})

describe('reading the vault', () => {
  it('a read without a purpose is 400 naming header.vault-purpose; with one it is answered and audited with it', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_front' }, jpeg())
    const custodian = await tokenFor(['custodian'])

    for (const path of [`/api/vault/documents?subject_type=creator&subject_id=${creator}`, `/api/vault/documents/${doc.id}`]) {
      const res = await call(API, path, { token: custodian })
      expect(res.status).toBe(400)
      expect(((await res.json()) as Problem).errors).toEqual([expect.objectContaining({ path: 'header.vault-purpose' })])
      const vague = await call(API, path, { token: custodian, headers: { 'vault-purpose': 'inspection; note="x"' } })
      expect(vague.status).toBe(400)
    }
    const noLink = await call(API, `/api/vault/documents/${doc.id}/download-link`, { method: 'POST', token: officer })
    expect(noLink.status).toBe(400)
    expect(((await noLink.json()) as Problem).errors![0]!.path).toBe('header.vault-purpose')

    const list = await call(API, `/api/vault/documents?subject_type=creator&subject_id=${creator}`, { token: custodian, headers: PURPOSE })
    expect(list.status).toBe(200)
    const listed = (await list.json()) as { documents: Array<Meta & Record<string, unknown>> }
    expect(listed.documents.map((d) => d.id)).toEqual([doc.id])
    expect(listed.documents[0]).not.toHaveProperty('wrapped_dek')
    expect(listed.documents[0]).not.toHaveProperty('r2_key')
    const one = await call(API, `/api/vault/documents/${doc.id}`, { token: custodian, headers: PURPOSE })
    expect(((await one.json()) as Meta).sha256).toBe(doc.sha256)

    // every allowed read is in the audit log with its purpose, against the reader
    const path = await linkFor(officer, doc.id)
    expect((await call(API, path)).status).toBe(200)
    const reads = [
      ...(await auditEntries('vault.document.list', `creator:${creator}`)),
      ...(await auditEntries('vault.document.read', `vault_object:${doc.id}`)),
      ...(await auditEntries('vault.document.link', `vault_object:${doc.id}`)),
      ...(await auditEntries('vault.document.download', `vault_object:${doc.id}`)),
    ]
    expect(reads.map((e) => e.action).sort()).toEqual(['vault.document.download', 'vault.document.link', 'vault.document.list', 'vault.document.read'])
    for (const e of reads) expect(e.details.purpose).toBe('kyc_review')
    const link = reads.find((e) => e.action === 'vault.document.link')!
    const download = reads.find((e) => e.action === 'vault.document.download')!
    expect(link.details.purpose_note).toBe('checking the ID of a test creator')
    expect(download.actor).toBe(link.actor)
    expect(download.details.link_id).toBe(link.details.link_id)
  })

  it("fans, creators and moderators get 403 on another person's documents, with or without step-up", async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator(await createUser())
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_front' }, jpeg())
    for (const role of ['fan', 'creator', 'moderator'] as const) {
      for (const token of [await tokenFor([role]), await strong([role])]) {
        const list = await call(API, `/api/vault/documents?subject_type=creator&subject_id=${creator}`, { token, headers: PURPOSE })
        const meta = await call(API, `/api/vault/documents/${doc.id}`, { token, headers: PURPOSE })
        const link = await call(API, `/api/vault/documents/${doc.id}/download-link`, { method: 'POST', token, headers: PURPOSE })
        const destroy = await call(API, `/api/vault/documents/${doc.id}`, { method: 'DELETE', token, headers: PURPOSE })
        expect([role, list.status, meta.status, link.status, destroy.status]).toEqual([role, 403, 403, 403, 403])
      }
    }
    // and another creator's own list does not include it
    const other = await createUser()
    await createCreator(other)
    const mine = await call(API, '/api/vault/documents/mine', { token: await tokenFor(['creator'], { subject: other }) })
    expect(((await mine.json()) as { documents: Meta[] }).documents).toEqual([])
  })

  it('the subject lists the metadata of their own documents but cannot download them', async () => {
    const officer = await strong(['compliance_officer'])
    const user = await createUser()
    const creator = await createCreator(user)
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_front' }, jpeg())
    const mine = await call(API, '/api/vault/documents/mine', { token: await tokenFor(['creator'], { subject: user }) })
    expect(mine.status).toBe(200)
    expect(((await mine.json()) as { documents: Meta[] }).documents).toEqual([expect.objectContaining({ id: doc.id, subject_id: creator, kind: 'id_document_front', sha256: doc.sha256 })])
    const selfStrong = await strong(['creator'], user)
    expect((await call(API, `/api/vault/documents/${doc.id}/download-link`, { method: 'POST', token: selfStrong, headers: PURPOSE })).status).toBe(403)
    const [entry] = await auditEntries('vault.document.list', `user:${user}`)
    expect(entry!.details).toMatchObject({ self: true, count: 1, purpose: 'subject_access_request' })
  })
})

describe('download links', () => {
  it('stream the identical bytes once, as an attachment that is never cached or sniffed; a second use is 410', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const bytes = jpeg()
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'selfie' }, bytes)
    const weak = await call(API, `/api/vault/documents/${doc.id}/download-link`, { method: 'POST', token: await tokenFor(['compliance_officer']), headers: PURPOSE })
    expect(weak.status).toBe(401)

    const path = await linkFor(officer, doc.id)
    const first = await call(API, path)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toBe('image/jpeg')
    expect(first.headers.get('content-disposition')).toBe(`attachment; filename="${doc.id}.jpg"`)
    expect(first.headers.get('cache-control')).toBe('no-store')
    expect(first.headers.get('x-content-type-options')).toBe('nosniff')
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes)

    const second = await call(API, path)
    expect(second.status).toBe(410)
    expect(((await second.json()) as Problem).detail).toMatch(/already used/)
    expect(await auditEntries('vault.document.download', `vault_object:${doc.id}`)).toHaveLength(1)
  })

  it('an expired link is 410; a forged or altered one is 404; neither is redeemed', async () => {
    const officer = await strong(['compliance_officer'])
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: await createCreator(), kind: 'selfie' }, jpeg())
    const master = env.SIGNING_MASTER_KEY
    const expired = await signDownloadToken(master, newLinkClaims(doc.id, 'usr_test', 'kyc_review', Date.now() - 61_000))
    const res = await call(API, `/api/vault/downloads/${expired}`)
    expect(res.status).toBe(410)
    expect(((await res.json()) as Problem).detail).toMatch(/expired/)

    const path = await linkFor(officer, doc.id)
    const token = path.split('/').pop()!
    const [body, mac] = token.split('.') as [string, string]
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(body.replaceAll('-', '+').replaceAll('_', '/')), (ch) => ch.charCodeAt(0))))
    const altered = btoa(JSON.stringify({ ...claims, e: claims.e + 3600 })).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
    expect((await call(API, `/api/vault/downloads/${altered}.${mac}`)).status).toBe(404)
    const foreign = await signDownloadToken('another-master-key-of-at-least-32-characters', newLinkClaims(doc.id, 'usr_test', 'kyc_review'))
    expect((await call(API, `/api/vault/downloads/${foreign}`)).status).toBe(404)
    expect((await call(API, '/api/vault/downloads/not-a-token')).status).toBe(404)
    // the genuine link is still unused
    expect((await call(API, path)).status).toBe(200)
  })

  it('a ciphertext moved onto another document never opens: 500 problem, no bytes, an integrity audit entry', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const a = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_front' }, jpeg('SECRET-A '))
    const b = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'id_document_back' }, jpeg('SECRET-B '))
    // someone with bucket access swaps A's bytes in for B's
    await env.VAULT.put(`creator_document/${creator}/${b.id}`, await (await env.VAULT.get(`creator_document/${creator}/${a.id}`))!.arrayBuffer())
    const res = await call(API, await linkFor(officer, b.id))
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const body = await res.text()
    expect(body).not.toContain('SECRET')
    expect(JSON.parse(body)).toMatchObject({ code: 'INTERNAL_ERROR' })
    const [entry] = await auditEntries('vault.document.integrity_failure', `vault_object:${b.id}`)
    expect(entry!.details).toMatchObject({ severity: 'critical', purpose: 'kyc_review' })
    expect(await auditEntries('vault.document.download', `vault_object:${b.id}`)).toHaveLength(0)
  })
})

describe('DELETE /api/vault/documents/{id}', () => {
  it('is refused inside retention, naming the basis; after it, the bytes go and the row stays as proof', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    const kept = await uploaded(officer, { subject_type: 'creator', subject_id: creator, kind: 'consent' }, jpeg())
    const refused = await call(API, `/api/vault/documents/${kept.id}`, { method: 'DELETE', token: officer, headers: { 'vault-purpose': 'records_maintenance; note="tidying up old documents"' } })
    expect(refused.status).toBe(409)
    const problem = (await refused.json()) as Problem & { retain_until: string; retention_basis: string }
    expect(problem.detail).toContain('28 CFR 75.4')
    expect(problem.retain_until).toBe(kept.retain_until)
    expect(await env.VAULT.head(`creator_document/${creator}/${kept.id}`)).not.toBeNull()

    // an account's own document (not a 2257 record) has no retention period
    const user = await createUser()
    const loose = await uploaded(officer, { subject_type: 'user', subject_id: user, kind: 'other' }, jpeg())
    expect(loose.retain_until).toBeNull()
    const purpose = { 'vault-purpose': 'subject_access_request; note="erasure request from the account holder"' }
    const done = await call(API, `/api/vault/documents/${loose.id}`, { method: 'DELETE', token: officer, headers: purpose })
    expect(done.status).toBe(200)
    expect(((await done.json()) as Meta).destroyed_at).not.toBeNull()
    expect(await env.VAULT.head(`user_document/${user}/${loose.id}`)).toBeNull()
    const row = await env.DB.prepare('SELECT destroyed_at_ms, wrapped_dek FROM vault_objects WHERE id = ?').bind(loose.id).first<{ destroyed_at_ms: number; wrapped_dek: string }>()
    expect(row).toMatchObject({ wrapped_dek: '' })
    expect(row!.destroyed_at_ms).toBeGreaterThan(0)
    const link = await call(API, `/api/vault/documents/${loose.id}/download-link`, { method: 'POST', token: officer, headers: PURPOSE })
    expect(link.status).toBe(409)
    const [entry] = await auditEntries('vault.document.destroy', `vault_object:${loose.id}`)
    expect(entry!.details).toMatchObject({ purpose: 'subject_access_request' })
  })
})

describe('POST /api/vault/break-glass', () => {
  it('answers a working link, writes a critical audit entry and opens an operator alert', async () => {
    const officer = await strong(['compliance_officer'])
    const bytes = jpeg()
    const doc = await uploaded(officer, { subject_type: 'creator', subject_id: await createCreator(), kind: 'id_document_front' }, bytes)
    const body = { object_id: doc.id, reason: 'law enforcement request with a court order, custodian unreachable', incident: 'INC-2026-0042' }

    expect((await call(API, '/api/vault/break-glass', { token: await tokenFor(['compliance_officer']), body })).status).toBe(401)
    for (const role of ['custodian', 'creator', 'fan', 'moderator', 'admin'] as const) expect((await call(API, '/api/vault/break-glass', { token: await strong([role]), body })).status).toBe(403)
    const short = await call(API, '/api/vault/break-glass', { token: officer, body: { ...body, reason: 'because' } })
    expect(short.status).toBe(422)
    expect(((await short.json()) as Problem).errors![0]!.path).toBe('body.reason')

    const res = await call(API, '/api/vault/break-glass', { token: officer, body })
    expect(res.status).toBe(201)
    const link = (await res.json()) as { url: string; alert_id: string; severity: string }
    expect(link.severity).toBe('critical')
    const download = await call(API, new URL(link.url).pathname)
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes)

    const [use] = await auditEntries('vault.break_glass.use', `vault_object:${doc.id}`)
    expect(use!.details).toMatchObject({ severity: 'critical', reason: body.reason, incident: 'INC-2026-0042', purpose: 'break_glass', alert_id: link.alert_id })
    const [read] = await auditEntries('vault.document.download', `vault_object:${doc.id}`)
    expect(read!.details).toMatchObject({ purpose: 'break_glass', break_glass: true })
    const alert = await env.DB.prepare('SELECT queue, status, body_json FROM dead_letters WHERE id = ?').bind(link.alert_id).first<{ queue: string; status: string; body_json: string }>()
    expect(alert).toMatchObject({ queue: 'alerts/vault.break_glass', status: 'open' })
    expect(JSON.parse(alert!.body_json)).toMatchObject({ severity: 'critical', object_id: doc.id, incident: 'INC-2026-0042' })
  })
})
