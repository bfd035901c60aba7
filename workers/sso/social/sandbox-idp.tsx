/**
 * The sandbox upstream provider: a tiny OAuth 2.0 authorization server with an OIDC-shaped
 * userinfo endpoint, served under `/sandbox-idp/*` on the SSO host outside production (404 there),
 * so social sign-in can be exercised end to end without Google or Apple.
 *
 * - `GET /sandbox-idp/authorize`: a form where the tester types the upstream identity (subject,
 *   email, how `email_verified` is reported, name); only the `fanz-sso-sandbox` client and its one
 *   registered redirect URI are accepted (exact match), with a PKCE S256 challenge.
 * - `POST /sandbox-idp/authorize`: issues a code (single use, 60 s, bound to the client, the
 *   redirect URI and the PKCE challenge) and redirects back with `code` and `state`.
 * - `POST /sandbox-idp/token`: RFC 6749 §4.1.3 code exchange with PKCE (RFC 7636), errors as
 *   RFC 6749 §5.2 JSON, `Cache-Control: no-store`. A code is consumed by its first exchange,
 *   whatever the outcome.
 * - `GET /sandbox-idp/userinfo`: the identity for a Bearer access token (sealed, 5 minutes).
 *
 * Codes are kept, as the SHA-256 of the code only, in `sandbox_idp_codes`; `DELETE ... RETURNING`
 * makes redemption atomic, so a code can never be used twice; expired rows go with each new code.
 * @module
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { readForm } from '../../edge/body'
import { ProblemError } from '../../edge/problem'
import { randomToken, sha256Hex, utf8 } from '../../lib/encoding'
import { sealSecret, unsealSecret, type SecretBoxPurpose } from '../../lib/secret-box'
import { emailSchema } from '../accounts/email'
import { isPkceChallenge, verifyPkce } from '../oauth/pkce'
import { refusalPage, socialPage } from './page'
import { redirectUriFor } from './providers'
import { SANDBOX_CLIENT_ID } from './providers/sandbox'
import { isSameOrigin } from '../../edge/same-origin'

export const SANDBOX_CODE_TTL_S = 60
export const SANDBOX_ACCESS_TOKEN_TTL_S = 300
const TOKEN_BOX: SecretBoxPurpose = { salt: 'fanz/sandbox-idp', info: 'access-token/v1' }
const TOKEN_AAD = 'sandbox-idp access token'

/** How the sandbox reports `email_verified`, so tests can send what real providers send. */
export const EMAIL_VERIFIED_MODES = {
  true: { label: 'true (boolean)', claim: true },
  false: { label: 'false (boolean)', claim: false },
  'string-true': { label: '"true" (string, as Apple sends it)', claim: 'true' },
  'string-false': { label: '"false" (string, as Apple sends it)', claim: 'false' },
  absent: { label: 'not sent', claim: undefined },
} as const
type EmailVerifiedMode = keyof typeof EMAIL_VERIFIED_MODES

const AuthorizeParams = z.object({
  response_type: z.literal('code', 'must be code'),
  client_id: z.literal(SANDBOX_CLIENT_ID, `must be ${SANDBOX_CLIENT_ID}`),
  redirect_uri: z.string().max(2048),
  state: z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII'),
  code_challenge: z.string().refine(isPkceChallenge, 'must be an S256 challenge (43 base64url characters)'),
  code_challenge_method: z.literal('S256', 'must be S256'),
  scope: z.string().max(200).optional(),
})
type AuthorizeParams = z.infer<typeof AuthorizeParams>

const Identity = z.object({
  subject: z.string().trim().min(1, 'type a subject').max(255).regex(/^[\x21-\x7e]+$/, 'use printable characters without spaces'),
  email: z.union([z.literal(''), emailSchema]),
  email_verified: z.enum(Object.keys(EMAIL_VERIFIED_MODES) as [EmailVerifiedMode, ...EmailVerifiedMode[]]),
  name: z.string().trim().max(100),
})
type Identity = z.infer<typeof Identity>

interface CodeRecord {
  identity: Identity
  redirectUri: string
  codeChallenge: string
}

interface AccessToken {
  identity: Identity
  exp: number
}

function firstStrings(record: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(record)) {
    const first = Array.isArray(value) ? value[0] : value
    if (typeof first === 'string') out[key] = first
  }
  return out
}

function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {}
  for (const issue of error.issues) out[String(issue.path[0] ?? 'form')] ??= issue.message
  return out
}

/** The authorization request's parameters, or a refusal page (never a redirect to an unchecked URI). */
function checkAuthorizeParams(c: Context<AppEnv>, raw: Record<string, string>): AuthorizeParams | Response | Promise<Response> {
  const parsed = AuthorizeParams.safeParse(raw)
  const errors = parsed.success ? {} : fieldErrors(parsed.error)
  if (parsed.success && parsed.data.redirect_uri !== redirectUriFor(c, 'sandbox')) errors.redirect_uri = 'is not the registered redirect URI'
  if (!parsed.success || Object.keys(errors).length) {
    const list = Object.entries(errors).map(([field, message]) => `${field} ${message}`)
    return refusalPage(c, 400, 'Invalid authorization request', `The sandbox provider refused this request: ${list.join('; ')}.`)
  }
  return parsed.data
}

const AuthorizeForm = ({ params, values, errors }: { params: AuthorizeParams; values: Partial<Record<keyof Identity, string>>; errors: Record<string, string> }) => {
  const described = (field: string, hint?: string) => [hint, errors[field] ? `${field}-error` : undefined].filter(Boolean).join(' ') || undefined
  const error = (field: string) =>
    errors[field] ? (
      <p id={`${field}-error`} class="alert">
        {errors[field]}
      </p>
    ) : null
  return (
    <form method="post" action="/sandbox-idp/authorize" class="stack">
      {(['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'scope'] as const).map((key) =>
        params[key] !== undefined ? <input type="hidden" name={key} value={params[key]} /> : null,
      )}
      <div>
        <label for="subject">Subject (the provider's user id)</label>
        <input id="subject" name="subject" type="text" required autocomplete="off" value={values.subject ?? ''} aria-describedby={described('subject')} aria-invalid={errors.subject ? 'true' : undefined} />
        {error('subject')}
      </div>
      <div>
        <label for="email">Email address (leave empty for none)</label>
        <input id="email" name="email" type="text" inputmode="email" autocomplete="off" value={values.email ?? ''} aria-describedby={described('email')} aria-invalid={errors.email ? 'true' : undefined} />
        {error('email')}
      </div>
      <div>
        <label for="email_verified">How the provider reports email_verified</label>
        <select id="email_verified" name="email_verified">
          {Object.entries(EMAIL_VERIFIED_MODES).map(([value, mode]) => (
            <option value={value} selected={(values.email_verified ?? 'true') === value}>
              {mode.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="name">Name (optional)</label>
        <input id="name" name="name" type="text" autocomplete="off" value={values.name ?? ''} aria-describedby={described('name')} aria-invalid={errors.name ? 'true' : undefined} />
        {error('name')}
      </div>
      <div class="actions">
        <button type="submit" name="action" value="allow">
          Continue to FANZ
        </button>
        <button type="submit" name="action" value="deny" class="secondary" formnovalidate>
          Cancel
        </button>
      </div>
    </form>
  )
}

function authorizePage(c: Context<AppEnv>, status: 200 | 422, params: AuthorizeParams, values: Record<string, string>, errors: Record<string, string>) {
  return socialPage(
    c,
    status,
    'Sandbox provider sign-in',
    <>
      <p>
        This is the sandbox upstream provider of the {c.var.config.environment} environment, standing in for Google, Apple, Facebook or X. It does not
        exist in production. Type the identity the provider should report to FanzSSO.
      </p>
      <AuthorizeForm params={params} values={values} errors={errors} />
    </>,
  )
}

function oauthError(c: Context<AppEnv>, status: 400 | 401, error: string, description: string) {
  c.header('cache-control', 'no-store')
  c.header('pragma', 'no-cache')
  return c.json({ error, error_description: description }, status)
}

export const sandboxIdpRoutes = new Hono<AppEnv>()

// outside production only: in production the paths do not exist
sandboxIdpRoutes.use('/sandbox-idp/*', async (c, next) => {
  if (c.var.config.isProduction) throw new ProblemError('NOT_FOUND', { detail: 'no such page' })
  await next()
})

sandboxIdpRoutes.get('/sandbox-idp/authorize', (c) => {
  const params = checkAuthorizeParams(c, c.req.query())
  if (params instanceof Response || params instanceof Promise) return params
  return authorizePage(c, 200, params, {}, {})
})

sandboxIdpRoutes.post('/sandbox-idp/authorize', async (c) => {
  if (!isSameOrigin(c)) return refusalPage(c, 403, 'Request refused', 'The sandbox sign-in form must be sent from its own page (cross-site request refused).')
  const form = firstStrings(await readForm(c))
  const params = checkAuthorizeParams(c, form)
  if (params instanceof Response || params instanceof Promise) return params
  const back = new URL(params.redirect_uri)
  back.searchParams.set('state', params.state)
  if (form.action === 'deny') {
    back.searchParams.set('error', 'access_denied')
    return c.redirect(back.toString(), 303)
  }
  const identity = Identity.safeParse({ subject: form.subject ?? '', email: form.email ?? '', email_verified: form.email_verified ?? 'true', name: form.name ?? '' })
  if (!identity.success) return authorizePage(c, 422, params, form, fieldErrors(identity.error))
  const code = randomToken(32)
  const record: CodeRecord = { identity: identity.data, redirectUri: params.redirect_uri, codeChallenge: params.code_challenge }
  await c.env.DB.batch([
    c.env.DB.prepare('DELETE FROM sandbox_idp_codes WHERE expires_at_ms < ?').bind(Date.now()),
    c.env.DB.prepare('INSERT INTO sandbox_idp_codes (code_hash, record_json, expires_at_ms) VALUES (?, ?, ?)').bind(sha256Hex(code), JSON.stringify(record), Date.now() + SANDBOX_CODE_TTL_S * 1000),
  ])
  back.searchParams.set('code', code)
  c.header('cache-control', 'no-store')
  return c.redirect(back.toString(), 303)
})

const TokenRequest = z.object({
  grant_type: z.literal('authorization_code'),
  client_id: z.literal(SANDBOX_CLIENT_ID),
  code: z.string().min(1).max(256),
  redirect_uri: z.string().max(2048),
  code_verifier: z.string().max(128),
})

sandboxIdpRoutes.post('/sandbox-idp/token', async (c) => {
  if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    return oauthError(c, 400, 'invalid_request', 'the body must be application/x-www-form-urlencoded')
  }
  const form = firstStrings(await readForm(c))
  if (form.grant_type !== undefined && form.grant_type !== 'authorization_code') return oauthError(c, 400, 'unsupported_grant_type', 'only authorization_code')
  if (form.client_id !== SANDBOX_CLIENT_ID) return oauthError(c, 401, 'invalid_client', `the client must be ${SANDBOX_CLIENT_ID}`)
  const parsed = TokenRequest.safeParse(form)
  if (!parsed.success) return oauthError(c, 400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  // consumed by this attempt whatever happens next: a second exchange of the same code always fails
  const row = await c.env.DB.prepare('DELETE FROM sandbox_idp_codes WHERE code_hash = ? RETURNING record_json AS challenge, expires_at_ms')
    .bind(sha256Hex(parsed.data.code))
    .first<{ challenge: string; expires_at_ms: number }>()
  if (!row || row.expires_at_ms <= Date.now()) return oauthError(c, 400, 'invalid_grant', 'the code is unknown, expired or already used')
  const record = JSON.parse(row.challenge) as CodeRecord
  if (record.redirectUri !== parsed.data.redirect_uri) return oauthError(c, 400, 'invalid_grant', 'redirect_uri differs from the authorization request')
  const pkce = verifyPkce({ verifier: parsed.data.code_verifier, challenge: record.codeChallenge, method: 'S256' })
  if (!pkce.ok) return oauthError(c, 400, 'invalid_grant', `PKCE verification failed: ${pkce.reason}`)
  const token: AccessToken = { identity: record.identity, exp: Date.now() + SANDBOX_ACCESS_TOKEN_TTL_S * 1000 }
  const accessToken = await sealSecret(c.var.config.signingMasterKey, TOKEN_BOX, TOKEN_AAD, utf8(JSON.stringify(token)))
  c.header('cache-control', 'no-store')
  c.header('pragma', 'no-cache')
  return c.json({ access_token: accessToken, token_type: 'Bearer', expires_in: SANDBOX_ACCESS_TOKEN_TTL_S, scope: 'profile email' })
})

sandboxIdpRoutes.get('/sandbox-idp/userinfo', async (c) => {
  const match = /^Bearer ([A-Za-z0-9_-]{20,4096})$/.exec(c.req.header('authorization') ?? '')
  let token: AccessToken | undefined
  if (match) {
    try {
      token = JSON.parse(new TextDecoder().decode(await unsealSecret(c.var.config.signingMasterKey, TOKEN_BOX, TOKEN_AAD, match[1]!))) as AccessToken
    } catch {
      token = undefined
    }
  }
  if (!token || token.exp <= Date.now()) {
    c.header('www-authenticate', 'Bearer error="invalid_token", error_description="unknown or expired access token"')
    return oauthError(c, 401, 'invalid_token', 'unknown or expired access token')
  }
  const { identity } = token
  const claims: Record<string, unknown> = { sub: identity.subject }
  if (identity.email) {
    claims.email = identity.email
    const verified = EMAIL_VERIFIED_MODES[identity.email_verified].claim
    if (verified !== undefined) claims.email_verified = verified
  }
  if (identity.name) claims.name = identity.name
  c.header('cache-control', 'no-store')
  return c.json(claims)
})
