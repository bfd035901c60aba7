import { describe, expect, it } from 'vitest'
import { euroText, MAX_AMOUNT_MINOR } from './euro-amount'
import { sepaIdentifierProblem, toSepaText } from './sepa-text'
import { escapeXml } from './xml-escape'

describe('SEPA character set conversion', () => {
  it('keeps the basic Latin set as it is', () => {
    const all = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 /-?:().,'+"
    expect(toSepaText(all)).toEqual({ ok: true, text: all })
  })

  it('strips accents and spells out letters without a decomposition', () => {
    expect(toSepaText('Anna Müller')).toEqual({ ok: true, text: 'Anna Muller' })
    expect(toSepaText('François Élodie Ñúñez')).toEqual({ ok: true, text: 'Francois Elodie Nunez' })
    expect(toSepaText('Łódź Żółć')).toEqual({ ok: true, text: 'Lodz Zolc' })
    expect(toSepaText('Hauptstraße')).toEqual({ ok: true, text: 'Hauptstrasse' })
    expect(toSepaText('Ærøskøbing Œuvre Þór')).toEqual({ ok: true, text: 'AEroskobing OEuvre THor' })
    expect(toSepaText('Dvořák Škoda Ångström')).toEqual({ ok: true, text: 'Dvorak Skoda Angstrom' })
  })

  it('maps XML and typographic punctuation into the set', () => {
    expect(toSepaText(`Jansen & Zonen <B.V.> "x"`)).toEqual({ ok: true, text: "Jansen + Zonen (B.V.) 'x'" })
    expect(toSepaText('“quoted” – dash — O’Brien…')).toEqual({ ok: true, text: "'quoted' - dash - O'Brien..." })
    expect(toSepaText('a_b; c')).toEqual({ ok: true, text: 'a-b, c' })
  })

  it('turns any whitespace into single spaces and trims', () => {
    expect(toSepaText('  tab\there\nnew\u00a0line  ')).toEqual({ ok: true, text: 'tab here new line' })
  })

  it('refuses characters with no SEPA equivalent, naming the first one', () => {
    expect(toSepaText('Иван Петров')).toEqual({ ok: false, character: 'И' })
    expect(toSepaText('Tip 😀')).toEqual({ ok: false, character: '😀' })
    expect(toSepaText('a@b.example')).toEqual({ ok: false, character: '@' })
    expect(toSepaText('100%')).toEqual({ ok: false, character: '%' })
    expect(toSepaText('5 €')).toEqual({ ok: false, character: '€' })
    expect(toSepaText('王')).toEqual({ ok: false, character: '王' })
  })
})

describe('SEPA identifiers (MsgId, PmtInfId, EndToEndId)', () => {
  it('accepts 1-35 SEPA characters', () => {
    expect(sepaIdentifierProblem('PAYOUT-0001')).toBeNull()
    expect(sepaIdentifierProblem('A/B')).toBeNull()
    expect(sepaIdentifierProblem('x'.repeat(35))).toBeNull()
  })

  it('refuses slashes at the ends, double slashes, other characters and bad lengths', () => {
    expect(sepaIdentifierProblem('/ABC')).toBe("must not start or end with '/'")
    expect(sepaIdentifierProblem('ABC/')).toBe("must not start or end with '/'")
    expect(sepaIdentifierProblem('A//B')).toBe("must not contain '//'")
    expect(sepaIdentifierProblem('ID_1')).toMatch(/SEPA characters/)
    expect(sepaIdentifierProblem('Müller')).toMatch(/SEPA characters/)
    expect(sepaIdentifierProblem('')).toBe('must be 1 to 35 characters')
    expect(sepaIdentifierProblem('x'.repeat(36))).toBe('must be 1 to 35 characters')
    expect(sepaIdentifierProblem(' A')).toBe('must not start or end with a space')
  })
})

describe('XML escaping', () => {
  it('escapes all five predefined entities and nothing else', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f')
    expect(escapeXml('&amp;')).toBe('&amp;amp;')
    expect(escapeXml('Müller 123')).toBe('Müller 123')
  })
})

describe('euro amounts as decimal text', () => {
  it('prints cents with exactly two decimals', () => {
    expect(euroText(0n)).toBe('0.00')
    expect(euroText(1n)).toBe('0.01')
    expect(euroText(10n)).toBe('0.10')
    expect(euroText(100n)).toBe('1.00')
    expect(euroText(123456n)).toBe('1234.56')
    expect(euroText(BigInt(MAX_AMOUNT_MINOR))).toBe('999999999.99')
  })

  it('stays exact past 2^53 cents, where a number would not', () => {
    const sum = BigInt(MAX_AMOUNT_MINOR) * 100_000n
    expect(euroText(sum)).toBe('99999999999000.00')
    expect(Number.isSafeInteger(MAX_AMOUNT_MINOR * 100_000)).toBe(false)
    expect(() => euroText(-1n)).toThrow(RangeError)
  })
})
