import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ProblemError } from '../../edge/problem'
import { codeMail, codeSms } from './messages'
import { maskEmail, maskPhone, parseMobilePhone } from './phone'
import { smsSenderFor, SmsNotConfiguredError, type SmsMessage } from './sms'
import { SandboxSmsSender, smsOutboxFor } from './sms-outbox'
import { SmsRecipientRefusedError, TwilioSmsSender, twilioError, twilioRequest } from './twilio'

const SID = 'AC0123456789abcdef0123456789abcdef'
const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'
const SERVICE = 'MG0123456789abcdef0123456789abcdef'
const MESSAGE: SmsMessage = { to: '+14155552671', body: 'Your FANZ code is 123456 & ok\n\n@sso.localhost #123456' }
const TWILIO_CONFIG = { TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, SMS_FROM: '+15005550006' }

/** The exact bytes of a request body, as UTF-8 (Request.text() warns on form bodies in workerd). */
async function bodyText(req: Request): Promise<string> {
  return new TextDecoder().decode(await req.arrayBuffer())
}

function envWith(overrides: Record<string, unknown>): Env {
  return { ...env, ...overrides } as Env
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('twilioRequest (the exact wire format)', () => {
  it('posts the form to the account\u2019s Messages.json with Basic auth', async () => {
    const req = twilioRequest({ accountSid: SID, authToken: TOKEN, from: '+15005550006' }, MESSAGE)
    expect(req.method).toBe('POST')
    expect(req.url).toBe('https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json')
    expect(req.headers.get('authorization')).toBe('Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpmMDBkZmVlZGYwMGRmZWVkZjAwZGZlZWRmMDBkZmVlZA==')
    expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded')
    expect(req.headers.get('accept')).toBe('application/json')
    expect(await bodyText(req)).toBe('To=%2B14155552671&From=%2B15005550006&Body=Your+FANZ+code+is+123456+%26+ok%0A%0A%40sso.localhost+%23123456')
  })

  it('sends MessagingServiceSid instead of From when SMS_FROM is a Messaging Service', async () => {
    const req = twilioRequest({ accountSid: SID, authToken: TOKEN, from: SERVICE }, { to: '+447911123456', body: 'hi' })
    expect(await bodyText(req)).toBe(`To=%2B447911123456&MessagingServiceSid=${SERVICE}&Body=hi`)
  })
})

describe('TwilioSmsSender', () => {
  it('sends through fetch and accepts Twilio\u2019s 201 message resource', async () => {
    const seen: Request[] = []
    vi.stubGlobal('fetch', async (input: Request) => {
      seen.push(input)
      return Response.json({ sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued', error_code: null }, { status: 201 })
    })
    await new TwilioSmsSender({ accountSid: SID, authToken: TOKEN, from: '+15005550006' }).send(MESSAGE)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.url).toBe(twilioRequest({ accountSid: SID, authToken: TOKEN, from: '+15005550006' }, MESSAGE).url)
  })

  it('parses Twilio\u2019s JSON error body: recipient refusals are told apart from our failures', async () => {
    const sender = new TwilioSmsSender({ accountSid: SID, authToken: TOKEN, from: '+15005550006' })
    vi.stubGlobal('fetch', async () =>
      Response.json({ code: 21614, message: "'To' number is not a valid mobile number", more_info: 'https://www.twilio.com/docs/errors/21614', status: 400 }, { status: 400 }),
    )
    const refused = await sender.send(MESSAGE).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(SmsRecipientRefusedError)
    expect((refused as SmsRecipientRefusedError).providerCode).toBe(21614)
    expect((refused as ProblemError).code).toBe('UPSTREAM_ERROR')
    expect((refused as ProblemError).detail).toMatch(/not a mobile number/)

    vi.stubGlobal('fetch', async () => Response.json({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 }, { status: 401 }))
    const auth = await sender.send(MESSAGE).catch((e: unknown) => e)
    expect(auth).toBeInstanceOf(ProblemError)
    expect(auth).not.toBeInstanceOf(SmsRecipientRefusedError)
    expect((auth as ProblemError).code).toBe('UPSTREAM_ERROR')

    vi.stubGlobal('fetch', async () => new Response('<html>bad gateway</html>', { status: 502 }))
    expect(((await sender.send(MESSAGE).catch((e: unknown) => e)) as ProblemError).code).toBe('UPSTREAM_ERROR')

    vi.stubGlobal('fetch', async () => {
      throw new TypeError('network down')
    })
    expect(((await sender.send(MESSAGE).catch((e: unknown) => e)) as ProblemError).code).toBe('UPSTREAM_ERROR')
  })

  it('reads error bodies defensively', () => {
    expect(twilioError({ code: 21211, message: 'Invalid To', more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 })).toEqual({
      code: 21211,
      message: 'Invalid To',
      moreInfo: 'https://www.twilio.com/docs/errors/21211',
    })
    expect(twilioError(null)).toEqual({ code: null, message: null, moreInfo: null })
    expect(twilioError({ code: '21211', message: 7 })).toEqual({ code: null, message: null, moreInfo: null })
  })
})

describe('smsSenderFor (adapter by configuration)', () => {
  it('uses the sandbox in dev, even with Twilio configured', () => {
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'dev' })).kind).toBe('sandbox')
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'dev', ...TWILIO_CONFIG })).kind).toBe('sandbox')
  })

  it('uses the sandbox in staging without Twilio, Twilio once all three are set', () => {
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'staging' })).kind).toBe('sandbox')
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'staging', ...TWILIO_CONFIG, TWILIO_AUTH_TOKEN: '  ' })).kind).toBe('sandbox')
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'staging', ...TWILIO_CONFIG })).kind).toBe('twilio')
    expect(smsSenderFor(envWith({ ENVIRONMENT: 'production', ...TWILIO_CONFIG, SMS_FROM: SERVICE })).kind).toBe('twilio')
  })

  it('fails loudly in production without configuration, naming what is missing, and sends nothing', async () => {
    const fetchSpy = vi.fn()
    vi.stubGlobal('fetch', fetchSpy)
    const sender = smsSenderFor(envWith({ ENVIRONMENT: 'production', TWILIO_ACCOUNT_SID: SID }))
    expect(sender.kind).toBe('unconfigured')
    const error = await sender.send(MESSAGE).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SmsNotConfiguredError)
    expect((error as Error).message).toMatch(/TWILIO_AUTH_TOKEN, SMS_FROM are not set in production/)
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it('refuses malformed settings instead of sending with them', () => {
    expect(() => smsSenderFor(envWith({ ENVIRONMENT: 'production', ...TWILIO_CONFIG, TWILIO_ACCOUNT_SID: 'AC123' }))).toThrow(/TWILIO_ACCOUNT_SID/)
    expect(() => smsSenderFor(envWith({ ENVIRONMENT: 'production', ...TWILIO_CONFIG, SMS_FROM: 'FANZ' }))).toThrow(/SMS_FROM/)
  })
})

describe('SandboxSmsSender', () => {
  it('stores messages in sms_outbox, newest first per number', async () => {
    const sandbox = new SandboxSmsSender(env.DB)
    await sandbox.send({ to: '+14155550001', body: 'first' }, 1_000)
    await sandbox.send({ to: '+14155550002', body: 'elsewhere' }, 1_500)
    await sandbox.send({ to: '+14155550001', body: 'second' }, 2_000)
    const rows = await smsOutboxFor(env.DB, '+14155550001')
    expect(rows.map((r) => [r.body, r.toE164, r.createdAtMs])).toEqual([
      ['second', '+14155550001', 2_000],
      ['first', '+14155550001', 1_000],
    ])
  })
})

describe('parseMobilePhone', () => {
  it.each([
    ['+1 415 555 2671', '+14155552671'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['  +14155552671 ', '+14155552671'],
    ['+44 (0)7911 123456', '+447911123456'],
    ['+33 6 12 34 56 78', '+33612345678'],
  ])('normalises %s to %s', (input, e164) => {
    expect(parseMobilePhone(input)).toMatchObject({ ok: true, e164 })
  })

  it.each([
    ['', /enter a mobile number/],
    ['garbage', /must start with \+/],
    ['4155552671', /must start with \+/],
    ['+1 2', /not a phone number/],
    ['+abc', /not a phone number/],
    ['+1 415 555 267', /not a valid phone number/],
    ['+44 20 7946 0958', /mobile number .*landline/],
    ['+1 800 555 1234', /toll-free/],
    ['+1 900 555 1234', /premium-rate/],
    ['+44 56 1234 5678', /VoIP/],
    ['+1 415 555 2671 ext 12', /extension/],
  ])('refuses %j', (input, message) => {
    const parsed = parseMobilePhone(input)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.message).toMatch(message)
  })
})

describe('masking and texts', () => {
  it('masks destinations', () => {
    expect(maskPhone('+14155554567')).toBe('+1 ••• ••• 4567')
    expect(maskPhone('+447911123456')).toBe('+44 ••• ••• 3456')
    expect(maskEmail('ann.lee@example.com')).toBe('a•••@example.com')
    expect(maskEmail('Ünal@example.com')).toBe('Ü•••@example.com')
  })

  it('sends the code with the origin-bound line, and escapes the name in HTML mail', () => {
    expect(codeSms({ code: '012345', purpose: 'sign_in', issuer: 'https://sso.fanz.network' })).toBe(
      'Your FANZ code is 012345. Use it to sign in to your FANZ account within 10 minutes. Never share it: FANZ will never ask you for it.\n\n@sso.fanz.network #012345',
    )
    const mail = codeMail({ to: 'a@example.com', displayName: '<script>"x"</script>', code: '012345', purpose: 'sign_in' })
    expect(mail.subject).toBe('Your FANZ sign-in code')
    expect(mail.subject).not.toContain('012345')
    expect(mail.text).toContain('Your FANZ code is: 012345')
    expect(mail.html).toContain('&lt;script&gt;&quot;x&quot;&lt;/script&gt;')
    expect(mail.html).not.toContain('<script>')
    expect(mail.html).toContain('>012345</p>')
  })
})
