/**
 * One packager job, by the `job` field of `GET /api/media/packager/jobs` (packageJob):
 * - `hls` (videos, packageItem): download the original through the API, run ffmpeg once for the A
 *   and B renditions and the keyframes (ffmpeg.mjs), check that both renditions share playlist and
 *   init segment, upload every file, then `complete`. Files go up one at a time: R2 allows about one
 *   write per second per key and the API checks each file's bytes, so parallel uploads buy little.
 * - `display` (images above the Worker's decode limit, packageDisplay): download the original, scale
 *   it to at most the job's `max_pixels` (a little under), upload the JPEG to `items/{id}/display`;
 *   the API hands it to ingest. Re-uploading the same bytes is answered 200, so a retry is safe.
 * @module
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectStatus } from './http.mjs'
import { abArgs, DISPLAY_MAX_PIXELS, makeDisplay, probe, run } from './ffmpeg.mjs'

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

/**
 * The rendition's pixel budget for a job: DISPLAY_MAX_PIXELS, or 1.25% under the job's `max_pixels`
 * when the API announces a smaller limit.
 * @param {{ max_pixels?: number | null }} job
 */
export function displayBudget(job) {
  return job.max_pixels ? Math.min(DISPLAY_MAX_PIXELS, Math.floor(job.max_pixels * 0.9875)) : DISPLAY_MAX_PIXELS
}

/**
 * Makes and uploads an image's display rendition.
 * @param {ReturnType<typeof import('./http.mjs').client>} api
 * @param {string} itemId
 * @param {{ maxPixels?: number, log?: (line: string) => void }} [options]
 */
export async function packageDisplay(api, itemId, { maxPixels = DISPLAY_MAX_PIXELS, log = () => {} } = {}) {
  const work = await mkdtemp(join(tmpdir(), `packager-${itemId}-`))
  try {
    const original = join(work, 'original')
    const res = expectStatus(await api('GET', `/api/media/packager/items/${itemId}/original`), [200], `download ${itemId}`)
    await writeFile(original, res.body)
    const output = join(work, 'display.jpg')
    const made = await makeDisplay(original, output, { maxPixels })
    log(`${itemId}: ${made.source.width}x${made.source.height} -> display ${made.width}x${made.height}`)
    const bytes = await readFile(output)
    const put = expectStatus(await api('PUT', `/api/media/packager/items/${itemId}/display`, { body: bytes, headers: { 'content-type': 'image/jpeg' } }), [200, 201], `upload the display rendition of ${itemId}`)
    return { width: made.width, height: made.height, bytes: bytes.length, replayed: put.status === 200 }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Runs one job from the jobs list by what it asks for; a job without `job` (an older API) is a video.
 * @param {ReturnType<typeof import('./http.mjs').client>} api
 * @param {{ id: string, job?: 'hls' | 'display', max_pixels?: number | null }} job
 * @param {{ segmentSeconds?: number, log?: (line: string) => void }} [options]
 */
export async function packageJob(api, job, options = {}) {
  if (job.job === 'display') return packageDisplay(api, job.id, { maxPixels: displayBudget(job), log: options.log })
  if (job.job !== undefined && job.job !== 'hls') throw new Error(`${job.id}: unknown job ${job.job}`)
  return packageItem(api, job.id, options)
}
