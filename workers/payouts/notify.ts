/**
 * Mail to a creator about their payouts: method added, changed or removed, a payout sent, refused
 * or returned. The address is the creator's FanzSSO account email (`creators.user_id` ->
 * `users.email`), read at send time so a changed address is used at once. Sent through the one
 * mailer (workers/sso/mail: the dev outbox in dev, Postmark elsewhere).
 *
 * Never put account details in `text`: only masked summaries. Mail is not a secure channel, and
 * the point of these messages is to alert the owner, not to repeat what was entered.
 *
 * A failure to send does not undo what happened (the change is already committed, and throwing
 * would make a client retry it); callers get `{ sent: false, reason }` and decide, and the failure
 * is logged so an operator sees it.
 * @module
 */
import { log } from '../edge/logger'
import { escapeHtml } from '../sso/mail/templates'
import { mailerFor } from '../sso/mail/mailer'

export interface CreatorNotice {
  subject: string
  /** plain text; paragraphs separated by blank lines */
  text: string
}

export type NotifyResult = { sent: true; to: string } | { sent: false; reason: 'no_account' | 'send_failed'; detail: string }

const SIGNATURE = '\n\nIf you did not do this, sign in and remove the method at once, then contact FANZ support: payouts to a method wait for its cool-off, so there is time to stop them.\n\n— FANZ payouts'

/** The creator's account email, or null when the profile has no account (seeded or imported profiles). */
export async function creatorEmail(env: Env, creatorId: string): Promise<string | null> {
  const row = await env.DB.prepare('SELECT u.email AS email FROM creators c JOIN users u ON u.id = c.user_id WHERE c.id = ?').bind(creatorId).first<{ email: string }>()
  return row?.email ?? null
}

function html(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>')}</p>`)
    .join('')
}

/**
 * Sends `notice` to the creator's account email. `security: true` appends the "not you?" advice,
 * for changes to where money goes.
 */
export async function notifyCreator(env: Env, creatorId: string, notice: CreatorNotice & { security?: boolean }): Promise<NotifyResult> {
  const to = await creatorEmail(env, creatorId)
  if (!to) return { sent: false, reason: 'no_account', detail: `creator ${creatorId} has no account email` }
  const text = notice.security ? `${notice.text}${SIGNATURE}` : `${notice.text}\n\n— FANZ payouts`
  try {
    await mailerFor(env).send({ to, subject: notice.subject, text, html: html(text) })
    return { sent: true, to }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    log('error', 'error', 'payouts.notify.failed', { creator_id: creatorId, subject: notice.subject, detail })
    return { sent: false, reason: 'send_failed', detail }
  }
}
