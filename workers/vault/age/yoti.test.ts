import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getConfig } from '../../config'
import { ProblemError } from '../../edge/problem'
import { OriginStub } from '../../routing/test-support'
import { yotiCreateSession, yotiNotifyToken, yotiResult } from './providers'

// A stand-in for Yoti's Age Verification API at a test host, answering in the documented shapes
// (developers.yoti.com/age-verification: POST /api/v1/sessions, GET /api/v1/sessions/{id}/result).
const HOST = 'age.yoti.test'
const settings = { sdk_id: 'sdk-0000-test', api_key: 'key-test', base_url: `https://${HOST}` }
const stub = new OriginStub()
const sessions = new Map<string, Record<string, unknown>>()
const config = getConfig(env)
const REF = 'avf_01JFANZTEST00000000000001'

beforeAll(() => {
  stub.install()
  stub.on(HOST, async (request) => {
    if (request.headers.get('authorization') !== `Bearer ${settings.api_key}` || request.headers.get('yoti-sdk-id') !== settings.sdk_id) return new Response('{}', { status: 401 })
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/api/v1/sessions') {
      const id = `0000-${sessions.size + 1}`
      sessions.set(id, (await request.json()) as Record<string, unknown>)
      return Response.json({ id, status: 'PENDING' }, { status: 201 })
    }
    const match = /^\/api\/v1\/sessions\/([^/]+)\/result$/.exec(url.pathname)
    const session = match ? sessions.get(match[1]!) : undefined
    if (!session) return new Response('{}', { status: 404 })
    return Response.json({ ...session, status: session.outcome ?? 'COMPLETE', method: session.result_method })
  })
})

afterAll(() => stub.uninstall())

describe('Yoti adapter', () => {
  it('opens a session for one method with its threshold, our reference and a tokenised notification URL', async () => {
    const opened = await yotiCreateSession(settings, config, { verificationId: REF, method: 'FAE', threshold: 25, returnUrl: 'http://sso.localhost/age-verification?verification=x' })
    const sent = sessions.get(opened.providerRef)!
    expect(sent).toMatchObject({ type: 'OVER', reference_id: REF, age_estimation: { allowed: true, threshold: 25, level: 'PASSIVE' }, callback: { auto: true, url: 'http://sso.localhost/age-verification?verification=x' } })
    expect(sent).not.toHaveProperty('doc_scan')
    const notify = new URL(sent.notification_url as string)
    expect(notify.pathname).toBe('/api/vault/age/webhooks/yoti')
    expect(notify.searchParams.get('ref')).toBe(REF)
    expect(notify.searchParams.get('token')).toBe(await yotiNotifyToken(config, REF))
    expect(opened.url).toBe(`https://${HOST}/?sessionId=${opened.providerRef}&sdkId=${settings.sdk_id}`)
  })

  it('trusts a notification only with our token and reads the result from Yoti itself', async () => {
    const opened = await yotiCreateSession(settings, config, { verificationId: REF, method: 'FAE', threshold: 25, returnUrl: 'http://sso.localhost/' })
    const session = sessions.get(opened.providerRef)!
    session.result_method = 'AGE_ESTIMATION'
    const query = new URLSearchParams({ ref: REF, token: await yotiNotifyToken(config, REF) })
    // the body says "pass" loudly; only Yoti's own answer counts
    const body = JSON.stringify({ session_key: opened.providerRef, reference_id: REF, result: true, state: 'COMPLETE' })

    const forged = new URLSearchParams({ ref: REF, token: 'x'.repeat(43) })
    await expect(yotiResult(settings, config, forged, body, { method: 'FAE', threshold: 25 })).rejects.toSatisfy((e) => e instanceof ProblemError && e.code === 'SIGNATURE_INVALID')
    const otherRef = JSON.stringify({ session_key: opened.providerRef, reference_id: 'avf_01JFANZTEST00000000000002' })
    await expect(yotiResult(settings, config, query, otherRef, { method: 'FAE', threshold: 25 })).rejects.toSatisfy((e) => e instanceof ProblemError && e.code === 'SIGNATURE_INVALID')

    session.outcome = 'FAIL'
    expect(await yotiResult(settings, config, query, body, { method: 'FAE', threshold: 25 })).toEqual({ verificationId: REF, providerRef: opened.providerRef, method: 'FAE', outcome: 'fail', threshold: 25 })
    session.outcome = 'COMPLETE'
    expect(await yotiResult(settings, config, query, body, { method: 'FAE', threshold: 25 })).toEqual({ verificationId: REF, providerRef: opened.providerRef, method: 'FAE', outcome: 'pass', threshold: 25 })
    expect(stub.traffic(HOST).filter((c) => c.method === 'GET').map((c) => c.path)).toEqual([`/api/v1/sessions/${opened.providerRef}/result`, `/api/v1/sessions/${opened.providerRef}/result`])
  })
})
