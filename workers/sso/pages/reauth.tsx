/**
 * Signed-in pages and recent authentication.
 *
 * Account pages need the visitor's IdP session (`readIdpSession`); without one they send the
 * browser to `/login` (303). Security changes (TOTP on/off, new recovery codes) also need a
 * recent sign-in: the IdP session's `auth_time` within RECENT_AUTH_S (NIST AAL2/3 reauthentication
 * guidance, sso.md §6). Otherwise the visitor confirms their password at `/account/reauth`, which
 * raises the session's `auth_time` in place (`establishIdpSession` elevates the current session:
 * the brand sessions it authorised stay) and returns to a page from a fixed list, so the `return`
 * parameter is no open redirect.
 * @module
 */
import { PasskeySignIn } from '../passkeys/ui'
import type { Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { MAX_LENGTH } from '../accounts/password-policy'
import { establishIdpSession, readIdpSession, type IdpSession } from '../login/idp-session'
import { checkCredentials, DISABLED } from './credentials'
import { formPost, page, readFields } from './forms'
import { ErrorSummary, Field, FormAlert, respond, type FieldErrors } from './ui'

/** How recent a sign-in must be for security changes. */
export const RECENT_AUTH_S = 15 * 60
/** Where a re-authentication may return to. */
export const REAUTH_RETURNS = ['/account/totp', '/account'] as const
type ReauthReturn = (typeof REAUTH_RETURNS)[number]

export function isRecent(session: IdpSession, nowMs = Date.now()): boolean {
  return nowMs / 1000 - session.authTimeS <= RECENT_AUTH_S
}

export function reauthPath(returnTo: ReauthReturn): string {
  return `/account/reauth?return=${encodeURIComponent(returnTo)}`
}

function returnFrom(value: string | undefined): ReauthReturn {
  return (REAUTH_RETURNS as readonly string[]).includes(value ?? '') ? (value as ReauthReturn) : '/account'
}

type SignedInHandler = (c: Context<AppEnv>, session: IdpSession) => Promise<Response>

/** A page for signed-in visitors only; others go to /login. */
export function signedIn(handler: SignedInHandler): (c: Context<AppEnv>) => Promise<Response> {
  return page(async (c) => {
    const session = await readIdpSession(c)
    if (!session) return c.redirect('/login', 303)
    return handler(c, session)
  })
}

/** A same-origin form post of a signed-in visitor. */
export function signedInPost(handler: SignedInHandler): (c: Context<AppEnv>) => Promise<Response> {
  return formPost(async (c) => {
    const session = await readIdpSession(c)
    if (!session) return c.redirect('/login', 303)
    return handler(c, session)
  })
}

/** Additionally needs a recent sign-in; otherwise off to confirm the password, then back to `returnTo`. */
export function recentlySignedIn(returnTo: ReauthReturn, handler: SignedInHandler, post = false): (c: Context<AppEnv>) => Promise<Response> {
  return (post ? signedInPost : signedIn)(async (c, session) => {
    if (!isRecent(session)) return c.redirect(reauthPath(returnTo), 303)
    return handler(c, session)
  })
}

const LABELS = { password: 'Password' }

async function reauthPage(c: Context<AppEnv>, session: IdpSession, returnTo: ReauthReturn, view: { errors?: FieldErrors; alert?: string } = {}, status: 200 | 401 | 403 | 422 = 200) {
  const user = await c.env.DB.prepare('SELECT email, password_hash IS NOT NULL AS has_password FROM users WHERE id = ?')
    .bind(session.userId)
    .first<{ email: string; has_password: number }>()
  const errors = view.errors ?? {}
  return respond(
    c,
    'Confirm your password',
    <div class="panel">
      <p class="eyebrow">Security check</p>
      <h1>Confirm your password</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      <FormAlert message={view.alert} />
      <p>You are changing a security setting. Please enter your password again to continue.</p>
      {user?.has_password ? (
        <form method="post" action={reauthPath(returnTo)} class="stack" novalidate>
          {/* the address, for password managers: it is the account's and is not submitted for checking */}
          <input type="hidden" name="username" value={user.email} autocomplete="username" />
          <Field id="password" label={LABELS.password} type="password" autocomplete="current-password" error={errors.password} />
          <button type="submit">Continue</button>
        </form>
      ) : (
        <p>This account has no password. Sign out and sign in again to continue.</p>
      )}
      {/* a passkey sign-in as the same user steps this session up too (establishIdpSession elevates it) */}
      <PasskeySignIn nonce={c.var.secureHeadersNonce} requestId={null} />
      <p>
        <a href="/account">Back to your account</a>
      </p>
    </div>,
    status,
  )
}

export const showReauth = signedIn(async (c, session) => reauthPage(c, session, returnFrom(c.req.query('return'))))

export const submitReauth = signedInPost(async (c, session) => {
  const returnTo = returnFrom(c.req.query('return'))
  const fields = await readFields(c)
  const password = z.string().min(1).max(MAX_LENGTH * 4).safeParse(fields.password ?? '')
  if (!password.success) return reauthPage(c, session, returnTo, { errors: { password: 'Enter your password.' } }, 422)
  const user = await c.env.DB.prepare('SELECT email FROM users WHERE id = ?').bind(session.userId).first<{ email: string }>()
  if (!user) return c.redirect('/login', 303)
  const result = await checkCredentials(c, user.email, password.data)
  if (!result.ok) return reauthPage(c, session, returnTo, { alert: result.reason === 'disabled' ? DISABLED : 'That password is not right.' }, result.reason === 'disabled' ? 403 : 401)
  await establishIdpSession(c, session.userId, ['pwd'])
  return c.redirect(returnTo, 303)
})
