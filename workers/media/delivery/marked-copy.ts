/**
 * Per-viewer image copies. A viewer never receives the original: each delivered copy carries the
 * serial of its mark (invisible) and the brand/creator watermark (visible), and is made once per
 * serial, then kept in R2 at `mediaKeys.markedCopy(item, serial)`: re-encoding costs a few hundred
 * milliseconds of CPU per image, a second fetch of the same copy costs one R2 read.
 *
 * The source is the packager's display rendition when the item has one (`display_key`: images above
 * MAX_FINGERPRINT_PIXELS, whose original must never be decoded in a Worker), the original otherwise.
 * Such an original stays private: no delivery route serves it.
 * @module
 */
import { mediaKeys } from '../../../r2/keys'
import type { ImageMime } from '../codecs'
import { MAX_FINGERPRINT_PIXELS } from '../pdq/fingerprint'
import { markLayout } from '../watermark/key'
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
  const source = await sourceOf(env, item)
  const object = await env.MEDIA.get(source.key)
  if (!object) throw new Error(`the ${source.what} of media item ${item.id} is missing from R2 (${source.key})`)
  const visible = await visibleMarkFor(env, item.brandId, item.creatorId)
  const bytes = await markImageCopy(new Uint8Array(await object.arrayBuffer()), source.mime, { serial, visible }, await markLayout(env))
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

/**
 * What a copy is made from: the display rendition (JPEG) when there is one, else the original.
 * Read here, not in policy.ts's DeliveryItem, because only a copy not made yet needs it.
 */
async function sourceOf(env: Env, item: DeliveryItem): Promise<{ key: string; mime: ImageMime; what: 'display rendition' | 'original' }> {
  const row = await env.DB.prepare('SELECT display_key, width, height FROM media_items WHERE id = ?').bind(item.id).first<{ display_key: string | null; width: number | null; height: number | null }>()
  if (row?.display_key) return { key: row.display_key, mime: 'image/jpeg', what: 'display rendition' }
  if (!item.originalKey || !item.mime || !(IMAGE_MIMES as readonly string[]).includes(item.mime)) {
    // ingest records both before an item can reach a deliverable status: this is a broken row, not a client error
    throw new Error(`media item ${item.id} has no image original (key ${item.originalKey ?? 'none'}, type ${item.mime ?? 'none'})`)
  }
  // ingest never lets such an item out of processing without a rendition; decoding it would exhaust the isolate
  if (row?.width && row.height && row.width * row.height > MAX_FINGERPRINT_PIXELS) {
    throw new Error(`media item ${item.id} is ${row.width}x${row.height} and has no display rendition; its original is not decoded in a Worker`)
  }
  return { key: item.originalKey, mime: item.mime as ImageMime, what: 'original' }
}
