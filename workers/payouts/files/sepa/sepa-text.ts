/**
 * The SEPA basic Latin character set (EPC implementation guidelines, "Character set"): a-z A-Z 0-9,
 * space and `/ - ? : ( ) . , ' +`. The EPC 2025 pain.001.001.09 XSD itself accepts any Unicode
 * text, so this rule is ours to enforce.
 *
 * Policy (decided here, one place):
 * - Free text (names, address parts, remittance) is CONVERTED: accents are stripped (NFD, combining
 *   marks dropped: "Müller" -> "Muller", the EPC best practice's first option), letters NFD does not
 *   decompose use the table below ("ß" -> "ss"), and XML/typographic punctuation maps to a near
 *   look-alike inside the set ("&" -> "+", "<" -> "(", `"` -> "'"). Anything still outside the set
 *   (Cyrillic, CJK, emoji, `@`, `%`, ...) is REFUSED rather than replaced by "." or dropped: a
 *   beneficiary name the bank cannot match (Verification of Payee) is worse than a refused file.
 * - Identifiers (MsgId, PmtInfId, EndToEndId) are never converted, only checked: a reference that
 *   changes on its way into the file no longer reconciles. EPC adds: no leading or trailing `/`,
 *   no `//`.
 * No installed library knows this set or the EPC conversions, hence hand-written.
 * @module
 */

const SEPA_CHARACTER = /^[A-Za-z0-9/\-?:().,'+ ]$/
const SEPA_TEXT = /^[A-Za-z0-9/\-?:().,'+ ]*$/

/** Letters Unicode NFD leaves whole, and punctuation outside the set, with their SEPA spelling. */
const CONVERSIONS: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'SS', Æ: 'AE', æ: 'ae', Œ: 'OE', œ: 'oe', Ø: 'O', ø: 'o', Ł: 'L', ł: 'l', Đ: 'D', đ: 'd', Ð: 'D', ð: 'd',
  Þ: 'TH', þ: 'th', Ħ: 'H', ħ: 'h', ı: 'i', Ŀ: 'L', ŀ: 'l',
  '&': '+', '<': '(', '>': ')', '"': "'", '[': '(', ']': ')', '{': '(', '}': ')', _: '-', ';': ',',
  '‘': "'", '’': "'", '‚': "'", '′': "'", '`': "'", '´': "'", '“': "'", '”': "'", '„': "'", '«': "'", '»': "'",
  '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '−': '-', '…': '...',
}

/** Tab, newline, no-break and other Unicode spaces become one plain space. */
const ANY_SPACE = /[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+/g

export type SepaTextResult = { ok: true; text: string } | { ok: false; character: string }

/** Converts free text to the SEPA set (trimmed, inner whitespace runs collapsed), or names the first character that has no conversion. */
export function toSepaText(value: string): SepaTextResult {
  const spaced = value.replace(ANY_SPACE, ' ').trim()
  let out = ''
  for (const ch of spaced) {
    if (SEPA_CHARACTER.test(ch)) {
      out += ch
      continue
    }
    const mapped = CONVERSIONS[ch]
    if (mapped !== undefined) {
      out += mapped
      continue
    }
    // strip accents: NFD splits "é" into "e" + U+0301, the combining marks are dropped
    const base = ch.normalize('NFD').replace(/\p{M}+/gu, '')
    if (base !== '' && SEPA_TEXT.test(base)) {
      out += base
      continue
    }
    return { ok: false, character: ch }
  }
  return { ok: true, text: out }
}

/** Why an identifier (MsgId, PmtInfId, EndToEndId) breaks the EPC rules, or null when it is fine. */
export function sepaIdentifierProblem(value: string): string | null {
  if (value.length < 1 || value.length > 35) return 'must be 1 to 35 characters'
  if (!SEPA_TEXT.test(value)) return "may only use the SEPA characters a-z A-Z 0-9 / - ? : ( ) . , ' + and space"
  if (value.startsWith('/') || value.endsWith('/')) return "must not start or end with '/'"
  if (value.includes('//')) return "must not contain '//'"
  if (value.trim() !== value) return 'must not start or end with a space'
  return null
}
