/**
 * The texts that carry a one-time code. The SMS ends with the origin-bound line of the WebOTP /
 * "origin-bound one-time codes" format (`@sso.fanz.network #123456`): browsers that support it
 * offer the code only on that host, which takes some of the phishing out of SMS codes.
 * The code is the only secret in either message; the display name is user input and HTML-escaped.
 * @module
 */
import type { MailMessage } from '../mail/mailer'
import { escapeHtml } from '../mail/templates'
import { CODE_TTL_MS, type OtpPurpose } from './codes'

const MINUTES = Math.round(CODE_TTL_MS / 60_000)

const WHAT: Record<OtpPurpose, string> = {
  sign_in: 'sign in to your FANZ account',
  verify_phone: 'confirm this phone number for your FANZ account',
  step_up: 'confirm it is you',
}

/** The host the code belongs to, from the pinned issuer (never from the request's Host). */
export function codeHost(issuer: string): string {
  return new URL(issuer).host
}

export function codeSms(input: { code: string; purpose: OtpPurpose; issuer: string }): string {
  const { code, purpose, issuer } = input
  return `Your FANZ code is ${code}. Use it to ${WHAT[purpose]} within ${MINUTES} minutes. Never share it: FANZ will never ask you for it.\n\n@${codeHost(issuer)} #${code}`
}

export function codeMail(input: { to: string; displayName: string; code: string; purpose: OtpPurpose }): MailMessage {
  const { to, displayName, code, purpose } = input
  return {
    to,
    // not the code itself in the subject: subjects show on lock screens and in notification previews
    subject: purpose === 'sign_in' ? 'Your FANZ sign-in code' : 'Your FANZ verification code',
    text: `Hi ${displayName},\n\nYour FANZ code is: ${code}\n\nUse it to ${WHAT[purpose]} within ${MINUTES} minutes. It works once.\n\nIf you did not try to sign in, someone may know your password: change it and review your sessions. Never share this code; FANZ will never ask you for it.\n`,
    html:
      `<p>Hi ${escapeHtml(displayName)},</p><p>Your FANZ code is:</p>` +
      `<p style="font-size:1.5em;font-weight:bold;letter-spacing:0.2em;font-family:monospace">${escapeHtml(code)}</p>` +
      `<p>Use it to ${escapeHtml(WHAT[purpose])} within ${MINUTES} minutes. It works once.</p>` +
      `<p>If you did not try to sign in, someone may know your password: change it and review your sessions. Never share this code; FANZ will never ask you for it.</p>`,
  }
}
