/**
 * The one way FanzSSO sends mail: `mailerFor(env).send({ to, subject, text, html })`.
 *
 * Two adapters behind one interface, picked by configuration so no caller ever branches on the
 * environment:
 * - outbox (outbox.ts): stores the message in D1 `outbox_messages`, readable through the dev-only
 *   `GET /api/sso/dev/outbox`; used when ENVIRONMENT is `dev`, and in staging while no
 *   MAIL_API_TOKEN is set (a staging without a provider still works end to end);
 * - Postmark (postmark.ts): the real provider, used whenever a MAIL_API_TOKEN is set outside dev.
 *
 * Production without MAIL_API_TOKEN gets a mailer that throws `MailNotConfiguredError` on every
 * send: a verification or reset mail is never silently dropped, and the failure surfaces in the
 * request (500 + error log) instead of deep in a support queue. It fails at send time, not at
 * start-up, so routes that send no mail keep working while the secret is being fixed.
 * @module
 */
import { z } from 'zod'
import { OutboxMailer } from './outbox'
import { PostmarkMailer } from './postmark'

export interface MailMessage {
  /** one recipient address, as the person typed it */
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /** which adapter this is, for logs and tests */
  readonly kind: 'outbox' | 'postmark' | 'unconfigured'
  send(message: MailMessage): Promise<void>
}

export class MailNotConfiguredError extends Error {
  constructor() {
    super('mail is not configured: MAIL_API_TOKEN is not set in production (wrangler secret put MAIL_API_TOKEN --env production); the message was NOT sent')
    this.name = 'MailNotConfiguredError'
  }
}

const MailEnv = z.object({
  ENVIRONMENT: z.enum(['dev', 'staging', 'production']),
  MAIL_FROM: z.string().trim().min(3, 'MAIL_FROM must be set in wrangler.toml (e.g. "FANZ <no-reply@fanz.network>")'),
  /** optional secret; an empty string counts as unset */
  MAIL_API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
})

export type MailSettings = z.infer<typeof MailEnv>

/** MAIL_API_TOKEN is a secret that may be absent, so it is not part of the generated `Env`. */
export function mailApiToken(env: Env): string | undefined {
  const token = (env as Env & { MAIL_API_TOKEN?: unknown }).MAIL_API_TOKEN
  return typeof token === 'string' && token.trim() ? token.trim() : undefined
}

export function mailSettings(env: Env): MailSettings {
  const parsed = MailEnv.safeParse({ ENVIRONMENT: env.ENVIRONMENT, MAIL_FROM: env.MAIL_FROM, MAIL_API_TOKEN: mailApiToken(env) })
  if (!parsed.success) throw new Error(`invalid mail configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return parsed.data
}

/** Outbox in dev (or without a token outside production), Postmark otherwise; see the module comment. */
export function mailerFor(env: Env): Mailer {
  const settings = mailSettings(env)
  if (settings.ENVIRONMENT === 'dev') return new OutboxMailer(env.DB, settings.MAIL_FROM)
  if (settings.MAIL_API_TOKEN) return new PostmarkMailer(settings.MAIL_API_TOKEN, settings.MAIL_FROM)
  if (settings.ENVIRONMENT === 'production') {
    return {
      kind: 'unconfigured',
      send: async () => {
        throw new MailNotConfiguredError()
      },
    }
  }
  return new OutboxMailer(env.DB, settings.MAIL_FROM)
}
