/**
 * Serving an R2 object with HTTP range requests (RFC 9110 §14): one range per request (a multi-range
 * request is answered with the whole object, which RFC 9110 allows), 206 with Content-Range, 416
 * with `Content-Range: bytes *\/size` when the range lies outside the object.
 * @module
 */

export type ByteRange = { offset: number; length: number } | 'unsatisfiable' | null

/** The single byte range a `Range` header asks for within `size` bytes; null = the whole object. */
export function parseRange(header: string | null | undefined, size: number): ByteRange {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match) return null // unknown unit, several ranges, or garbage: serve the whole object
  const [, first, last] = match
  if (first === '' && last === '') return null
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    const length = Math.min(suffix, size)
    return { offset: size - length, length }
  }
  const start = Number(first)
  if (start >= size) return 'unsatisfiable'
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (end < start) return null // syntactically invalid (last < first): ignore the header
  return { offset: start, length: end - start + 1 }
}

/**
 * A response with the object's bytes (or the requested range). `headers` are added to every answer
 * (content type, cache policy). Null when the object does not exist.
 */
export async function serveObject(bucket: R2Bucket, key: string, rangeHeader: string | undefined, headers: Record<string, string>): Promise<Response | null> {
  const head = await bucket.head(key)
  if (!head) return null
  const range = parseRange(rangeHeader, head.size)
  const base = new Headers({ ...headers, 'accept-ranges': 'bytes' })
  if (range === 'unsatisfiable') {
    base.set('content-range', `bytes */${head.size}`)
    return new Response(null, { status: 416, headers: base })
  }
  const object = await bucket.get(key, range ? { range } : undefined)
  if (!object) return null
  if (range) {
    base.set('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`)
    base.set('content-length', String(range.length))
    return new Response(object.body, { status: 206, headers: base })
  }
  base.set('content-length', String(head.size))
  return new Response(object.body, { status: 200, headers: base })
}
