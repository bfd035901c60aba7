import { describe, expect, it } from 'vitest'
import { currencyFromNumeric, formatMinor, parseDecimal } from './money'

describe('money', () => {
  it('formats minor units by the currency exponent', () => {
    expect(formatMinor({ minor: 1000, currency: 'USD' })).toBe('10.00')
    expect(formatMinor({ minor: 5, currency: 'EUR' })).toBe('0.05')
    expect(formatMinor({ minor: 1500, currency: 'JPY' })).toBe('1500')
    expect(formatMinor({ minor: 1500, currency: 'JPY' }, 2)).toBe('1500.00')
    expect(formatMinor({ minor: 1234, currency: 'KWD' })).toBe('1.234')
  })

  it('parses decimal strings exactly, without floats', () => {
    expect(parseDecimal('19.99', 'USD')).toEqual({ minor: 1999, currency: 'USD' })
    expect(parseDecimal('0.29', 'usd')).toEqual({ minor: 29, currency: 'USD' })
    expect(parseDecimal('1500', 'JPY')).toEqual({ minor: 1500, currency: 'JPY' })
    expect(parseDecimal('1500.00', 'JPY')).toEqual({ minor: 1500, currency: 'JPY' })
    expect(parseDecimal('10.000', 'USD')).toEqual({ minor: 1000, currency: 'USD' })
    expect(parseDecimal('-4.95', 'USD')).toEqual({ minor: 495, currency: 'USD' })
  })

  it('refuses values that would need rounding or are not decimals', () => {
    expect(parseDecimal('10.001', 'USD')).toBeNull()
    expect(parseDecimal('1500.5', 'JPY')).toBeNull()
    expect(parseDecimal('1e3', 'USD')).toBeNull()
    expect(parseDecimal('ten', 'USD')).toBeNull()
    expect(parseDecimal('10.00', 'XXX')).toBeNull()
  })

  it('maps numeric ISO codes, zero-padded', () => {
    expect(currencyFromNumeric('840')).toBe('USD')
    expect(currencyFromNumeric('36')).toBe('AUD')
    expect(currencyFromNumeric('999')).toBeNull()
  })
})
