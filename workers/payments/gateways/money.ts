/**
 * Exact conversion between integer minor units and the decimal strings gateways speak.
 * No floats anywhere: gateway amounts are parsed as digit strings and scaled by the
 * currency's ISO 4217 exponent (never a literal /100).
 */
import { CURRENCY_EXPONENTS } from '../currencies'

export interface Money {
  minor: number
  currency: string
}

interface CurrencyInfo {
  numeric: string
  exponent: number
}

/**
 * ISO 4217 numeric codes of the currencies the adult gateways settle in (CCBill speaks numeric
 * codes); the exponent of every currency comes from the one table in payments/currencies.ts.
 */
const NUMERIC: Record<string, string> = {
  USD: '840', EUR: '978', GBP: '826', CAD: '124', AUD: '036', CHF: '756', DKK: '208', NOK: '578', SEK: '752', JPY: '392', BHD: '048', KWD: '414',
}

export function currencyInfo(code: string): CurrencyInfo {
  const upper = code.toUpperCase()
  const numeric = NUMERIC[upper]
  const exponent = CURRENCY_EXPONENTS[upper]
  if (!numeric || exponent === undefined) throw new RangeError(`unsupported currency ${code}`)
  return { numeric, exponent }
}

export function isSupportedCurrency(code: string): boolean {
  return NUMERIC[code.toUpperCase()] !== undefined
}

export function currencyFromNumeric(numeric: string): string | null {
  const padded = numeric.trim().padStart(3, '0')
  for (const [code, numeric] of Object.entries(NUMERIC)) if (numeric === padded) return code
  return null
}

/**
 * Minor units -> decimal string. `decimals` overrides the currency exponent for gateways
 * that always print two places (CCBill prints JPY 1000 as "1000.00").
 */
export function formatMinor(money: Money, decimals = currencyInfo(money.currency).exponent): string {
  if (!Number.isSafeInteger(money.minor) || money.minor < 0) throw new RangeError('amount must be a non-negative safe integer')
  const exponent = currencyInfo(money.currency).exponent
  const digits = money.minor.toString().padStart(exponent + 1, '0')
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent)
  const fraction = exponent === 0 ? '' : digits.slice(-exponent)
  const shown = fraction.padEnd(decimals, '0')
  if (shown.length > decimals) throw new RangeError(`${money.currency} needs ${exponent} decimals`)
  return decimals === 0 ? whole : `${whole}.${shown}`
}

/**
 * Decimal string -> minor units. Extra fractional digits are accepted only when they are
 * zeros ("10.000" USD = 1000); anything that would need rounding is refused.
 */
export function parseDecimal(value: string, currency: string): Money | null {
  const text = value.trim()
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (!match) return null
  const [, sign, whole, fraction = ''] = match
  const code = currency.toUpperCase()
  if (!isSupportedCurrency(code)) return null
  const exponent = currencyInfo(code).exponent
  const significant = fraction.replace(/0+$/, '')
  if (significant.length > exponent) return null
  const minorText = (whole ?? '0') + fraction.padEnd(exponent, '0').slice(0, exponent)
  const minor = Number(minorText)
  if (!Number.isSafeInteger(minor)) return null
  // refunds/chargebacks sometimes arrive negative; the event type carries the direction
  void sign
  return { minor, currency: code }
}
