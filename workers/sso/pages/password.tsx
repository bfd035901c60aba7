/**
 * The pages behind the account API's email flows: `GET/POST /password/forgot`,
 * `GET/POST /reset-password?token=` and `GET/POST /verify-email?token=` (the mail templates link to
 * the last two on the issuer).
 *
 * The logic is the API's own: each POST is handed, in process, to `POST /api/sso/password/forgot`,
 * `/password/reset` or `/email/verify` (platformFetch dispatches requests for our own hosts through
 * the edge app), with the visitor's address forwarded so the API's per-IP throttle sees them. One
 * implementation keeps the guarantees in one place: forgot never tells whether an account exists,
 * reset is single-use, signs out every session and clears the account throttle.
 *
 * The GET of an emailed link changes nothing: link scanners in mail systems fetch links, so the
 * state change waits for the visitor's button press (a same-origin POST).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { platformFetch } from '../../lib/platform-fetch'
import { FORGOT_ACCEPTED } from '../accounts/api-password'
import { rateLimited } from '../accounts/api-throttle'
import { peekEmailToken, TOKEN_PATTERN } from '../accounts/email-tokens'
import { MIN_LENGTH_SINGLE_FACTOR } from '../accounts/password-policy'
import { clearIdpCookie } from '../login/idp-session'
import { formPost, page, readFields, sentence } from './forms'
import { ErrorSummary, Field, respond, type FieldErrors } from './ui'

type ApiAnswer = { status: number; errors: Array<{ path: string; message: string }>; detail: string | undefined }

/** POSTs `body` to the account API in process, as the visitor (their address forwarded). */
async function accountApi(c: Context<AppEnv>, path: string, body: Record<string, string>): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const ip = c.req.header('cf-connecting-ip')
  if (ip) headers['cf-connecting-ip'] = ip
  const res = await platformFetch(c.env, c.executionCtx as ExecutionContext)(`${c.var.config.issuer}/api/sso${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const json = (await res.json().catch(() => ({}))) as { errors?: ApiAnswer['errors']; detail?: string }
  if (res.status === 429) throw rateLimited(Number(res.headers.get('retry-after') ?? '1'), 'requests')
  if (res.status >= 500) throw new ProblemError('UPSTREAM_ERROR', { detail: `account API answered ${res.status}` })
  return { status: res.status, errors: json.errors ?? [], detail: json.detail }
}

const FORGOT_LABELS = { email: 'Email address' }

function forgotPage(c: Context<AppEnv>, view: { email?: string; errors?: FieldErrors; sent?: string }, status: 200 | 202 | 422 = 200) {
  const errors = view.errors ?? {}
  return respond(
    c,
    view.sent ? 'Check your email' : 'Reset your password',
    <div class="panel">
      <p class="eyebrow">Forgot password</p>
      {view.sent ? (
        <>
          <h1>Check your email</h1>
          <p role="status">{view.sent}</p>
        </>
      ) : (
        <>
          <h1>Reset your password</h1>
          <ErrorSummary errors={errors} labels={FORGOT_LABELS} />
          <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
          <form method="post" action="/password/forgot" class="stack" novalidate>
            <Field id="email" label={FORGOT_LABELS.email} type="email" autocomplete="email" value={view.email} error={errors.email} maxlength={254} />
            <button type="submit">Send reset link</button>
          </form>
        </>
      )}
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </div>,
    status,
  )
}

export const showForgot = page(async (c) => forgotPage(c, {}))

export const submitForgot = formPost(async (c) => {
  const fields = await readFields(c)
  const email = (fields.email ?? '').trim()
  const answer = await accountApi(c, '/password/forgot', { email })
  if (answer.status === 202) return forgotPage(c, { sent: FORGOT_ACCEPTED.detail }, 202)
  return forgotPage(c, { email, errors: { email: 'Enter an email address like name@example.com.' } }, 422)
})

function linkInvalidPage(c: Context<AppEnv>, what: 'reset' | 'verify') {
  return respond(
    c,
    'This link does not work',
    <div class="panel">
      <p class="eyebrow">{what === 'reset' ? 'Reset password' : 'Verify email'}</p>
      <h1>This link does not work</h1>
      <p>The link is invalid, has expired or was already used.</p>
      <p>
        {what === 'reset' ? <a href="/password/forgot">Get a new reset link</a> : <a href="/account">Go to your account to get a new verification link</a>}
      </p>
    </div>,
    422,
  )
}

const RESET_LABELS = { password: 'New password' }

function resetPage(c: Context<AppEnv>, view: { token: string; email: string; errors?: FieldErrors }, status: 200 | 422 = 200) {
  const errors = view.errors ?? {}
  return respond(
    c,
    'Choose a new password',
    <div class="panel">
      <p class="eyebrow">Reset password</p>
      <h1>Choose a new password</h1>
      <ErrorSummary errors={errors} labels={RESET_LABELS} />
      <form method="post" action="/reset-password" class="stack" novalidate>
        <input type="hidden" name="token" value={view.token} />
        <input type="hidden" name="username" value={view.email} autocomplete="username" />
        <Field
          id="password"
          label={RESET_LABELS.password}
          type="password"
          autocomplete="new-password"
          error={errors.password}
          hint={`At least ${MIN_LENGTH_SINGLE_FACTOR} characters; common passwords are refused. Every device signed in to your account will be signed out.`}
        />
        <button type="submit">Change password</button>
      </form>
    </div>,
    status,
  )
}

export const showReset = page(async (c) => {
  const token = c.req.query('token') ?? ''
  const found = TOKEN_PATTERN.test(token) ? await peekEmailToken(c.env.DB, token, 'reset_password') : undefined
  if (!found) return linkInvalidPage(c, 'reset')
  return resetPage(c, { token, email: found.user.email })
})

export const submitReset = formPost(async (c) => {
  const fields = await readFields(c)
  const token = fields.token ?? ''
  if (!TOKEN_PATTERN.test(token)) return linkInvalidPage(c, 'reset')
  const answer = await accountApi(c, '/password/reset', { token, password: fields.password ?? '' })
  if (answer.status === 200) {
    // every session of the account ended, this browser's included
    clearIdpCookie(c)
    return respond(
      c,
      'Password changed',
      <div class="panel">
        <p class="eyebrow">Reset password</p>
        <h1>Password changed</h1>
        <p role="status">Your password has been changed and every device has been signed out.</p>
        <div class="actions">
          <a class="button" href="/login">
            Sign in
          </a>
        </div>
      </div>,
    )
  }
  if (answer.errors.some((e) => e.path === 'body.token')) return linkInvalidPage(c, 'reset')
  const passwordError = answer.errors.find((e) => e.path === 'body.password')
  const found = await peekEmailToken(c.env.DB, token, 'reset_password')
  if (!found) return linkInvalidPage(c, 'reset')
  return resetPage(c, { token, email: found.user.email, errors: { password: passwordError ? sentence(passwordError.message) : 'Enter a new password.' } }, 422)
})

function verifyPage(c: Context<AppEnv>, token: string) {
  return respond(
    c,
    'Verify your email address',
    <div class="panel">
      <p class="eyebrow">Verify email</p>
      <h1>Verify your email address</h1>
      <p>Confirm that this email address belongs to you.</p>
      <form method="post" action="/verify-email" class="stack">
        <input type="hidden" name="token" value={token} />
        <button type="submit">Verify email address</button>
      </form>
    </div>,
  )
}

export const showVerify = page(async (c) => {
  const token = c.req.query('token') ?? ''
  return TOKEN_PATTERN.test(token) ? verifyPage(c, token) : linkInvalidPage(c, 'verify')
})

export const submitVerify = formPost(async (c) => {
  const fields = await readFields(c)
  const token = fields.token ?? ''
  if (!TOKEN_PATTERN.test(token)) return linkInvalidPage(c, 'verify')
  const answer = await accountApi(c, '/email/verify', { token })
  if (answer.status !== 200) return linkInvalidPage(c, 'verify')
  return respond(
    c,
    'Email address verified',
    <div class="panel">
      <p class="eyebrow">Verify email</p>
      <h1>Email address verified</h1>
      <p role="status">Thank you: your email address is verified.</p>
      <div class="actions">
        <a class="button" href="/account">
          Go to your account
        </a>
      </div>
    </div>,
  )
})
