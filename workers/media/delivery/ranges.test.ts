import { describe, expect, it } from 'vitest'
import { decideRange, ifRangeAllows, noneMatchHits } from './ranges'

describe('decideRange (RFC 9110 §14)', () => {
  const size = 1000
  it.each([
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', { kind: 'partial', start: 100, end: 999 }],
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }],
    ['bytes=990-5000', { kind: 'partial', start: 990, end: 999 }],
    ['BYTES = 5-5', { kind: 'partial', start: 5, end: 5 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    // ignored, served whole: no header, another unit, malformed, reversed, several ranges
    [undefined, { kind: 'full' }],
    ['items=0-1', { kind: 'full' }],
    ['bytes=abc', { kind: 'full' }],
    ['bytes=-', { kind: 'full' }],
    ['bytes=50-10', { kind: 'full' }],
    ['bytes=0-1,5-9', { kind: 'full' }],
  ])('%s -> %o', (header, expected) => {
    expect(decideRange(header, size)).toEqual(expected)
  })

  it('nothing of an empty representation can be selected', () => {
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' })
    expect(decideRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' })
  })
})

describe('validators', () => {
  const etag = '"abc123"'
  it('If-None-Match: weak comparison, lists and *', () => {
    expect(noneMatchHits('"abc123"', etag)).toBe(true)
    expect(noneMatchHits('W/"abc123"', etag)).toBe(true)
    expect(noneMatchHits('"x", "abc123"', etag)).toBe(true)
    expect(noneMatchHits('*', etag)).toBe(true)
    expect(noneMatchHits('"abc124"', etag)).toBe(false)
    expect(noneMatchHits(undefined, etag)).toBe(false)
  })

  it('If-Range: only the same strong tag lets the range through', () => {
    expect(ifRangeAllows(undefined, etag)).toBe(true)
    expect(ifRangeAllows('"abc123"', etag)).toBe(true)
    expect(ifRangeAllows('W/"abc123"', etag)).toBe(false)
    expect(ifRangeAllows('"other"', etag)).toBe(false)
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false)
  })
})
