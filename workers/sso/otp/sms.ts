/**
 * The one way FanzSSO sends a text message: `smsSenderFor(env).send({ to, body })`, with `to` in
 * E.164 (phone.ts). Two adapters behind one interface, picked by configuration like `mailerFor`:
 * - sandbox (sms-outbox.ts): stores the message in D1 `sms_outbox`, readable through the dev-only
 *   `GET /api/sso/dev/sms-outbox`; used when ENVIRONMENT is `dev`, and in staging while Twilio is
 *   not configured;
 * - Twilio (twilio.ts): used whenever TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and SMS_FROM are all set
 *   outside dev.
 * Production without them gets a sender that throws `SmsNotConfiguredError` on every send (at send
 * time, so everything that sends no SMS keeps working while the secret is being fixed), and a
 * malformed value fails loudly at selection: an SMS code is never silently dropped.
 * None of the three is in wrangler.toml yet, so they are read defensively (like `mailApiToken`).
 * @module
 */
import { ACCOUNT_SID_RE, MESSAGING_SERVICE_SID_RE, TwilioSmsSender, type TwilioSettings } from './twilio'
import { SandboxSmsSender } from './sms-outbox'

export interface SmsMessage {
  /** E.164, e.g. `+14155552671` */
  to: string
  body: string
}

export interface SmsSender {
  /** which adapter this is, for logs and tests */
  readonly kind: 'sandbox' | 'twilio' | 'unconfigured'
  send(message: SmsMessage): Promise<void>
}

export class SmsNotConfiguredError extends Error {
  constructor(missing: string[]) {
    super(
      `SMS is not configured: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set in production ` +
        '(TWILIO_ACCOUNT_SID and SMS_FROM in [env.production.vars], wrangler secret put TWILIO_AUTH_TOKEN --env production); the message was NOT sent',
    )
    this.name = 'SmsNotConfiguredError'
  }
}

function optionalString(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

/** Twilio's settings when all three are present (validated), or the names of the missing ones. */
export function twilioSettings(env: Env): { ok: true; settings: TwilioSettings } | { ok: false; missing: string[] } {
  const accountSid = optionalString(env, 'TWILIO_ACCOUNT_SID')
  const authToken = optionalString(env, 'TWILIO_AUTH_TOKEN')
  const from = optionalString(env, 'SMS_FROM')
  if (!accountSid || !authToken || !from) {
    const missing = [!accountSid && 'TWILIO_ACCOUNT_SID', !authToken && 'TWILIO_AUTH_TOKEN', !from && 'SMS_FROM'].filter((v): v is string => typeof v === 'string')
    return { ok: false, missing }
  }
  if (!ACCOUNT_SID_RE.test(accountSid)) throw new Error('invalid SMS configuration: TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits')
  if (!/^[\x21-\x7e]{16,128}$/.test(authToken)) throw new Error('invalid SMS configuration: TWILIO_AUTH_TOKEN must be 16-128 printable ASCII characters')
  if (!MESSAGING_SERVICE_SID_RE.test(from) && !/^\+[1-9][0-9]{6,14}$/.test(from)) {
    throw new Error('invalid SMS configuration: SMS_FROM must be an E.164 number (+14155550100) or a Messaging Service SID (MG + 32 hex digits)')
  }
  return { ok: true, settings: { accountSid, authToken, from } }
}

/** Sandbox in dev (or without Twilio outside production), Twilio otherwise; see the module comment. */
export function smsSenderFor(env: Env): SmsSender {
  if (env.ENVIRONMENT === 'dev') return new SandboxSmsSender(env.DB)
  const twilio = twilioSettings(env)
  if (twilio.ok) return new TwilioSmsSender(twilio.settings)
  if (env.ENVIRONMENT === 'production') {
    return {
      kind: 'unconfigured',
      send: async () => {
        throw new SmsNotConfiguredError(twilio.missing)
      },
    }
  }
  return new SandboxSmsSender(env.DB)
}
