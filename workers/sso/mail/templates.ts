/**
 * The texts of FanzSSO mail. Links point at the SSO host (`config.issuer`), with the single-use
 * token in the query. The pages behind `/verify-email` and `/reset-password` do not exist yet
 * (they come with the SSO UI); until then the token is posted to the API by hand or by tests.
 * Every interpolated value is HTML-escaped: the display name is user input.
 * @module
 */
import type { MailMessage } from './mailer'

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)
}

export function tokenLink(issuer: string, page: 'verify-email' | 'reset-password', token: string): string {
  const url = new URL(`/${page}`, issuer)
  url.searchParams.set('token', token)
  return url.toString()
}

export function verificationMail(input: { to: string; displayName: string; link: string }): MailMessage {
  const { to, displayName, link } = input
  return {
    to,
    subject: 'Confirm your FANZ email address',
    text: `Hi ${displayName},\n\nConfirm your email address for your FANZ account by opening this link within 24 hours:\n\n${link}\n\nIf you did not create a FANZ account, ignore this message.\n`,
    html: `<p>Hi ${escapeHtml(displayName)},</p><p>Confirm your email address for your FANZ account by opening this link within 24 hours:</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p><p>If you did not create a FANZ account, ignore this message.</p>`,
  }
}

export function passwordResetMail(input: { to: string; displayName: string; link: string }): MailMessage {
  const { to, displayName, link } = input
  return {
    to,
    subject: 'Reset your FANZ password',
    text: `Hi ${displayName},\n\nSomeone (hopefully you) asked to reset the password of your FANZ account. Open this link within 1 hour to choose a new one:\n\n${link}\n\nThe link works once. If you did not ask for this, ignore this message: your password stays as it is.\n`,
    html: `<p>Hi ${escapeHtml(displayName)},</p><p>Someone (hopefully you) asked to reset the password of your FANZ account. Open this link within 1 hour to choose a new one:</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p><p>The link works once. If you did not ask for this, ignore this message: your password stays as it is.</p>`,
  }
}
