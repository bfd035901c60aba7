/**
 * Fixtures for the delivery and leak tests: creators with accounts, media items written straight
 * into D1 and R2 (uploads and ingest are other parts of MediaHub), subscriptions, tokens.
 * @module
 */
import { env } from 'cloudflare:workers'
import { mediaKeys } from '../../../r2/keys'
import { call, tokenFor } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import type { MediaStatus } from '../../../d1/schema'

export const API = 'api.localhost'
export const BOYFANZ = { id: 'brd_01JFANZ0000000000000000001', host: 'boyfanz.localhost' }

export interface TestCreator {
  id: string
  userId: string
  token: string
}

export async function createCreator(): Promise<TestCreator> {
  const id = newId('creator')
  const userId = newId('user')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(id, BOYFANZ.id, `c${id.slice(-10).toLowerCase()}`, 'Delivery Test Creator', '', userId, Date.now())
    .run()
  return { id, userId, token: await tokenFor(['creator', 'fan'], { subject: userId }) }
}

export async function viewer(roles: Role[] = ['fan'], extra: { age_verified?: boolean } = {}): Promise<{ userId: string; token: string }> {
  const userId = newId('user')
  return { userId, token: await tokenFor(roles, { subject: userId, ...extra }) }
}

export interface ItemOptions {
  status?: MediaStatus
  access?: 'subscribers' | 'public'
  kind?: 'image' | 'video'
  hlsSegments?: number | null
  /** the original's bytes (images); omitted: no original in R2 */
  original?: Uint8Array
  mime?: string
}

export async function createItem(creator: { id: string }, options: ItemOptions = {}): Promise<string> {
  const id = newId('mediaItem')
  const nowMs = Date.now()
  const kind = options.kind ?? 'image'
  const key = mediaKeys.original('boyfanz', creator.id, id)
  if (options.original) await env.MEDIA.put(key, options.original, { httpMetadata: { contentType: options.mime ?? 'image/jpeg' } })
  await env.DB.prepare(
    `INSERT INTO media_items (id, creator_id, brand_id, kind, status, access, title, mime, size_bytes, original_key, hls_segments, created_at_ms, updated_at_ms, published_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, 'test item', ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      creator.id,
      BOYFANZ.id,
      kind,
      options.status ?? 'published',
      options.access ?? 'subscribers',
      options.mime ?? (kind === 'image' ? 'image/jpeg' : 'video/mp4'),
      options.original?.length ?? 1000,
      key,
      options.hlsSegments ?? null,
      nowMs,
      nowMs,
      (options.status ?? 'published') === 'published' ? nowMs : null,
    )
    .run()
  return id
}

export async function setStatus(itemId: string, status: MediaStatus): Promise<void> {
  await env.DB.prepare('UPDATE media_items SET status = ?, updated_at_ms = ? WHERE id = ?').bind(status, Date.now(), itemId).run()
}

/** A subscription of `fanUserId` to the creator, paid until `periodEndMs`. */
export async function subscribe(fanUserId: string, creatorId: string, status: 'active' | 'past_due' | 'cancelled' | 'expired', periodEndMs: number): Promise<void> {
  const nowMs = Date.now()
  await env.DB.prepare(
    `INSERT INTO subscriptions (id, brand_id, creator_id, fan_user_id, gateway, initial_payment_id, price_minor, currency, period_days, status, current_period_end_ms, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, 'sandbox', ?, 999, 'USD', 30, ?, ?, ?, ?)`,
  )
    .bind(newId('subscription'), BOYFANZ.id, creatorId, fanUserId, newId('payment'), status, periodEndMs, nowMs, nowMs)
    .run()
}

export interface Issued {
  status: number
  body: { url?: string; expires_at?: string; kind?: string; item_id?: string; code?: string; detail?: string; reason?: string; match?: string }
  headers: Headers
}

/** POST /api/media/items/{id}/delivery as `token` from `place` (default US-CA, not gated). */
export async function issue(itemId: string, token: string | undefined, place: IncomingRequestCfProperties | undefined = undefined, host = API): Promise<Issued> {
  const res = await call(host, `/api/media/items/${itemId}/delivery`, { method: 'POST', token, ...(place ? { cf: place } : {}) })
  return { status: res.status, body: (await res.json()) as Issued['body'], headers: res.headers }
}

/** The path (with token) of an issued URL. */
export function pathOf(url: string): string {
  return new URL(url).pathname
}
