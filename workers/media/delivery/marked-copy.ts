/**
 * Per-viewer image copies. A viewer never receives the original: each delivered copy carries the
 * serial of its mark (invisible) and the brand/creator watermark (visible), and is made once per
 * serial, then kept in R2 at `mediaKeys.markedCopy(item, serial)`: re-encoding costs a few hundred
 * milliseconds of CPU per image, a second fetch of the same copy costs one R2 read.
 * @module
 */
import { mediaKeys } from '../../../r2/keys'
import type { ImageMime } from '../codecs'
import { markImageCopy, visibleMarkFor } from '../watermark/mark-image'
import type { DeliveryItem } from './policy'

const IMAGE_MIMES: readonly ImageMime[] = ['image/jpeg', 'image/png']

/** Marked copies are JPEG whatever the original was (markImageCopy encodes JPEG). */
export const MARKED_COPY_TYPE = 'image/jpeg'

/** The stored copy carrying `serial` (made now if it does not exist yet). */
export async function markedCopy(env: Env, item: DeliveryItem, serial: number, nowMs = Date.now()): Promise<R2Object> {
  const key = mediaKeys.markedCopy(item.id, serial)
  const existing = await env.MEDIA.head(key)
  if (existing) return existing
  if (!item.originalKey || !item.mime || !(IMAGE_MIMES as readonly string[]).includes(item.mime)) {
    // ingest records both before an item can reach a deliverable status: this is a broken row, not a client error
    throw new Error(`media item ${item.id} has no image original (key ${item.originalKey ?? 'none'}, type ${item.mime ?? 'none'})`)
  }
  const original = await env.MEDIA.get(item.originalKey)
  if (!original) throw new Error(`the original of media item ${item.id} is missing from R2 (${item.originalKey})`)
  const visible = await visibleMarkFor(env, item.brandId, item.creatorId)
  const bytes = await markImageCopy(new Uint8Array(await original.arrayBuffer()), item.mime as ImageMime, { serial, visible })
  try {
    return await env.MEDIA.put(key, bytes, {
      httpMetadata: { contentType: MARKED_COPY_TYPE },
      customMetadata: { item_id: item.id, serial: String(serial), marked_at_ms: String(nowMs) },
    })
  } catch (err) {
    // two first fetches of one copy race to write the same key (R2 allows one write per second per
    // key): whichever copy landed carries the same serial, so it serves both
    const written = await env.MEDIA.head(key)
    if (written) return written
    throw err
  }
}
