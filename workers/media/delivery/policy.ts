/**
 * Who may receive a media item, decided once when a delivery URL is issued and re-checked, as far
 * as a bearer-less URL allows, every time its bytes are fetched.
 *
 * Issue time (a signed-in viewer):
 * 1. status: `published` for everyone; `in_review`, `approved`, `rejected` only as a preview for
 *    the item's creator and `media:read` holders; `removed` is 410 for all; anything else (uploading,
 *    processing, quarantined, failed) has nothing deliverable: 404 to fans, 409 naming the status to
 *    the creator and operators. Quarantined bytes (a hash-list match) are never delivered.
 * 2. the place: an operator rule blocking it, or the creator's geo-blocks -> 451 (the creator
 *    themself is exempt: it is their audience they hide from); then an age-verification law (or a
 *    fail-closed unknown place) without the token's `age_verified` claim -> the same 403 the brand
 *    proxy answers. 451s come first: verifying one's age would not open a blocked place.
 * 3. entitlement: the creator, a `media:read` holder, anyone for `public` items, or a fan whose
 *    subscription to the creator is still paid for (the rule the brand site shows as "Subscribed
 *    until": active, past due in its grace, or cancelled before the paid period ends).
 *
 * Fetch time (the token is the authorisation): the item must still be in a deliverable status, the
 * requesting place must not be blocked by the creator, and where an age-verification law applies
 * the URL must have been issued in that same country (the gate was applied then) or the request
 * must carry the viewer's own verified session.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv, AuthContext } from '../../edge/context'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { runningSubscription } from '../../site/fan-subscriptions'
import { holds } from '../../sso/roles/middleware'
import type { MediaKind, MediaStatus } from '../../../d1/schema'
import { geoBlockFor, type GeoBlockReason } from '../geo/regions'
import type { DeliveryClaims } from './token'

/** Statuses a creator or operator may preview; published is deliverable to every entitled viewer. */
export const PREVIEW_STATUSES: readonly MediaStatus[] = ['in_review', 'approved', 'rejected']
const SERVABLE_STATUSES: readonly MediaStatus[] = ['published', ...PREVIEW_STATUSES]

export interface DeliveryItem {
  id: string
  creatorId: string
  /** the creator profile's account; null when no account owns the profile */
  creatorUserId: string | null
  brandId: string
  brandSlug: string | null
  kind: MediaKind
  status: MediaStatus
  access: 'subscribers' | 'public'
  mime: string | null
  originalKey: string | null
  hlsSegments: number | null
}

export async function deliveryItem(env: Pick<Env, 'DB'>, itemId: string): Promise<DeliveryItem | null> {
  const row = await env.DB.prepare(
    `SELECT m.id, m.creator_id, c.user_id AS creator_user_id, m.brand_id, b.slug AS brand_slug, m.kind, m.status, m.access, m.mime, m.original_key, m.hls_segments
       FROM media_items m LEFT JOIN creators c ON c.id = m.creator_id LEFT JOIN brands b ON b.id = m.brand_id
      WHERE m.id = ?`,
  )
    .bind(itemId)
    .first<Record<string, unknown>>()
  if (!row) return null
  return {
    id: row.id as string,
    creatorId: row.creator_id as string,
    creatorUserId: (row.creator_user_id as string | null) ?? null,
    brandId: row.brand_id as string,
    brandSlug: (row.brand_slug as string | null) ?? null,
    kind: row.kind as MediaKind,
    status: row.status as MediaStatus,
    access: row.access as 'subscribers' | 'public',
    mime: (row.mime as string | null) ?? null,
    originalKey: (row.original_key as string | null) ?? null,
    hlsSegments: (row.hls_segments as number | null) ?? null,
  }
}

export type ViewerRole = 'creator' | 'operator' | 'viewer'

/** How the caller relates to the item: its creator, an operator who may read any item, or a viewer. */
export function viewerRole(auth: AuthContext, item: DeliveryItem): ViewerRole {
  if (item.creatorUserId !== null && item.creatorUserId === auth.subject) return 'creator'
  if (holds(auth, 'media:read', item.brandSlug)) return 'operator'
  return 'viewer'
}

const notFound = (itemId: string) => new ProblemError('NOT_FOUND', { detail: `no media item ${itemId}` })
const removed = () => new ProblemError('GONE', { detail: 'This media was removed and is no longer delivered.' })

/** Step 1 at issue time: throws unless the item's status lets `role` receive it. */
export function assertIssuable(item: DeliveryItem, role: ViewerRole): void {
  if (item.status === 'removed') throw removed()
  if (item.status === 'published') return
  const previewer = role === 'creator' || role === 'operator'
  if (previewer && PREVIEW_STATUSES.includes(item.status)) return
  if (previewer) throw new ProblemError('CONFLICT', { detail: `media item ${item.id} is ${item.status}: nothing can be delivered yet`, extensions: { status: item.status } })
  throw notFound(item.id)
}

/** At fetch time: a token outlives nothing but its item's deliverability. */
export function assertServable(item: DeliveryItem | null, itemId: string): asserts item is DeliveryItem {
  if (!item) throw notFound(itemId)
  if (item.status === 'removed') throw removed()
  if (!SERVABLE_STATUSES.includes(item.status)) throw notFound(itemId)
}

/** The same answer the brand proxy gives an unverified visitor in a gated place. */
function ageGateProblem(c: Context<AppEnv>): ProblemError {
  return new ProblemError('FORBIDDEN', {
    detail: 'age verification is required in your location before this content is served',
    extensions: { jurisdiction: c.var.jurisdiction.key, age_gate: '/' },
  })
}

function blockedPlace(): ProblemError {
  return new ProblemError('BLOCKED_JURISDICTION', { detail: 'This content is not available in your location.', extensions: { reason: 'jurisdiction_blocked' } })
}

/** An operator rule blocks the brand where the request comes from (only on brand hosts). */
export function assertPlaceNotBlocked(c: Context<AppEnv>): void {
  if (c.var.jurisdiction.blocked) throw blockedPlace()
}

/** Step 2 at issue time: an age-verification law where the viewer is needs the token's `age_verified` claim. */
export function assertAgeGate(c: Context<AppEnv>, auth: AuthContext): void {
  if (c.var.jurisdiction.gated && !auth.ageVerified) throw ageGateProblem(c)
}

/**
 * At fetch time, in a gated place, a URL is honoured when the viewer's age verification was valid
 * when it was issued (claim `a`), or when the request itself carries the viewer's verified session.
 * The country alone would not do: within one country a URL issued in an ungated state could be
 * followed in a gated one.
 */
export function assertAgeGateAtFetch(c: Context<AppEnv>, claims: DeliveryClaims): void {
  if (!c.var.jurisdiction.gated) return
  if (claims.a === 1) return
  const auth = c.var.auth
  const verifiedViewer = auth !== null && auth.subject === claims.u && auth.ageVerified
  if (!verifiedViewer) throw ageGateProblem(c)
}

/**
 * Step 2 (and at fetch time): the creator's geo-blocks for the place the request comes from. Hits
 * are counted, not audited: a refusal changes no state, the per-domain request analytics already
 * counts 451s by brand and country, and an audit entry per request would let any visitor grow the
 * hash-chained audit log at will. One log line names the creator and the rule that matched.
 */
export async function assertNotGeoBlocked(c: Context<AppEnv>, item: DeliveryItem, viewerId: string, stage: 'issue' | 'fetch'): Promise<void> {
  if (item.creatorUserId !== null && viewerId === item.creatorUserId) return
  const geo = c.var.geo
  const reason: GeoBlockReason | null = await geoBlockFor(c.env, item.creatorId, geo.country, geo.region)
  if (!reason) return
  log('info', c.var.config.logLevel, 'media_geo_block', { request_id: c.var.requestId, stage, item_id: item.id, creator_id: item.creatorId, country: geo.country, region: geo.region, match: reason })
  throw new ProblemError('BLOCKED_JURISDICTION', {
    detail: 'The creator does not make this media available in your location.',
    extensions: { reason: 'creator_geo_block', match: reason },
  })
}

/** Step 3: why the viewer may receive the item, or a 403 telling them to subscribe. */
export async function assertEntitled(env: Pick<Env, 'DB'>, item: DeliveryItem, auth: AuthContext, role: ViewerRole, nowMs: number): Promise<'creator' | 'operator' | 'public' | 'subscriber'> {
  if (role === 'creator' || role === 'operator') return role
  if (item.access === 'public') return 'public'
  if (await runningSubscription(env.DB, auth.subject, item.creatorId, nowMs)) return 'subscriber'
  throw new ProblemError('FORBIDDEN', { detail: "This media is for the creator's subscribers.", extensions: { reason: 'subscription_required', creator_id: item.creatorId } })
}
