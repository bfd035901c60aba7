/**
 * The visible watermark: a line of text (brand / creator handle) drawn in white with a dark outline
 * at a corner or the centre of the picture, blended at the configured opacity, scaled with the
 * picture. Hand-written on the embedded bitmap font (font.ts): the only Worker-side text renderer
 * brings 1.5 MB of WASM for what is a few hundred filled rectangles.
 * @module
 */
import type { Pixels } from '../codecs'
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font'
import type { VisibleMark } from './mark-image'

/** Text height as a share of the picture's shorter side. */
const TEXT_SHARE = 0.03
/** Margin to the picture's edges as a share of the shorter side. */
const MARGIN_SHARE = 0.02
/** The outline is drawn at this fraction of the text's opacity (it only needs to separate text from light backgrounds). */
const OUTLINE_STRENGTH = 0.6

/** Where a mark lands, in pixels (outline included). */
export interface MarkBox {
  x: number
  y: number
  width: number
  height: number
}

export interface MarkLayout {
  box: MarkBox
  /** pixels per font unit */
  scale: number
  /** the characters that fit */
  text: string
}

/** Where `text` goes on a `width` x `height` picture, or null when the picture is too small for one character. */
export function layoutVisibleMark(width: number, height: number, text: string, position: VisibleMark['position']): MarkLayout | null {
  const shorter = Math.min(width, height)
  const margin = Math.max(1, Math.round(shorter * MARGIN_SHARE))
  let scale = Math.max(1, Math.round((shorter * TEXT_SHARE) / GLYPH_HEIGHT))
  const chars = [...text]
  // cells are one unit wider than glyphs (the gap); the outline adds one unit on every side
  const widthOf = (n: number, s: number) => (n * (GLYPH_WIDTH + 1) + 1) * s
  while (scale > 1 && widthOf(chars.length, scale) + 2 * margin > width) scale--
  let count = chars.length
  while (count > 0 && widthOf(count, scale) + 2 * margin > width) count--
  const boxHeight = (GLYPH_HEIGHT + 2) * scale
  if (count === 0 || boxHeight + 2 * margin > height) return null
  const boxWidth = widthOf(count, scale)
  const left = position.endsWith('left') ? margin : position === 'center' ? Math.floor((width - boxWidth) / 2) : width - margin - boxWidth
  const top = position.startsWith('top') ? margin : position === 'center' ? Math.floor((height - boxHeight) / 2) : height - margin - boxHeight
  return { box: { x: left, y: top, width: boxWidth, height: boxHeight }, scale, text: chars.slice(0, count).join('') }
}

/** A copy of `pixels` with `mark` drawn on it, and where it landed (null: too small, left unmarked). */
export function drawVisibleMark(pixels: Pixels, mark: VisibleMark): { pixels: Pixels; box: MarkBox | null } {
  const data = new Uint8ClampedArray(pixels.data)
  const layout = layoutVisibleMark(pixels.width, pixels.height, mark.text, mark.position)
  const alpha = Math.max(0, Math.min(100, mark.opacity)) / 100
  if (!layout || alpha === 0) return { pixels: { width: pixels.width, height: pixels.height, data }, box: layout?.box ?? null }
  const { box, scale, text } = layout
  // ink and outline on the font-unit grid: one unit of border round the text line
  const unitsWide = box.width / scale
  const unitsHigh = box.height / scale
  const ink = new Uint8Array(unitsWide * unitsHigh)
  ;[...text].forEach((ch, i) => {
    const bits = glyph(ch)
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (bits[gy * GLYPH_WIDTH + gx]) ink[(gy + 1) * unitsWide + 1 + i * (GLYPH_WIDTH + 1) + gx] = 1
      }
    }
  })
  const outline = new Uint8Array(unitsWide * unitsHigh)
  for (let uy = 0; uy < unitsHigh; uy++) {
    for (let ux = 0; ux < unitsWide; ux++) {
      if (ink[uy * unitsWide + ux]) continue
      search: for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const ny = uy + dy
          const nx = ux + dx
          if (ny >= 0 && ny < unitsHigh && nx >= 0 && nx < unitsWide && ink[ny * unitsWide + nx]) {
            outline[uy * unitsWide + ux] = 1
            break search
          }
        }
      }
    }
  }
  const dark = 1 - alpha * OUTLINE_STRENGTH
  for (let y = 0; y < box.height; y++) {
    const uy = Math.floor(y / scale)
    for (let x = 0; x < box.width; x++) {
      const unit = uy * unitsWide + Math.floor(x / scale)
      const p = ((box.y + y) * pixels.width + box.x + x) * 4
      if (ink[unit]) {
        for (let c = 0; c < 3; c++) data[p + c] = data[p + c]! + (255 - data[p + c]!) * alpha
      } else if (outline[unit]) {
        for (let c = 0; c < 3; c++) data[p + c] = data[p + c]! * dark
      }
    }
  }
  return { pixels: { width: pixels.width, height: pixels.height, data }, box }
}
