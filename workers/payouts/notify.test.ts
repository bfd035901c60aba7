/** notifyCreator: the creator's account email through the mailer (the dev outbox here). */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newId } from '../lib/ids'
import { outboxFor } from '../sso/mail/outbox'
import { newCreator } from '../vault/kyc/test-kit'
import { creatorEmail, notifyCreator } from './notify'

describe('notifyCreator', () => {
  it('mails the account behind the creator profile, text and escaped HTML', async () => {
    const creator = await newCreator()
    expect(await creatorEmail(env, creator.creatorId)).toBe(creator.email)
    const result = await notifyCreator(env, creator.creatorId, { subject: 'Your payout was sent', text: 'Payout po_1 of 99.14 USD <Wise> left today.\n\nIt usually arrives within 2 days.' })
    expect(result).toEqual({ sent: true, to: creator.email })
    const [mail] = await outboxFor(env.DB, creator.email)
    expect(mail!.subject).toBe('Your payout was sent')
    expect(mail!.textBody).toBe('Payout po_1 of 99.14 USD <Wise> left today.\n\nIt usually arrives within 2 days.\n\n— FANZ payouts')
    expect(mail!.htmlBody).toBe('<p>Payout po_1 of 99.14 USD &lt;Wise&gt; left today.</p><p>It usually arrives within 2 days.</p><p>— FANZ payouts</p>')
    await notifyCreator(env, creator.creatorId, { subject: 'Method added', text: 'A method was added.', security: true })
    expect((await outboxFor(env.DB, creator.email))[0]!.textBody).toContain('If you did not do this, sign in and remove the method at once')
  })

  it('says so when the profile has no account, or no such creator exists', async () => {
    const creatorId = newId('creator')
    await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, user_id, created_at_ms) VALUES (?, ?, ?, ?, NULL, ?)').bind(creatorId, 'brd_01JFANZ0000000000000000001', creatorId.toLowerCase(), 'No Account', Date.now()).run()
    expect(await notifyCreator(env, creatorId, { subject: 's', text: 't' })).toMatchObject({ sent: false, reason: 'no_account' })
    expect(await notifyCreator(env, newId('creator'), { subject: 's', text: 't' })).toMatchObject({ sent: false, reason: 'no_account' })
  })
})
