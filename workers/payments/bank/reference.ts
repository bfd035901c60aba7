/**
 * Bank-transfer pay-ins are matched by a structured creditor reference the fan quotes: ISO 11649
 * (`RF` + 2 check digits + up to 21 alphanumerics), which SEPA banks carry in `Strd/CdtrRefInf/Ref`
 * and validate at entry, so a mistyped reference is caught before the money leaves the fan's bank.
 * Derived from the payment id: the ULID's last 21 characters (the low half of its time part and
 * all 16 random characters; a monotonic ULID factory changes the LAST characters between ids made in
 * one millisecond, so a prefix would repeat). The unique index on `payments.bank_reference` guards
 * the improbable collision.
 * No maintained library computes ISO 11649 (ibantools does IBAN/BIC only); it is mod 97-10 as in IBANs.
 * @module
 */

/** ISO 7064 mod 97-10 over letters as numbers (A=10 .. Z=35), computed piecewise to stay in safe integers. */
function mod97(alphanumeric: string): number {
  let remainder = 0
  for (const ch of alphanumeric) {
    const value = /[0-9]/.test(ch) ? ch : String(ch.charCodeAt(0) - 55)
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97
  }
  return remainder
}

/** `RF..` for a body of 1-21 characters A-Z, 0-9. */
export function creditorReference(body: string): string {
  const upper = body.toUpperCase()
  if (!/^[A-Z0-9]{1,21}$/.test(upper)) throw new Error('a creditor reference body is 1 to 21 letters or digits')
  const check = 98 - mod97(`${upper}RF00`)
  return `RF${String(check).padStart(2, '0')}${upper}`
}

/** True for a well-formed ISO 11649 reference (spaces allowed, as printed in groups of four). */
export function isCreditorReference(value: string): boolean {
  const compact = value.replace(/\s+/g, '').toUpperCase()
  if (!/^RF[0-9]{2}[A-Z0-9]{1,21}$/.test(compact)) return false
  return mod97(`${compact.slice(4)}${compact.slice(0, 4)}`) === 1
}

/** The reference for a payment: `pay_` + ULID -> RF + check + the ULID's last 21 characters. */
export function bankReferenceFor(paymentId: string): string {
  const ulid = paymentId.replace(/^pay_/, '')
  return creditorReference(ulid.slice(-21))
}

/** Groups of four, as banks print it and fans type it. */
export function printedReference(reference: string): string {
  return reference.replace(/(.{4})(?=.)/g, '$1 ')
}
