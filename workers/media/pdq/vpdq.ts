/**
 * Video matching over per-frame PDQ hashes, as Meta's vPDQ does (facebook/ThreatExchange vpdq):
 * both frame lists drop frames below a quality floor; a frame counts as matched when any frame of
 * the other video is within the distance; the result is the percentage of matched frames on each
 * side. A video matches when at least P % of the compared video's good frames have a match
 * (defaults: distance 31, quality 50, 80 %), which also lets a clip match the video it was cut
 * from when judged from the clip's side. Lists hashed at different frame rates (packager keyframes
 * against a 30 fps reference) are first put on one rate (`intervalMs`). Linear comparison (vPDQ's brute-force matcher): frame
 * lists are per video, hundreds to a few thousand frames.
 *
 * Hand-written: the reference is C++/Python only, and the comparison is a few loops.
 * @module
 */
import { hammingWords, isPdqHex, pdqWords } from './pdq'

export interface VideoFrameHash {
  /** 64 lowercase hex */
  pdqHex: string
  /** 0-100 PDQ quality of the frame */
  quality: number
  /** frame time from the start of the video, milliseconds */
  timeMs: number
}

export interface VideoMatchOptions {
  /** Hamming distance at or below which two frames match (default 31) */
  distance?: number
  /** frames below this quality are left out on both sides (default 50) */
  quality?: number
  /** percentage of the compared video's good frames that must match (default 80) */
  percent?: number
  /**
   * Put both lists on one frame rate first (one frame per interval, the frame nearest each tick),
   * as vPDQ expects both sides hashed with the same seconds-per-hash: 'coarser' takes the sparser
   * list's median frame interval. Without it a 1-frame-in-10 copy matches only the frames it kept
   * (43 % of the chair sample's frames), however faithful the copy.
   */
  intervalMs?: number | 'coarser'
}

export interface VideoComparison {
  /** % of the query's good frames with a match in the compared video */
  queryMatchPercent: number
  /** % of the compared video's good frames with a match in the query */
  comparedMatchPercent: number
  /** good-quality frames on each side */
  queryFrames: number
  comparedFrames: number
  /** comparedMatchPercent >= percent (and both sides had good frames) */
  match: boolean
}

export const VPDQ_DEFAULTS = { distance: 31, quality: 50, percent: 80 } as const

/**
 * Compares two videos' frame hashes.
 * @example
 * const { match, comparedMatchPercent } = compareVideos(uploadFrames, listedFrames)
 */
export function compareVideos(query: readonly VideoFrameHash[], compared: readonly VideoFrameHash[], options: VideoMatchOptions = {}): VideoComparison {
  const distance = options.distance ?? VPDQ_DEFAULTS.distance
  const quality = options.quality ?? VPDQ_DEFAULTS.quality
  const percent = options.percent ?? VPDQ_DEFAULTS.percent
  const interval = options.intervalMs === 'coarser' ? Math.max(medianIntervalMs(query), medianIntervalMs(compared)) : options.intervalMs
  const q = goodFrames(interval ? resampleFrames(query, interval) : query, quality)
  const c = goodFrames(interval ? resampleFrames(compared, interval) : compared, quality)
  const queryMatched = countMatched(q, c, distance)
  const comparedMatched = countMatched(c, q, distance)
  const queryMatchPercent = q.length ? (queryMatched * 100) / q.length : 0
  const comparedMatchPercent = c.length ? (comparedMatched * 100) / c.length : 0
  return {
    queryMatchPercent,
    comparedMatchPercent,
    queryFrames: q.length,
    comparedFrames: c.length,
    match: q.length > 0 && c.length > 0 && comparedMatchPercent >= percent,
  }
}

/** True when `query` matches `compared` (see compareVideos). */
export function videoMatches(query: readonly VideoFrameHash[], compared: readonly VideoFrameHash[], options: VideoMatchOptions = {}): boolean {
  return compareVideos(query, compared, options).match
}

/**
 * Parses vPDQ's text output: one frame per line, `frameNumber,quality,pdqHex,timestampSeconds`.
 * Throws on a malformed line (naming it), so a bad file is never half-read.
 */
export function parseVpdqText(text: string): VideoFrameHash[] {
  const frames: VideoFrameHash[] = []
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim()
    if (!line) continue
    const [frame, quality, hex, seconds, ...rest] = line.split(',')
    const q = Number(quality)
    const s = Number(seconds)
    const pdqHex = (hex ?? '').toLowerCase()
    if (rest.length || !/^\d+$/.test(frame ?? '') || !Number.isInteger(q) || q < 0 || q > 100 || !isPdqHex(pdqHex) || !Number.isFinite(s) || s < 0) {
      throw new SyntaxError(`vPDQ line ${n + 1} is not "frame,quality,pdqHex,seconds": ${line.slice(0, 120)}`)
    }
    frames.push({ pdqHex, quality: q, timeMs: Math.round(s * 1000) })
  }
  return frames
}

/** One frame per `intervalMs`: for each tick k * intervalMs, the frame nearest to it (in time order). */
export function resampleFrames(frames: readonly VideoFrameHash[], intervalMs: number): VideoFrameHash[] {
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`)
  const nearest = new Map<number, VideoFrameHash>()
  for (const frame of frames) {
    const tick = Math.round(frame.timeMs / intervalMs)
    const kept = nearest.get(tick)
    if (!kept || Math.abs(frame.timeMs - tick * intervalMs) < Math.abs(kept.timeMs - tick * intervalMs)) nearest.set(tick, frame)
  }
  return [...nearest.entries()].sort((a, b) => a[0] - b[0]).map(([, frame]) => frame)
}

/** Median gap between consecutive frame times (0 for fewer than two frames). */
export function medianIntervalMs(frames: readonly VideoFrameHash[]): number {
  const times = frames.map((f) => f.timeMs).sort((a, b) => a - b)
  const gaps = times.slice(1).map((t, i) => t - times[i]!).filter((g) => g > 0).sort((a, b) => a - b)
  return gaps.length ? gaps[gaps.length >> 1]! : 0
}

function goodFrames(frames: readonly VideoFrameHash[], minQuality: number): Uint32Array[] {
  const out: Uint32Array[] = []
  for (const frame of frames) if (frame.quality >= minQuality) out.push(pdqWords(frame.pdqHex))
  return out
}

function countMatched(side: Uint32Array[], other: Uint32Array[], distance: number): number {
  let matched = 0
  for (const a of side) {
    for (const b of other) {
      if (hammingWords(a, b) <= distance) {
        matched++
        break
      }
    }
  }
  return matched
}
