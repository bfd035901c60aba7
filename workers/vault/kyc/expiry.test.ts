import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { outboxFor } from '../../sso/mail/outbox'
import { runKycExpiry } from './expiry'
import { completeHostedFlow, dayFromNow, fakeImage, newCreator, openOwnSession, type Opened } from './test-kit'

const DAY_MS = 86_400_000
const noonOf = (day: string) => Date.parse(`${day}T12:00:00Z`)

describe('KYC expiry job', () => {
  it('reminds once within 30 days of the document expiry, then expires the verification on that date', async () => {
    const creator = await newCreator()
    const opened = (await (await openOwnSession(creator.token, creator.creatorId)).json()) as Opened
    const expiresOn = dayFromNow(0, 45)
    await completeHostedFlow(opened.url, { firstName: 'Exp', lastName: 'Iring', dateOfBirth: '1991-02-03', documentNumber: 'E-42', validUntil: expiresOn }, fakeImage('exp'))
    const status = async () => (await env.DB.prepare('SELECT status, reason, reminder_sent_at_ms FROM kyc_verifications WHERE id = ?').bind(opened.verification.id).first<{ status: string; reason: string | null; reminder_sent_at_ms: number | null }>())!
    expect((await status()).status).toBe('approved')
    const officer = await tokenFor(['compliance_officer'])
    const standing = async () => (await (await call('api.localhost', `/api/vault/kyc/subjects/creator/${creator.creatorId}`, { token: officer })).json()) as { verified: boolean; status: string }

    // 31 days before: too early for a reminder
    await runKycExpiry(env, noonOf(expiresOn) - 31 * DAY_MS)
    expect((await status()).reminder_sent_at_ms).toBeNull()
    expect(await outboxFor(env.DB, creator.email)).toHaveLength(0)

    const remindAt = noonOf(expiresOn) - 20 * DAY_MS
    const first = await runKycExpiry(env, remindAt)
    expect(first.reminded).toBeGreaterThanOrEqual(1)
    expect(await status()).toMatchObject({ status: 'approved', reminder_sent_at_ms: remindAt })
    const mail = await outboxFor(env.DB, creator.email)
    expect(mail).toHaveLength(1)
    expect(mail[0]!.subject).toBe('Your FANZ identity verification is about to expire')
    expect(mail[0]!.textBody).toContain(expiresOn)
    // idempotent: a second (or late) run mails nobody twice
    await runKycExpiry(env, remindAt + 3_600_000)
    expect(await outboxFor(env.DB, creator.email)).toHaveLength(1)
    expect(await standing()).toMatchObject({ verified: true, status: 'approved' })

    // the day before the expiry date it is still valid; on the date it expires
    await runKycExpiry(env, noonOf(expiresOn) - DAY_MS)
    expect((await status()).status).toBe('approved')
    const onDate = await runKycExpiry(env, noonOf(expiresOn))
    expect(onDate.expired).toBeGreaterThanOrEqual(1)
    expect(await status()).toMatchObject({ status: 'expired', reason: 'document_expired' })
    expect(await standing()).toMatchObject({ verified: false, status: 'expired' })
    const audited = await auditLog(env).list({ subject: `kyc:${opened.verification.id}`, action: 'vault.kyc.expire', limit: 5 })
    expect(audited).toHaveLength(1)
    expect(audited[0]!.actor).toBe('system:cron')
    await runKycExpiry(env, noonOf(expiresOn) + DAY_MS)
    expect(await auditLog(env).list({ subject: `kyc:${opened.verification.id}`, action: 'vault.kyc.expire', limit: 5 })).toHaveLength(1)

    // re-verification: a new session with a new document makes the creator verified again
    const again = (await (await openOwnSession(creator.token, creator.creatorId)).json()) as Opened
    await completeHostedFlow(again.url, { firstName: 'Exp', lastName: 'Iring', dateOfBirth: '1991-02-03', documentNumber: 'E-43', validUntil: dayFromNow(5) }, fakeImage('exp2'))
    expect(await standing()).toMatchObject({ verified: true, status: 'approved' })
  })
})
