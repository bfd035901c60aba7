/**
 * `/api/vault/kyc/*`: identity verification (KYC) of creators and performers.
 *
 * - `POST /kyc/sessions` (vault:kyc:self): a creator opens a verification of their own creator
 *   profile; `POST /kyc/subjects/{type}/{id}/sessions` (vault:write): compliance staff open one for
 *   any creator or performer record. Two routes because a route declares one permission, and
 *   officers do not hold vault:kyc:self. Both answer the provider's hosted URL and take an
 *   Idempotency-Key (a retry must not open a second provider session).
 * - `GET /kyc/sessions/{id}` (vault:kyc:self): the subject's own status and reason, no document data.
 * - `GET /kyc/sessions/{id}/details` (vault:read + step-up + purpose): what the provider extracted,
 *   decrypted from the sealed decision, and the sealed objects of the verification. Audited.
 * - `POST /kyc/webhooks/{provider}` (public): the provider's signed result (verifications.ts).
 * - `GET /kyc/review-queue`, `POST /kyc/sessions/{id}/review` (vault:kyc:review; the decision also
 *   needs step-up and purpose `kyc_review`).
 * - `GET /kyc/subjects/{type}/{id}` (vault:read): is this creator/performer verified right now.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import { newId } from '../../lib/ids'
import { PageQuery } from '../../lib/pagination'
import { platformFetch } from '../../lib/platform-fetch'
import { permission, PUBLIC, withAccess } from '../../sso/roles/access'
import { requirePurpose, VAULT_STEP_UP, vaultAudit } from '../access'
import { openSealed } from '../store'
import { defaultKycProvider, KYC_PROVIDERS, kycProviderSettings, type KycProvider } from './providers'
import { KYC_STATUSES } from './status'
import {
  applyWebhook,
  DECISION_KIND,
  insertVerification,
  kycStanding,
  REVIEW_DECISIONS,
  reviewQueue,
  reviewVerification,
  sealedObjectsOf,
  subjectInfo,
  verificationById,
  type KycVerification,
  type SubjectInfo,
  type SubjectType,
} from './verifications'
import { createVeriffSession, parseVeriffWebhook, SIGNATURE_HEADER, UpstreamError, VeriffDecisionBody, verifyVeriffSignature } from './veriff'

const tags = ['vault']
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const SubjectTypeSchema = z.enum(['creator', 'performer'])
const VerificationId = z.string().regex(/^kyc_[0-9A-Za-z]{10,40}$/, 'a KYC verification id (kyc_...)')
const IdParam = z.object({ id: VerificationId })
const SubjectParam = z.object({ type: SubjectTypeSchema, id: z.string().regex(/^(crt|prf)_[0-9A-Za-z]{1,40}$/, 'a creator (crt_) or performer (prf_) id') })

const Status = z
  .object({
    id: z.string(),
    subject_type: SubjectTypeSchema,
    subject_id: z.string(),
    provider: z.string(),
    status: z.enum(KYC_STATUSES),
    reason: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('KycStatus')

const Opened = z.object({ verification: Status, url: z.url().openapi({ description: "the provider's hosted verification page: send the subject there" }) }).openapi('KycSessionOpened')

const Details = Status.extend({
  provider_session_id: z.string().nullable(),
  document_type: z.string().nullable(),
  document_country: z.string().nullable(),
  document_expires_on: z.string().nullable(),
  verified_at: z.string().nullable(),
  reviewed_by: z.string().nullable(),
  reminder_sent_at: z.string().nullable(),
  person: z.object({ first_name: z.string().nullable(), last_name: z.string().nullable(), date_of_birth: z.string().nullable() }).nullable(),
  document: z.object({ type: z.string().nullable(), number: z.string().nullable(), country: z.string().nullable(), valid_until: z.string().nullable() }).nullable(),
  objects: z.array(z.object({ id: z.string(), kind: z.string(), content_type: z.string(), byte_length: z.number().int(), created_at: z.string() })),
}).openapi('KycDetails')

const QueueItem = Status.extend({ document_type: z.string().nullable(), document_country: z.string().nullable() }).openapi('KycQueueItem')

const Standing = z
  .object({
    subject_type: SubjectTypeSchema,
    subject_id: z.string(),
    verified: z.boolean().openapi({ description: 'the newest approval exists and its ID document has not expired' }),
    status: z.enum([...KYC_STATUSES, 'none']),
    verification_id: z.string().nullable(),
    verified_at: z.string().nullable(),
    document_expires_on: z.string().nullable(),
  })
  .openapi('KycStanding')

const WebhookAnswer = z.object({ outcome: z.enum(['applied', 'duplicate', 'ignored', 'unknown_session']), status: z.enum(KYC_STATUSES).nullable() }).openapi('KycWebhookReceived')

const ReviewBody = z.object({
  decision: z.enum(Object.keys(REVIEW_DECISIONS) as [keyof typeof REVIEW_DECISIONS, ...Array<keyof typeof REVIEW_DECISIONS>]),
  reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(1000),
})

function statusView(v: KycVerification): z.infer<typeof Status> {
  return { id: v.id, subject_type: v.subjectType, subject_id: v.subjectId, provider: v.provider, status: v.status, reason: v.reason, created_at: iso(v.createdAtMs)!, updated_at: iso(v.updatedAtMs)! }
}

const openSelfRoute = createRoute(
  withIdempotency(
    withAccess(permission('vault:kyc:self'), {
      method: 'post',
      path: '/kyc/sessions',
      tags,
      summary: "Open an identity verification of one's own creator profile; answers the provider's hosted URL (audited)",
      request: { body: jsonBody(z.object({ subject_type: z.literal('creator'), subject_id: z.string().regex(/^crt_[0-9A-Za-z]{1,40}$/) })) },
      responses: { 201: json('The verification, and where to send the subject', Opened), ...problemResponses(400, 401, 403, 404, 415, 422) },
    }),
  ),
)

const openForRoute = createRoute(
  withIdempotency(
    withAccess(permission('vault:write'), {
      method: 'post',
      path: '/kyc/subjects/{type}/{id}/sessions',
      tags,
      summary: "Open an identity verification for a creator or performer record; answers the provider's hosted URL (audited)",
      request: { params: SubjectParam },
      responses: { 201: json('The verification, and where to send the subject', Opened), ...problemResponses(400, 401, 403, 404) },
    }),
  ),
)

const ownStatusRoute = createRoute(
  withAccess(permission('vault:kyc:self'), {
    method: 'get',
    path: '/kyc/sessions/{id}',
    tags,
    summary: 'Status and reason of one of your own verifications (no document data)',
    request: { params: IdParam },
    responses: { 200: json('The status', Status), ...problemResponses(400, 401, 403, 404) },
  }),
)

const detailsRoute = createRoute(
  withAccess(permission('vault:read', { stepUp: VAULT_STEP_UP }), {
    method: 'get',
    path: '/kyc/sessions/{id}/details',
    tags,
    summary: 'A verification with the data the provider extracted, decrypted from the vault (purpose required; audited)',
    request: { params: IdParam },
    responses: { 200: json('The verification and its sealed data', Details), ...problemResponses(400, 401, 403, 404) },
  }),
)

const webhookRoute = createRoute(
  withAccess(PUBLIC, {
    method: 'post',
    path: '/kyc/webhooks/{provider}',
    tags,
    summary: "A KYC provider's signed result (X-HMAC-SIGNATURE over the raw body, checked before parsing)",
    request: { params: z.object({ provider: z.enum(KYC_PROVIDERS) }) },
    responses: { 200: json('Received (applied, duplicate, ignored or for an unknown session): the provider may stop retrying', WebhookAnswer), ...problemResponses(400, 404, 413, 422) },
  }),
)

const queueRoute = createRoute(
  withAccess(permission('vault:kyc:review'), {
    method: 'get',
    path: '/kyc/review-queue',
    tags,
    summary: 'Verifications waiting for a compliance officer, oldest first',
    request: { query: PageQuery },
    responses: { 200: json('A page of the queue', z.object({ items: z.array(QueueItem), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const reviewRoute = createRoute(
  withAccess(permission('vault:kyc:review', { stepUp: VAULT_STEP_UP }), {
    method: 'post',
    path: '/kyc/sessions/{id}/review',
    tags,
    summary: 'Decide a verification in review: approve, decline or ask for resubmission (purpose kyc_review; audited)',
    request: { params: IdParam, body: jsonBody(ReviewBody) },
    responses: { 200: json('The verification after the decision', Status), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  }),
)

const standingRoute = createRoute(
  withAccess(permission('vault:read'), {
    method: 'get',
    path: '/kyc/subjects/{type}/{id}',
    tags,
    summary: 'Whether a creator or performer is identity-verified now (approved, document not expired); no personal data',
    request: { params: SubjectParam },
    responses: { 200: json('The standing', Standing), ...problemResponses(400, 401, 403) },
  }),
)

/** Opens a session at the provider first, so a refusal leaves no verification behind. */
async function openSession(c: Context<AppEnv>, type: SubjectType, subjectId: string, info: SubjectInfo): Promise<{ verification: KycVerification; url: string }> {
  const config = c.var.config
  const provider = await defaultKycProvider(c.env, config)
  const settings = provider ? await kycProviderSettings(c.env, config, provider) : null
  if (!provider || !settings) throw new ProblemError('NOT_FOUND', { detail: 'no KYC provider is configured (KYC_PROVIDERS)' })
  const id = newId('kycVerification')
  const fetcher = provider === 'sandbox' ? platformFetch(c.env, c.executionCtx as ExecutionContext) : fetch
  const callback = `${config.issuer.replace('//sso.', '//dash.')}/kyc?verification=${id}`
  let session: { sessionId: string; url: string }
  try {
    session = await createVeriffSession(fetcher, settings, { vendorData: id, callback })
  } catch (err) {
    if (err instanceof UpstreamError) throw new ProblemError('UPSTREAM_ERROR', { detail: `${provider}: ${err.message}` })
    throw err
  }
  const verification = await insertVerification(c.env, { id, subjectType: type, subjectId, userId: info.userId, provider, providerSessionId: session.sessionId }, Date.now())
  await vaultAudit(c, 'vault.kyc.session.open', `kyc:${id}`, null, { subject_type: type, subject_id: subjectId, provider })
  return { verification, url: session.url }
}

async function existing(c: Context<AppEnv>, id: string): Promise<KycVerification> {
  const row = await verificationById(c.env, id)
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no verification ${id}` })
  return row
}

export function registerKyc(app: OpenAPIHono<AppEnv>): void {
  app.openapi(openSelfRoute, async (c) => {
    const body = c.req.valid('json')
    const info = await subjectInfo(c.env, 'creator', body.subject_id)
    if (!info) throw new ProblemError('NOT_FOUND', { detail: `no creator ${body.subject_id}`, errors: [{ path: 'body.subject_id', message: 'no such creator' }] })
    if (info.userId !== c.var.auth!.subject) throw new ProblemError('FORBIDDEN', { detail: 'you may verify only your own creator profile', errors: [{ path: 'body.subject_id', message: 'not your creator profile' }] })
    const opened = await openSession(c, 'creator', body.subject_id, info)
    return c.json({ verification: statusView(opened.verification), url: opened.url }, 201)
  })

  app.openapi(openForRoute, async (c) => {
    const { type, id } = c.req.valid('param')
    if ((type === 'creator') !== id.startsWith('crt_')) throw new ProblemError('BAD_REQUEST', { detail: `${id} is not a ${type} id`, errors: [{ path: 'param.id', message: `not a ${type} id` }] })
    const info = await subjectInfo(c.env, type, id)
    if (!info) throw new ProblemError('NOT_FOUND', { detail: `no ${type} ${id}` })
    const opened = await openSession(c, type, id, info)
    return c.json({ verification: statusView(opened.verification), url: opened.url }, 201)
  })

  app.openapi(ownStatusRoute, async (c) => {
    const row = await existing(c, c.req.valid('param').id)
    if (!row.userId || row.userId !== c.var.auth!.subject) throw new ProblemError('FORBIDDEN', { detail: 'this is not your verification' })
    return c.json(statusView(row), 200)
  })

  app.openapi(detailsRoute, async (c) => {
    const purpose = requirePurpose(c)
    const row = await existing(c, c.req.valid('param').id)
    const objects = await sealedObjectsOf(c.env, row.id)
    const decision = objects.find((o) => o.kind === DECISION_KIND)
    const parsed = decision ? VeriffDecisionBody.safeParse(JSON.parse(new TextDecoder().decode(await openSealed(c.env, decision)))) : null
    const extracted = parsed?.success ? parsed.data.verification : null
    await vaultAudit(c, 'vault.kyc.read', `kyc:${row.id}`, purpose, { subject_type: row.subjectType, subject_id: row.subjectId, objects: objects.length })
    return c.json(
      {
        ...statusView(row),
        provider_session_id: row.providerSessionId,
        document_type: row.documentType,
        document_country: row.documentCountry,
        document_expires_on: row.documentExpiresOn,
        verified_at: iso(row.verifiedAtMs),
        reviewed_by: row.reviewedBy,
        reminder_sent_at: iso(row.reminderSentAtMs),
        person: extracted?.person ? { first_name: extracted.person.firstName ?? null, last_name: extracted.person.lastName ?? null, date_of_birth: extracted.person.dateOfBirth ?? null } : null,
        document: extracted?.document
          ? { type: extracted.document.type ?? null, number: extracted.document.number ?? null, country: extracted.document.country ?? null, valid_until: extracted.document.validUntil ?? null }
          : null,
        objects: objects.map((o) => ({ id: o.id, kind: o.kind, content_type: o.contentType, byte_length: o.byteLength, created_at: iso(o.createdAtMs)! })),
      },
      200,
    )
  })

  app.openapi(webhookRoute, async (c) => {
    const provider: KycProvider = c.req.valid('param').provider
    const settings = await kycProviderSettings(c.env, c.var.config, provider)
    if (!settings) throw new ProblemError('NOT_FOUND', { detail: `KYC provider ${provider} is not configured here` })
    const raw = new Uint8Array(await c.req.arrayBuffer())
    // nothing is parsed, stored or looked up before the signature holds
    if (!(await verifyVeriffSignature(settings.sharedSecret, raw, c.req.header(SIGNATURE_HEADER)))) {
      throw new ProblemError('SIGNATURE_INVALID', { detail: `${SIGNATURE_HEADER} is not the HMAC-SHA256 of the body under ${provider}'s shared secret`, errors: [{ path: `header.${SIGNATURE_HEADER}`, message: 'signature does not match' }] })
    }
    const parsed = parseVeriffWebhook(raw)
    if (!parsed.ok) throw new ProblemError('VALIDATION_FAILED', { detail: 'the webhook is neither a decision nor an event', errors: parsed.issues })
    const result = await applyWebhook(c.env, { env: c.env, actor: `kyc_provider:${provider}`, requestId: c.var.requestId }, provider, raw, parsed.webhook)
    const status = result.outcome === 'applied' ? result.to : result.outcome === 'unknown_session' ? null : result.status
    return c.json({ outcome: result.outcome, status }, 200)
  })

  app.openapi(queueRoute, async (c) => {
    const { cursor, limit } = c.req.valid('query')
    const page = await reviewQueue(c.env, cursor, limit)
    return c.json({ items: page.rows.map((v) => ({ ...statusView(v), document_type: v.documentType, document_country: v.documentCountry })), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(reviewRoute, async (c) => {
    const purpose = requirePurpose(c)
    if (purpose.code !== 'kyc_review') throw new ProblemError('BAD_REQUEST', { detail: 'a KYC review states purpose kyc_review', errors: [{ path: 'header.vault-purpose', message: 'must be kyc_review' }] })
    const body = c.req.valid('json')
    const row = await existing(c, c.req.valid('param').id)
    const officer = c.var.auth!.subject
    const decided = await reviewVerification(c.env, row, body.decision, body.reason, officer)
    if (!decided) throw new ProblemError('CONFLICT', { detail: `verification ${row.id} is ${row.status}; only a verification in review can be decided here` })
    await vaultAudit(c, 'vault.kyc.review', `kyc:${row.id}`, purpose, { from: row.status, to: decided.status, decision: body.decision, reason: body.reason })
    return c.json(statusView(decided), 200)
  })

  app.openapi(standingRoute, async (c) => {
    const { type, id } = c.req.valid('param')
    const s = await kycStanding(c.env, type, id)
    return c.json({ subject_type: type, subject_id: id, verified: s.verified, status: s.status, verification_id: s.verification_id, verified_at: iso(s.verified_at_ms), document_expires_on: s.document_expires_on }, 200)
  })
}
