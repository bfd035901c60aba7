/**
 * `/api/vault/age/*`: a fan starts and follows their own age verification; providers post results
 * to a public webhook (authenticated by signature); support reads a user's history (method, result,
 * times) with a purpose and a recent strong sign-in; compliance reads and changes the versioned
 * settings (FAE challenge age, validity), every change audited.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { isId } from '../../lib/ids'
import { safeReturnTo } from '../../site/sso-pages'
import { PUBLIC, permission, withAccess } from '../../sso/roles/access'
import { requirePurpose, VAULT_STEP_UP, vaultAudit } from '../access'
import { AgeConfig, AgeConfigChange, ageConfigHistory, appendAgeConfig, currentAgeConfig } from './config'
import { acceptedMethods, jurisdictionOf, SUPPORTED_METHODS } from './methods'
import { PROVIDER_IDS, SandboxAgeResult, sandboxAgeSecret, SIGNATURE_HEADER, verifyAgeCallback, yotiResult, yotiSettings, type ProviderResult } from './providers'
import { ageStatus, applyResult, startVerification, thresholdFor, verificationById, verificationHistory } from './verifications'

const tags = ['vault-age']

const StartRequest = z
  .object({
    method: z.enum(SUPPORTED_METHODS).openapi({ description: 'compliance.md §5 method code; must be accepted in the caller’s jurisdiction' }),
    return_to: z.url().optional().openapi({ description: 'a brand page to offer after the check (brand hosts only)' }),
  })
  .strict()
  .openapi('AgeVerificationStart')

const Started = z
  .object({ verification_id: z.string(), method: z.enum(SUPPORTED_METHODS), provider: z.enum(PROVIDER_IDS), jurisdiction: z.string(), url: z.url() })
  .openapi('AgeVerificationStarted')

const Status = z
  .object({
    verified: z.boolean(),
    method: z.string().nullable(),
    expires_at: z.iso.datetime().nullable(),
    here: z.object({ jurisdiction: z.string(), gated: z.boolean(), accepted_methods: z.array(z.enum(SUPPORTED_METHODS)) }),
  })
  .openapi('AgeVerificationStatus')

const HistoryItem = z.object({
  id: z.string(),
  method: z.string(),
  result: z.enum(['pending', 'passed', 'failed', 'expired']),
  created_at: z.iso.datetime(),
  verified_at: z.iso.datetime().nullable(),
  expires_at: z.iso.datetime().nullable(),
})
const History = z.object({ user_id: z.string(), status: z.object({ verified: z.boolean(), method: z.string().nullable(), expires_at: z.iso.datetime().nullable() }), items: z.array(HistoryItem) }).openapi('AgeVerificationHistory')

const WebhookAnswer = z.object({ verification_id: z.string(), state: z.enum(['pending', 'passed', 'failed', 'expired']), duplicate: z.boolean() }).openapi('AgeVerificationWebhookAnswer')

const PurposeHeader = z.object({ 'vault-purpose': z.string().optional().openapi({ description: 'Vault-Purpose: age_verification_support; note="<why>"' }) })

export const startRoute = createRoute(
  withIdempotency(
    withAccess(permission('age:verify:self'), {
      method: 'post',
      path: '/age/start',
      tags,
      summary: 'Start verifying your age with a method your jurisdiction (from this request’s location) accepts; answers the provider URL to send the fan to',
      request: { body: jsonBody(StartRequest) },
      responses: { 201: json('Session opened at the provider', Started), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
  ),
)

const statusRoute = createRoute(
  withAccess(permission('age:verify:self'), {
    method: 'get',
    path: '/age/status',
    tags,
    summary: 'Your own age-verification status, and what is accepted where you are now',
    responses: { 200: json('Status', Status), ...problemResponses(401, 403) },
  }),
)

const webhookRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'post',
    path: '/age/webhooks/{provider}',
    tags,
    summary: 'A provider’s result callback (signature verified on the raw body before parsing; replays change nothing)',
    request: { params: z.object({ provider: z.enum(PROVIDER_IDS) }) },
    responses: { 200: json('Applied (or already applied)', WebhookAnswer), ...problemResponses(400, 404, 413, 422) },
  }),
)

const historyRoute = createRoute(
  withAccess(permission('vault:read', { stepUp: VAULT_STEP_UP }), {
    method: 'get',
    path: '/age/users/{id}',
    tags,
    summary: 'Support: a user’s age-verification history (method, result, times); states a purpose, audited',
    request: { params: z.object({ id: z.string().regex(/^usr_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a user id') }), headers: PurposeHeader },
    responses: { 200: json('History', History), ...problemResponses(400, 401, 403, 404) },
  }),
)

const configRoute = createRoute(
  withAccess(permission('vault:read'), {
    method: 'get',
    path: '/age/config',
    tags,
    summary: 'Age-verification settings: the current version and every earlier one',
    responses: { 200: json('Settings', z.object({ current: AgeConfig, history: z.array(AgeConfig) }).openapi('AgeVerificationConfig')), ...problemResponses(401, 403) },
  }),
)

const configChangeRoute = createRoute(
  withAccess(permission('vault:write', { stepUp: VAULT_STEP_UP }), {
    method: 'put',
    path: '/age/config',
    tags,
    summary: 'Change the settings (FAE challenge age, validity): appends a version, audited with old and new values',
    request: { body: jsonBody(AgeConfigChange) },
    responses: { 201: json('New version', AgeConfig), ...problemResponses(400, 401, 403, 409, 415, 422) },
  }),
)

export function registerAgeVerification(app: OpenAPIHono<AppEnv>): void {
  app.openapi(startRoute, async (c) => {
    const body = c.req.valid('json')
    const auth = c.var.auth!
    const back = await safeReturnTo(c, body.return_to)
    const sso = c.var.config.issuer
    const started = await startVerification(c, {
      userId: auth.subject,
      method: body.method,
      geo: c.var.geo,
      policy: c.var.jurisdiction,
      returnUrl: (id) => `${sso}/age-verification?${new URLSearchParams({ verification: id, ...(back ? { return_to: back.url } : {}) }).toString()}`,
    })
    return c.json(started, 201)
  })

  app.openapi(statusRoute, async (c) => {
    const policy = c.var.jurisdiction
    const status = await ageStatus(c.env.DB, c.var.auth!.subject)
    return c.json({ ...status, here: { jurisdiction: jurisdictionOf(c.var.geo), gated: policy.gated, accepted_methods: acceptedMethods(policy) } }, 200)
  })

  app.openapi(webhookRoute, async (c) => {
    const provider = c.req.valid('param').provider
    const rawBody = await c.req.text()
    let result: ProviderResult
    if (provider === 'sandbox') {
      if (c.var.config.isProduction) throw new ProblemError('NOT_FOUND', { detail: 'the sandbox provider does not exist in production' })
      const checked = verifyAgeCallback(await sandboxAgeSecret(c.var.config), rawBody, c.req.header(SIGNATURE_HEADER), Math.floor(Date.now() / 1000))
      if (!checked.ok) throw new ProblemError('SIGNATURE_INVALID', { detail: checked.reason, errors: [{ path: `header.${SIGNATURE_HEADER}`, message: checked.reason }] })
      let parsed: SandboxAgeResult
      try {
        parsed = SandboxAgeResult.parse(JSON.parse(rawBody))
      } catch {
        throw new ProblemError('MALFORMED_BODY', { detail: 'not a sandbox age-verification result' })
      }
      result = { verificationId: parsed.reference, providerRef: parsed.session_id, method: parsed.method, outcome: parsed.outcome, threshold: parsed.threshold }
    } else {
      const settings = yotiSettings(c.env)
      if (!settings) throw new ProblemError('NOT_FOUND', { detail: 'Yoti is not configured' })
      const ref = c.req.query('ref') ?? ''
      const row = isId('ageVerification', ref) ? await verificationById(c.env.DB, ref) : null
      if (!row) throw new ProblemError('NOT_FOUND', { detail: 'no age-verification session matches this notification' })
      const config = await currentAgeConfig(c.env)
      const method = row.method as (typeof SUPPORTED_METHODS)[number]
      result = await yotiResult(settings, c.var.config, new URL(c.req.url).searchParams, rawBody, { method, threshold: thresholdFor(config, method) })
    }
    const applied = await applyResult(c, provider, result)
    return c.json({ verification_id: result.verificationId, state: applied.state, duplicate: applied.duplicate }, 200)
  })

  app.openapi(historyRoute, async (c) => {
    const purpose = requirePurpose(c)
    const userId = c.req.valid('param').id
    const exists = await c.env.DB.prepare('SELECT id FROM users WHERE id = ?').bind(userId).first()
    if (!exists) throw new ProblemError('NOT_FOUND', { detail: `no user ${userId}` })
    const items = await verificationHistory(c.env.DB, userId)
    await vaultAudit(c, 'vault.age.read', `user:${userId}`, purpose, { items: items.length })
    return c.json({ user_id: userId, status: await ageStatus(c.env.DB, userId), items }, 200)
  })

  app.openapi(configRoute, async (c) => {
    const history = await ageConfigHistory(c.env)
    return c.json({ current: history[history.length - 1]!, history }, 200)
  })

  app.openapi(configChangeRoute, async (c) => {
    const change = c.req.valid('json')
    const previous = await currentAgeConfig(c.env)
    const next = await appendAgeConfig(c.env, previous, change, c.var.auth!.subject, Date.now())
    if (!next) throw new ProblemError('CONFLICT', { detail: 'another change was saved at the same time; read the settings and try again' })
    await vaultAudit(c, 'vault.age.config_changed', `config:age-verification`, null, {
      version: next.version,
      previous_version: previous.version,
      from: { fae_challenge_age: previous.fae_challenge_age, validity_days: previous.validity_days, per_session_validity_hours: previous.per_session_validity_hours },
      to: { fae_challenge_age: next.fae_challenge_age, validity_days: next.validity_days, per_session_validity_hours: next.per_session_validity_hours },
      reason: next.reason,
    })
    return c.json(next, 201)
  })
}
