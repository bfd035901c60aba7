import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { afterEach, describe, expect, it, vi } from 'vitest'
import worker from '../../index'
import { call, cf } from '../../../test/helpers'
import { getConfig } from '../../config'
import { sandboxKycSettings } from './providers'
import { dayFromNow, newCreator, openOwnSession, type Opened } from './test-kit'
import { veriffSignature } from './veriff'

const VERIFF = { apiKey: 'veriff-api-key-0001', sharedSecret: 'veriff-shared-secret-0001' }
const withVeriff = { ...env, KYC_PROVIDERS: JSON.stringify({ veriff: VERIFF }) } as Env

async function fetchWith(environment: Env, url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  const target = new URL(url)
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(url, { ...init, headers: { host: target.host, ...init.headers }, redirect: 'manual', cf: cf('US', 'CA') }) as Request<unknown, IncomingRequestCfProperties>, environment, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

async function sessionOf(id: string): Promise<{ status: string; reason: string | null; provider: string; provider_session_id: string }> {
  return (await env.DB.prepare('SELECT status, reason, provider, provider_session_id FROM kyc_verifications WHERE id = ?').bind(id).first())!
}

async function postSandbox(body: unknown) {
  const raw = JSON.stringify(body)
  const { sharedSecret } = await sandboxKycSettings(getConfig(env))
  const res = await call('api.localhost', '/api/vault/kyc/webhooks/sandbox', { headers: { 'content-type': 'application/json', 'x-hmac-signature': await veriffSignature(sharedSecret, raw) }, body: raw })
  return { status: res.status, body: (await res.json()) as { outcome: string; status: string | null } }
}

async function openedSandbox(): Promise<{ id: string; session: string }> {
  const creator = await newCreator()
  const opened = (await (await openOwnSession(creator.token, creator.creatorId)).json()) as Opened
  return { id: opened.verification.id, session: (await sessionOf(opened.verification.id)).provider_session_id }
}

const decision = (session: string, vendorData: string, status: string, person: Record<string, unknown>, validUntil = dayFromNow(2)) => ({
  status: 'success',
  verification: { id: session, vendorData, status, code: null, reason: null, person, document: { type: 'ID_CARD', number: 'D-1', country: 'DE', validUntil } },
})

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('the Veriff adapter (KYC_PROVIDERS configured)', () => {
  it("opens a session with Veriff's wire format and accepts only webhooks signed with Veriff's secret", async () => {
    const creator = await newCreator()
    const seen: Request[] = []
    const sessionId = 'f04bdb47-d3be-4b28-b028-a652feb060b5'
    vi.stubGlobal('fetch', async (input: Request | string, init?: RequestInit) => {
      const request = new Request(input, init)
      seen.push(request.clone())
      const sent = (await request.json()) as { verification: { vendorData: string } }
      return Response.json({ status: 'success', verification: { id: sessionId, url: `https://alchemy.veriff.com/v/tok-${sessionId}`, vendorData: sent.verification.vendorData, host: 'https://alchemy.veriff.com', status: 'created', sessionToken: 'tok' } }, { status: 201 })
    })
    const res = await fetchWith(withVeriff, 'http://api.localhost/api/vault/kyc/sessions', {
      method: 'POST',
      headers: { authorization: `Bearer ${creator.token}`, 'content-type': 'application/json', 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: JSON.stringify({ subject_type: 'creator', subject_id: creator.creatorId }),
    })
    vi.unstubAllGlobals()
    expect(res.status).toBe(201)
    const opened = (await res.json()) as Opened
    expect(opened.url).toBe(`https://alchemy.veriff.com/v/tok-${sessionId}`)
    expect(seen).toHaveLength(1)
    const sent = seen[0]!
    expect(sent.method).toBe('POST')
    expect(sent.url).toBe('https://stationapi.veriff.com/v1/sessions')
    expect(sent.headers.get('x-auth-client')).toBe(VERIFF.apiKey)
    const sentBody = await sent.text()
    expect(sent.headers.get('x-hmac-signature')).toBe(bytesToHex(hmac(sha256, utf8ToBytes(VERIFF.sharedSecret), utf8ToBytes(sentBody))))
    expect(JSON.parse(sentBody)).toEqual({ verification: { callback: `http://dash.localhost/kyc?verification=${opened.verification.id}`, vendorData: opened.verification.id } })
    expect(await sessionOf(opened.verification.id)).toMatchObject({ provider: 'veriff', provider_session_id: sessionId, status: 'created' })

    const raw = JSON.stringify(decision(sessionId, opened.verification.id, 'approved', { firstName: 'Eva', lastName: 'Veriff', dateOfBirth: '1985-01-31' }))
    const post = async (secret: string, provider = 'veriff') =>
      fetchWith(withVeriff, `http://api.localhost/api/vault/kyc/webhooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hmac-signature': bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(raw))) }, body: raw })
    const { sharedSecret: sandboxSecret } = await sandboxKycSettings(getConfig(env))
    expect((await post(sandboxSecret)).status).toBe(400)
    // a genuine sandbox signature on the sandbox route names a session the sandbox never opened
    expect(await (await post(sandboxSecret, 'sandbox')).json()).toEqual({ outcome: 'unknown_session', status: null })
    expect((await sessionOf(opened.verification.id)).status).toBe('created')
    const ok = await post(VERIFF.sharedSecret)
    expect(await ok.json()).toEqual({ outcome: 'applied', status: 'approved' })
  })

  it('answers 404 for Veriff webhooks when Veriff is not configured', async () => {
    const res = await call('api.localhost', '/api/vault/kyc/webhooks/veriff', { headers: { 'content-type': 'application/json', 'x-hmac-signature': '0'.repeat(64) }, body: '{}' })
    expect(res.status).toBe(404)
  })
})

describe('statuses', () => {
  it('event submitted, then resubmission, then approval on the same session; later events change nothing', async () => {
    const { id, session } = await openedSandbox()
    expect(await postSandbox({ id: session, attemptId: 'a1', feature: 'selfid', code: 7002, action: 'submitted', vendorData: id })).toEqual({ status: 200, body: { outcome: 'applied', status: 'submitted' } })
    expect((await postSandbox({ id: session, attemptId: 'a1', feature: 'selfid', code: 7001, action: 'started', vendorData: id })).body).toEqual({ outcome: 'duplicate', status: 'submitted' })
    const base = decision(session, id, 'resubmission_requested', { firstName: 'R', lastName: 'S', dateOfBirth: '1990-01-01' })
    const resubmit = { ...base, verification: { ...base.verification, reason: 'Poor image quality', code: 9103, reasonCode: 204 } }
    expect((await postSandbox(resubmit)).body).toEqual({ outcome: 'applied', status: 'resubmission_requested' })
    expect(await sessionOf(id)).toMatchObject({ reason: '204: Poor image quality' })
    expect((await postSandbox(decision(session, id, 'approved', { firstName: 'R', lastName: 'S', dateOfBirth: '1990-01-01' }))).body).toEqual({ outcome: 'applied', status: 'approved' })
    // approved: a late "submitted" event or a resubmission request cannot reopen it
    expect((await postSandbox({ id: session, attemptId: 'a2', feature: 'selfid', code: 7002, action: 'submitted', vendorData: id })).body).toEqual({ outcome: 'ignored', status: 'approved' })
    expect((await postSandbox(resubmit)).body).toEqual({ outcome: 'ignored', status: 'approved' })
    // the provider's re-decision to decline (revocation) is applied
    expect((await postSandbox(decision(session, id, 'declined', {}))).body).toEqual({ outcome: 'applied', status: 'declined' })
    expect(await sessionOf(id)).toMatchObject({ status: 'declined', reason: 'declined_by_provider' })
  })

  it('an approval without a date of birth goes to review; with an already expired document, resubmission', async () => {
    const a = await openedSandbox()
    expect((await postSandbox(decision(a.session, a.id, 'approved', { firstName: 'No', lastName: 'Dob' }))).body).toEqual({ outcome: 'applied', status: 'review' })
    expect(await sessionOf(a.id)).toMatchObject({ reason: 'date_of_birth_missing' })
    const b = await openedSandbox()
    expect((await postSandbox(decision(b.session, b.id, 'approved', { dateOfBirth: '1990-01-01' }, dayFromNow(0, -1)))).body).toEqual({ outcome: 'applied', status: 'resubmission_requested' })
    expect(await sessionOf(b.id)).toMatchObject({ reason: 'document_expired' })
    const c = await openedSandbox()
    expect((await postSandbox(decision(c.session, c.id, 'abandoned', {}))).body).toEqual({ outcome: 'applied', status: 'expired' })
    expect(await sessionOf(c.id)).toMatchObject({ reason: 'session_abandoned' })
  })

  it('a signed body that is neither a decision nor an event is 422 naming the field', async () => {
    const res = await postSandbox({ verification: { id: 'x', status: 'maybe' } })
    expect(res.status).toBe(422)
  })
})

describe('production', () => {
  it('has no sandbox provider: hosted pages, API and webhook route answer 404', async () => {
    const production = { ...env, ENVIRONMENT: 'production', PLATFORM_DOMAIN: 'fanz.network' } as Env
    expect((await fetchWith(production, 'https://fanz.network/sandbox-kyc/session?s=f04bdb47-d3be-4b28-b028-a652feb060b5')).status).toBe(404)
    expect((await fetchWith(production, 'https://fanz.network/sandbox-kyc/v1/sessions', { method: 'POST', body: '{}' })).status).toBe(404)
    const hook = await fetchWith(production, 'https://api.fanz.network/api/vault/kyc/webhooks/sandbox', { method: 'POST', headers: { 'content-type': 'application/json', 'x-hmac-signature': '0'.repeat(64) }, body: '{}' })
    expect(hook.status).toBe(404)
  })
})
