/**
 * `GET/POST /signup`: create an email + password account with the same logic as
 * `POST /api/sso/accounts` (`createAccount`: IP throttle, NIST policy, unique address, verification
 * mail, audit), then sign in (`amr: ['pwd']`) and continue the authorization request if any.
 * @module
 */
import type { Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { createAccount } from '../accounts/api-signup'
import { emailSchema } from '../accounts/email'
import { MAX_LENGTH, MIN_LENGTH_SINGLE_FACTOR } from '../accounts/password-policy'
import { completeSignIn } from '../login/complete'
import { afterSignIn } from '../login/continue-page'
import { fieldErrorsOf, formPost, page, readFields, requestIdFrom } from './forms'
import { ErrorSummary, Field, RequestInput, respond, withRequest, type FieldErrors } from './ui'

const LABELS = { display_name: 'Display name', email: 'Email address', password: 'Password' }

const SignUpForm = z.object({
  display_name: z
    .string()
    .trim()
    .min(1, 'Enter a display name.')
    .max(64, 'Must be at most 64 characters.')
    .regex(/^[^\p{Cc}]*$/u, 'Must contain only printable characters.'),
  email: emailSchema,
  password: z.string().min(1, 'Enter a password.').max(MAX_LENGTH * 4, `Must be at most ${MAX_LENGTH} characters.`),
})

interface SignUpView {
  requestId: string | null
  displayName?: string
  email?: string
  errors?: FieldErrors
}

function signUpPage(c: Context<AppEnv>, view: SignUpView, status: 200 | 409 | 422 = 200): Response | Promise<Response> {
  const errors = view.errors ?? {}
  return respond(
    c,
    'Create an account',
    <div class="panel">
      <p class="eyebrow">One account for every FANZ brand</p>
      <h1>Create an account</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      <form method="post" action="/signup" class="stack" novalidate>
        <RequestInput requestId={view.requestId} />
        <Field id="display_name" label={LABELS.display_name} autocomplete="nickname" value={view.displayName} error={errors.display_name} hint="Shown on your profile; you can change it later." maxlength={64} />
        <Field id="email" label={LABELS.email} type="email" autocomplete="email" value={view.email} error={errors.email} hint="We send a link to confirm it." maxlength={254} />
        <Field
          id="password"
          label={LABELS.password}
          type="password"
          autocomplete="new-password"
          error={errors.password}
          hint={`At least ${MIN_LENGTH_SINGLE_FACTOR} characters. A few unrelated words make a strong, memorable password. Common passwords and the site’s name are refused.`}
        />
        <button type="submit">Create account</button>
      </form>
      <p>
        Already have an account? <a href={withRequest('/login', view.requestId)}>Sign in</a>
      </p>
    </div>,
    status,
  )
}

export const showSignUp = page(async (c) => signUpPage(c, { requestId: requestIdFrom(c) }))

export const submitSignUp = formPost(async (c) => {
  const fields = await readFields(c)
  const requestId = requestIdFrom(c, fields)
  const view = { requestId, displayName: fields.display_name ?? '', email: (fields.email ?? '').trim() }
  const parsed = SignUpForm.safeParse({ display_name: view.displayName, email: view.email, password: fields.password ?? '' })
  if (!parsed.success) {
    const errors: FieldErrors = {}
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0])
      errors[field] ??= field === 'email' ? 'Enter an email address like name@example.com.' : issue.message
    }
    return signUpPage(c, { ...view, errors }, 422)
  }
  let userId: string
  try {
    const created = await createAccount(c, { email: parsed.data.email, password: parsed.data.password, displayName: parsed.data.display_name, locale: 'en' })
    userId = created.id
  } catch (err) {
    if (err instanceof ProblemError && (err.code === 'VALIDATION_FAILED' || err.code === 'CONFLICT')) {
      const errors = fieldErrorsOf(err, { display_name: 'display_name', email: 'email', password: 'password' })
      if (err.code === 'CONFLICT') errors.email = 'An account with this email address already exists. Sign in, or reset your password.'
      return signUpPage(c, { ...view, errors }, err.code === 'CONFLICT' ? 409 : 422)
    }
    throw err
  }
  return afterSignIn(c, await completeSignIn(c, { userId, amr: ['pwd'], requestId }))
})
