/**
 * Escapes text for an XML element or a double-quoted attribute. All five predefined entities are
 * written, so the result is safe in either place whatever the caller's character policy (the SEPA
 * conversion in sepa-text.ts already keeps `& < > "` out of pain.001 text; `'` stays and is escaped).
 * @module
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!)
}
