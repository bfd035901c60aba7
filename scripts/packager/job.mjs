/**
 * Packaging one video: download the original through the API, run ffmpeg once for the A and B
 * renditions and the keyframes (ffmpeg.mjs), check that both renditions share playlist and init
 * segment, upload every file, then `complete`. Files go up one at a time: R2 allows about one write
 * per second per key and the API checks each file's bytes, so parallel uploads buy little here.
 * @module
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectStatus } from './http.mjs'
import { abArgs, probe, run } from './ffmpeg.mjs'

const pad = (n) => String(n).padStart(5, '0')

/**
 * @param {ReturnType<typeof import('./http.mjs').client>} api
 * @param {string} itemId
 * @param {{ segmentSeconds?: number, log?: (line: string) => void, keep?: boolean }} [options]
 */
export async function packageItem(api, itemId, { segmentSeconds = 2, log = () => {}, keep = false } = {}) {
  const work = await mkdtemp(join(tmpdir(), `packager-${itemId}-`))
  try {
    const original = join(work, 'original')
    const res = expectStatus(await api('GET', `/api/media/packager/items/${itemId}/original`), [200], `download ${itemId}`)
    await writeFile(original, res.body)
    const info = await probe(original)
    for (const dir of ['a', 'b', 'frames']) await mkdir(join(work, dir))
    log(`${itemId}: ${info.width}x${info.height}, ${info.durationMs} ms; encoding A and B`)
    await run('ffmpeg', abArgs(original, work, { segmentSeconds }))

    const playlistA = await readFile(join(work, 'a', 'playlist.m3u8'))
    const playlistB = await readFile(join(work, 'b', 'playlist.m3u8'))
    const initA = await readFile(join(work, 'a', 'init.mp4'))
    const initB = await readFile(join(work, 'b', 'init.mp4'))
    // a neutral playlist needs both renditions cut identically (same count, same durations)
    if (!playlistA.equals(playlistB)) throw new Error(`${itemId}: the A and B playlists differ; refusing to publish a stream whose variants do not line up`)
    if (!initA.equals(initB)) throw new Error(`${itemId}: the A and B init segments differ`)
    const segments = (await readdir(join(work, 'a'))).filter((f) => f.endsWith('.m4s')).sort()
    const segmentsB = (await readdir(join(work, 'b'))).filter((f) => f.endsWith('.m4s')).sort()
    if (segments.length !== segmentsB.length) throw new Error(`${itemId}: A has ${segments.length} segments, B ${segmentsB.length}`)
    const frames = (await readdir(join(work, 'frames'))).filter((f) => f.endsWith('.jpg')).sort()

    const put = async (path, file) => expectStatus(await api('PUT', `/api/media/packager/items/${itemId}/${path}`, { body: await readFile(file), headers: { 'content-type': 'application/octet-stream' } }), [201], `upload ${path}`)
    await put('hls/init.mp4', join(work, 'a', 'init.mp4'))
    await put('hls/playlist.m3u8', join(work, 'a', 'playlist.m3u8'))
    for (const [i, name] of segments.entries()) {
      if (name !== `${pad(i)}.m4s`) throw new Error(`${itemId}: unexpected segment name ${name}`)
      await put(`hls/a/${name}`, join(work, 'a', name))
      await put(`hls/b/${name}`, join(work, 'b', name))
    }
    for (const [i, name] of frames.entries()) await put(`frames/${pad(i)}.jpg`, join(work, 'frames', name))
    const body = { segments: segments.length, frames: frames.length, duration_ms: info.durationMs, width: info.width, height: info.height }
    expectStatus(await api('POST', `/api/media/packager/items/${itemId}/complete`, { body }), [200], `complete ${itemId}`)
    log(`${itemId}: ${segments.length} segments x 2 variants, ${frames.length} keyframes uploaded`)
    return { ...body, workDir: keep ? work : null }
  } finally {
    if (!keep) await rm(work, { recursive: true, force: true })
  }
}
