/**
 * Decimal text <-> integer minor units for any ISO 4217 currency (bank statements carry every
 * currency a bank account can hold; the gateway money helpers know only the card gateways' list).
 * Exponents from payments/currencies.ts; no floats.
 * @module
 */
import { CURRENCY_EXPONENTS } from '../currencies'

/** "9.99" EUR -> 999; null when malformed, negative, or more decimals than the currency has (non-zero). */
export function minorFromDecimal(text: string, currency: string): number | null {
  const exponent = CURRENCY_EXPONENTS[currency]
  const match = /^(\d{1,15})(?:\.(\d{1,10}))?$/.exec(text.trim())
  if (exponent === undefined || !match) return null
  const fraction = match[2] ?? ''
  if (fraction.replace(/0+$/, '').length > exponent) return null
  const minor = Number(match[1] + fraction.padEnd(exponent, '0').slice(0, exponent))
  return Number.isSafeInteger(minor) ? minor : null
}

/** 999 EUR -> "9.99". */
export function decimalFromMinor(minor: number, currency: string): string {
  const exponent = CURRENCY_EXPONENTS[currency] ?? 2
  if (exponent === 0) return String(minor)
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0')
  return `${minor < 0 ? '-' : ''}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`
}
