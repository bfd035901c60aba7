/**
 * WCAG 2.1 contrast for brand themes. A theme is refused unless body text is readable on the
 * background, and a button label (white or the background colour) is readable on the primary colour:
 * success criterion 1.4.3 (AA) asks 4.5:1 for normal-size text.
 * @module
 */

export const AA_NORMAL_TEXT = 4.5

/** Relative luminance of `#rrggbb` (WCAG 2.1 definition, sRGB). */
export function luminance(hex: string): number {
  const value = Number.parseInt(hex.slice(1), 16)
  const channel = (shift: number): number => {
    const c = ((value >> shift) & 0xff) / 255
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
}

/** Contrast ratio between two colours, 1 (none) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

export interface ThemeColours {
  primary: string
  accent: string
  background: string
  text: string
}

/** Each failing pair as `{ field, message }`; empty when the theme passes AA. */
export function themeContrastIssues(theme: ThemeColours): Array<{ field: keyof ThemeColours; message: string }> {
  const issues: Array<{ field: keyof ThemeColours; message: string }> = []
  const body = contrastRatio(theme.text, theme.background)
  if (body < AA_NORMAL_TEXT) {
    issues.push({ field: 'text', message: `text ${theme.text} on background ${theme.background} has contrast ${body.toFixed(2)}:1; WCAG 2.1 AA needs ${AA_NORMAL_TEXT}:1` })
  }
  // labels on primary buttons are drawn in white or in the background colour, whichever reads better
  const onPrimary = Math.max(contrastRatio('#ffffff', theme.primary), contrastRatio(theme.background, theme.primary))
  if (onPrimary < AA_NORMAL_TEXT) {
    issues.push({ field: 'primary', message: `neither white nor the background colour reaches ${AA_NORMAL_TEXT}:1 on primary ${theme.primary} (best ${onPrimary.toFixed(2)}:1)` })
  }
  return issues
}
