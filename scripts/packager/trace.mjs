/**
 * Reading which variant (A or B) each segment position of a leaked copy carries.
 *
 * - Byte-exact (a downloaded HLS rendition): the segment's SHA-256 equals the stored A or B
 *   object's (the manifest from `GET /api/media/hls/{id}/manifest`).
 * - Re-encoded (a re-mux or transcode, possibly downscaled): the B mark is a luma offset of +d on
 *   the left half of the picture and -d on the right (ffmpeg.mjs), so the mean left-minus-right luma
 *   difference over a segment's frames, compared with the same measure of the A and B reference
 *   segments, says which one the leak was made from: the nearest wins. The measure averages whole
 *   half-frames over two seconds, so it is insensitive to re-encoding noise, scaling, frame-rate
 *   changes and a global brightness shift; an observation too close to the midpoint is reported as
 *   unknown (an erasure) rather than guessed.
 * @module
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from './ffmpeg.mjs'

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

/**
 * Mean (left half - right half) luma over the frames of `file` (in 8-bit levels), optionally only the
 * window [start, start + duration) seconds.
 */
export async function halfDifference(file, { start, duration } = {}) {
  const window = start === undefined ? [] : ['-ss', String(start), ...(duration ? ['-t', String(duration)] : [])]
  const raw = await run('ffmpeg', ['-hide_banner', '-v', 'error', ...window, '-i', file, '-an', '-vf', 'format=gray16le,scale=2:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'gray16le', '-'])
  const frames = Math.floor(raw.length / 4)
  if (frames === 0) return null
  let sum = 0
  for (let i = 0; i < frames; i++) sum += raw.readUInt16LE(4 * i) - raw.readUInt16LE(4 * i + 2)
  return sum / frames / 256
}

/** Frames per second sampled by `windowHalfDifferences` (a constant rate makes frame k sit at k / rate seconds). */
export const SAMPLE_FPS = 10

/**
 * `halfDifference` of every `segmentSeconds` window of `file`, from one decode: window i covers
 * [i·s, (i+1)·s). Empty windows are null.
 */
export async function windowHalfDifferences(file, segmentSeconds) {
  const raw = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-an', '-vf', `fps=${SAMPLE_FPS},format=gray16le,scale=2:1:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'gray16le', '-'])
  const frames = Math.floor(raw.length / 4)
  const perWindow = SAMPLE_FPS * segmentSeconds
  const sums = []
  for (let k = 0; k < frames; k++) {
    const w = Math.floor(k / perWindow)
    sums[w] ??= { sum: 0, n: 0 }
    sums[w].sum += raw.readUInt16LE(4 * k) - raw.readUInt16LE(4 * k + 2)
    sums[w].n++
  }
  return Array.from(sums, (s) => (s && s.n ? s.sum / s.n / 256 : null))
}

/** The same measure for an fMP4 media segment, decoded after its init segment. */
export async function segmentHalfDifference(init, segment) {
  const dir = await mkdtemp(join(tmpdir(), 'leak-trace-'))
  try {
    const file = join(dir, 'segment.mp4')
    await writeFile(file, Buffer.concat([init, segment]))
    return await halfDifference(file)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Which reference the observed measure is nearest to; null when A and B are indistinguishable
 * here (a black or flat segment) or the observation sits near the midpoint.
 */
export function nearestVariant(observed, a, b) {
  if (observed === null || a === null || b === null) return null
  const separation = Math.abs(b - a)
  if (separation < 1) return null
  const toA = Math.abs(observed - a)
  const toB = Math.abs(observed - b)
  if (Math.abs(toA - toB) < 0.2 * separation) return null
  return toA < toB ? 'a' : 'b'
}
