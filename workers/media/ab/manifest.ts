/**
 * The packager's HLS manifest for an item, written once by `complete` next to the segments
 * (`mediaKeys.rendition(itemId, 'hls-manifest')`): how many segments and frames there are and the
 * SHA-256 of every A and B segment, so a byte-exact leak (a downloaded HLS rendition) is traced by
 * digest alone, without reading a segment again.
 * @module
 */
import { z } from 'zod'
import { mediaKeys } from '../../../r2/keys'

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/)

export const HlsManifest = z.object({
  v: z.literal(1),
  segments: z.number().int().positive(),
  frames: z.number().int().nonnegative(),
  duration_ms: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  init_sha256: Sha256Hex,
  /** index i -> SHA-256 of variant A / B of segment i */
  a: z.array(Sha256Hex),
  b: z.array(Sha256Hex),
  created_at_ms: z.number().int(),
})
export type HlsManifest = z.infer<typeof HlsManifest>

export const manifestKey = (itemId: string): string => mediaKeys.rendition(itemId, 'hls-manifest')

export async function readManifest(env: Pick<Env, 'MEDIA'>, itemId: string): Promise<HlsManifest | null> {
  const object = await env.MEDIA.get(manifestKey(itemId))
  if (!object) return null
  return HlsManifest.parse(await object.json())
}

export async function writeManifest(env: Pick<Env, 'MEDIA'>, itemId: string, manifest: HlsManifest): Promise<void> {
  await env.MEDIA.put(manifestKey(itemId), JSON.stringify(HlsManifest.parse(manifest)), { httpMetadata: { contentType: 'application/json' } })
}
