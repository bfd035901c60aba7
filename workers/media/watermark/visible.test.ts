import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import q0122 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import { decodeImage, type Pixels } from '../codecs'
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font'
import type { VisibleMark } from './mark-image'
import { drawVisibleMark, layoutVisibleMark } from './visible'

/** Bounding box of every pixel whose RGB differs, and how many differ. */
function changed(a: Pixels, b: Pixels): { count: number; minX: number; minY: number; maxX: number; maxY: number } {
  let count = 0
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity]
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const p = (y * a.width + x) * 4
      if (a.data[p] !== b.data[p] || a.data[p + 1] !== b.data[p + 1] || a.data[p + 2] !== b.data[p + 2]) {
        count++
        minX = Math.min(minX, x)
        minY = Math.min(minY, y)
        maxX = Math.max(maxX, x)
        maxY = Math.max(maxY, y)
      }
    }
  }
  return { count, minX, minY, maxX, maxY }
}

describe('visible mark', () => {
  const positions: Array<VisibleMark['position']> = ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'center']

  it.each(positions)('%s: changes pixels only inside the mark box, in that corner of the picture', async (position) => {
    const original = await decodeImage(bridge.slice().buffer, 'image/jpeg')
    const { pixels, box } = drawVisibleMark(original, { text: 'BoyFanz / @alex', position, opacity: 45 })
    expect(box).not.toBeNull()
    const diff = changed(original, pixels)
    expect(diff.count).toBeGreaterThan(500)
    // every changed pixel inside the box; the box inside the chosen quarter (or around the centre)
    expect(diff.minX).toBeGreaterThanOrEqual(box!.x)
    expect(diff.minY).toBeGreaterThanOrEqual(box!.y)
    expect(diff.maxX).toBeLessThan(box!.x + box!.width)
    expect(diff.maxY).toBeLessThan(box!.y + box!.height)
    const [w, h] = [original.width, original.height]
    const right = position.endsWith('right')
    const left = position.endsWith('left')
    const top = position.startsWith('top')
    const bottom = position.startsWith('bottom')
    if (right) expect(diff.minX).toBeGreaterThanOrEqual(w / 2)
    if (left) expect(diff.maxX).toBeLessThan(w / 2)
    if (top) expect(diff.maxY).toBeLessThan(h / 2)
    if (bottom) expect(diff.minY).toBeGreaterThanOrEqual(h / 2)
    if (position === 'center') expect([diff.minX < w / 2, diff.maxX >= w / 2, diff.minY < h / 2, diff.maxY >= h / 2]).toEqual([true, true, true, true])
    // text height scales with the picture: 3% of the shorter side, rounded to whole font units
    expect(box!.height).toBe((GLYPH_HEIGHT + 2) * Math.round((Math.min(w, h) * 0.03) / GLYPH_HEIGHT))
  })

  it('blends at the configured opacity: ink pixels move toward white in proportion', async () => {
    const original = await decodeImage(q0122.slice().buffer, 'image/jpeg')
    const faint = drawVisibleMark(original, { text: 'I', position: 'top-left', opacity: 20 })
    const strong = drawVisibleMark(original, { text: 'I', position: 'top-left', opacity: 100 })
    const layout = layoutVisibleMark(original.width, original.height, 'I', 'top-left')!
    // the first ink unit of 'I' is row 0, column 1 of the glyph; +1 unit for the outline border
    const x = layout.box.x + (1 + 1) * layout.scale
    const y = layout.box.y + 1 * layout.scale
    const p = (y * original.width + x) * 4
    const before = original.data[p]!
    expect(strong.pixels.data[p]).toBe(255)
    expect(faint.pixels.data[p]).toBe(Math.round(before + (255 - before) * 0.2))
    expect(changed(original, drawVisibleMark(original, { text: 'I', position: 'top-left', opacity: 0 }).pixels).count).toBe(0)
  })

  it('shrinks or truncates text that does not fit, and leaves pictures too small for a character unmarked', () => {
    const narrow: Pixels = { width: 120, height: 200, data: new Uint8ClampedArray(120 * 200 * 4).fill(128) }
    const layout = layoutVisibleMark(narrow.width, narrow.height, 'a-very-long-creator-handle.example', 'bottom-right')!
    expect(layout.scale).toBe(1)
    expect(layout.text.length).toBeLessThan(34)
    expect(layout.box.x + layout.box.width).toBeLessThanOrEqual(narrow.width)
    const tiny: Pixels = { width: 8, height: 8, data: new Uint8ClampedArray(8 * 8 * 4).fill(128) }
    const { pixels, box } = drawVisibleMark(tiny, { text: 'X', position: 'center', opacity: 100 })
    expect(box).toBeNull()
    expect(pixels.data).toEqual(tiny.data)
  })

  it('has a 5x7 glyph for every character templates may use, and draws others as ?', () => {
    for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@/.-_ ') expect(glyph(ch)).toHaveLength(GLYPH_WIDTH * GLYPH_HEIGHT)
    expect(glyph('♥')).toEqual(glyph('?'))
    // distinct letters look distinct (a copy-paste slip in the table would repeat a bitmap)
    const bitmaps = new Set([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@/.-_?'].map((ch) => glyph(ch).join('')))
    expect(bitmaps.size).toBe(68)
  })
})
