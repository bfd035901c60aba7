/**
 * A tiny A/B rendition made by the packager's own ffmpeg arguments (scripts/packager/ffmpeg.mjs
 * `abArgs`, crf 34, no audio) from `testsrc2=size=96x64:rate=10:duration=20`: 10 segments of 2 s,
 * one init segment and playlist shared by both variants. 125 KB in all.
 * @module
 */
import a0 from './fixtures/a/00000.m4s?bytes'
import a1 from './fixtures/a/00001.m4s?bytes'
import a2 from './fixtures/a/00002.m4s?bytes'
import a3 from './fixtures/a/00003.m4s?bytes'
import a4 from './fixtures/a/00004.m4s?bytes'
import a5 from './fixtures/a/00005.m4s?bytes'
import a6 from './fixtures/a/00006.m4s?bytes'
import a7 from './fixtures/a/00007.m4s?bytes'
import a8 from './fixtures/a/00008.m4s?bytes'
import a9 from './fixtures/a/00009.m4s?bytes'
import b0 from './fixtures/b/00000.m4s?bytes'
import b1 from './fixtures/b/00001.m4s?bytes'
import b2 from './fixtures/b/00002.m4s?bytes'
import b3 from './fixtures/b/00003.m4s?bytes'
import b4 from './fixtures/b/00004.m4s?bytes'
import b5 from './fixtures/b/00005.m4s?bytes'
import b6 from './fixtures/b/00006.m4s?bytes'
import b7 from './fixtures/b/00007.m4s?bytes'
import b8 from './fixtures/b/00008.m4s?bytes'
import b9 from './fixtures/b/00009.m4s?bytes'
import init from './fixtures/init.mp4?bytes'
import playlist from './fixtures/playlist.m3u8?raw'
import { mediaKeys } from '../../../r2/keys'
import { sha256Hex } from '../../lib/encoding'
import { writeManifest } from './manifest'
import { neutralPlaylist } from './playlist'

export const FIXTURE = {
  init,
  playlist,
  a: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9],
  b: [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9],
  segments: 10,
  durationMs: 20_000,
  width: 96,
  height: 64,
}

/** Puts the fixture into R2 for `itemId` as the packager leaves a rendition: neutral playlist, init, both variants, digest manifest. */
export async function storeFixtureRendition(env: Env, itemId: string): Promise<void> {
  const neutral = neutralPlaylist(FIXTURE.playlist)
  if (!neutral.ok) throw new Error(neutral.message)
  await env.MEDIA.put(mediaKeys.hlsShared(itemId, 'playlist.m3u8'), neutral.playlist.text)
  await env.MEDIA.put(mediaKeys.hlsShared(itemId, 'init.mp4'), FIXTURE.init)
  for (let i = 0; i < FIXTURE.segments; i++) {
    await env.MEDIA.put(mediaKeys.hlsSegment(itemId, 'a', i), FIXTURE.a[i]!)
    await env.MEDIA.put(mediaKeys.hlsSegment(itemId, 'b', i), FIXTURE.b[i]!)
  }
  await writeManifest(env, itemId, {
    v: 1,
    segments: FIXTURE.segments,
    frames: 0,
    duration_ms: FIXTURE.durationMs,
    width: FIXTURE.width,
    height: FIXTURE.height,
    init_sha256: sha256Hex(FIXTURE.init),
    a: FIXTURE.a.map((b) => sha256Hex(b)),
    b: FIXTURE.b.map((b) => sha256Hex(b)),
    created_at_ms: Date.now(),
  })
}
