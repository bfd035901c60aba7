/**
 * Finding the creditor reference in what the payer's bank passed on. Structured references
 * (`Strd/CdtrRefInf/Ref`) are taken as they are; free text is searched for `RF` followed by check
 * digits and up to 21 characters, the way fans type it: any case, with or without the spaces of the
 * printed groups of four, next to other words. Only candidates whose ISO 11649 check digits hold
 * are returned (longest first), so a typo in the reference is caught, not matched to someone else.
 * @module
 */
import { isCreditorReference } from './reference'

const MAX_REFERENCE = 25

/** Valid creditor references in one text, compact and upper case, longest first. */
export function referencesInText(value: string): string[] {
  const tokens = value.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean)
  const found: string[] = []
  tokens.forEach((token, i) => {
    if (!/^RF[0-9]{2}/.test(token)) return
    let candidate = ''
    for (let j = i; j < tokens.length && candidate.length + tokens[j]!.length <= MAX_REFERENCE; j++) {
      candidate += tokens[j]
      if (candidate.length >= 5 && isCreditorReference(candidate)) found.push(candidate)
    }
  })
  return [...new Set(found)].sort((a, b) => b.length - a.length)
}

/** All valid references of an entry: structured ones first, then any in the free text. */
export function referencesOf(entry: { structured: string[]; unstructured: string[] }): string[] {
  const structured = entry.structured.map((r) => r.replace(/\s+/g, '').toUpperCase()).filter(isCreditorReference)
  // a reference broken over two Ustrd lines is joined back before searching
  const free = [...entry.unstructured.flatMap(referencesInText), ...referencesInText(entry.unstructured.join(''))]
  return [...new Set([...structured, ...free])]
}
