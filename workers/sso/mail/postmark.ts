/**
 * The production mail adapter: Postmark's single-message API, `POST https://api.postmarkapp.com/email`
 * with the server token in `X-Postmark-Server-Token` and a JSON body of `From`, `To`, `Subject`,
 * `TextBody`, `HtmlBody`, `MessageStream` (`outbound` is Postmark's default transactional stream).
 * Postmark answers 200 with `{ ErrorCode: 0, MessageID, ... }`; any other status, or a non-zero
 * `ErrorCode`, is a failure and throws `ProblemError('UPSTREAM_ERROR')` (502) so the caller never
 * reports a mail as sent when it was not. Link and open tracking stay off: the links carry
 * single-use tokens that must not pass through a tracking redirect.
 * Configured by the secret MAIL_API_TOKEN and the var MAIL_FROM (mailer.ts). Tests stub
 * `globalThis.fetch` and check the request built here; nothing talks to Postmark in CI.
 * @module
 */
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import type { Mailer, MailMessage } from './mailer'

export const POSTMARK_ENDPOINT = 'https://api.postmarkapp.com/email'
export const POSTMARK_STREAM = 'outbound'

/** The exact request Postmark expects for one message. */
export function postmarkRequest(token: string, from: string, message: MailMessage): Request {
  return new Request(POSTMARK_ENDPOINT, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'x-postmark-server-token': token,
    },
    body: JSON.stringify({
      From: from,
      To: message.to,
      Subject: message.subject,
      TextBody: message.text,
      HtmlBody: message.html,
      MessageStream: POSTMARK_STREAM,
      TrackOpens: false,
      TrackLinks: 'None',
    }),
  })
}

export class PostmarkMailer implements Mailer {
  readonly kind = 'postmark' as const

  constructor(
    private readonly token: string,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    let res: Response
    try {
      res = await fetch(postmarkRequest(this.token, this.from, message))
    } catch (error) {
      throw new ProblemError('UPSTREAM_ERROR', { detail: 'the email provider could not be reached; try again shortly', cause: error })
    }
    const body = (await res.json().catch(() => null)) as { ErrorCode?: unknown; Message?: unknown } | null
    if (res.ok && body?.ErrorCode === 0) return
    log('error', 'debug', 'mail_send_failed', { provider: 'postmark', status: res.status, error_code: body?.ErrorCode ?? null, message: body?.Message ?? null })
    throw new ProblemError('UPSTREAM_ERROR', { detail: 'the email provider refused the message; try again shortly' })
  }
}
