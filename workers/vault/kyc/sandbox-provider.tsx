/**
 * The sandbox KYC provider (outside production, on the bare platform host): a stand-in for Veriff
 * that speaks Veriff's wire format (veriff.ts), so the verification code path is the one the real
 * provider drives.
 *
 * - `POST /sandbox-kyc/v1/sessions`: the sessions API (`X-AUTH-CLIENT` + `X-HMAC-SIGNATURE`, keys
 *   derived from SIGNING_MASTER_KEY, providers.ts). It remembers only the session id, our
 *   verification id (vendorData) and the callback (R2 `EXPORTS`, `sandbox-kyc/sessions/`): no
 *   personal data ever reaches plain R2.
 * - `/sandbox-kyc/session?s=<session id>`: the hosted flow. Step 1, the ID document: the subject
 *   types the test identity and "uploads" the front of the ID; the image is sealed into the vault
 *   (kind `id_document_front` on the verification record) and an event webhook `submitted` follows.
 *   Step 2, liveness: a button. Then the signed decision webhook goes to our webhook route and the
 *   subject is sent back (self-advancing page: CSP form-action governs redirects after a POST).
 *
 * Test data (the outcome is chosen by the last name, like Veriff's test integration uses names):
 * `Decline` declines, `Review` asks for manual review, `Resubmit` asks for resubmission, anything
 * else approves. The date of birth and the document's expiry date are sent as typed: a date of
 * birth under 18 years is declined `underage` by our own policy (verifications.ts), as it would be
 * for a real provider's approval.
 * @module
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { timingSafeEqualText } from '../../lib/encoding'
import { platformFetch } from '../../lib/platform-fetch'
import { platformPage } from '../../site/platform-page'
import { putSealed } from '../store'
import { apiOrigin, platformOrigin, sandboxKycSettings } from './providers'
import { RECORD_TYPE, subjectInfo, verificationById } from './verifications'
import { AUTH_CLIENT_HEADER, SIGNATURE_HEADER, veriffSignature, verifyVeriffSignature } from './veriff'
import { browserReachable } from '../../site/links'

export const sandboxKyc = new Hono<AppEnv>()

export const SANDBOX_MAX_IMAGE_BYTES = 5 * 1024 * 1024

const SandboxSession = z.object({ id: z.uuid(), vendorData: z.string().regex(/^kyc_[0-9A-Za-z]{10,40}$/), callback: z.url(), createdAt: z.string() })
type SandboxSession = z.infer<typeof SandboxSession>

const sessionKey = (id: string) => `sandbox-kyc/sessions/${id}.json`

async function storedSession(c: Context<AppEnv>, id: string | null | undefined): Promise<SandboxSession | null> {
  if (!id || !z.uuid().safeParse(id).success) return null
  const stored = await c.env.EXPORTS.get(sessionKey(id))
  return stored ? SandboxSession.parse(await stored.json()) : null
}

sandboxKyc.use('/sandbox-kyc/*', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 403 | 413 | 502 = 200) {
  return c.html(platformPage(c, 'Sandbox KYC provider', title, body as never), status)
}

/** The sessions API, as Veriff's `POST /v1/sessions`. */
sandboxKyc.post('/sandbox-kyc/v1/sessions', async (c) => {
  const settings = await sandboxKycSettings(c.var.config)
  const raw = new Uint8Array(await c.req.arrayBuffer())
  if (!timingSafeEqualText(c.req.header(AUTH_CLIENT_HEADER) ?? '', settings.apiKey)) return c.json({ status: 'fail', code: 1801, message: 'Mandatory X-AUTH-CLIENT header containing the API key is missing from the request.' }, 401)
  if (!(await verifyVeriffSignature(settings.sharedSecret, raw, c.req.header(SIGNATURE_HEADER)))) return c.json({ status: 'fail', code: 1812, message: 'Signature does not match the payload.' }, 401)
  const body = z.object({ verification: z.object({ callback: z.url(), vendorData: z.string() }) }).safeParse(JSON.parse(new TextDecoder().decode(raw) || 'null'))
  if (!body.success) return c.json({ status: 'fail', code: 1102, message: 'verification.callback and verification.vendorData are required' }, 400)
  const session = SandboxSession.safeParse({ id: crypto.randomUUID(), vendorData: body.data.verification.vendorData, callback: body.data.verification.callback, createdAt: new Date().toISOString() })
  if (!session.success) return c.json({ status: 'fail', code: 1102, message: 'vendorData must be a FANZ verification id' }, 400)
  await c.env.EXPORTS.put(sessionKey(session.data.id), JSON.stringify(session.data))
  const url = `${platformOrigin(c.var.config)}/sandbox-kyc/session?s=${session.data.id}`
  return c.json({ status: 'success', verification: { id: session.data.id, url, vendorData: session.data.vendorData, host: platformOrigin(c.var.config), status: 'created' } }, 201)
})

sandboxKyc.get('/sandbox-kyc/session', async (c) => {
  const session = await storedSession(c, c.req.query('s'))
  if (!session) return page(c, 'Unknown session', <p>This verification link is not valid. Start again from FANZ.</p>, 400)
  return page(
    c,
    'Verify your identity',
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Sandbox KYC provider · step 1 of 2 · no real data</p>
      <h1 id="title">Your ID document</h1>
      <form method="post" action="/sandbox-kyc/session/document" enctype="multipart/form-data" class="stack">
        <input type="hidden" name="s" value={session.id} />
        <label for="firstName">First name</label>
        <input type="text" id="firstName" name="firstName" required autocomplete="off" />
        <label for="lastName">Last name</label>
        <input type="text" id="lastName" name="lastName" required autocomplete="off" aria-describedby="name-hint" />
        <p class="hint" id="name-hint">
          Test data: last name Decline declines, Review sends the verification to manual review, Resubmit asks for a new attempt; any other name approves.
        </p>
        <label for="dateOfBirth">Date of birth</label>
        <input type="date" id="dateOfBirth" name="dateOfBirth" required aria-describedby="dob-hint" />
        <p class="hint" id="dob-hint">Under 18 years is declined.</p>
        <label for="documentType">Document type</label>
        <select id="documentType" name="documentType">
          <option value="PASSPORT">Passport</option>
          <option value="ID_CARD">ID card</option>
          <option value="DRIVERS_LICENSE">Driver's licence</option>
        </select>
        <label for="documentNumber">Document number</label>
        <input type="text" id="documentNumber" name="documentNumber" required autocomplete="off" />
        <label for="documentCountry">Issuing country (ISO code, e.g. US)</label>
        <input type="text" id="documentCountry" name="documentCountry" required maxlength={2} value="US" />
        <label for="validUntil">Document expires on</label>
        <input type="date" id="validUntil" name="validUntil" required />
        <label for="idFront">Front of the document (image)</label>
        <input type="file" id="idFront" name="idFront" accept="image/*" required />
        <button type="submit">Upload document</button>
      </form>
    </section>,
  )
})

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)
const Identity = z.object({
  s: z.uuid(),
  firstName: z.string().trim().min(1).max(100),
  lastName: z.string().trim().min(1).max(100),
  dateOfBirth: IsoDate,
  documentType: z.enum(['PASSPORT', 'ID_CARD', 'DRIVERS_LICENSE']),
  documentNumber: z.string().trim().min(1).max(40),
  documentCountry: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/),
  validUntil: IsoDate,
})
type Identity = z.infer<typeof Identity>

function identityOf(form: FormData): Identity | null {
  const parsed = Identity.safeParse(Object.fromEntries(Object.keys(Identity.shape).map((k) => [k, form.get(k) ?? undefined])))
  return parsed.success ? parsed.data : null
}

async function deliver(c: Context<AppEnv>, body: unknown): Promise<Response> {
  const settings = await sandboxKycSettings(c.var.config)
  const raw = JSON.stringify(body)
  return platformFetch(c.env, c.executionCtx as ExecutionContext)(`${apiOrigin(c.var.config)}/api/vault/kyc/webhooks/sandbox`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await veriffSignature(settings.sharedSecret, raw) },
    body: raw,
  })
}

sandboxKyc.post('/sandbox-kyc/session/document', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = await c.req.formData().catch(() => null)
  const session = await storedSession(c, form?.get('s')?.toString())
  if (!form || !session) return page(c, 'Unknown session', <p>This verification link is not valid. Start again from FANZ.</p>, 400)
  const identity = identityOf(form)
  const image = form.get('idFront')
  if (!identity || !(image instanceof File) || image.size === 0 || !image.type.startsWith('image/')) {
    return page(c, 'Incomplete', <p role="alert">Fill in every field and choose an image of the front of the document. <a href={`/sandbox-kyc/session?s=${session.id}`}>Try again</a></p>, 400)
  }
  if (image.size > SANDBOX_MAX_IMAGE_BYTES) return page(c, 'Image too large', <p role="alert">The image may be at most 5 MB.</p>, 413)
  const verification = await verificationById(c.env, session.vendorData)
  if (!verification) return page(c, 'Unknown verification', <p>FANZ no longer knows this verification.</p>, 400)
  const info = await subjectInfo(c.env, verification.subjectType, verification.subjectId)
  await putSealed(c.env, { recordType: RECORD_TYPE, recordId: verification.id, kind: 'id_document_front', contentType: image.type, bytes: new Uint8Array(await image.arrayBuffer()), region: info?.region ?? 'global', createdBy: 'kyc_provider:sandbox' })
  const submitted = await deliver(c, { id: session.id, attemptId: crypto.randomUUID(), feature: 'selfid', code: 7002, action: 'submitted', vendorData: session.vendorData })
  if (!submitted.ok) return page(c, 'Webhook failed', <p>FANZ did not accept the event webhook ({submitted.status}).</p>, 502)
  return page(
    c,
    'Liveness check',
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Sandbox KYC provider · step 2 of 2</p>
      <h1 id="title">Liveness check</h1>
      <p>Document received. A real provider would now film your face; here one button stands for it.</p>
      <form method="post" action="/sandbox-kyc/session/liveness" class="stack">
        {Object.entries(identity).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit">Take liveness check</button>
      </form>
    </section>,
  )
})

/** The provider's decision for the test identity (status, Veriff code and reason). */
export function sandboxDecision(lastName: string): { status: 'approved' | 'declined' | 'review' | 'resubmission_requested'; code: number | null; reason: string | null; reasonCode: number | null } {
  switch (lastName.trim().toLowerCase()) {
    case 'decline':
      return { status: 'declined', code: 9102, reason: 'Suspected document tampering', reasonCode: 102 }
    case 'review':
      // the code Veriff pairs with `review` is not in what we could confirm: none is sent
      return { status: 'review', code: null, reason: 'Document needs a closer look', reasonCode: null }
    case 'resubmit':
      return { status: 'resubmission_requested', code: 9103, reason: 'Poor image quality', reasonCode: 204 }
    default:
      return { status: 'approved', code: 9001, reason: null, reasonCode: null }
  }
}

sandboxKyc.post('/sandbox-kyc/session/liveness', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = await c.req.formData().catch(() => null)
  const identity = form ? identityOf(form) : null
  const session = await storedSession(c, identity?.s)
  if (!identity || !session) return page(c, 'Unknown session', <p>This verification link is not valid. Start again from FANZ.</p>, 400)
  const decision = sandboxDecision(identity.lastName)
  const now = new Date().toISOString()
  const delivered = await deliver(c, {
    status: 'success',
    verification: {
      id: session.id,
      attemptId: crypto.randomUUID(),
      vendorData: session.vendorData,
      status: decision.status,
      code: decision.code,
      reason: decision.reason,
      reasonCode: decision.reasonCode,
      decisionTime: now,
      acceptanceTime: session.createdAt,
      person: { firstName: identity.firstName, lastName: identity.lastName, dateOfBirth: identity.dateOfBirth },
      document: { type: identity.documentType, number: identity.documentNumber, country: identity.documentCountry, validUntil: identity.validUntil },
    },
    technicalData: { ip: null },
  })
  if (!delivered.ok) return page(c, 'Webhook failed', <p>FANZ did not accept the decision webhook ({delivered.status}).</p>, 502)
  const back = browserReachable(c, session.callback).toString()
  c.header('refresh', `0;url=${back}`)
  return page(
    c,
    'Verification submitted',
    <p role="status">
      Thank you: your verification was sent to FANZ. <a href={back}>Return to FANZ</a>.
    </p>,
  )
})
