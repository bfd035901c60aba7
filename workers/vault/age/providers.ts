/**
 * Age-verification providers. Each adapter opens a session for one method (the fan is sent to the
 * provider's hosted flow) and authenticates the result the provider posts back. The result we keep
 * is only {method, pass/fail, provider reference}: adapters never hand an image, a date of birth
 * or an estimated age to the rest of the platform.
 *
 * - `sandbox` (outside production): our own hosted pages at `/sandbox-age/*` (sandbox-provider.tsx).
 *   Its result callback is signed: header `fanz-av-signature: t=<unix seconds>,v1=<hex>` where
 *   v1 = HMAC-SHA256(secret, `${t}.${raw body}`), secret = derivedSecret(SIGNING_MASTER_KEY,
 *   'fanz/sandbox-age/v1'); refused when the timestamp is more than 5 minutes away. The start URL
 *   it is sent to carries an HMAC of its query so the sandbox only runs sessions we opened.
 * - `yoti` (configured with the `AGE_PROVIDERS` secret, `{"yoti":{"sdk_id":"…","api_key":"…"}}`):
 *   Yoti Age Verification (developers.yoti.com/age-verification): `POST /api/v1/sessions` with one
 *   method enabled (doc_scan, age_estimation, digital_id, credit_card) and its threshold, the user
 *   view at `https://age.yoti.com?sessionId=…&sdkId=…`, and a notification to `notification_url`.
 *   Yoti documents a `signature` field in that notification but we could not confirm its algorithm
 *   from the docs, so the body is never trusted: the notification URL carries our own HMAC of the
 *   verification id (checked in constant time) and the result is then read from Yoti's
 *   authenticated `GET /api/v1/sessions/{id}/result`.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { z } from 'zod'
import type { Config } from '../../config'
import { ProblemError } from '../../edge/problem'
import { base64url, timingSafeEqualText, utf8 } from '../../lib/encoding'
import { derivedSecret } from '../../lib/secret-box'
import type { SupportedMethod } from './methods'

export const PROVIDER_IDS = ['sandbox', 'yoti'] as const
export type ProviderId = (typeof PROVIDER_IDS)[number]

export const SIGNATURE_HEADER = 'fanz-av-signature'
export const SIGNATURE_TOLERANCE_S = 300

/** What a provider tells us, once authenticated: never more than this. */
export interface ProviderResult {
  /** our verification id (`avf_…`), sent to the provider as its reference */
  verificationId: string
  /** the provider's session reference */
  providerRef: string
  method: SupportedMethod
  outcome: 'pass' | 'fail' | 'error'
  /** the age the provider checked against (FAE: the challenge age) */
  threshold: number
}

export interface SessionRequest {
  verificationId: string
  method: SupportedMethod
  threshold: number
  /** where the provider sends the fan afterwards */
  returnUrl: string
}

// --- sandbox ---------------------------------------------------------------------------------

export function sandboxAgeSecret(config: Config): Promise<string> {
  return derivedSecret(config.signingMasterKey, 'fanz/sandbox-age/v1')
}

/** The body the sandbox posts: the whole result, nothing identifying. */
export const SandboxAgeResult = z
  .object({
    event_id: z.string().regex(/^sbx_avev_[A-Za-z0-9_-]{16}$/),
    session_id: z.string().regex(/^sbx_avs_[A-Za-z0-9_-]{16}$/),
    reference: z.string().regex(/^avf_[0-9A-HJKMNP-TV-Z]{26}$/),
    method: z.enum(['ID_DOC', 'FAE', 'CC', 'DIGITAL_ID']),
    outcome: z.enum(['pass', 'fail', 'error']),
    threshold: z.number().int().min(13).max(99),
    occurred_at: z.iso.datetime(),
  })
  .strict()
export type SandboxAgeResult = z.infer<typeof SandboxAgeResult>

function hmacHex(secret: string, message: string): string {
  return bytesToHex(hmac(sha256, utf8(secret), utf8(message)))
}

/** The signature header value for a raw body at `timestampS`. */
export function signAgeCallback(secret: string, rawBody: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, `${timestampS}.${rawBody}`)}`
}

/** Checks the signature on the exact bytes received (constant time); the reason when refused. */
export function verifyAgeCallback(secret: string, rawBody: string, header: string | undefined, nowS: number): { ok: true } | { ok: false; reason: string } {
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER}` }
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]))
  const t = parts.get('t')
  const v1 = parts.get('v1')
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, reason: 'malformed signature header' }
  if (Math.abs(nowS - Number(t)) > SIGNATURE_TOLERANCE_S) return { ok: false, reason: 'signature timestamp outside the tolerance' }
  if (!timingSafeEqualText(hmacHex(secret, `${t}.${rawBody}`), v1)) return { ok: false, reason: 'signature mismatch' }
  return { ok: true }
}

/** Signs the sandbox start URL's query (so the sandbox only runs sessions we opened). */
export async function sandboxStartUrl(config: Config, session: SessionRequest & { sessionId: string }): Promise<string> {
  const params = new URLSearchParams({ session: session.sessionId, ref: session.verificationId, method: session.method, threshold: String(session.threshold), return: session.returnUrl })
  params.set('sig', hmacHex(await sandboxAgeSecret(config), params.toString()))
  return `${config.issuer.replace('//sso.', '//')}/sandbox-age/start?${params.toString()}`
}

/** The start parameters when the query carries our valid signature. */
export async function verifySandboxStart(config: Config, query: string): Promise<URLSearchParams | null> {
  const params = new URLSearchParams(query)
  const sig = params.get('sig') ?? ''
  params.delete('sig')
  if (!/^[0-9a-f]{64}$/.test(sig)) return null
  return timingSafeEqualText(hmacHex(await sandboxAgeSecret(config), params.toString()), sig) ? params : null
}

// --- Yoti ------------------------------------------------------------------------------------

const YotiSettings = z.object({ sdk_id: z.string().min(1), api_key: z.string().min(1), base_url: z.url().default('https://age.yoti.com') })
type YotiSettings = z.infer<typeof YotiSettings>

export function yotiSettings(env: Env): YotiSettings | null {
  const raw = (env as unknown as { AGE_PROVIDERS?: string }).AGE_PROVIDERS
  if (!raw) return null
  const parsed = z.object({ yoti: YotiSettings.optional() }).safeParse(JSON.parse(raw))
  if (!parsed.success) throw new Error('AGE_PROVIDERS is not valid: expected {"yoti":{"sdk_id":"…","api_key":"…"}}')
  return parsed.data.yoti ?? null
}

/** Yoti's name for each of our methods in a session configuration and in results. */
const YOTI_METHOD = { ID_DOC: 'doc_scan', FAE: 'age_estimation', DIGITAL_ID: 'digital_id', CC: 'credit_card' } as const satisfies Record<SupportedMethod, string>
const YOTI_RESULT_METHOD: Record<string, SupportedMethod> = { DOC_SCAN: 'ID_DOC', AGE_ESTIMATION: 'FAE', DIGITAL_ID: 'DIGITAL_ID', CREDIT_CARD: 'CC' }

export async function yotiNotifyToken(config: Config, verificationId: string): Promise<string> {
  return base64url(hmac(sha256, utf8(await derivedSecret(config.signingMasterKey, 'fanz/age-yoti-notify/v1')), utf8(verificationId)))
}

export async function yotiCreateSession(settings: YotiSettings, config: Config, session: SessionRequest): Promise<{ providerRef: string; url: string }> {
  const notify = new URL(`${config.issuer.replace('//sso.', '//api.')}/api/vault/age/webhooks/yoti`)
  notify.search = new URLSearchParams({ ref: session.verificationId, token: await yotiNotifyToken(config, session.verificationId) }).toString()
  const res = await fetch(`${settings.base_url}/api/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${settings.api_key}`, 'yoti-sdk-id': settings.sdk_id, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'OVER',
      ttl: 900,
      reference_id: session.verificationId,
      notification_url: notify.toString(),
      callback: { auto: true, url: session.returnUrl },
      [YOTI_METHOD[session.method]]: { allowed: true, threshold: session.threshold, level: session.method === 'FAE' ? 'PASSIVE' : 'NONE' },
    }),
  })
  const body = z.object({ id: z.string().min(1) }).safeParse(await res.json().catch(() => null))
  if (!res.ok || !body.success) throw new ProblemError('UPSTREAM_ERROR', { detail: `the age-verification provider did not open a session (${res.status})` })
  const url = new URL(settings.base_url)
  url.search = new URLSearchParams({ sessionId: body.data.id, sdkId: settings.sdk_id }).toString()
  return { providerRef: body.data.id, url: url.toString() }
}

const YotiNotification = z.object({ session_key: z.string().min(1).max(100), reference_id: z.string() }).loose()
const YotiResult = z.object({ status: z.string(), method: z.string().optional(), reference_id: z.string().optional() }).loose()

/** Authenticates a Yoti notification (our URL token) and reads the result from Yoti itself. */
export async function yotiResult(settings: YotiSettings, config: Config, query: URLSearchParams, rawBody: string, expected: { method: SupportedMethod; threshold: number }): Promise<ProviderResult> {
  const ref = query.get('ref') ?? ''
  const token = query.get('token') ?? ''
  if (!timingSafeEqualText(await yotiNotifyToken(config, ref), token)) throw new ProblemError('SIGNATURE_INVALID', { detail: 'notification token mismatch' })
  let notification: z.infer<typeof YotiNotification>
  try {
    notification = YotiNotification.parse(JSON.parse(rawBody))
  } catch {
    throw new ProblemError('MALFORMED_BODY', { detail: 'not a Yoti age-verification notification' })
  }
  if (notification.reference_id !== ref) throw new ProblemError('SIGNATURE_INVALID', { detail: 'reference does not match the notification URL' })
  const res = await fetch(`${settings.base_url}/api/v1/sessions/${encodeURIComponent(notification.session_key)}/result`, {
    headers: { authorization: `Bearer ${settings.api_key}`, 'yoti-sdk-id': settings.sdk_id },
  })
  const result = YotiResult.safeParse(await res.json().catch(() => null))
  if (!res.ok || !result.success) throw new ProblemError('UPSTREAM_ERROR', { detail: `the provider's session result could not be read (${res.status})` })
  const method = YOTI_RESULT_METHOD[result.data.method ?? ''] ?? expected.method
  const section = (result.data as Record<string, unknown>)[YOTI_METHOD[method]] as { threshold?: unknown } | undefined
  const threshold = typeof section?.threshold === 'number' ? section.threshold : 0
  const outcome = result.data.status === 'COMPLETE' ? 'pass' : result.data.status === 'FAIL' ? 'fail' : 'error'
  return { verificationId: ref, providerRef: notification.session_key, method, outcome, threshold }
}
