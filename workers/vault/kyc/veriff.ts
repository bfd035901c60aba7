/**
 * Veriff's wire format (devdocs.veriff.com), the one adapter every KYC provider here speaks: the real
 * Veriff, and our sandbox provider (sandbox-provider.tsx), which implements the same API and signs
 * the same way so the same verification code runs for both.
 *
 * What we rely on, and how sure we are:
 * - `POST {baseUrl}/v1/sessions` with `X-AUTH-CLIENT: <api key>` and, because Veriff asks for a
 *   signature on POST bodies, `X-HMAC-SIGNATURE: hex(HMAC-SHA256(shared secret, raw body))`
 *   (confirmed: "HMAC Authentication and Endpoint Security"). Body `{ verification: { callback,
 *   vendorData, ... } }`; the answer carries `verification.id` (the session id) and
 *   `verification.url` (the hosted flow). The answer's exact envelope (`status: "success"`) is from
 *   Veriff's examples; we only read `verification.id` and `verification.url`.
 * - Webhooks are signed with the same header over the raw body (confirmed). Decision webhook:
 *   `verification.{id, code, status, reason, reasonCode, vendorData, decisionTime, person, document}`
 *   with status approved / declined / resubmission_requested / expired / abandoned / review and
 *   codes 9001 approved, 9102 declined, 9103 resubmission, 9104 expired, 9121 abandoned (confirmed,
 *   "Decision data" and "verification session decision codes"). The code Veriff sends with `review`
 *   is not in what we could read: we do not depend on codes, only on `status`.
 * - `person.{firstName, lastName, dateOfBirth}` and `document.{type, number, country, validUntil}`
 *   (validUntil extraction may need enabling per integration, per Veriff's note on driver's licences;
 *   we treat it as optional). Event webhooks (`{ id, attemptId, feature, code, action, vendorData }`,
 *   action `started` / `submitted`) are from Veriff's "event webhook" article and could not be
 *   re-confirmed field by field; unknown extra fields are ignored either way.
 * @module
 */
import { z } from 'zod'
import { timingSafeEqualText, utf8 } from '../../lib/encoding'

export const SIGNATURE_HEADER = 'x-hmac-signature'
export const AUTH_CLIENT_HEADER = 'x-auth-client'

export interface VeriffSettings {
  apiKey: string
  sharedSecret: string
  /** `https://stationapi.veriff.com` for Veriff; the platform host's `/sandbox-kyc` for the sandbox */
  baseUrl: string
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** hex(HMAC-SHA256(secret, body)): Veriff's X-HMAC-SIGNATURE over the exact bytes sent. */
export async function veriffSignature(secret: string, body: Uint8Array | string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return hex(new Uint8Array(await crypto.subtle.sign('HMAC', key, typeof body === 'string' ? utf8(body) : body)))
}

/** True when `header` is the signature of `raw` under `secret`; compared in constant time. */
export async function verifyVeriffSignature(secret: string, raw: Uint8Array, header: string | null | undefined): Promise<boolean> {
  if (!header || !/^[0-9a-fA-F]{64}$/.test(header.trim())) return false
  return timingSafeEqualText(header.trim().toLowerCase(), await veriffSignature(secret, raw))
}

/** ISO date `YYYY-MM-DD` (what Veriff sends for dates of birth and document validity). */
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')

export const VERIFF_DECISION_STATUSES = ['approved', 'declined', 'resubmission_requested', 'expired', 'abandoned', 'review'] as const
export type VeriffDecisionStatus = (typeof VERIFF_DECISION_STATUSES)[number]

const Person = z
  .object({
    firstName: z.string().max(200).nullish(),
    lastName: z.string().max(200).nullish(),
    dateOfBirth: IsoDate.nullish(),
  })
  .loose()

const Document = z
  .object({
    type: z.string().max(64).nullish(),
    number: z.string().max(100).nullish(),
    country: z.string().regex(/^[A-Z]{2}$/).nullish(),
    validUntil: IsoDate.nullish(),
  })
  .loose()

export const VeriffDecisionBody = z
  .object({
    status: z.string().optional(),
    verification: z
      .object({
        id: z.string().min(1).max(100),
        code: z.number().int().nullish(),
        status: z.enum(VERIFF_DECISION_STATUSES),
        reason: z.string().max(500).nullish(),
        reasonCode: z.union([z.number().int(), z.string().max(20)]).nullish(),
        vendorData: z.string().max(400).nullish(),
        decisionTime: z.string().max(40).nullish(),
        person: Person.nullish(),
        document: Document.nullish(),
      })
      .loose(),
  })
  .loose()
export type VeriffDecisionBody = z.infer<typeof VeriffDecisionBody>

export const VeriffEventBody = z
  .object({
    id: z.string().min(1).max(100),
    attemptId: z.string().max(100).nullish(),
    feature: z.string().max(40).nullish(),
    code: z.number().int().nullish(),
    action: z.string().max(40),
    vendorData: z.string().max(400).nullish(),
  })
  .loose()
export type VeriffEventBody = z.infer<typeof VeriffEventBody>

export type VeriffWebhook = { kind: 'decision'; body: VeriffDecisionBody } | { kind: 'event'; body: VeriffEventBody }

/** A verified webhook body as a decision or an event; null when it is neither (answered 422). */
export function parseVeriffWebhook(raw: Uint8Array): { ok: true; webhook: VeriffWebhook } | { ok: false; issues: Array<{ path: string; message: string }> } {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(raw))
  } catch {
    return { ok: false, issues: [{ path: 'body', message: 'not JSON' }] }
  }
  const isDecision = typeof json === 'object' && json !== null && 'verification' in json
  const parsed = isDecision ? VeriffDecisionBody.safeParse(json) : VeriffEventBody.safeParse(json)
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })) }
  return { ok: true, webhook: isDecision ? { kind: 'decision', body: parsed.data as VeriffDecisionBody } : { kind: 'event', body: parsed.data as VeriffEventBody } }
}

export const VeriffSessionAnswer = z
  .object({
    verification: z.object({ id: z.string().min(1).max(100), url: z.url() }).loose(),
  })
  .loose()

export interface SessionRequest {
  /** our verification id, echoed back in every webhook */
  vendorData: string
  /** where the provider sends the subject when the flow ends */
  callback: string
}

/** Opens a session at the provider; throws UpstreamError on a refusal or an unreadable answer. */
export async function createVeriffSession(fetcher: typeof fetch, settings: VeriffSettings, input: SessionRequest): Promise<{ sessionId: string; url: string }> {
  const body = JSON.stringify({ verification: { callback: input.callback, vendorData: input.vendorData } })
  const res = await fetcher(`${settings.baseUrl.replace(/\/$/, '')}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [AUTH_CLIENT_HEADER]: settings.apiKey, [SIGNATURE_HEADER]: await veriffSignature(settings.sharedSecret, body) },
    body,
  })
  if (!res.ok) throw new UpstreamError(`provider refused the session (${res.status})`)
  const parsed = VeriffSessionAnswer.safeParse(await res.json().catch(() => null))
  if (!parsed.success) throw new UpstreamError('provider answered without verification.id and verification.url')
  return { sessionId: parsed.data.verification.id, url: parsed.data.verification.url }
}

export class UpstreamError extends Error {
  override name = 'UpstreamError'
}
