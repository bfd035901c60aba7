/**
 * HTTP range and validator rules for served media (RFC 9110 §13.1.2, §13.1.5, §14). Hand-written:
 * Hono has no range support outside its Node/Bun static-file helpers, and R2's `range` option takes
 * an already-parsed range.
 * @module
 */

export type RangeDecision =
  /** serve the whole representation (no Range, or one this server ignores as RFC 9110 allows) */
  | { kind: 'full' }
  /** 206 with bytes start..end inclusive */
  | { kind: 'partial'; start: number; end: number }
  /** 416 with `Content-Range: bytes *\/size` */
  | { kind: 'unsatisfiable' }

const SPEC = /^(\d*)-(\d*)$/

/**
 * What to answer for `Range` over a representation of `size` bytes. One byte range is honoured:
 * `a-b`, `a-` and `-n`; a malformed header, another unit, or several ranges (a multipart/byteranges
 * answer buys a viewer nothing for one image) are ignored and the whole copy is served (§14.2).
 */
export function decideRange(header: string | null | undefined, size: number): RangeDecision {
  if (!header) return { kind: 'full' }
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header)
  if (!match) return { kind: 'full' }
  const specs = match[1]!.split(',').map((s) => s.trim()).filter(Boolean)
  if (specs.length !== 1) return { kind: 'full' }
  const parts = SPEC.exec(specs[0]!)
  if (!parts) return { kind: 'full' }
  const [, first, last] = parts as unknown as [string, string, string]
  if (first === '' && last === '') return { kind: 'full' }
  if (first === '') {
    // suffix range: the last n bytes; n = 0 selects nothing
    const n = Number(last)
    if (!Number.isSafeInteger(n)) return { kind: 'full' }
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Number(last)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { kind: 'full' }
  // last < first is a syntactically invalid range: ignore the header (§14.1.1)
  if (last !== '' && end < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: Math.min(end, size - 1) }
}

/** Entity tags in a list header (`If-None-Match`, `If-Match`), opaque-tag text without `W/`. */
function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .filter(Boolean)
}

/** `If-None-Match` matches `etag` (weak comparison, §13.1.2): the client's copy is current. */
export function noneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const mine = etag.replace(/^W\//, '')
  return tagsOf(header).includes(mine)
}

/**
 * `If-Range` lets the range through only when it names the current copy (strong comparison of an
 * entity tag, §13.1.5); a date or another tag means "send it all".
 */
export function ifRangeAllows(header: string | null | undefined, etag: string): boolean {
  if (!header) return true
  const value = header.trim()
  return !value.startsWith('W/') && !etag.startsWith('W/') && value === etag
}
