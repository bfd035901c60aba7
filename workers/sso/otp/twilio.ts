/**
 * The production SMS adapter: Twilio Programmable Messaging, one message per call:
 * `POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth
 * `AccountSid:AuthToken`, form-encoded `To`, then `From` (a Twilio number, E.164) or
 * `MessagingServiceSid` (`MG...`, when SMS_FROM names a Messaging Service), then `Body`.
 * Twilio answers 201 with the message resource (`sid`, `status` queued/accepted); a failure is a
 * 4xx/5xx with a JSON body `{ code, message, more_info, status }`. Every failure throws a
 * ProblemError (502 UPSTREAM_ERROR) so a code is never reported as sent when it was not; the
 * refusals that are about the recipient (bad, landline, opted-out or unroutable number) throw
 * `SmsRecipientRefusedError` so the phone form can name its field.
 * Tests stub `globalThis.fetch` and check the request built by `twilioRequest`; nothing talks to
 * Twilio in CI.
 * @module
 */
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { maskPhone } from './phone'
import type { SmsMessage, SmsSender } from './sms'

export const TWILIO_API = 'https://api.twilio.com/2010-04-01'

export interface TwilioSettings {
  accountSid: string
  authToken: string
  /** an E.164 number (sent as `From`) or a Messaging Service SID `MG...` (sent as `MessagingServiceSid`) */
  from: string
}

export const ACCOUNT_SID_RE = /^AC[0-9a-fA-F]{32}$/
export const MESSAGING_SERVICE_SID_RE = /^MG[0-9a-fA-F]{32}$/

/**
 * Twilio error codes that are about the recipient, not about us: 21211 invalid `To`, 21408 region
 * not enabled, 21610 recipient replied STOP, 21612 unroutable, 21614 not a mobile number.
 */
const RECIPIENT_ERRORS: Record<number, string> = {
  21211: 'this is not a phone number the SMS provider accepts',
  21408: 'text messages to this country are not available yet',
  21610: 'this number has opted out of our text messages (reply START to opt back in)',
  21612: 'this number cannot receive our text messages',
  21614: 'this number cannot receive text messages (it is not a mobile number)',
}

export class SmsRecipientRefusedError extends ProblemError {
  constructor(
    detail: string,
    readonly providerCode: number,
  ) {
    super('UPSTREAM_ERROR', { detail })
    this.name = 'SmsRecipientRefusedError'
  }
}

/** RFC 7617; SIDs and auth tokens are ASCII (settings are validated in sms.ts), so btoa is exact. */
function basicAuth(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`
}

/** The exact request Twilio expects for one message (pure: no I/O). */
export function twilioRequest(settings: TwilioSettings, message: SmsMessage): Request {
  const form = new URLSearchParams()
  form.set('To', message.to)
  if (MESSAGING_SERVICE_SID_RE.test(settings.from)) form.set('MessagingServiceSid', settings.from)
  else form.set('From', settings.from)
  form.set('Body', message.body)
  return new Request(`${TWILIO_API}/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      authorization: basicAuth(settings.accountSid, settings.authToken),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  })
}

/** Twilio's error body, read defensively (it is not ours). */
export function twilioError(body: unknown): { code: number | null; message: string | null; moreInfo: string | null } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  return {
    code: typeof b.code === 'number' && Number.isInteger(b.code) ? b.code : null,
    message: typeof b.message === 'string' ? b.message.slice(0, 500) : null,
    moreInfo: typeof b.more_info === 'string' ? b.more_info.slice(0, 300) : null,
  }
}

export class TwilioSmsSender implements SmsSender {
  readonly kind = 'twilio' as const

  constructor(private readonly settings: TwilioSettings) {}

  async send(message: SmsMessage): Promise<void> {
    let res: Response
    try {
      res = await fetch(twilioRequest(this.settings, message))
    } catch (error) {
      throw new ProblemError('UPSTREAM_ERROR', { detail: 'the SMS provider could not be reached; try again shortly', cause: error })
    }
    const body: unknown = await res.json().catch(() => null)
    if (res.status === 201 || res.status === 200) {
      const sid = (body as { sid?: unknown } | null)?.sid
      if (typeof sid === 'string' && sid.startsWith('SM')) return
    }
    const error = twilioError(body)
    // the destination is personal data: only its masked form goes to the log
    log('error', 'debug', 'sms_send_failed', { provider: 'twilio', status: res.status, error_code: error.code, message: error.message, more_info: error.moreInfo, to: maskPhone(message.to) })
    const recipient = error.code !== null ? RECIPIENT_ERRORS[error.code] : undefined
    if (recipient) throw new SmsRecipientRefusedError(recipient, error.code!)
    throw new ProblemError('UPSTREAM_ERROR', { detail: 'the SMS provider refused the message; try again shortly' })
  }
}
