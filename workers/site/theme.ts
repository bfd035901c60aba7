/**
 * A brand theme (four colours) becomes the CSS custom properties every page reads. The derived
 * colours (card surface, muted text, text on buttons) are computed here rather than with CSS
 * `color-mix()`, so every pair a page can show is checked against WCAG 2.1 AA (4.5:1) in code.
 * @module
 */
import type { Theme } from '../routing/brand-view'

/** The look of the non-brand surfaces: platform index, FanzSSO, FanzDash. */
export const PLATFORM_THEME: Theme = { primary: '#4338ca', accent: '#0f766e', background: '#ffffff', text: '#111827' }

export interface Palette {
  bg: string
  text: string
  primary: string
  accent: string
  /** cards and panels: the background tinted towards the primary colour */
  surface: string
  /** secondary text (meta lines, captions) */
  muted: string
  /** text and icons drawn on a primary-coloured fill (buttons, avatars) */
  onPrimary: string
  /** decorative rules and card borders (no contrast duty: they never carry meaning alone) */
  line: string
}

/** WCAG 2.1 AA minimum for normal-size text (SC 1.4.3). */
export const MIN_TEXT_CONTRAST = 4.5

function channels(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]
}

function toHex(rgb: number[]): string {
  return `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`
}

/** Relative luminance as WCAG 2.1 defines it. */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((v) => {
    const s = v / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

/** `weight` of `a` mixed into `b`, in sRGB. */
export function mix(a: string, b: string, weight: number): string {
  const ca = channels(a)
  const cb = channels(b)
  return toHex(ca.map((v, i) => v * weight + cb[i]! * (1 - weight)))
}

export function palette(theme: Theme): Palette {
  const bg = theme.background.toLowerCase()
  const text = theme.text.toLowerCase()
  const primary = theme.primary.toLowerCase()
  return {
    bg,
    text,
    primary,
    accent: theme.accent.toLowerCase(),
    surface: mix(primary, bg, 0.06),
    muted: mix(text, bg, 0.78),
    onPrimary: contrast(bg, primary) >= contrast(text, primary) ? bg : text,
    line: mix(text, bg, 0.16),
  }
}

/** Every foreground/background pair the stylesheet draws as text. */
const TEXT_PAIRS: Array<[keyof Palette, keyof Palette]> = [
  ['text', 'bg'],
  ['text', 'surface'],
  ['muted', 'bg'],
  ['muted', 'surface'],
  ['primary', 'bg'],
  ['primary', 'surface'],
  ['accent', 'bg'],
  ['onPrimary', 'primary'],
]

/** Pairs below 4.5:1, e.g. `primary on surface 3.2:1`; empty when the theme passes. */
export function contrastProblems(theme: Theme): string[] {
  const p = palette(theme)
  return TEXT_PAIRS.flatMap(([fg, bg]) => {
    const ratio = contrast(p[fg], p[bg])
    return ratio < MIN_TEXT_CONTRAST ? [`${fg} on ${bg} ${ratio.toFixed(2)}:1`] : []
  })
}

/** `:root{...}` for a `<style nonce>` block; the values are validated hex colours, safe to inline. */
export function themeCss(theme: Theme): string {
  const p = palette(theme)
  const dark = luminance(p.bg) < 0.2
  return `:root{color-scheme:${dark ? 'dark' : 'light'};--bg:${p.bg};--text:${p.text};--primary:${p.primary};--accent:${p.accent};--surface:${p.surface};--muted:${p.muted};--on-primary:${p.onPrimary};--line:${p.line}}`
}
