/**
 * `GET/POST /login`: email + password sign-in on the SSO host, the first step of every
 * authorization request (`?request=arq_...`, carried through and handed to `completeSignIn`,
 * which asks for the second factor when one is enrolled).
 * @module
 */
import type { Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { emailSchema } from '../accounts/email'
import { MAX_LENGTH } from '../accounts/password-policy'
import { completeSignIn } from '../login/complete'
import { afterSignIn } from '../login/continue-page'
import { PasskeySignIn } from '../passkeys/ui'
import { configuredProviders, SocialButtons } from '../social/ui'
import { readIdpSession } from '../login/idp-session'
import { checkCredentials, DISABLED, INCORRECT } from './credentials'
import { formPost, page, readFields, requestIdFrom } from './forms'
import { ErrorSummary, Field, FormAlert, RequestInput, respond, withRequest, type FieldErrors } from './ui'

const SignInForm = z.object({
  email: emailSchema,
  password: z.string().min(1).max(MAX_LENGTH * 4),
})

const LABELS = { email: 'Email address', password: 'Password' }

export const FIELD_MESSAGES = {
  email: 'Enter your email address, like name@example.com.',
  password: 'Enter your password.',
}

interface SignInView {
  requestId: string | null
  email?: string
  errors?: FieldErrors
  /** a message about the whole form (wrong pair, disabled account) */
  alert?: string
  notice?: string
}

export function signInPage(c: Context<AppEnv>, view: SignInView, status: 200 | 400 | 401 | 403 | 422 = 200): Response | Promise<Response> {
  const errors = view.errors ?? {}
  const formError = view.alert ? 'form-error' : undefined
  return respond(
    c,
    'Sign in',
    <div class="panel">
      <p class="eyebrow">One account for every FANZ brand</p>
      <h1>Sign in</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      <FormAlert message={view.alert} />
      {view.notice ? <p role="status">{view.notice}</p> : null}
      <form method="post" action="/login" class="stack" novalidate>
        <RequestInput requestId={view.requestId} />
        <Field id="email" label={LABELS.email} type="email" autocomplete="email" value={view.email} error={errors.email} describedBy={formError ? [formError] : []} maxlength={254} />
        <Field id="password" label={LABELS.password} type="password" autocomplete="current-password" error={errors.password} />
        <div class="actions">
          <button type="submit">Sign in</button>
          <a href="/password/forgot">Forgot password?</a>
        </div>
      </form>
      <PasskeySignIn nonce={c.var.secureHeadersNonce} requestId={view.requestId} />
      <SocialButtons requestId={view.requestId} providers={configuredProviders(c)} />
      <h2>New to FANZ?</h2>
      <p>
        <a href={withRequest('/signup', view.requestId)}>Create an account</a>
      </p>
    </div>,
    status,
  )
}

export const showSignIn = page(async (c) => {
  const requestId = requestIdFrom(c)
  // already signed in and no request to continue: nothing to do here
  if (!requestId && (await readIdpSession(c))) return c.redirect('/account', 303)
  return signInPage(c, { requestId, notice: c.req.query('signed_out') === '1' ? 'You have been signed out.' : undefined })
})

export const submitSignIn = formPost(async (c) => {
  const fields = await readFields(c)
  const requestId = requestIdFrom(c, fields)
  const email = (fields.email ?? '').trim()
  const parsed = SignInForm.safeParse({ email, password: fields.password ?? '' })
  if (!parsed.success) {
    const errors: FieldErrors = {}
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0]) as keyof typeof FIELD_MESSAGES
      errors[field] ??= FIELD_MESSAGES[field]
    }
    return signInPage(c, { requestId, email, errors }, 422)
  }
  const result = await checkCredentials(c, parsed.data.email, parsed.data.password)
  if (!result.ok) {
    return result.reason === 'disabled' ? signInPage(c, { requestId, email, alert: DISABLED }, 403) : signInPage(c, { requestId, email, alert: INCORRECT }, 401)
  }
  return afterSignIn(c, await completeSignIn(c, { userId: result.user.id, amr: ['pwd'], requestId }))
})
