/**
 * The KYC expiry job (hourly cron; idempotent, so a late or repeated run does nothing twice):
 * - an approved verification whose ID document expires within REMINDER_DAYS gets one reminder,
 *   mailed to the subject's account (the SSO mailer: outbox in dev, Postmark in production);
 *   `reminder_sent_at_ms` is claimed by a conditional update first, so two runs never mail twice,
 *   and released again when the mail fails, so the next run retries;
 * - on the document's expiry date the verification becomes `expired` (audited): the creator must
 *   verify again before anything that needs KYC accepts them (kycStanding).
 * @module
 */
import { eq } from 'drizzle-orm'
import { users } from '../../../d1/schema'
import { audit } from '../../compliance/audit'
import { getConfig } from '../../config'
import { log } from '../../edge/logger'
import { db } from '../../lib/db'
import { mailerFor } from '../../sso/mail/mailer'
import { escapeHtml } from '../../sso/mail/templates'
import { isoDay } from './verifications'

export const REMINDER_DAYS = 30
const DAY_MS = 86_400_000
const BATCH = 200

interface Due {
  id: string
  user_id: string | null
  document_expires_on: string
}

export async function runKycExpiry(env: Env, nowMs: number): Promise<{ reminded: number; expired: number }> {
  const today = isoDay(nowMs)
  const horizon = isoDay(nowMs + REMINDER_DAYS * DAY_MS)
  const ctx = { env, actor: 'system:cron' }

  const expiring = await env.DB.prepare(
    `SELECT id, user_id, document_expires_on FROM kyc_verifications
     WHERE status = 'approved' AND document_expires_on IS NOT NULL AND document_expires_on <= ? AND document_expires_on > ? AND reminder_sent_at_ms IS NULL
     ORDER BY document_expires_on LIMIT ?`,
  )
    .bind(horizon, today, BATCH)
    .all<Due>()
  let reminded = 0
  for (const due of expiring.results) {
    const claimed = await env.DB.prepare('UPDATE kyc_verifications SET reminder_sent_at_ms = ? WHERE id = ? AND reminder_sent_at_ms IS NULL').bind(nowMs, due.id).run()
    if (claimed.meta.changes !== 1) continue
    try {
      await remind(env, due)
      reminded++
      await audit(ctx, 'vault.kyc.reminder', `kyc:${due.id}`, { document_expires_on: due.document_expires_on })
    } catch (err) {
      await env.DB.prepare('UPDATE kyc_verifications SET reminder_sent_at_ms = NULL WHERE id = ? AND reminder_sent_at_ms = ?').bind(due.id, nowMs).run()
      log('error', 'info', 'kyc_reminder_failed', { verification: due.id, error: String(err) })
    }
  }

  const lapsed = await env.DB.prepare(`SELECT id, user_id, document_expires_on FROM kyc_verifications WHERE status = 'approved' AND document_expires_on IS NOT NULL AND document_expires_on <= ? LIMIT ?`)
    .bind(today, BATCH)
    .all<Due>()
  let expired = 0
  for (const due of lapsed.results) {
    const changed = await env.DB.prepare(`UPDATE kyc_verifications SET status = 'expired', reason = 'document_expired', updated_at_ms = ? WHERE id = ? AND status = 'approved'`).bind(nowMs, due.id).run()
    if (changed.meta.changes !== 1) continue
    expired++
    await audit(ctx, 'vault.kyc.expire', `kyc:${due.id}`, { from: 'approved', to: 'expired', reason: 'document_expired', document_expires_on: due.document_expires_on })
  }
  return { reminded, expired }
}

/** Mails the subject's account; a subject without one (a performer record only) has nobody to mail. */
async function remind(env: Env, due: Due): Promise<void> {
  if (!due.user_id) return
  const user = await db(env.DB).select({ email: users.email, displayName: users.displayName }).from(users).where(eq(users.id, due.user_id)).get()
  if (!user) return
  const link = `${getConfig(env).issuer.replace('//sso.', '//dash.')}/`
  const text = `Hi ${user.displayName},\n\nThe ID document you verified your FANZ creator account with expires on ${due.document_expires_on}. Verify again with a valid document before that date, or payouts and publishing that need a verified identity will stop until you do.\n\nStart from your dashboard: ${link}\n`
  const html = `<p>Hi ${escapeHtml(user.displayName)},</p><p>The ID document you verified your FANZ creator account with expires on <strong>${escapeHtml(due.document_expires_on)}</strong>. Verify again with a valid document before that date, or payouts and publishing that need a verified identity will stop until you do.</p><p>Start from your dashboard: <a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`
  await mailerFor(env).send({ to: user.email, subject: 'Your FANZ identity verification is about to expire', text, html })
}
