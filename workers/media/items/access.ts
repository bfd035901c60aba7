/**
 * Who may see or change a media item. Reading is for the item's creator or anyone holding
 * `media:read` (moderators, compliance, admins); changing is the creator's alone. Someone else's
 * item answers 404, as an unknown one would.
 * @module
 */
import type { RouteConfig } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { anyPermission, withAccess } from '../../sso/roles/access'
import { forbidden, holds } from '../../sso/roles/middleware'
import type { Permission } from '../../sso/roles/permissions'
import { creatorProfilesOf } from '../uploads/creator'

export const OWN: Permission = 'creator:content:write'
export const READ_ANY: Permission = 'media:read'

/** `route` open to creators (their own items) and `media:read` holders (any item). */
export const ownOrRead = <R extends Omit<RouteConfig, 'middleware'>>(route: R) => withAccess(anyPermission(OWN, READ_ANY), route)

export interface ItemRow {
  rowid: number
  id: string
  creator_id: string
  brand_id: string
  kind: 'image' | 'video'
  status: string
  access: 'subscribers' | 'public'
  title: string
  description: string
  tags_json: string
  mime: string | null
  size_bytes: number | null
  width: number | null
  height: number | null
  duration_ms: number | null
  original_key: string | null
  sha256: string | null
  md5: string | null
  pdq_hex: string | null
  pdq_quality: number | null
  status_reason: string | null
  created_at_ms: number
  updated_at_ms: number
  published_at_ms: number | null
  removed_at_ms: number | null
}

/** The creator ids the caller may act for (their profiles) and whether they read everything. */
export async function readerScope(c: Context<AppEnv>): Promise<{ creatorIds: string[]; readsAll: boolean }> {
  const auth = authenticated(c)
  const creatorIds = holds(auth, OWN) ? (await creatorProfilesOf(c)).map((p) => p.id) : []
  return { creatorIds, readsAll: holds(auth, READ_ANY) }
}

/** The item when the caller may read it (or, with `write`, change it); 404 otherwise. */
export async function visibleItem(c: Context<AppEnv>, itemId: string, options: { write?: boolean } = {}): Promise<ItemRow> {
  const row = await c.env.DB.prepare('SELECT rowid, * FROM media_items WHERE id = ?').bind(itemId).first<ItemRow>()
  if (row) {
    const scope = await readerScope(c)
    if (scope.creatorIds.includes(row.creator_id)) return row
    if (options.write && scope.readsAll) throw forbidden(OWN)
    if (!options.write && scope.readsAll) return row
  }
  throw new ProblemError('NOT_FOUND', { detail: `no media item ${itemId} for you` })
}
