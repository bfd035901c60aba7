/**
 * RFC 9457 problem+json: one closed set of codes, one table from code to status, one renderer.
 * Everything that fails, anywhere, is thrown as a `ProblemError` (or is mapped to one here).
 * @module
 */
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ZodError } from 'zod'

export const PROBLEM_CODES = {
  BAD_REQUEST: 400,
  MALFORMED_BODY: 400,
  VALIDATION_FAILED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  STEP_UP_REQUIRED: 403,
  BLOCKED_JURISDICTION: 451,
  NOT_FOUND: 404,
  UNKNOWN_HOST: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  GONE: 410,
  IDEMPOTENCY_KEY_IN_FLIGHT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_KEY_MISSING: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  SIGNATURE_INVALID: 400,
  PAYMENT_NOT_ROUTABLE: 422,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** tus checksum extension's own status (not in the IANA registry) */
  CHECKSUM_MISMATCH: 460,
  RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  NO_HEALTHY_ORIGIN: 503,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, ContentfulStatusCode | 460>

export type ProblemCode = keyof typeof PROBLEM_CODES

export interface FieldError {
  /** dotted path of the offending field, e.g. `body.origins.0.url` or `query.limit` */
  path: string
  message: string
}

export interface ProblemOptions {
  detail?: string
  errors?: FieldError[]
  headers?: Record<string, string>
  /** extra members (RFC 9457 §3.2 extensions) */
  extensions?: Record<string, unknown>
  cause?: unknown
}

const TITLES: Record<ProblemCode, string> = {
  BAD_REQUEST: 'Bad request',
  MALFORMED_BODY: 'Malformed request body',
  VALIDATION_FAILED: 'Validation failed',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Forbidden',
  STEP_UP_REQUIRED: 'Recent strong authentication required',
  BLOCKED_JURISDICTION: 'Unavailable in your jurisdiction',
  NOT_FOUND: 'Not found',
  UNKNOWN_HOST: 'Unknown host',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  NOT_ACCEPTABLE: 'Not acceptable',
  CONFLICT: 'Conflict',
  GONE: 'Gone',
  IDEMPOTENCY_KEY_IN_FLIGHT: 'A request with this Idempotency-Key is still in flight',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency-Key reused with a different request',
  IDEMPOTENCY_KEY_MISSING: 'Idempotency-Key header required',
  IDEMPOTENCY_KEY_INVALID: 'Malformed Idempotency-Key header',
  SIGNATURE_INVALID: 'Signature verification failed',
  PAYMENT_NOT_ROUTABLE: 'No gateway can take this payment',
  PRECONDITION_FAILED: 'Precondition failed',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  CHECKSUM_MISMATCH: 'Checksum mismatch',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  RATE_LIMITED: 'Too many requests',
  UPSTREAM_ERROR: 'Upstream error',
  NO_HEALTHY_ORIGIN: 'No healthy origin',
  INTERNAL_ERROR: 'Internal error',
}

/** A typed HTTP failure; thrown anywhere, rendered once by `renderProblem`. */
export class ProblemError extends HTTPException {
  readonly code: ProblemCode
  readonly detail: string | undefined
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string> | undefined
  readonly extensions: Record<string, unknown> | undefined

  constructor(code: ProblemCode, options: ProblemOptions = {}) {
    super(PROBLEM_CODES[code] as ContentfulStatusCode, { message: options.detail ?? TITLES[code], cause: options.cause })
    this.code = code
    this.detail = options.detail
    this.errors = options.errors
    this.headers = options.headers
    this.extensions = options.extensions
  }
}

/** Field errors from a zod failure, with the request part (`body`, `query`, ...) in front of the path. */
export function fieldErrors(error: ZodError, part: string): FieldError[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined]
    return keys.map((key) => ({
      path: [part, ...issue.path.map(String), ...(key === undefined ? [] : [key])].join('.'),
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    }))
  }).flat()
}

export function validationProblem(error: ZodError, part: string): ProblemError {
  const errors = fieldErrors(error, part)
  return new ProblemError(part === 'body' ? 'VALIDATION_FAILED' : 'BAD_REQUEST', {
    detail: `invalid ${errors.map((e) => e.path).join(', ')}`,
    errors,
  })
}

/** Maps any thrown value to a ProblemError; unknown errors become INTERNAL_ERROR (details go to the log). */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err
  if (err instanceof HTTPException) {
    const status = err.status
    if (status === 400) return new ProblemError('MALFORMED_BODY', { detail: err.message, cause: err })
    if (status === 401) return new ProblemError('UNAUTHENTICATED', { detail: err.message, cause: err })
    if (status === 403) return new ProblemError('FORBIDDEN', { detail: err.message, cause: err })
    if (status === 404) return new ProblemError('NOT_FOUND', { cause: err })
    if (status === 413) return new ProblemError('PAYLOAD_TOO_LARGE', { cause: err })
    if (status === 415) return new ProblemError('UNSUPPORTED_MEDIA_TYPE', { cause: err })
    if (status === 429) return new ProblemError('RATE_LIMITED', { cause: err })
    if (status < 500) return new ProblemError('BAD_REQUEST', { detail: err.message, cause: err })
  }
  return new ProblemError('INTERNAL_ERROR', { cause: err })
}

/** The one place a problem becomes bytes. */
export function renderProblem(problem: ProblemError, requestId: string | undefined, instance: string): { body: string; status: ContentfulStatusCode; headers: Record<string, string> } {
  const body = {
    type: 'about:blank',
    title: TITLES[problem.code],
    status: problem.status,
    ...(problem.detail && problem.code !== 'INTERNAL_ERROR' ? { detail: problem.detail } : {}),
    instance,
    code: problem.code,
    ...(requestId ? { request_id: requestId } : {}),
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...problem.extensions,
  }
  return {
    body: JSON.stringify(body),
    status: problem.status as ContentfulStatusCode,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...problem.headers },
  }
}
