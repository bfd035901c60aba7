import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getSnapshot } from '../routing/snapshot'
import { contrast, contrastProblems, palette, PLATFORM_THEME } from './theme'

describe('theme contrast (WCAG 2.1 AA, 4.5:1)', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5)
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2)
  })

  it('passes for every seeded brand theme and the platform theme, in every pair the pages draw', async () => {
    const brands = [...(await getSnapshot(env.DB)).brands.values()]
    expect(brands).toHaveLength(5)
    for (const brand of brands) expect(contrastProblems(brand.theme), brand.slug).toEqual([])
    expect(contrastProblems(PLATFORM_THEME)).toEqual([])
  })

  it('reports a failing theme and picks the readable text colour for buttons', () => {
    const problems = contrastProblems({ primary: '#ffcc00', accent: '#ffee00', background: '#ffffff', text: '#111111' })
    expect(problems.find((p) => p.field === 'primary')?.pairs).toContain('primary on bg 1.51:1')
    expect(problems.find((p) => p.field === 'accent')?.pairs[0]).toMatch(/^accent on bg/)
    expect(palette({ primary: '#fca5a5', accent: '#fcd34d', background: '#0c0a09', text: '#fafaf9' }).onPrimary).toBe('#0c0a09')
  })
})
