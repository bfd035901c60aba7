import { env } from 'cloudflare:workers'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { getConfig } from '../../config'
import { openSealed, type VaultObject } from '../store'
import { sandboxKycSettings } from './providers'
import { API, completeHostedFlow, dayFromNow, fakeImage, newCreator, openOwnSession, strong, type Opened } from './test-kit'
import { veriffSignature } from './veriff'

const PURPOSE = { 'vault-purpose': 'kyc_review; note="checking the ID of a new creator"' }

async function objectsOf(id: string): Promise<VaultObject[]> {
  const { results } = await env.DB.prepare("SELECT id, record_type AS recordType, record_id AS recordId, kind, content_type AS contentType, byte_length AS byteLength, sha256_hex AS sha256Hex, bucket, r2_key AS r2Key, kek_version AS kekVersion, wrapped_dek AS wrappedDek, retain_until_ms AS retainUntilMs, retention_basis AS retentionBasis, created_by AS createdBy, created_at_ms AS createdAtMs, rewrapped_at_ms AS rewrappedAtMs, destroyed_at_ms AS destroyedAtMs FROM vault_objects WHERE record_type = 'kyc_verification' AND record_id = ? ORDER BY id").bind(id).all<VaultObject>()
  return results
}

async function row(id: string) {
  return env.DB.prepare('SELECT * FROM kyc_verifications WHERE id = ?').bind(id).first<{ status: string; reason: string | null; provider_session_id: string; document_expires_on: string | null; document_country: string | null; document_type: string | null }>()
}

async function verifiedCreator(lastName: string, opts: { dateOfBirth?: string; validUntil?: string; marker?: string } = {}) {
  const creator = await newCreator()
  const res = await openOwnSession(creator.token, creator.creatorId)
  expect(res.status).toBe(201)
  const opened = (await res.json()) as Opened
  const marker = opts.marker ?? `ID-IMAGE-${crypto.randomUUID()}`
  const flow = await completeHostedFlow(opened.url, { firstName: 'Ann', lastName, dateOfBirth: opts.dateOfBirth ?? '1990-04-02', documentNumber: 'X1234567', validUntil: opts.validUntil ?? dayFromNow(3) }, fakeImage(marker))
  return { creator, opened, flow, marker }
}

/** A decision webhook for a session, signed with the sandbox's secret the way Veriff signs. */
async function signedDecision(sessionId: string, vendorData: string, status: string, extra: Record<string, unknown> = {}) {
  const body = JSON.stringify({ status: 'success', verification: { id: sessionId, vendorData, status, code: 9001, reason: null, person: { firstName: 'Ann', lastName: 'Late', dateOfBirth: '1990-04-02' }, document: { type: 'PASSPORT', number: 'L999', country: 'US', validUntil: dayFromNow(4) }, ...extra } })
  const { sharedSecret } = await sandboxKycSettings(getConfig(env))
  return { body, signature: await veriffSignature(sharedSecret, body) }
}

describe('Veriff signature (X-HMAC-SIGNATURE)', () => {
  it('is hex HMAC-SHA256 of the raw body: known answer computed independently', async () => {
    const secret = 'abcdef12-abcd-abcd-abcd-abcdef012345'
    const body = '{"verification":{"callback":"https://veriff.com","person":{"firstName":"John","lastName":"Smith"},"vendorData":"unique id"}}'
    const expected = bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(body)))
    expect(expected).toMatch(/^[0-9a-f]{64}$/)
    expect(await veriffSignature(secret, body)).toBe(expected)
    expect(await veriffSignature(secret, `${body} `)).not.toBe(expected)
  })

  it('accepts the signed webhook and refuses it with one changed character, storing nothing', async () => {
    const creator = await newCreator()
    const opened = (await (await openOwnSession(creator.token, creator.creatorId)).json()) as Opened
    const sessionId = (await row(opened.verification.id))!.provider_session_id
    const { body } = await signedDecision(sessionId, opened.verification.id, 'approved')
    const { sharedSecret } = await sandboxKycSettings(getConfig(env))
    const signature = bytesToHex(hmac(sha256, utf8ToBytes(sharedSecret), utf8ToBytes(body)))

    const tampered = body.replace('"L999"', '"L998"')
    expect(tampered).not.toBe(body)
    const refused = await call(API, '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json', 'x-hmac-signature': signature }, body: tampered })
    expect(refused.status).toBe(400)
    const problem = (await refused.json()) as { code: string; errors: Array<{ path: string }> }
    expect(problem.code).toBe('SIGNATURE_INVALID')
    expect(problem.errors[0]!.path).toBe('header.x-hmac-signature')
    expect((await row(opened.verification.id))!.status).toBe('created')
    expect(await objectsOf(opened.verification.id)).toHaveLength(0)
    expect(await auditLog(env).list({ subject: `kyc:${opened.verification.id}`, action: 'vault.kyc.decision', limit: 5 })).toHaveLength(0)

    const missing = await call(API, '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json' }, body })
    expect(missing.status).toBe(400)

    const accepted = await call(API, '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json', 'x-hmac-signature': signature }, body })
    expect(accepted.status).toBe(200)
    expect(await accepted.json()).toEqual({ outcome: 'applied', status: 'approved' })
    expect((await row(opened.verification.id))!.status).toBe('approved')
    // the exact signed bytes are what the vault keeps
    const [decision] = await objectsOf(opened.verification.id)
    expect(decision!.kind).toBe('provider_decision')
    expect(new TextDecoder().decode(await openSealed(env, decision!))).toBe(body)

    // the same webhook again (a provider retry): 200, nothing changes, nothing more is stored
    const again = await call(API, '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json', 'x-hmac-signature': signature }, body })
    expect(await again.json()).toEqual({ outcome: 'duplicate', status: 'approved' })
    expect(await objectsOf(opened.verification.id)).toHaveLength(1)
  })
})

describe('sandbox provider end to end', () => {
  it('session -> hosted page -> ID upload -> liveness -> signed webhook -> approved', async () => {
    const { creator, opened, flow, marker } = await verifiedCreator('Smith', { validUntil: '2031-05-06' })
    expect(opened.verification.status).toBe('created')
    expect(opened.url).toMatch(/^http:\/\/localhost\/sandbox-kyc\/session\?s=[0-9a-f-]{36}$/)
    expect(flow.page.status).toBe(200)
    expect(await flow.page.text()).toContain('type="file"')
    expect(flow.document.status).toBe(200)
    expect(flow.liveness.status).toBe(200)
    expect(flow.liveness.headers.get('refresh')).toBe(`0;url=http://dash.localhost/kyc?verification=${opened.verification.id}`)

    const stored = (await row(opened.verification.id))!
    expect(stored).toMatchObject({ status: 'approved', reason: null, document_type: 'PASSPORT', document_country: 'US', document_expires_on: '2031-05-06' })
    // D1 has no personal data: the name and document number live only in the vault
    expect(JSON.stringify(stored)).not.toContain('X1234567')
    expect(JSON.stringify(stored)).not.toContain('Smith')

    const own = await call(API, `/api/vault/kyc/sessions/${opened.verification.id}`, { token: creator.token })
    expect(own.status).toBe(200)
    const ownBody = (await own.json()) as Record<string, unknown>
    expect(ownBody).toMatchObject({ status: 'approved', reason: null, subject_type: 'creator', subject_id: creator.creatorId, provider: 'sandbox' })
    expect(Object.keys(ownBody).sort()).toEqual(['created_at', 'id', 'provider', 'reason', 'status', 'subject_id', 'subject_type', 'updated_at'])

    const standing = await call(API, `/api/vault/kyc/subjects/creator/${creator.creatorId}`, { token: await tokenFor(['compliance_officer']) })
    expect(await standing.json()).toMatchObject({ verified: true, status: 'approved', verification_id: opened.verification.id, document_expires_on: '2031-05-06' })

    // the uploaded ID: only ciphertext in R2, the plaintext comes back through the vault
    const objects = await objectsOf(opened.verification.id)
    expect(objects.map((o) => o.kind).sort()).toEqual(['id_document_front', 'provider_decision'])
    for (const object of objects) {
      const raw = new Uint8Array(await (await env[object.bucket].get(object.r2Key))!.arrayBuffer())
      const text = new TextDecoder('latin1').decode(raw)
      expect(text).not.toContain(marker)
      expect(text).not.toContain('Smith')
      expect(text).not.toContain('X1234567')
    }
    const front = objects.find((o) => o.kind === 'id_document_front')!
    expect(front.contentType).toBe('image/png')
    expect(new TextDecoder().decode(await openSealed(env, front))).toContain(marker)
  })

  it('last name Decline: declined with the provider reason; a late approval is ignored', async () => {
    const { creator, opened } = await verifiedCreator('Decline')
    const stored = (await row(opened.verification.id))!
    expect(stored).toMatchObject({ status: 'declined', reason: '102: Suspected document tampering' })
    const own = (await (await call(API, `/api/vault/kyc/sessions/${opened.verification.id}`, { token: creator.token })).json()) as { status: string; reason: string }
    expect(own).toMatchObject({ status: 'declined', reason: '102: Suspected document tampering' })

    const before = (await objectsOf(opened.verification.id)).length
    const late = await signedDecision(stored.provider_session_id, opened.verification.id, 'approved')
    const res = await call(API, '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json', 'x-hmac-signature': late.signature }, body: late.body })
    expect(await res.json()).toEqual({ outcome: 'ignored', status: 'declined' })
    expect((await row(opened.verification.id))!.status).toBe('declined')
    expect(await objectsOf(opened.verification.id)).toHaveLength(before)
    const ignored = await auditLog(env).list({ subject: `kyc:${opened.verification.id}`, action: 'vault.kyc.webhook_ignored', limit: 5 })
    expect(ignored).toHaveLength(1)
  })

  it('a date of birth under 18 years is declined underage', async () => {
    const { opened } = await verifiedCreator('Young', { dateOfBirth: dayFromNow(-17, -300) })
    expect(await row(opened.verification.id)).toMatchObject({ status: 'declined', reason: 'underage' })
    // 18 today is an adult
    const { opened: adult } = await verifiedCreator('Eighteen', { dateOfBirth: dayFromNow(-18) })
    expect(await row(adult.verification.id)).toMatchObject({ status: 'approved' })
  })

  it('last name Review: into the queue, oldest first; an officer approves with step-up and purpose', async () => {
    const first = await verifiedCreator('Review')
    const second = await verifiedCreator('Review')
    expect(await row(first.opened.verification.id)).toMatchObject({ status: 'review', reason: 'Document needs a closer look' })

    const officer = await strong(['compliance_officer'])
    const queue = await call(API, '/api/vault/kyc/review-queue?limit=200', { token: officer })
    expect(queue.status).toBe(200)
    const ids = ((await queue.json()) as { items: Array<{ id: string; status: string }> }).items.map((i) => i.id)
    expect(ids.indexOf(first.opened.verification.id)).toBeGreaterThanOrEqual(0)
    expect(ids.indexOf(first.opened.verification.id)).toBeLessThan(ids.indexOf(second.opened.verification.id))
    // cursor pages: one at a time walks the same order
    const page1 = (await (await call(API, '/api/vault/kyc/review-queue?limit=1', { token: officer })).json()) as { items: Array<{ id: string }>; next_cursor: string }
    const page2 = (await (await call(API, `/api/vault/kyc/review-queue?limit=1&cursor=${page1.next_cursor}`, { token: officer })).json()) as { items: Array<{ id: string }> }
    expect([page1.items[0]!.id, page2.items[0]!.id]).toEqual(ids.slice(0, 2))

    const path = `/api/vault/kyc/sessions/${first.opened.verification.id}/review`
    const body = { decision: 'approve', reason: 'document checked by hand, it is genuine' }
    expect((await call(API, path, { token: first.creator.token, headers: PURPOSE, body })).status).toBe(403)
    expect((await call(API, path, { token: await tokenFor(['compliance_officer']), headers: PURPOSE, body })).status).toBe(401)
    const noPurpose = await call(API, path, { token: officer, body })
    expect(noPurpose.status).toBe(400)
    const wrongPurpose = await call(API, path, { token: officer, headers: { 'vault-purpose': 'inspection; note="looking at the record"' }, body })
    expect(wrongPurpose.status).toBe(400)
    const shortReason = await call(API, path, { token: officer, headers: PURPOSE, body: { decision: 'approve', reason: 'ok' } })
    expect(shortReason.status).toBe(422)
    expect(((await shortReason.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.reason')

    const approved = await call(API, path, { token: officer, headers: PURPOSE, body })
    expect(approved.status).toBe(200)
    expect(await approved.json()).toMatchObject({ status: 'approved', reason: 'document checked by hand, it is genuine' })
    const entries = await auditLog(env).list({ subject: `kyc:${first.opened.verification.id}`, action: 'vault.kyc.review', limit: 5 })
    expect(entries).toHaveLength(1)
    expect(JSON.parse(entries[0]!.details as unknown as string)).toMatchObject({ from: 'review', to: 'approved', decision: 'approve', purpose: 'kyc_review' })
    // decided: not in the queue, cannot be decided again
    const after = ((await (await call(API, '/api/vault/kyc/review-queue?limit=200', { token: officer })).json()) as { items: Array<{ id: string }> }).items.map((i) => i.id)
    expect(after).not.toContain(first.opened.verification.id)
    expect((await call(API, path, { token: officer, headers: PURPOSE, body })).status).toBe(409)
  })
})

describe('who may read a verification', () => {
  it('own status only for the subject; details only for a vault reader with step-up and a purpose', async () => {
    const { creator, opened } = await verifiedCreator('Jones')
    const id = opened.verification.id
    const other = await newCreator()
    expect((await call(API, `/api/vault/kyc/sessions/${id}`, { token: other.token })).status).toBe(403)
    expect((await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: other.token, headers: PURPOSE })).status).toBe(403)
    expect((await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: creator.token, headers: PURPOSE })).status).toBe(403)
    const moderator = await strong(['moderator'])
    expect((await call(API, `/api/vault/kyc/sessions/${id}`, { token: moderator })).status).toBe(403)
    expect((await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: moderator, headers: PURPOSE })).status).toBe(403)
    // another creator cannot open a session for someone else's profile either
    expect((await openOwnSession(other.token, creator.creatorId)).status).toBe(403)

    const officer = await strong(['compliance_officer'])
    const noPurpose = await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: officer })
    expect(noPurpose.status).toBe(400)
    expect(((await noPurpose.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('header.vault-purpose')
    expect((await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: await tokenFor(['compliance_officer']), headers: PURPOSE })).status).toBe(401)

    const details = await call(API, `/api/vault/kyc/sessions/${id}/details`, { token: officer, headers: PURPOSE })
    expect(details.status).toBe(200)
    const body = (await details.json()) as { person: unknown; document: unknown; objects: Array<{ kind: string }> }
    expect(body.person).toEqual({ first_name: 'Ann', last_name: 'Jones', date_of_birth: '1990-04-02' })
    expect(body.document).toMatchObject({ type: 'PASSPORT', number: 'X1234567', country: 'US' })
    expect(body.objects.map((o) => o.kind).sort()).toEqual(['id_document_front', 'provider_decision'])
    const reads = await auditLog(env).list({ subject: `kyc:${id}`, action: 'vault.kyc.read', limit: 5 })
    expect(reads).toHaveLength(1)
    expect(JSON.parse(reads[0]!.details as unknown as string)).toMatchObject({ purpose: 'kyc_review', purpose_note: 'checking the ID of a new creator' })
  })

  it('staff open a session for a creator with vault:write and an Idempotency-Key (a retry opens nothing new)', async () => {
    const creator = await newCreator()
    const officer = await tokenFor(['compliance_officer'])
    const key = `"${crypto.randomUUID()}"`
    const path = `/api/vault/kyc/subjects/creator/${creator.creatorId}/sessions`
    const first = await call(API, path, { method: 'POST', token: officer, headers: { 'idempotency-key': key } })
    expect(first.status).toBe(201)
    const again = await call(API, path, { method: 'POST', token: officer, headers: { 'idempotency-key': key } })
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    const a = (await first.json()) as Opened
    expect(((await again.json()) as Opened).verification.id).toBe(a.verification.id)
    const count = await env.DB.prepare('SELECT count(*) AS n FROM kyc_verifications WHERE subject_id = ?').bind(creator.creatorId).first<{ n: number }>()
    expect(count!.n).toBe(1)
    expect((await call(API, path, { method: 'POST', token: creator.token, headers: { 'idempotency-key': `"${crypto.randomUUID()}"` } })).status).toBe(403)
    expect((await auditLog(env).list({ subject: `kyc:${a.verification.id}`, action: 'vault.kyc.session.open', limit: 5 })).length).toBe(1)
  })
})
