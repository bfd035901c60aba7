/**
 * The neutral media playlist (ETSI TS 104 002 §5.6.4.1: identical for every viewer, no A/B names).
 * The packager uploads the playlist ffmpeg wrote; it is checked and rewritten once, at upload, so
 * that its URIs are relative to the delivery path (`init.mp4`, `segments/{index:05}.m4s`) and the
 * stored bytes can be served as they are: only the token in the URL differs between viewers.
 * @module
 */
import { parse, stringify, types } from 'hls-parser'

export interface NeutralPlaylist {
  text: string
  segments: number
  durationMs: number
}

export type PlaylistCheck = { ok: true; playlist: NeutralPlaylist } | { ok: false; message: string }

export const segmentUri = (index: number): string => `segments/${String(index).padStart(5, '0')}.m4s`

export function neutralPlaylist(source: string): PlaylistCheck {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(source)
  } catch (error) {
    return { ok: false, message: `is not an HLS playlist (${error instanceof Error ? error.message : 'unparseable'})` }
  }
  if (parsed.isMasterPlaylist) return { ok: false, message: 'must be a media playlist, not a multivariant (master) playlist' }
  const media = parsed as InstanceType<typeof types.MediaPlaylist>
  if (media.segments.length === 0) return { ok: false, message: 'lists no segments' }
  if (media.segments.length > 99_999) return { ok: false, message: 'lists more than 99999 segments' }
  if (!media.endlist) return { ok: false, message: 'must be a complete (VOD) playlist ending with #EXT-X-ENDLIST' }
  let durationMs = 0
  for (const [index, segment] of media.segments.entries()) {
    if (!segment.map) return { ok: false, message: `segment ${index} has no #EXT-X-MAP (fMP4 init segment)` }
    if (segment.key) return { ok: false, message: 'must not be encrypted (#EXT-X-KEY)' }
    segment.uri = segmentUri(index)
    segment.map.uri = 'init.mp4'
    durationMs += Math.round(segment.duration * 1000)
  }
  return { ok: true, playlist: { text: stringify(media), segments: media.segments.length, durationMs } }
}
