/**
 * OAuth error answers. Endpoints of the OAuth family answer in the RFC 6749 §5.2 format
 * (`{ error, error_description }`), not problem+json, because standard clients parse exactly that;
 * every answer carries `Cache-Control: no-store` (RFC 6749 §5.1).
 * @module
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../../edge/context'

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'login_required'
  | 'interaction_required'
  | 'consent_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'registration_not_supported'

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status: ContentfulStatusCode = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${description}`)
  }
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

export function oauthErrorResponse(c: Context<AppEnv>, err: OAuthError): Response {
  return c.json({ error: err.code, error_description: err.description }, err.status, { ...NO_STORE, ...err.headers })
}

/** Runs an OAuth endpoint: OAuthError becomes the RFC answer; anything else propagates (problem+json 500). */
export function oauthEndpoint(handler: (c: Context<AppEnv>) => Promise<Response>) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    try {
      return await handler(c)
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(c, err)
      throw err
    }
  }
}

/** The form body of an OAuth POST as single-valued strings; repeated parameters are an error (RFC 6749 §3.1). */
export async function oauthForm(c: Context<AppEnv>): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded')
  let text: string
  try {
    text = await c.req.text()
  } catch {
    throw new OAuthError('invalid_request', 'the body could not be read')
  }
  if (text.length > 16_384) throw new OAuthError('invalid_request', 'the body is too large')
  return singleValued(new URLSearchParams(text))
}

export function singleValued(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of params) {
    if (key in out) throw new OAuthError('invalid_request', `parameter ${key} is repeated`)
    if (value !== '') out[key] = value
  }
  return out
}
