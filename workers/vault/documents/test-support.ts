/**
 * Test fixtures shared by the vault's tests (imported by *.test.ts only): tokens with a fresh
 * two-factor sign-in, subjects in D1, document bytes with real magic numbers, and upload/link calls.
 * @module
 */
import { env } from 'cloudflare:workers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import { call } from '../../../test/helpers'

export const API = 'api.localhost'
export const BRAND_ID = 'brd_01JFANZ0000000000000000001'
export const PURPOSE = { 'vault-purpose': 'kyc_review; note="checking the ID of a test creator"' }

export async function mint(body: { roles: Role[]; subject?: string; amr?: string[]; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** A token whose sign-in was two-factor and just now: passes VAULT_STEP_UP. */
export const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

export async function createCreator(userId: string | null = null): Promise<string> {
  const id = newId('creator')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(id, BRAND_ID, id.toLowerCase(), 'Vault Test', '', userId, Date.now())
    .run()
  return id
}

export async function createUser(): Promise<string> {
  const id = newId('user')
  const now = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(id, `${id}@example.com`, `${id}@example.com`, 'Vault User', now, now)
    .run()
  return id
}

export async function createPerformer(region: 'global' | 'eu', userId: string | null = null): Promise<string> {
  const id = newId('performer')
  const now = Date.now()
  await env.DB.prepare(
    'INSERT INTO performer_records (id, user_id, current_version, custodian_brand_id, data_region, created_at_ms, last_amended_at_ms, retain_until_ms) VALUES (?, ?, 1, ?, ?, ?, ?, ?)',
  )
    .bind(id, userId, BRAND_ID, region, now, now, now + 7 * 365 * 86_400_000)
    .run()
  return id
}

/** A JPEG-signed document whose text is easy to look for in ciphertext. */
export function jpeg(text = `PASSPORT P<USAEXAMPLE<<JANE ${crypto.randomUUID()}`): Uint8Array {
  const body = new TextEncoder().encode(text.repeat(20))
  const out = new Uint8Array(4 + body.length)
  out.set([0xff, 0xd8, 0xff, 0xe0])
  out.set(body, 4)
  return out
}

export const idempotencyKey = () => `"${crypto.randomUUID()}"`

export function upload(token: string, query: Record<string, string>, bytes: Uint8Array, contentType = 'image/jpeg', headers: Record<string, string> = {}) {
  return call(API, `/api/vault/documents?${new URLSearchParams(query)}`, {
    method: 'POST',
    token,
    headers: { 'content-type': contentType, 'idempotency-key': idempotencyKey(), ...headers },
    body: bytes,
  })
}

export async function uploaded(token: string, query: Record<string, string>, bytes: Uint8Array, contentType = 'image/jpeg'): Promise<{ id: string; size: number; sha256: string; region: string; retain_until: string | null; retention_basis: string | null }> {
  const res = await upload(token, query, bytes, contentType)
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`)
  return res.json()
}

/** Asks for a download link and returns its path (the host is api.localhost). */
export async function linkFor(token: string, id: string, purpose = PURPOSE): Promise<string> {
  const res = await call(API, `/api/vault/documents/${id}/download-link`, { method: 'POST', token, headers: purpose })
  if (res.status !== 201) throw new Error(`link failed: ${res.status} ${await res.text()}`)
  return new URL(((await res.json()) as { url: string }).url).pathname
}
