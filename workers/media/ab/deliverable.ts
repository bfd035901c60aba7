/**
 * Whether an A/B stream may still be delivered on a delivery token: checked on every playlist,
 * init and segment request, because a token lives minutes and an item can be removed (DMCA,
 * consent withdrawn) or geo-blocked by its creator in between. A token used in another country
 * than it was issued in is judged like an image URL: by the geo-blocks and the age gate there.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { assertAgeGateAtFetch, assertNotGeoBlocked, assertPlaceNotBlocked, assertServable, deliveryItem } from '../delivery/policy'
import type { DeliveryClaims } from '../delivery/token'
import { verifyDeliveryToken } from '../delivery/token'

export interface StreamItem {
  id: string
  creatorId: string
  hlsSegments: number
}

/**
 * The token's claims, or 404 for a link that is not a valid A/B link. A forged link is answered
 * like an unknown one (404, not 403): the URL is the only credential, and a bad one names nothing.
 */
export async function streamClaims(env: Pick<Env, 'SIGNING_MASTER_KEY'>, token: string): Promise<DeliveryClaims> {
  let claims: DeliveryClaims
  try {
    claims = await verifyDeliveryToken(env, token)
  } catch (error) {
    if (error instanceof ProblemError && error.code === 'FORBIDDEN') throw new ProblemError('NOT_FOUND', { detail: 'This media link is not valid.' })
    throw error
  }
  if (claims.k !== 'ab') throw new ProblemError('NOT_FOUND', { detail: 'This media link is not a video stream link.' })
  return claims
}

/**
 * The item behind a valid A/B token, if it may still be delivered where the viewer is now: the same
 * fetch-time checks as an image URL (workers/media/delivery/policy.ts: status, the platform's and the
 * creator's geo-blocks with unknown places failing closed, the age gate), plus a packaged stream.
 */
export async function deliverableStream(c: Context<AppEnv>, claims: DeliveryClaims): Promise<StreamItem> {
  const item = await deliveryItem(c.env, claims.i)
  assertServable(item, claims.i)
  if (item.kind !== 'video') throw new ProblemError('NOT_FOUND', { detail: 'No such video.' })
  if (!item.hlsSegments) throw new ProblemError('NOT_FOUND', { detail: 'This video has no stream yet.' })
  assertPlaceNotBlocked(c)
  await assertNotGeoBlocked(c, item, claims.u, 'fetch')
  assertAgeGateAtFetch(c, claims)
  return { id: item.id, creatorId: item.creatorId, hlsSegments: item.hlsSegments }
}
