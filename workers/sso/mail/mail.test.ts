import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ProblemError } from '../../edge/problem'
import { mailerFor, MailNotConfiguredError, type MailMessage } from './mailer'
import { outboxFor, OutboxMailer } from './outbox'
import { POSTMARK_ENDPOINT, PostmarkMailer } from './postmark'
import { escapeHtml, passwordResetMail, tokenLink, verificationMail } from './templates'

const MESSAGE: MailMessage = { to: 'Ann <ann@example.com>', subject: 'Hello', text: 'plain', html: '<p>html</p>' }

function envWith(overrides: Record<string, unknown>): Env {
  return { ...env, ...overrides } as Env
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('mailerFor (adapter by configuration)', () => {
  it('uses the outbox in dev, even with a token', () => {
    expect(mailerFor(envWith({ ENVIRONMENT: 'dev' })).kind).toBe('outbox')
    expect(mailerFor(envWith({ ENVIRONMENT: 'dev', MAIL_API_TOKEN: 'pm-token' })).kind).toBe('outbox')
  })

  it('uses the outbox in staging without a token, Postmark with one', () => {
    expect(mailerFor(envWith({ ENVIRONMENT: 'staging', MAIL_API_TOKEN: undefined })).kind).toBe('outbox')
    expect(mailerFor(envWith({ ENVIRONMENT: 'staging', MAIL_API_TOKEN: '  ' })).kind).toBe('outbox')
    expect(mailerFor(envWith({ ENVIRONMENT: 'staging', MAIL_API_TOKEN: 'pm-token' })).kind).toBe('postmark')
    expect(mailerFor(envWith({ ENVIRONMENT: 'production', MAIL_API_TOKEN: 'pm-token' })).kind).toBe('postmark')
  })

  it('fails loudly at send time in production without a token, never dropping the message', async () => {
    const fetchSpy = vi.fn()
    vi.stubGlobal('fetch', fetchSpy)
    const mailer = mailerFor(envWith({ ENVIRONMENT: 'production', MAIL_API_TOKEN: undefined }))
    expect(mailer.kind).toBe('unconfigured')
    await expect(mailer.send(MESSAGE)).rejects.toBeInstanceOf(MailNotConfiguredError)
    await expect(mailer.send(MESSAGE)).rejects.toThrow(/MAIL_API_TOKEN is not set in production/)
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it('refuses a missing MAIL_FROM', () => {
    expect(() => mailerFor(envWith({ MAIL_FROM: '' }))).toThrow(/MAIL_FROM/)
  })
})

describe('PostmarkMailer', () => {
  it('sends Postmark\u2019s exact wire format', async () => {
    const seen: Request[] = []
    vi.stubGlobal('fetch', async (input: Request) => {
      seen.push(input)
      return Response.json({ To: 'ann@example.com', SubmittedAt: '2026-11-26T00:00:00Z', MessageID: 'b7bc2f4a', ErrorCode: 0, Message: 'OK' })
    })
    await new PostmarkMailer('server-token-1', 'FANZ <no-reply@fanz.network>').send(MESSAGE)
    expect(seen).toHaveLength(1)
    const req = seen[0]!
    expect(req.method).toBe('POST')
    expect(req.url).toBe('https://api.postmarkapp.com/email')
    expect(POSTMARK_ENDPOINT).toBe(req.url)
    expect(req.headers.get('x-postmark-server-token')).toBe('server-token-1')
    expect(req.headers.get('content-type')).toBe('application/json')
    expect(req.headers.get('accept')).toBe('application/json')
    expect(req.headers.get('authorization')).toBeNull()
    expect(await req.json()).toEqual({
      From: 'FANZ <no-reply@fanz.network>',
      To: 'Ann <ann@example.com>',
      Subject: 'Hello',
      TextBody: 'plain',
      HtmlBody: '<p>html</p>',
      MessageStream: 'outbound',
      TrackOpens: false,
      TrackLinks: 'None',
    })
  })

  it('turns a refusal or an unreachable provider into UPSTREAM_ERROR', async () => {
    vi.stubGlobal('fetch', async () => Response.json({ ErrorCode: 300, Message: 'Invalid email request' }, { status: 422 }))
    const refused = await new PostmarkMailer('t', 'f@example.com').send(MESSAGE).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ProblemError)
    expect((refused as ProblemError).code).toBe('UPSTREAM_ERROR')

    vi.stubGlobal('fetch', async () => Response.json({ ErrorCode: 406, Message: 'Inactive recipient' }, { status: 200 }))
    expect(((await new PostmarkMailer('t', 'f@example.com').send(MESSAGE).catch((e: unknown) => e)) as ProblemError).code).toBe('UPSTREAM_ERROR')

    vi.stubGlobal('fetch', async () => {
      throw new TypeError('network down')
    })
    expect(((await new PostmarkMailer('t', 'f@example.com').send(MESSAGE).catch((e: unknown) => e)) as ProblemError).code).toBe('UPSTREAM_ERROR')
  })
})

describe('OutboxMailer', () => {
  it('stores messages in outbox_messages, found by normalised address, newest first', async () => {
    const mailer = new OutboxMailer(env.DB, 'FANZ <no-reply@localhost>')
    await mailer.send({ ...MESSAGE, to: 'Outbox.Test@Example.com', subject: 'first' }, 1_000)
    await mailer.send({ ...MESSAGE, to: 'outbox.test@example.com', subject: 'second' }, 2_000)
    const rows = await outboxFor(env.DB, 'OUTBOX.test@example.com')
    expect(rows.map((r) => [r.subject, r.toAddress, r.fromAddress, r.createdAtMs])).toEqual([
      ['second', 'outbox.test@example.com', 'FANZ <no-reply@localhost>', 2_000],
      ['first', 'Outbox.Test@Example.com', 'FANZ <no-reply@localhost>', 1_000],
    ])
  })
})

describe('templates', () => {
  it('links to the SSO host with the token in the query and escapes user input', () => {
    const link = tokenLink('https://sso.fanz.network', 'reset-password', 'abc_-123')
    expect(link).toBe('https://sso.fanz.network/reset-password?token=abc_-123')
    const mail = verificationMail({ to: 'a@example.com', displayName: '<script>"x"</script>', link })
    expect(mail.html).toContain('&lt;script&gt;&quot;x&quot;&lt;/script&gt;')
    expect(mail.html).not.toContain('<script>')
    expect(mail.text).toContain(link)
    expect(passwordResetMail({ to: 'a@example.com', displayName: 'A', link }).subject).toBe('Reset your FANZ password')
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;')
  })
})
