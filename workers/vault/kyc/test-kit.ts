/**
 * Test helpers for the KYC tests (imported by *.test.ts only): accounts, creator profiles, tokens,
 * and the sandbox provider's hosted flow driven as a browser would.
 * @module
 */
import { env } from 'cloudflare:workers'
import { call, cf, fetchWorker } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'

export const API = 'api.localhost'
export const PLATFORM = 'localhost'
export const BRAND_ID = 'brd_01JFANZ0000000000000000001'

export async function mint(body: { roles: Role[]; subject?: string; amr?: string[]; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** A token after a recent two-factor sign-in (passes VAULT_STEP_UP). */
export const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

/** A FanzSSO account with a creator profile, and a creator token for it. */
export async function newCreator(): Promise<{ userId: string; creatorId: string; email: string; token: string }> {
  const userId = newId('user')
  const creatorId = newId('creator')
  const email = `${userId.toLowerCase()}@example.com`
  const nowMs = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, email_verified_at_ms, password_hash, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)')
    .bind(userId, email, email, nowMs, 'Kyc Creator', nowMs, nowMs)
    .run()
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').bind(creatorId, BRAND_ID, creatorId.toLowerCase(), 'Kyc Creator', userId, nowMs).run()
  return { userId, creatorId, email, token: await mint({ roles: ['fan', 'creator'], subject: userId }) }
}

export interface Opened {
  verification: { id: string; status: string; reason: string | null; subject_id: string }
  url: string
}

export async function openOwnSession(token: string, creatorId: string, key = crypto.randomUUID()): Promise<Response> {
  return call(API, '/api/vault/kyc/sessions', { token, headers: { 'idempotency-key': `"${key}"` }, body: { subject_type: 'creator', subject_id: creatorId } })
}

export interface TestIdentity {
  firstName: string
  lastName: string
  dateOfBirth: string
  documentType?: 'PASSPORT' | 'ID_CARD' | 'DRIVERS_LICENSE'
  documentNumber: string
  documentCountry?: string
  validUntil: string
}

function platformRequest(path: string, body: BodyInit, contentType?: string): Promise<Response> {
  const headers = new Headers({ host: PLATFORM, origin: `http://${PLATFORM}`, 'sec-fetch-site': 'same-origin' })
  if (contentType) headers.set('content-type', contentType)
  return fetchWorker(new Request(`http://${PLATFORM}${path}`, { method: 'POST', headers, body, redirect: 'manual', cf: cf('US', 'CA') }))
}

/** The hosted flow: open the page, upload the ID with the identity typed, then the liveness button. */
export async function completeHostedFlow(url: string, identity: TestIdentity, image: Uint8Array): Promise<{ page: Response; document: Response; liveness: Response }> {
  const target = new URL(url)
  const page = await call(target.host, `${target.pathname}${target.search}`)
  const form = new FormData()
  form.set('s', target.searchParams.get('s') ?? '')
  for (const [k, v] of Object.entries({ documentType: 'PASSPORT', documentCountry: 'US', ...identity })) form.set(k, v)
  form.set('idFront', new File([image], 'front.png', { type: 'image/png' }))
  const document = await platformRequest('/sandbox-kyc/session/document', form)
  if (document.status !== 200) return { page, document, liveness: document }
  // the liveness form carries the identity back as hidden fields, as the browser would post them
  const html = await document.text()
  const fields = new URLSearchParams()
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"'))
  const liveness = await platformRequest('/sandbox-kyc/session/liveness', fields.toString(), 'application/x-www-form-urlencoded')
  return { page, document, liveness }
}

/** An ISO day `years` years and `days` days from now (negative = in the past). */
export function dayFromNow(years: number, days = 0): string {
  const d = new Date()
  d.setUTCFullYear(d.getUTCFullYear() + years)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** A PNG-looking image whose bytes carry a marker we can look for in R2. */
export function fakeImage(marker: string): Uint8Array {
  return new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new TextEncoder().encode(`${marker} `.repeat(64))])
}
