import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { enrolledSecondFactors } from '../login/complete'
import { userSessions } from '../sessions'
import { MAX_ATTEMPTS } from './codes'
import { destinationSendKey } from './flood'
import { throttle as keyThrottle } from '../accounts/throttle'
import { createUser, freshPhone, idpSessionCookie, pendingMfaCookie, SSO, SSO_ORIGIN } from './test-fixtures'

type Problem = { status: number; code: string; detail?: string; reason?: string; attempts_left?: number; errors?: Array<{ path: string; message: string }> }
type Sent = { challenge_id: string; channel: string; sent_to: string; expires_at: string }

let adminToken: string

beforeAll(async () => {
  adminToken = await tokenFor(['admin'])
})

function post(path: string, body: unknown, cookie: string, headers: Record<string, string> = {}) {
  return call(SSO, path, { method: 'POST', body, headers: { origin: SSO_ORIGIN, cookie, ...headers } })
}

async function problem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as Problem
}

async function sent(res: Response): Promise<Sent> {
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('cache-control')).toBe('no-store')
  return (await res.json()) as Sent
}

async function smsTo(phone: string): Promise<Array<{ to: string; body: string }>> {
  const res = await call(SSO, `/api/sso/dev/sms-outbox?to=${encodeURIComponent(phone)}`, { token: adminToken })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Array<{ to: string; body: string }> }).items
}

async function mailTo(email: string): Promise<Array<{ subject: string; text: string; html: string }>> {
  const res = await call(SSO, `/api/sso/dev/outbox?to=${encodeURIComponent(email)}`, { token: adminToken })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Array<{ subject: string; text: string; html: string }> }).items
}

/** The code of the newest text to `phone` (from its origin-bound last line). */
async function latestSmsCode(phone: string): Promise<string> {
  const [latest] = await smsTo(phone)
  const match = /\n@sso\.localhost #([0-9]{6})$/.exec(latest?.body ?? '')
  expect(match, latest?.body).not.toBeNull()
  return match![1]!
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

async function auditOf(action: string, userId: string) {
  return auditLog(env).list({ afterSeq: 0, limit: 100, action, subject: `user:${userId}` })
}

async function sessionAmr(setCookie: string): Promise<string[]> {
  const match = /fanz_sso=(usr_[0-9A-Z]{26})\.(rt_[A-Za-z0-9_-]{43})/.exec(setCookie)
  expect(match, setCookie).not.toBeNull()
  const found = await userSessions(env, match![1]!).introspect(match![2]!)
  expect(found.active).toBe(true)
  return found.active ? found.amr : []
}

describe('second factor by SMS: POST /mfa/otp/send, /mfa/otp/verify', () => {
  it('sends a code to the verified phone through the sandbox; it completes the sign-in once (amr sms)', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)

    const body = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    expect(body.challenge_id).toMatch(/^otp_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(body.channel).toBe('sms')
    expect(body.sent_to).toBe(`+1 ••• ••• ${phone.slice(-4)}`)
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(9 * 60_000)
    const texts = await smsTo(phone)
    expect(texts).toHaveLength(1)
    expect(texts[0]!.to).toBe(phone)
    const code = await latestSmsCode(phone)

    const ok = await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, pending)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ next: '/account' })
    const setCookie = ok.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/fanz_mfa_pending=;/)
    expect(await sessionAmr(setCookie)).toEqual(expect.arrayContaining(['pwd', 'sms', 'mfa']))

    const again = await problem(await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, pending), 400)
    expect(again).toMatchObject({ code: 'BAD_REQUEST', reason: 'used', attempts_left: 0 })

    const [sendEntry] = await auditOf('sso.otp.send', user.id)
    expect(JSON.parse(sendEntry!.details)).toEqual({ challenge_id: body.challenge_id, channel: 'sms', purpose: 'sign_in', sent_to: body.sent_to })
    expect(sendEntry!.actor).toBe(user.id)
    expect(sendEntry!.details).not.toContain(code)
    expect(await auditOf('sso.otp.verify', user.id)).toHaveLength(1)
  })

  it('accepts the code with the spaces people type', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const body = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    const code = await latestSmsCode(phone)
    const ok = await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code: ` ${code.slice(0, 3)} ${code.slice(3)} ` }, pending)
    expect(ok.status).toBe(200)
  })

  it('exhausts the challenge after 5 wrong guesses, even when they arrive at once', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const body = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    const code = await latestSmsCode(phone)

    const answers = await Promise.all(Array.from({ length: 8 }, () => post('/mfa/otp/verify', { challenge_id: body.challenge_id, code: wrong(code) }, pending)))
    const problems = await Promise.all(answers.map((res) => problem(res, 400)))
    const invalid = problems.filter((p) => p.reason === 'invalid')
    expect(invalid.map((p) => p.attempts_left).sort()).toEqual([0, 1, 2, 3, 4])
    expect(invalid.find((p) => p.attempts_left === 4)!.detail).toBe('that code is not right; 4 attempts left')
    expect(problems.filter((p) => p.reason === 'exhausted')).toHaveLength(8 - MAX_ATTEMPTS)

    const right = await problem(await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, pending), 400)
    expect(right).toMatchObject({ reason: 'exhausted', attempts_left: 0 })
    expect(await auditOf('sso.otp.reject', user.id)).toHaveLength(MAX_ATTEMPTS)
  })

  it('a new code invalidates the one sent before', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const first = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    const firstCode = await latestSmsCode(phone)
    const second = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    const secondCode = await latestSmsCode(phone)
    expect(second.challenge_id).not.toBe(first.challenge_id)

    const old = await problem(await post('/mfa/otp/verify', { challenge_id: first.challenge_id, code: firstCode }, pending), 400)
    expect(old).toMatchObject({ reason: 'expired', attempts_left: 0 })
    expect((await post('/mfa/otp/verify', { challenge_id: second.challenge_id, code: secondCode }, pending)).status).toBe(200)
  })

  it('throttles resends per user: 429 with Retry-After after the free sends', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const statuses: number[] = []
    let refused: Response | undefined
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await post('/mfa/otp/send', { channel: 'sms' }, pending)
      statuses.push(res.status)
      if (res.status === 429) refused = res
      else await res.arrayBuffer()
    }
    // 5 free sends, the 6th sets a 1 s wait: the next quick resend is refused
    expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200])
    expect(refused).toBeDefined()
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await problem(refused!, 429)).toMatchObject({ code: 'RATE_LIMITED' })
    expect(await smsTo(phone)).toHaveLength(statuses.filter((s) => s === 200).length)
  })

  it('throttles per destination too: another account cannot flood the same number', async () => {
    const phone = freshPhone()
    const throttle = keyThrottle(env, destinationSendKey('sms', phone))
    for (let i = 0; i < 15; i++) await throttle.recordFailure()
    const user = await createUser({ phone })
    const refused = await post('/mfa/otp/send', { channel: 'sms' }, await pendingMfaCookie(user.id))
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(60)
    await problem(refused, 429)
    expect(await smsTo(phone)).toHaveLength(0)
  })

  it('answers another user\u2019s challenge exactly like a wrong code (no enumeration)', async () => {
    const owner = await createUser({ phone: freshPhone() })
    const body = await sent(await post('/mfa/otp/send', { channel: 'sms' }, await pendingMfaCookie(owner.id)))
    const code = await latestSmsCode(owner.phone!)
    const intruder = await createUser({ phone: freshPhone() })
    const refused = await problem(await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, await pendingMfaCookie(intruder.id)), 400)
    expect(refused).toMatchObject({ reason: 'invalid', attempts_left: 0 })
    const unknown = await problem(await post('/mfa/otp/verify', { challenge_id: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', code }, await pendingMfaCookie(intruder.id)), 400)
    expect(unknown).toMatchObject({ reason: 'invalid', attempts_left: 0, detail: refused.detail })
  })
})

describe('second factor by email (recovery grade)', () => {
  it('mails the code to the verified address and records amr email', async () => {
    const user = await createUser({ totp: true })
    const pending = await pendingMfaCookie(user.id)
    const body = await sent(await post('/mfa/otp/send', { channel: 'email' }, pending))
    expect(body.channel).toBe('email')
    expect(body.sent_to).toBe('O•••@Example.com')
    const [mail] = await mailTo(user.email)
    expect(mail!.subject).toBe('Your FANZ sign-in code')
    expect(mail!.html).toContain('Tester &lt;b&gt;')
    const code = /Your FANZ code is: ([0-9]{6})/.exec(mail!.text)![1]!
    expect(mail!.html).toContain(`>${code}</p>`)

    const ok = await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, pending)
    expect(ok.status).toBe(200)
    const amr = await sessionAmr(ok.headers.get('set-cookie') ?? '')
    expect(amr).toEqual(expect.arrayContaining(['pwd', 'email', 'mfa']))
    expect(amr).not.toContain('sms')
    expect((await problem(await post('/mfa/otp/verify', { challenge_id: body.challenge_id, code }, pending), 400)).reason).toBe('used')
  })

  it('refuses a channel the account cannot use (409)', async () => {
    const noPhone = await createUser({ totp: true })
    expect((await problem(await post('/mfa/otp/send', { channel: 'sms' }, await pendingMfaCookie(noPhone.id)), 409)).detail).toMatch(/no verified phone/)
    const unverified = await createUser({ totp: true, emailVerified: false })
    expect((await problem(await post('/mfa/otp/send', { channel: 'email' }, await pendingMfaCookie(unverified.id)), 409)).detail).toMatch(/no verified email/)
    expect(await mailTo(unverified.email)).toHaveLength(0)
  })
})

describe('refusals of the second-factor routes', () => {
  it('401 without a pending second-factor step', async () => {
    expect((await problem(await post('/mfa/otp/send', { channel: 'sms' }, ''), 401)).code).toBe('UNAUTHENTICATED')
    expect((await problem(await post('/mfa/otp/send', { channel: 'sms' }, 'fanz_mfa_pending=forged'), 401)).code).toBe('UNAUTHENTICATED')
    expect((await problem(await post('/mfa/otp/verify', { challenge_id: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', code: '123456' }, ''), 401)).code).toBe('UNAUTHENTICATED')
  })

  it('403 for a request from another origin, before anything is sent', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const noOrigin = await call(SSO, '/mfa/otp/send', { method: 'POST', body: { channel: 'sms' }, headers: { cookie: pending } })
    expect((await problem(noOrigin, 403)).code).toBe('FORBIDDEN')
    await problem(await post('/mfa/otp/send', { channel: 'sms' }, pending, { origin: 'http://boyfanz.localhost' }), 403)
    await problem(await post('/mfa/otp/send', { channel: 'sms' }, pending, { 'sec-fetch-site': 'same-site' }), 403)
    await problem(await post('/mfa/otp/verify', { challenge_id: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', code: '123456' }, pending, { origin: 'https://evil.example' }), 403)
    expect(await smsTo(phone)).toHaveLength(0)
    expect((await post('/mfa/otp/send', { channel: 'sms' }, pending, { 'sec-fetch-site': 'same-origin' })).status).toBe(200)
  })

  it('malformed bodies are 4xx problems naming the field', async () => {
    const user = await createUser({ phone: freshPhone() })
    const pending = await pendingMfaCookie(user.id)
    expect((await problem(await post('/mfa/otp/send', '{"channel":', pending, { 'content-type': 'application/json' }), 400)).code).toBe('MALFORMED_BODY')
    expect((await problem(await post('/mfa/otp/send', 'channel=sms', pending, { 'content-type': 'application/x-www-form-urlencoded' }), 415)).code).toBe('UNSUPPORTED_MEDIA_TYPE')
    const fax = await problem(await post('/mfa/otp/send', { channel: 'fax' }, pending), 422)
    expect(fax.errors?.map((e) => e.path)).toEqual(['body.channel'])
    const extra = await problem(await post('/mfa/otp/send', { channel: 'sms', to: '+15555555555' }, pending), 422)
    expect(extra.errors).toEqual([{ path: 'body.to', message: 'unknown field' }])
    expect((await problem(await post('/mfa/otp/send', [], pending), 422)).code).toBe('VALIDATION_FAILED')
    const badCode = await problem(await post('/mfa/otp/verify', { challenge_id: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', code: '12ab56' }, pending), 422)
    expect(badCode.errors?.map((e) => e.path)).toEqual(['body.code'])
    const badId = await problem(await post('/mfa/otp/verify', { challenge_id: 'x', code: '123456' }, pending), 422)
    expect(badId.errors?.map((e) => e.path)).toEqual(['body.challenge_id'])
    expect((await problem(await post('/mfa/otp/send', { channel: 'sms', pad: 'x'.repeat(5000) }, pending), 413)).code).toBe('PAYLOAD_TOO_LARGE')
    expect((await call(SSO, '/mfa/otp/send', { headers: { origin: SSO_ORIGIN } })).status).toBe(405)
  })
})

describe('the account phone: POST /account/phone, /account/phone/verify, DELETE /account/phone', () => {
  it('adds a phone typed as +1 415 555 2671 after an SMS code, and audits it', async () => {
    const user = await createUser()
    const session = await idpSessionCookie(user.id)
    const body = await sent(await post('/account/phone', { phone: '+1 415 555 2671' }, session))
    expect(body).toMatchObject({ sent_to: '+1 ••• ••• 2671' })
    const [text] = await smsTo('+14155552671')
    expect(text!.body).toContain('confirm this phone number')
    const code = await latestSmsCode('+14155552671')

    const ok = await post('/account/phone/verify', { challenge_id: body.challenge_id, code }, session)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ phone_e164: '+14155552671' })
    const row = await env.DB.prepare('SELECT phone_e164, phone_verified_at_ms FROM users WHERE id = ?').bind(user.id).first<{ phone_e164: string; phone_verified_at_ms: number }>()
    expect(row!.phone_e164).toBe('+14155552671')
    expect(row!.phone_verified_at_ms).toBeGreaterThan(Date.now() - 60_000)
    expect(await enrolledSecondFactors(env.DB, user.id)).toEqual(['sms'])
    const [entry] = await auditOf('sso.phone.verify', user.id)
    expect(JSON.parse(entry!.details)).toMatchObject({ phone: '+1 ••• ••• 2671', replaced: null })
    expect(entry!.details).not.toContain(code)
    expect((await problem(await post('/account/phone/verify', { challenge_id: body.challenge_id, code }, session), 400)).reason).toBe('used')
  })

  it('refuses garbage and numbers that cannot take an SMS with a 422 naming phone, sending nothing', async () => {
    const user = await createUser()
    const session = await idpSessionCookie(user.id)
    const garbage = await problem(await post('/account/phone', { phone: 'call me maybe' }, session), 422)
    expect(garbage).toMatchObject({ code: 'VALIDATION_FAILED' })
    expect(garbage.errors?.map((e) => e.path)).toEqual(['body.phone'])
    const landline = await problem(await post('/account/phone', { phone: '+44 20 7946 0958' }, session), 422)
    expect(landline.errors?.[0]).toMatchObject({ path: 'body.phone', message: expect.stringMatching(/landline/) })
    expect(await smsTo('+442079460958')).toHaveLength(0)
    expect((await problem(await post('/account/phone', { phone: 14155552671 }, session), 422)).errors?.map((e) => e.path)).toEqual(['body.phone'])
  })

  it('needs a signed-in visitor (401) from this origin (403)', async () => {
    expect((await problem(await post('/account/phone', { phone: '+1 415 555 2671' }, ''), 401)).code).toBe('UNAUTHENTICATED')
    const forged = `fanz_sso=usr_01JAAAAAAAAAAAAAAAAAAAAAAA.rt_${'A'.repeat(43)}`
    await problem(await post('/account/phone/verify', { challenge_id: 'otp_01JAAAAAAAAAAAAAAAAAAAAAAA', code: '123456' }, forged), 401)
    const user = await createUser()
    const session = await idpSessionCookie(user.id)
    await problem(await post('/account/phone', { phone: '+1 415 555 2671' }, session, { origin: 'http://girlfanz.localhost' }), 403)
    await problem(await call(SSO, '/account/phone', { method: 'DELETE', headers: { cookie: session } }), 403)
  })

  it('a sign-in code never verifies a phone', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const signInCode = await sent(await post('/mfa/otp/send', { channel: 'sms' }, await pendingMfaCookie(user.id)))
    const code = await latestSmsCode(phone)
    const session = await idpSessionCookie(user.id, ['pwd', 'sms', 'mfa'])
    const refused = await problem(await post('/account/phone/verify', { challenge_id: signInCode.challenge_id, code }, session), 400)
    expect(refused).toMatchObject({ reason: 'invalid', attempts_left: 0 })
  })

  it('changing the phone of an account with a second factor needs a session that proved one', async () => {
    const old = freshPhone()
    const user = await createUser({ phone: old })
    const weak = await idpSessionCookie(user.id, ['pwd'])
    const next = freshPhone()
    expect((await problem(await post('/account/phone', { phone: next }, weak), 403)).code).toBe('STEP_UP_REQUIRED')
    await problem(await call(SSO, '/account/phone', { method: 'DELETE', headers: { origin: SSO_ORIGIN, cookie: weak } }), 403)

    const strong = await idpSessionCookie(user.id, ['pwd', 'sms', 'mfa'])
    const body = await sent(await post('/account/phone', { phone: next }, strong))
    const ok = await post('/account/phone/verify', { challenge_id: body.challenge_id, code: await latestSmsCode(next) }, strong)
    expect(ok.status).toBe(200)
    const [entry] = await auditOf('sso.phone.verify', user.id)
    expect(JSON.parse(entry!.details)).toMatchObject({ phone: `+1 ••• ••• ${next.slice(-4)}`, replaced: `+1 ••• ••• ${old.slice(-4)}` })
  })

  it('DELETE removes the phone, ends its live codes and audits; again is a no-op', async () => {
    const phone = freshPhone()
    const user = await createUser({ phone })
    const pending = await pendingMfaCookie(user.id)
    const signIn = await sent(await post('/mfa/otp/send', { channel: 'sms' }, pending))
    const code = await latestSmsCode(phone)
    const session = await idpSessionCookie(user.id, ['pwd', 'sms', 'mfa'])
    const del = () => call(SSO, '/account/phone', { method: 'DELETE', headers: { origin: SSO_ORIGIN, cookie: session } })

    const removed = await del()
    expect(removed.status).toBe(200)
    expect(await removed.json()).toEqual({ removed: true })
    const row = await env.DB.prepare('SELECT phone_e164, phone_verified_at_ms FROM users WHERE id = ?').bind(user.id).first()
    expect(row).toEqual({ phone_e164: null, phone_verified_at_ms: null })
    expect(await auditOf('sso.phone.remove', user.id)).toHaveLength(1)
    expect((await problem(await post('/mfa/otp/verify', { challenge_id: signIn.challenge_id, code }, pending), 400)).reason).toBe('expired')

    expect(await (await del()).json()).toEqual({ removed: false })
    expect(await auditOf('sso.phone.remove', user.id)).toHaveLength(1)
  })
})
