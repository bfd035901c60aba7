/**
 * `GET /account`: the signed-in visitor's account on the SSO host: profile (with per-brand display
 * name overrides), email and its verification, the active sessions with "Sign out" per session and
 * "Sign out everywhere", and the security settings (TOTP, recovery codes; slots for passkeys and
 * phone). Every change is a same-origin form post, validated with zod (a bad value is a 422 page
 * naming the field) and audited with the user as actor.
 * @module
 */
import type { Context } from 'hono'
import { ProblemError } from '../../edge/problem'
import { confirmPhone, removePhone, sendPhoneVerification } from '../otp/flows'
import { passkeyView, type PasskeyView } from '../passkeys/routes'
import { listPasskeys } from '../passkeys/store'
import { PasskeyManager } from '../passkeys/ui'
import { z } from 'zod'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { isId } from '../../lib/ids'
import { clientIpKey, spendAttempt } from '../accounts/api-throttle'
import { issueEmailToken } from '../accounts/email-tokens'
import { throttle } from '../accounts/throttle'
import { clearIdpCookie, IDP_CLIENT_ID, type IdpSession } from '../login/idp-session'
import { mailerFor } from '../mail/mailer'
import { tokenLink, verificationMail } from '../mail/templates'
import { userSessions } from '../sessions'
import type { RevokedSession, SessionInfo } from '../../../durable-objects/user-sessions'
import { readFields, sentence } from './forms'
import { notifyInBackground } from './logout'
import { signedIn, signedInPost } from './reauth'
import { parseHashes } from './second-factor'
import { ErrorSummary, Field, respond, when, type FieldErrors } from './ui'

const PRINTABLE = /^[^\p{Cc}]*$/u

export const ProfileForm = z.object({
  display_name: z.string().trim().min(1, 'Enter a display name.').max(64, 'Must be at most 64 characters.').regex(PRINTABLE, 'Must contain only printable characters.'),
  locale: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/, 'Must be a language tag such as en or pt-BR.'),
  avatar_url: z
    .string()
    .trim()
    .max(2048, 'Must be at most 2048 characters.')
    .transform((v) => v || null)
    .pipe(z.url({ protocol: /^https$/, error: 'Must be an https:// address of an image.' }).nullable()),
})

export const BrandProfileForm = z.object({
  brand_id: z.string().regex(/^brd_[0-9A-Za-z]{26}$/, 'Choose a brand.'),
  brand_display_name: z
    .string()
    .trim()
    .max(64, 'Must be at most 64 characters.')
    .regex(PRINTABLE, 'Must contain only printable characters.')
    .transform((v) => v || null),
})

const LABELS: Record<string, string> = {
  display_name: 'Display name',
  locale: 'Language',
  avatar_url: 'Avatar URL',
  brand_id: 'Brand',
  brand_display_name: 'Display name on this brand',
}

interface AccountData {
  user: {
    id: string
    email: string
    emailVerified: boolean
    displayName: string
    locale: string
    avatarUrl: string | null
    totpEnabledAtMs: number | null
    recoveryCodesLeft: number
    phone: string | null
  }
  sessions: SessionInfo[]
  brands: Array<{ id: string; name: string; override: string | null }>
  passkeys: PasskeyView[]
}

async function loadAccount(c: Context<AppEnv>, session: IdpSession): Promise<AccountData | null> {
  const [row, sessions, brandRows, passkeys] = await Promise.all([
    c.env.DB.prepare(
      `SELECT email, email_verified_at_ms, display_name, locale, avatar_url, totp_enabled_at_ms, recovery_codes_json, phone_e164, phone_verified_at_ms
       FROM users WHERE id = ?`,
    )
      .bind(session.userId)
      .first<{
        email: string
        email_verified_at_ms: number | null
        display_name: string
        locale: string
        avatar_url: string | null
        totp_enabled_at_ms: number | null
        recovery_codes_json: string | null
        phone_e164: string | null
        phone_verified_at_ms: number | null
      }>(),
    userSessions(c.env, session.userId).listSessions(),
    c.env.DB.prepare(
      `SELECT b.id, b.name, o.display_name AS override FROM brands b
       LEFT JOIN profile_overrides o ON o.brand_id = b.id AND o.user_id = ?
       WHERE b.status = 'active' ORDER BY b.name`,
    )
      .bind(session.userId)
      .all<{ id: string; name: string; override: string | null }>(),
    listPasskeys(c.env.DB, session.userId),
  ])
  if (!row) return null
  return {
    user: {
      id: session.userId,
      email: row.email,
      emailVerified: row.email_verified_at_ms !== null,
      displayName: row.display_name,
      locale: row.locale,
      avatarUrl: row.avatar_url,
      totpEnabledAtMs: row.totp_enabled_at_ms,
      recoveryCodesLeft: row.totp_enabled_at_ms === null ? 0 : parseHashes(row.recovery_codes_json).length,
      phone: row.phone_verified_at_ms !== null ? row.phone_e164 : null,
    },
    sessions,
    passkeys: passkeys.map(passkeyView),
    brands: brandRows.results,
  }
}

interface AccountView {
  errors?: FieldErrors
  /** what the visitor typed, kept when the form is shown again with errors */
  values?: Record<string, string>
  notice?: string
  /** a phone verification code was sent: ask for it */
  phoneChallenge?: { challengeId: string; sentTo: string }
}

function clientName(clientId: string): string {
  return clientId === IDP_CLIENT_ID ? 'FanzSSO (this site)' : clientId
}

const SessionRow = ({ s, current }: { s: SessionInfo; current: IdpSession }) => {
  const here = s.sessionId === current.sessionId || s.parentId === current.sessionId
  return (
    <tr>
      <td>
        {s.device}
        {here ? (
          <>
            {' '}
            <span class="status ok">This device</span>
          </>
        ) : null}
      </td>
      <td>{clientName(s.clientId)}</td>
      <td>{s.country ?? 'unknown'}</td>
      <td>{when(s.createdAtMs)}</td>
      <td>{when(s.lastSeenAtMs)}</td>
      <td>
        <form method="post" action="/account/sessions/revoke" class="inline-form">
          <input type="hidden" name="session_id" value={s.sessionId} />
          <button type="submit" class="secondary" aria-label={`Sign out ${s.device}, ${clientName(s.clientId)}, started ${when(s.createdAtMs)}`}>
            Sign out
          </button>
        </form>
      </td>
    </tr>
  )
}

function accountPage(c: Context<AppEnv>, session: IdpSession, data: AccountData, view: AccountView = {}, status: 200 | 422 = 200): Response | Promise<Response> {
  const { user } = data
  const errors = view.errors ?? {}
  const value = (name: string, fallback: string | null) => view.values?.[name] ?? fallback ?? ''
  return respond(
    c,
    'Your account',
    <>
      <section class="narrow" aria-labelledby="account-title">
        <p class="eyebrow">FanzSSO</p>
        <h1 id="account-title">Your account</h1>
        <ErrorSummary errors={errors} labels={LABELS} />
        {view.notice ? <p role="status">{view.notice}</p> : null}
        {!user.emailVerified ? (
          <div class="alert" id="verify-banner">
            <p>
              Your email address <strong>{user.email}</strong> is not verified yet. Open the link we sent you, or get a new one.
            </p>
            <form method="post" action="/account/verify-email/resend" class="inline-form">
              <button type="submit" class="secondary">
                Resend verification email
              </button>
            </form>
          </div>
        ) : null}
        <p>
          Signed in as <strong>{user.displayName}</strong> ({user.email}).{' '}
          <a href="/logout">Sign out</a>
        </p>
      </section>

      <section class="narrow" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <form method="post" action="/account/profile" class="stack" novalidate>
          <Field id="display_name" label={LABELS.display_name!} autocomplete="nickname" value={value('display_name', user.displayName)} error={errors.display_name} maxlength={64} />
          <Field id="locale" label={LABELS.locale!} autocomplete="language" value={value('locale', user.locale)} error={errors.locale} hint="A language tag such as en, de or pt-BR." maxlength={35} />
          <Field id="avatar_url" label={LABELS.avatar_url!} type="url" autocomplete="photo" value={value('avatar_url', user.avatarUrl)} error={errors.avatar_url} hint="An https:// address of an image; leave empty for none." required={false} />
          <button type="submit">Save profile</button>
        </form>
        <h3>Display name on one brand</h3>
        <p class="hint">Use another name on one FANZ brand; leave the name empty to use your profile name there.</p>
        <form method="post" action="/account/profile/brand" class="stack" novalidate>
          <div>
            <label for="brand_id">{LABELS.brand_id}</label>
            {errors.brand_id ? (
              <p id="brand_id-error">
                <strong>Error:</strong> {errors.brand_id}
              </p>
            ) : null}
            <select id="brand_id" name="brand_id" aria-invalid={errors.brand_id ? 'true' : undefined} aria-describedby={errors.brand_id ? 'brand_id-error' : undefined}>
              {data.brands.map((b) => (
                <option value={b.id} selected={view.values?.brand_id === b.id}>
                  {b.name}
                  {b.override ? ` (now: ${b.override})` : ''}
                </option>
              ))}
            </select>
          </div>
          <Field id="brand_display_name" label={LABELS.brand_display_name!} value={value('brand_display_name', null)} error={errors.brand_display_name} required={false} maxlength={64} />
          <button type="submit" class="secondary">
            Save brand name
          </button>
        </form>
      </section>

      <section class="narrow" aria-labelledby="email-title">
        <h2 id="email-title">Email</h2>
        <dl class="facts">
          <dt>Address</dt>
          <dd>{user.email}</dd>
          <dt>Status</dt>
          <dd>{user.emailVerified ? 'Verified' : 'Not verified'}</dd>
        </dl>
      </section>

      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title">Where you are signed in</h2>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Active sessions</caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Signed in to</th>
                <th scope="col">Country</th>
                <th scope="col">Started</th>
                <th scope="col">Last active</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {data.sessions.map((s) => (
                <SessionRow s={s} current={session} />
              ))}
            </tbody>
          </table>
        </div>
        <form method="post" action="/account/sessions/revoke-all" class="actions">
          <button type="submit">Sign out everywhere</button>
        </form>
      </section>

      <section class="narrow" aria-labelledby="security-title">
        <h2 id="security-title">Security</h2>
        <h3>Authenticator app</h3>
        {user.totpEnabledAtMs !== null ? (
          <p>
            <span class="status ok">On</span> since {when(user.totpEnabledAtMs)}. {user.recoveryCodesLeft} recovery code{user.recoveryCodesLeft === 1 ? '' : 's'} left.{' '}
            <a href="/account/totp">Manage authenticator app and recovery codes</a>
          </p>
        ) : (
          <p>
            Off. <a href="/account/totp">Set up an authenticator app</a> so a password alone cannot open your account.
          </p>
        )}
        <h3>Passkeys</h3>
        <PasskeyManager nonce={c.var.secureHeadersNonce} passkeys={data.passkeys} />
        <h3>Phone</h3>
        <PhoneSection phone={user.phone} view={view} />
      </section>
    </>,
    status,
  )
}

export const showAccount = signedIn(async (c, session) => {
  const data = await loadAccount(c, session)
  if (!data) return c.redirect('/login', 303)
  const notice = { profile: 'Your profile was saved.', brand: 'The brand display name was saved.', verify: 'A new verification link is on its way.' }[c.req.query('saved') ?? '']
  return accountPage(c, session, data, { notice })
})

function zodErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {}
  for (const issue of error.issues) {
    const field = String(issue.path[0])
    errors[field] ??= sentence(issue.message)
  }
  return errors
}

function actorOf(c: Context<AppEnv>, session: IdpSession) {
  return { env: c.env, actor: session.userId, actorRoles: [], requestId: c.var.requestId }
}

export const updateProfile = signedInPost(async (c, session) => {
  const fields = await readFields(c)
  const parsed = ProfileForm.safeParse({ display_name: fields.display_name ?? '', locale: fields.locale ?? '', avatar_url: fields.avatar_url ?? '' })
  if (!parsed.success) {
    const data = await loadAccount(c, session)
    if (!data) return c.redirect('/login', 303)
    return accountPage(c, session, data, { errors: zodErrors(parsed.error), values: fields }, 422)
  }
  const { display_name, locale, avatar_url } = parsed.data
  await c.env.DB.prepare('UPDATE users SET display_name = ?, locale = ?, avatar_url = ?, updated_at_ms = ? WHERE id = ?')
    .bind(display_name, locale, avatar_url, Date.now(), session.userId)
    .run()
  await audit(actorOf(c, session), 'sso.profile.update', `user:${session.userId}`, { fields: ['display_name', 'locale', 'avatar_url'], locale, has_avatar: avatar_url !== null })
  return c.redirect('/account?saved=profile', 303)
})

export const updateBrandProfile = signedInPost(async (c, session) => {
  const fields = await readFields(c)
  const parsed = BrandProfileForm.safeParse({ brand_id: fields.brand_id ?? '', brand_display_name: fields.brand_display_name ?? '' })
  const brand = parsed.success ? await c.env.DB.prepare(`SELECT id FROM brands WHERE id = ? AND status = 'active'`).bind(parsed.data.brand_id).first<{ id: string }>() : null
  if (!parsed.success || !brand) {
    const data = await loadAccount(c, session)
    if (!data) return c.redirect('/login', 303)
    return accountPage(c, session, data, { errors: parsed.success ? { brand_id: 'Choose a brand.' } : zodErrors(parsed.error), values: fields }, 422)
  }
  const nowMs = Date.now()
  const name = parsed.data.brand_display_name
  // the row keeps a brand avatar override, if any; with neither left it goes
  await c.env.DB.batch([
    c.env.DB.prepare(
      `INSERT INTO profile_overrides (user_id, brand_id, display_name, updated_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, brand_id) DO UPDATE SET display_name = excluded.display_name, updated_at_ms = excluded.updated_at_ms`,
    ).bind(session.userId, brand.id, name, nowMs),
    c.env.DB.prepare('DELETE FROM profile_overrides WHERE user_id = ? AND brand_id = ? AND display_name IS NULL AND avatar_url IS NULL').bind(session.userId, brand.id),
  ])
  await audit(actorOf(c, session), 'sso.profile.update', `user:${session.userId}`, { fields: ['display_name'], brand_id: brand.id, cleared: name === null })
  return c.redirect('/account?saved=brand', 303)
})

/**
 * Back-channel logout for what was revoked, after the answer; when this browser's own IdP session
 * is among them, the cookie goes too and the visitor lands on the sign-in page.
 */
function afterRevoke(c: Context<AppEnv>, session: IdpSession, revoked: RevokedSession[]): Response | Promise<Response> {
  notifyInBackground(c, session.userId, revoked)
  if (revoked.some((r) => r.sessionId === session.sessionId)) {
    clearIdpCookie(c)
    return c.redirect('/login?signed_out=1', 303)
  }
  return c.redirect('/account', 303)
}

export const revokeOneSession = signedInPost(async (c, session) => {
  const fields = await readFields(c)
  const sessionId = fields.session_id ?? ''
  // only this user's object is asked: another user's session id is simply not found there
  if (!isId('session', sessionId)) return c.redirect('/account', 303)
  const result = await userSessions(c.env, session.userId).revokeSession(sessionId, 'user_signout')
  const revoked = result.ok ? result.revoked : []
  if (result.ok && !result.alreadyRevoked) await audit(actorOf(c, session), 'sso.session.revoke', `user:${session.userId}`, { session_id: sessionId, revoked: revoked.length })
  return afterRevoke(c, session, revoked)
})

export const revokeAllSessions = signedInPost(async (c, session) => {
  const result = await userSessions(c.env, session.userId).revokeAll('user_signout_everywhere')
  const revoked = result.ok ? result.revoked : []
  await audit(actorOf(c, session), 'sso.session.revoke_all', `user:${session.userId}`, { revoked: revoked.length })
  // the current session is active, so it is among them; the cookie goes whatever the DO said
  clearIdpCookie(c)
  notifyInBackground(c, session.userId, revoked)
  return c.redirect('/login?signed_out=1', 303)
})

/**
 * A new verification link for the signed-in visitor's unverified address. Throttled per IP and per
 * user on a key of its own, so resending never slows down the account's sign-in.
 */
export const resendVerification = signedInPost(async (c, session) => {
  const user = await c.env.DB.prepare('SELECT email, display_name, email_verified_at_ms FROM users WHERE id = ?')
    .bind(session.userId)
    .first<{ email: string; display_name: string; email_verified_at_ms: number | null }>()
  if (!user || user.email_verified_at_ms !== null) return c.redirect('/account', 303)
  await spendAttempt([throttle(c.env, clientIpKey(c)), throttle(c.env, `account:verify-mail:${session.userId}`)], 'verification emails')
  const { token } = await issueEmailToken(c.env.DB, session.userId, 'verify_email')
  await mailerFor(c.env).send(verificationMail({ to: user.email, displayName: user.display_name, link: tokenLink(c.var.config.issuer, 'verify-email', token) }))
  await audit(actorOf(c, session), 'sso.account.verification_resend', `user:${session.userId}`)
  return c.redirect('/account?saved=verify', 303)
})

/** The phone for sign-in codes by text message: add (a code is sent to it), confirm, remove. */
function PhoneSection({ phone, view }: { phone: string | null; view: AccountView }) {
  const errors = view.errors ?? {}
  if (phone) {
    return (
      <form method="post" action="/account/phone/remove" class="stack">
        <p>Verified: {phone}. Sign-in codes can be sent to it by text message.</p>
        <button type="submit" class="secondary">
          Remove phone number
        </button>
      </form>
    )
  }
  if (view.phoneChallenge) {
    return (
      <form method="post" action="/account/phone/confirm" class="stack" novalidate>
        <input type="hidden" name="challenge_id" value={view.phoneChallenge.challengeId} />
        <Field id="phone_code" label="Code from the text message" autocomplete="one-time-code" inputmode="numeric" maxlength={7} hint={`We sent a 6-digit code to ${view.phoneChallenge.sentTo}.`} error={errors.phone_code} />
        <button type="submit">Confirm phone number</button>
      </form>
    )
  }
  return (
    <form method="post" action="/account/phone/send" class="stack" novalidate>
      <Field id="phone" label="Mobile number" type="tel" autocomplete="tel" hint="With the country code, like +1 415 555 2671. We send a code to check it." error={errors.phone} value={view.values?.phone} />
      <button type="submit" class="secondary">
        Add phone number
      </button>
    </form>
  )
}

/** A refusal of the code flows (422 bad number, 400 wrong code, 403 step-up, 429) shown on the page. */
async function phoneRefused(c: Context<AppEnv>, session: IdpSession, err: unknown, field: 'phone' | 'phone_code', extra: AccountView = {}): Promise<Response> {
  if (!(err instanceof ProblemError) || err.status >= 500) throw err
  const data = await loadAccount(c, session)
  if (!data) return c.redirect('/login', 303)
  const message = err.errors?.[0]?.message ?? err.detail ?? 'That did not work. Please try again.'
  return accountPage(c, session, data, { ...extra, errors: { [field]: message } }, 422)
}

export const sendPhoneCode = signedInPost(async (c, session) => {
  const fields = await readFields(c)
  try {
    const sent = await sendPhoneVerification(c, session, fields.phone ?? '')
    const data = await loadAccount(c, session)
    if (!data) return c.redirect('/login', 303)
    return accountPage(c, session, data, { phoneChallenge: { challengeId: sent.challengeId, sentTo: sent.sentTo } })
  } catch (err) {
    return phoneRefused(c, session, err, 'phone', { values: fields })
  }
})

export const confirmPhoneCode = signedInPost(async (c, session) => {
  const fields = await readFields(c)
  try {
    await confirmPhone(c, session, fields.challenge_id ?? '', fields.phone_code ?? '')
    return c.redirect('/account?saved=phone', 303)
  } catch (err) {
    return phoneRefused(c, session, err, 'phone_code', fields.challenge_id ? { phoneChallenge: { challengeId: fields.challenge_id, sentTo: 'your phone' } } : {})
  }
})

export const removePhoneNumber = signedInPost(async (c, session) => {
  try {
    await removePhone(c, session)
    return c.redirect('/account?saved=phone', 303)
  } catch (err) {
    return phoneRefused(c, session, err, 'phone')
  }
})
