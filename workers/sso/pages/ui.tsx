/**
 * Building blocks of the SSO host's pages: the page shell (platformPage, `no-store`), form fields
 * that tie label, hint and error to the input (`aria-describedby`, `aria-invalid`), the error
 * summary linking to each field (GOV.UK pattern), and the HTML rendering of a problem (a 429 or 422
 * is a page here, not problem+json: these are browser forms).
 * @module
 */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../../edge/context'
import type { ProblemError } from '../../edge/problem'
import { platformPage } from '../../site/platform-page'

export const SITE_NAME = 'FanzSSO'
/** Every page of the sign-in flow and the account: never cached, by browsers or anything between. */
export const NO_STORE = { 'cache-control': 'no-store' } as const

/** One message per field id, in the order the fields appear. */
export type FieldErrors = Record<string, string>

/** Renders a complete page with `no-store`. */
export function respond(c: Context<AppEnv>, title: string, body: Child, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): Response | Promise<Response> {
  return c.html(platformPage(c, SITE_NAME, title, body), status, { ...NO_STORE, ...headers })
}

/** The error summary: focusable, announced, one link per field so keyboard users jump to it. */
export function ErrorSummary({ errors, labels }: { errors: FieldErrors; labels: Record<string, string> }) {
  const entries = Object.entries(errors)
  if (!entries.length) return null
  return (
    <div class="alert" role="alert" aria-labelledby="error-summary-title" id="error-summary" tabindex={-1}>
      <h2 id="error-summary-title">There is a problem</h2>
      <ul>
        {entries.map(([field, message]) => (
          <li>
            <a href={`#${field}`}>{labels[field] ? `${labels[field]}: ${message}` : message}</a>
          </li>
        ))}
      </ul>
    </div>
  )
}

/** A message for the whole form (no field to link to), e.g. "Email or password is incorrect". */
export function FormAlert({ message, id = 'form-error' }: { message: string | undefined; id?: string }) {
  if (!message) return null
  return (
    <div class="alert" role="alert" id={id}>
      {message}
    </div>
  )
}

export interface FieldProps {
  id: string
  label: string
  type?: 'text' | 'email' | 'password' | 'url' | 'tel'
  value?: string
  autocomplete?: string
  hint?: string
  error?: string
  required?: boolean
  inputmode?: 'numeric' | 'text' | 'email'
  pattern?: string
  maxlength?: number
  /** ids of other elements describing the field (a form-level alert) */
  describedBy?: string[]
}

/** Label, hint, error and input, tied together; the error text is also in the summary. */
export function Field(props: FieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined
  const errorId = props.error ? `${props.id}-error` : undefined
  const describedBy = [hintId, errorId, ...(props.describedBy ?? [])].filter(Boolean).join(' ')
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p id={errorId}>
          <strong>Error:</strong> {props.error}
        </p>
      ) : null}
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required ?? true}
        inputmode={props.inputmode}
        pattern={props.pattern}
        maxlength={props.maxlength}
        spellcheck={props.type === 'password' || props.autocomplete === 'one-time-code' ? false : undefined}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
      />
    </div>
  )
}

/** The pending authorization request, carried through every form of the flow. */
export function RequestInput({ requestId }: { requestId: string | null }) {
  return requestId ? <input type="hidden" name="request" value={requestId} /> : null
}

/** `?request=arq_...` for links between the steps (empty without a request). */
export function withRequest(path: string, requestId: string | null): string {
  if (!requestId) return path
  return `${path}${path.includes('?') ? '&' : '?'}request=${encodeURIComponent(requestId)}`
}

/** A 4xx problem as a page: status and headers (Retry-After) kept, the detail shown. */
export function problemPage(c: Context<AppEnv>, problem: ProblemError): Response | Promise<Response> {
  const status = problem.status as ContentfulStatusCode
  const retryAfter = problem.headers?.['retry-after']
  const title = status === 429 ? 'Too many attempts' : status === 403 ? 'Request refused' : status === 404 ? 'Not found' : 'Something is wrong with this request'
  return respond(
    c,
    title,
    <div class="panel">
      <p class="eyebrow">Error {status}</p>
      <h1>{title}</h1>
      {status === 429 ? (
        <p>
          There have been too many attempts. For your account’s safety, please wait {retryAfter ?? 'a moment'} second{retryAfter === '1' ? '' : 's'} and try
          again.
        </p>
      ) : (
        <p>{problem.detail ?? problem.message}</p>
      )}
      {problem.errors?.length ? (
        <ul>
          {problem.errors.map((e) => (
            <li>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      <div class="actions">
        <a class="button secondary" href="/login">
          Back to sign in
        </a>
      </div>
    </div>,
    status,
    retryAfter ? { 'retry-after': retryAfter } : {},
  )
}

/** Dates in the session list: UTC, to the minute (the page has no visitor time zone). */
export function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}
