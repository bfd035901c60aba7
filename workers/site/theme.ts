/**
 * A brand theme (four colours) becomes the CSS custom properties every page reads. The derived
 * colours (card surface, muted text, text on buttons) are computed here rather than with CSS
 * `color-mix()`, so every pair a page can show is checked against WCAG 2.1 AA (4.5:1) in code.
 * @module
 */
import { AA_NORMAL_TEXT, contrastRatio as contrast, luminance, rgb as channels } from '../lib/contrast'
import type { Theme } from '../routing/brand-view'

export { contrast }

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

function toHex(values: number[]): string {
  return `#${values.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`
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

/** Which theme colour a drawn colour comes from: a failing pair is that colour's fault. */
const SOURCE: Record<keyof Palette, keyof Theme> = {
  bg: 'background',
  surface: 'background',
  line: 'background',
  text: 'text',
  muted: 'text',
  primary: 'primary',
  onPrimary: 'primary',
  accent: 'accent',
}

export interface ContrastProblem {
  field: keyof Theme
  /** e.g. `primary on surface 3.20:1` for each failing pair of that colour */
  pairs: string[]
}

/** Pairs below 4.5:1 grouped by the theme colour to change; empty when the theme passes. */
export function contrastProblems(theme: Theme): ContrastProblem[] {
  const p = palette(theme)
  const byField = new Map<keyof Theme, string[]>()
  for (const [fg, bg] of TEXT_PAIRS) {
    const ratio = contrast(p[fg], p[bg])
    if (ratio >= AA_NORMAL_TEXT) continue
    const field = SOURCE[fg]
    byField.set(field, [...(byField.get(field) ?? []), `${fg} on ${bg} ${ratio.toFixed(2)}:1`])
  }
  return [...byField].map(([field, pairs]) => ({ field, pairs }))
}

/** `:root{...}` for a `<style nonce>` block; the values are validated hex colours, safe to inline. */
export function themeCss(theme: Theme): string {
  const p = palette(theme)
  const dark = luminance(p.bg) < 0.2
  return `:root{color-scheme:${dark ? 'dark' : 'light'};--bg:${p.bg};--text:${p.text};--primary:${p.primary};--accent:${p.accent};--surface:${p.surface};--muted:${p.muted};--on-primary:${p.onPrimary};--line:${p.line}}`
}
