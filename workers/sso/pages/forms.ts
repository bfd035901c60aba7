/**
 * What every page handler of the SSO host does the same way: refuse cross-site form posts (CSRF:
 * the browser's `Origin` must be this host, `isSameOrigin` from the dashboard), read the form as
 * plain strings, carry the pending authorization request (`arq_...`) and render expected 4xx
 * problems (throttling, malformed bodies, validation) as HTML pages instead of problem+json.
 * @module
 */
import type { Context } from 'hono'
import { isSameOrigin } from '../../edge/same-origin'
import { readForm } from '../../edge/body'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { isId } from '../../lib/ids'
import { problemPage } from './ui'

export type Handler = (c: Context<AppEnv>) => Promise<Response>

/** Forms post at most this much; anything bigger is no form of ours. */
const MAX_FORM_BYTES = 16 * 1024

/**
 * Wraps a page handler: every answer (pages, redirects that set cookies) is `no-store`, and a
 * thrown 4xx ProblemError becomes an HTML page with the same status and headers. 5xx stay problems
 * (logged once by the surface's error handler).
 */
export function page(handler: Handler): Handler {
  return async (c) => {
    c.header('cache-control', 'no-store')
    try {
      return await handler(c)
    } catch (err) {
      if (err instanceof ProblemError && err.status < 500) return problemPage(c, err)
      throw err
    }
  }
}

/** A POST handler: refused with 403 unless the form was posted from this very origin. */
export function formPost(handler: Handler): Handler {
  return page(async (c) => {
    if (!isSameOrigin(c)) throw new ProblemError('FORBIDDEN', { detail: 'This form must be sent from a FanzSSO page (cross-site request refused).' })
    return handler(c)
  })
}

/** The form's fields as strings (files and repeated fields are dropped: no form of ours sends them). */
export async function readFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  const length = Number(c.req.header('content-length') ?? '0')
  if (length > MAX_FORM_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: 'the form is too large' })
  const form = await readForm(c)
  const fields: Record<string, string> = {}
  for (const [key, value] of Object.entries(form)) if (typeof value === 'string') fields[key] = value
  return fields
}

/** The pending authorization request from the query or the form; anything not shaped `arq_<ULID>` is dropped. */
export function requestIdFrom(c: Context<AppEnv>, fields: Record<string, string> = {}): string | null {
  const value = fields.request ?? c.req.query('request')
  return value && isId('authRequest', value) ? value : null
}

/** Maps `body.x` problem paths onto form field ids (`fieldIds` maps body names to ids). */
export function fieldErrorsOf(problem: ProblemError, fieldIds: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const { path, message } of problem.errors ?? []) {
    const id = fieldIds[path.replace(/^body\./, '')]
    if (id && !errors[id]) errors[id] = sentence(message)
  }
  return errors
}

/** "must be at least 15 characters" -> "Must be at least 15 characters." */
export function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1)
  return /[.!?]$/.test(text) ? text : `${text}.`
}
