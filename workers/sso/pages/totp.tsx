/**
 * `/account/totp`: set up an authenticator app (shows the key as text and as an otpauth:// URI;
 * no QR code: no QR library is installed, and typing the key works in every app), confirm it with
 * a current code, see the recovery codes once; when on, turn it off or get new recovery codes
 * (each with a current code). Everything here needs a recent sign-in (reauth.tsx) and spends an
 * attempt on the user's MFA throttle for every code tried.
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { spendAttempt } from '../accounts/api-throttle'
import type { IdpSession } from '../login/idp-session'
import { readFields } from './forms'
import { recentlySignedIn } from './reauth'
import { mfaThrottle } from './second-factor'
import { confirmEnrolment, disableTotp, regenerateRecoveryCodes, startEnrolment, TOTP_ISSUER, type Enrolment } from './totp-enrol'
import { ErrorSummary, Field, respond, when, type FieldErrors } from './ui'
import type { TotpCheck } from './second-factor'

const LABELS = { code: 'Code from the app', disable_code: 'Current code', regenerate_code: 'Current code' }

export const TOTP_MESSAGES = {
  invalid: 'That code is not right. Enter the 6-digit code the app shows now.',
  replayed: 'That code was already used. Wait for the next code in your app.',
  expired: 'The setup took too long, so here is a new key. Add it to your app and enter its code.',
  notEnrolled: 'The authenticator app is not set up on this account.',
}

function codeMessage(check: TotpCheck): string {
  return check === 'replayed' ? TOTP_MESSAGES.replayed : check === 'not_enrolled' ? TOTP_MESSAGES.notEnrolled : TOTP_MESSAGES.invalid
}

const CodeField = ({ id, label, error }: { id: string; label: string; error?: string }) => (
  <Field id={id} label={label} autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength={7} hint="6 digits, as your app shows them now." error={error} />
)

function setupPage(c: Context<AppEnv>, enrolment: Enrolment, errors: FieldErrors = {}, status: 200 | 401 | 422 = 200): Response | Promise<Response> {
  return respond(
    c,
    'Set up an authenticator app',
    <div class="panel">
      <p class="eyebrow">Two-step verification</p>
      <h1>Set up an authenticator app</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      <ol class="stack">
        <li>
          Open an authenticator app (for example Google Authenticator, Microsoft Authenticator, 1Password or Bitwarden) and choose to add an account by
          entering a setup key.
        </li>
        <li>
          Enter this key (spaces do not matter); the account is <strong>{TOTP_ISSUER}</strong>, time-based, 6 digits:
          <p>
            <code id="totp-secret">{enrolment.manualKey}</code>
          </p>
          <p class="hint">
            Apps that accept a link can use this one instead: <code id="totp-uri">{enrolment.uri}</code>
          </p>
        </li>
        <li>
          <form method="post" action="/account/totp" class="stack" novalidate>
            <CodeField id="code" label={LABELS.code} error={errors.code} />
            <button type="submit">Turn on</button>
          </form>
        </li>
      </ol>
      <p>
        <a href="/account">Cancel</a>
      </p>
    </div>,
    status,
  )
}

function codesPage(c: Context<AppEnv>, heading: string, codes: string[]): Response | Promise<Response> {
  return respond(
    c,
    heading,
    <div class="panel">
      <p class="eyebrow">Two-step verification</p>
      <h1>{heading}</h1>
      <p>
        Save these recovery codes somewhere safe (a password manager, or on paper). Each one signs you in once if you lose your authenticator app. They are
        shown only now.
      </p>
      <ul id="recovery-codes">
        {codes.map((code) => (
          <li>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div class="actions">
        <a class="button" href="/account">
          I have saved them
        </a>
      </div>
    </div>,
  )
}

async function managePage(c: Context<AppEnv>, session: IdpSession, errors: FieldErrors = {}, status: 200 | 401 = 200): Promise<Response> {
  const row = await c.env.DB.prepare('SELECT totp_enabled_at_ms AS enabled FROM users WHERE id = ?').bind(session.userId).first<{ enabled: number | null }>()
  return respond(
    c,
    'Authenticator app',
    <div class="panel">
      <p class="eyebrow">Two-step verification</p>
      <h1>Authenticator app</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      <p>
        <span class="status ok">On</span>
        {row?.enabled ? ` since ${when(row.enabled)}` : ''}. Signing in asks for a code from your app after your password.
      </p>
      <h2>New recovery codes</h2>
      <p>Get ten new recovery codes; the old ones stop working.</p>
      <form method="post" action="/account/recovery-codes" class="stack" novalidate>
        <CodeField id="regenerate_code" label={LABELS.regenerate_code} error={errors.regenerate_code} />
        <button type="submit" class="secondary">
          Get new recovery codes
        </button>
      </form>
      <h2>Turn off</h2>
      <p>Without it, your password alone opens your account.</p>
      <form method="post" action="/account/totp/disable" class="stack" novalidate>
        <CodeField id="disable_code" label={LABELS.disable_code} error={errors.disable_code} />
        <button type="submit" class="secondary">
          Turn off authenticator app
        </button>
      </form>
      <p>
        <a href="/account">Back to your account</a>
      </p>
    </div>,
    status,
  )
}

async function accountRow(c: Context<AppEnv>, userId: string) {
  return c.env.DB.prepare('SELECT email, totp_enabled_at_ms AS enabled FROM users WHERE id = ?').bind(userId).first<{ email: string; enabled: number | null }>()
}

function actorOf(c: Context<AppEnv>, session: IdpSession) {
  return { env: c.env, actor: session.userId, actorRoles: [], requestId: c.var.requestId }
}

export const showTotp = recentlySignedIn('/account/totp', async (c, session) => {
  const user = await accountRow(c, session.userId)
  if (!user) return c.redirect('/login', 303)
  if (user.enabled !== null) return managePage(c, session)
  return setupPage(c, await startEnrolment(c, session.userId, user.email))
})

export const confirmTotp = recentlySignedIn(
  '/account/totp',
  async (c, session) => {
    const user = await accountRow(c, session.userId)
    if (!user) return c.redirect('/login', 303)
    if (user.enabled !== null) return c.redirect('/account/totp', 303)
    const fields = await readFields(c)
    const limiter = mfaThrottle(c.env, session.userId)
    await spendAttempt([limiter], 'verification codes')
    const result = await confirmEnrolment(c, session.userId, fields.code ?? '')
    if (!result.ok) {
      if (result.reason === 'already_enabled') return c.redirect('/account/totp', 303)
      const message = result.reason === 'expired' ? TOTP_MESSAGES.expired : TOTP_MESSAGES.invalid
      return setupPage(c, await startEnrolment(c, session.userId, user.email), { code: message }, result.reason === 'expired' ? 422 : 401)
    }
    await limiter.recordSuccess()
    await audit(actorOf(c, session), 'sso.totp.enable', `user:${session.userId}`, { recovery_codes: result.codes.length })
    return codesPage(c, 'Authenticator app is on', result.codes)
  },
  true,
)

export const disableTotpRoute = recentlySignedIn(
  '/account/totp',
  async (c, session) => {
    const fields = await readFields(c)
    const limiter = mfaThrottle(c.env, session.userId)
    await spendAttempt([limiter], 'verification codes')
    const check = await disableTotp(c, session.userId, fields.disable_code ?? '')
    if (check === 'not_enrolled') return c.redirect('/account/totp', 303)
    if (check !== 'ok') return managePage(c, session, { disable_code: codeMessage(check) }, 401)
    await limiter.recordSuccess()
    await audit(actorOf(c, session), 'sso.totp.disable', `user:${session.userId}`)
    return c.redirect('/account', 303)
  },
  true,
)

export const regenerateCodes = recentlySignedIn(
  '/account/totp',
  async (c, session) => {
    const fields = await readFields(c)
    const limiter = mfaThrottle(c.env, session.userId)
    await spendAttempt([limiter], 'verification codes')
    const result = await regenerateRecoveryCodes(c, session.userId, fields.regenerate_code ?? '')
    if (!result.ok && result.reason === 'not_enrolled') return c.redirect('/account/totp', 303)
    if (!result.ok) return managePage(c, session, { regenerate_code: codeMessage(result.reason) }, 401)
    await limiter.recordSuccess()
    await audit(actorOf(c, session), 'sso.recovery_codes.regenerate', `user:${session.userId}`, { recovery_codes: result.codes.length })
    return codesPage(c, 'New recovery codes', result.codes)
  },
  true,
)
