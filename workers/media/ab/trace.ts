/**
 * Tracing a leaked video copy back to the viewer it was delivered to: what variant (A or B) each
 * segment position of the leak carries is compared with the patterns of the marks issued for the
 * item (pattern.ts `attribute`). The route that takes leaks (`POST /api/media/leaks/video`) calls
 * `traceAbLeak`; scripts/leak-trace.mjs works out the observations from a leaked file.
 * @module
 */
import { readManifest } from './manifest'
import { attribute, decodePattern, patternDistance, type Observation } from './pattern'

export interface SegmentDigest {
  index: number
  sha256: string
}

export type AbLeakInput = Observation[] | { segments: SegmentDigest[] }

export interface AbTrace {
  serial: number
  /** the account the copy was delivered to (null: the serial is not an A/B mark of this item) */
  viewerId: string | null
  /** observed segments that disagree with the serial's pattern */
  distance: number
  /** how much closer the winner is than the runner-up (pattern.ts `Attribution.margin`) */
  margin: number
  confident: boolean
  /** segments whose variant was known */
  observed: number
  falseAccusationProbability: number
  decodedBy: 'reed-solomon+likelihood' | 'likelihood' | 'reed-solomon'
}

/**
 * Observations from segment digests: a digest equal to the stored A (B) object of that index is
 * an A (B) observation; a digest found at another index (a renumbered download) counts at the index
 * it was found at; an unknown digest (re-encoded, damaged) is an unknown variant at its index.
 */
export async function observationsFromDigests(env: Pick<Env, 'MEDIA'>, itemId: string, segments: readonly SegmentDigest[]): Promise<Observation[]> {
  const manifest = await readManifest(env, itemId)
  if (!manifest) return segments.map((s) => ({ index: s.index, variant: null }))
  const where = new Map<string, { index: number; variant: 'a' | 'b' }>()
  manifest.a.forEach((sha, index) => where.set(sha, { index, variant: 'a' }))
  manifest.b.forEach((sha, index) => {
    // identical A and B bytes (a segment the encoder could not vary) say nothing about the viewer
    if (manifest.a[index] === sha) where.delete(sha)
    else where.set(sha, { index, variant: 'b' })
  })
  return segments.map((s) => {
    const sha = s.sha256.toLowerCase()
    if (manifest.a[s.index] === sha && manifest.b[s.index] === sha) return { index: s.index, variant: null }
    if (manifest.a[s.index] === sha) return { index: s.index, variant: 'a' as const }
    if (manifest.b[s.index] === sha) return { index: s.index, variant: 'b' as const }
    return where.get(sha) ?? { index: s.index, variant: null }
  })
}

/** The viewer a leaked copy of `itemId` was delivered to, or null when nothing could be observed. */
export async function traceAbLeak(env: Env, itemId: string, observations: Observation[] | { segments: SegmentDigest[] }): Promise<AbTrace | null> {
  const observed = Array.isArray(observations) ? observations : await observationsFromDigests(env, itemId, observations.segments)
  const rows = await env.DB.prepare("SELECT serial, viewer_id FROM media_marks WHERE item_id = ? AND kind = 'ab'").bind(itemId).all<{ serial: number; viewer_id: string | null }>()
  const viewers = new Map(rows.results.map((r) => [r.serial, r.viewer_id]))
  const best = attribute(observed, [...viewers.keys()])
  if (best) {
    const { serial, distance, margin, confident, observed: count, falseAccusationProbability, decodedBy } = best
    return { serial, viewerId: viewers.get(serial) ?? null, distance, margin, confident, observed: count, falseAccusationProbability, decodedBy }
  }
  // no marks issued for this item: the code alone may still name a serial (not an accusation)
  const decoded = decodePattern(observed)
  if (!decoded.ok) return null
  const count = observed.filter((o) => o.variant !== null).length
  return { serial: decoded.serial, viewerId: null, distance: patternDistance(decoded.serial, observed), margin: 0, confident: false, observed: count, falseAccusationProbability: 1, decodedBy: 'reed-solomon' }
}
