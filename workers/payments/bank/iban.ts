/**
 * Checks for the receiving-account details printed to fans: IBAN (ISO 13616 mod 97-10, with the
 * registry's length per country for the countries a FANZ receiving account can be in), BIC (ISO 9362)
 * and US ABA routing numbers (3-7-1 weighted checksum). `ibantools` is not installed here (payouts.md
 * names it); the IBAN check is small and has the spec's worked examples as tests.
 * @module
 */

/** IBAN lengths from the SWIFT IBAN registry for the account countries we accept; others: 15-34. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AT: 20, BE: 16, CH: 21, CY: 28, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18, FR: 27, GB: 22, GR: 27, HR: 21, IE: 22, IT: 27,
  LT: 20, LU: 20, LV: 21, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, SE: 24, SI: 19, SK: 24,
}

function mod97(alphanumeric: string): number {
  let remainder = 0
  for (const ch of alphanumeric) {
    const value = ch >= '0' && ch <= '9' ? ch : String(ch.charCodeAt(0) - 55)
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97
  }
  return remainder
}

export function compactIban(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase()
}

/** True for a well-formed IBAN (spaces allowed) whose check digits are right. */
export function isValidIban(value: string): boolean {
  const iban = compactIban(value)
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false
  const expected = IBAN_LENGTHS[iban.slice(0, 2)]
  if (expected !== undefined && iban.length !== expected) return false
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1
}

/** Groups of four, as printed on invoices. */
export function printedIban(value: string): string {
  return compactIban(value).replace(/(.{4})(?=.)/g, '$1 ')
}

/** 8 or 11 characters: business party prefix (4 letters or digits), country (2 letters), location (2), optional branch (3). */
export function isValidBic(value: string): boolean {
  // ISO 9362:2014 lets the business party prefix hold digits; the EPC 2025 pain.001 schema agrees ([A-Z0-9]{4})
  return /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(value)
}

/** ABA routing number: 9 digits, 3·d1 + 7·d2 + d3 + 3·d4 + … ≡ 0 (mod 10). */
export function isValidRoutingNumber(value: string): boolean {
  if (!/^[0-9]{9}$/.test(value)) return false
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1]
  let sum = 0
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * weights[i]!
  return sum % 10 === 0
}
