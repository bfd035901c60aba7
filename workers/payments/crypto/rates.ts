/**
 * The sandbox processor's coins, its fixed rate table and its fake deposit addresses: deterministic,
 * so tests and screenshots show the same figures every run. Coin amounts are computed in integer
 * base units (BigInt), rounded up (the fan never sends less than the price), and printed as decimals.
 * @module
 */
import { sha256Hex } from '../../lib/encoding'
import { CURRENCY_EXPONENTS } from '../currencies'

export const SANDBOX_COINS = ['btc', 'eth', 'usdt', 'usdc'] as const
export type SandboxCoin = (typeof SANDBOX_COINS)[number]

/** Decimals the sandbox prices each coin in (ETH kept at 8, like NOWPayments' displayed amounts). */
export const COIN_DECIMALS: Readonly<Record<SandboxCoin, number>> = { btc: 8, eth: 8, usdt: 6, usdc: 6 }

export const COIN_NAMES: Readonly<Record<SandboxCoin, string>> = { btc: 'Bitcoin (BTC)', eth: 'Ether (ETH)', usdt: 'Tether (USDT, ERC-20)', usdc: 'USD Coin (USDC, ERC-20)' }

/** Price of one coin in the fiat currency, as a decimal string. Fixed: this is a sandbox. */
export const SANDBOX_RATES: Readonly<Record<string, Readonly<Record<SandboxCoin, string>>>> = {
  USD: { btc: '95000.00', eth: '3500.00', usdt: '1.00', usdc: '1.00' },
  EUR: { btc: '88000.00', eth: '3250.00', usdt: '0.93', usdc: '0.93' },
  GBP: { btc: '75000.00', eth: '2760.00', usdt: '0.79', usdc: '0.79' },
}

export function isSandboxCoin(value: string): value is SandboxCoin {
  return (SANDBOX_COINS as readonly string[]).includes(value)
}

function toUnits(decimal: string, exponent: number): bigint {
  const [whole = '0', fraction = ''] = decimal.split('.')
  return BigInt(whole + fraction.padEnd(exponent, '0').slice(0, exponent))
}

/** Base units -> decimal text without trailing zeros ("0.00010516", "9.99", "10"). */
export function unitsToDecimal(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '')
  return fraction ? `${whole}.${fraction}` : whole
}

/** The coin amount for a fiat price, in the coin's base units, rounded up. Null when the fiat has no rate. */
export function coinUnitsFor(priceMinor: number, fiat: string, coin: SandboxCoin): bigint | null {
  const rate = SANDBOX_RATES[fiat]?.[coin]
  const exponent = CURRENCY_EXPONENTS[fiat]
  if (!rate || exponent === undefined) return null
  const rateMinor = toUnits(rate, exponent)
  const numerator = BigInt(priceMinor) * 10n ** BigInt(COIN_DECIMALS[coin])
  return (numerator + rateMinor - 1n) / rateMinor
}

/** The fiat value of some coin units at the table's rate, in fiat minor units, rounded down. */
export function fiatMinorFor(units: bigint, fiat: string, coin: SandboxCoin): number {
  const rateMinor = toUnits(SANDBOX_RATES[fiat]![coin], CURRENCY_EXPONENTS[fiat]!)
  return Number((units * rateMinor) / 10n ** BigInt(COIN_DECIMALS[coin]))
}

/** A fake but well-shaped deposit address per invoice and coin (never a real wallet). */
export function sandboxDepositAddress(invoiceId: string, coin: SandboxCoin): string {
  const hex = sha256Hex(`fanz-sandbox-crypto:${invoiceId}:${coin}`)
  if (coin === 'btc') {
    // bech32 alphabet, testnet prefix: it looks like an address and can never receive real coins
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
    let out = 'tb1q'
    for (let i = 0; i < 38; i++) out += alphabet[parseInt(hex.slice(i, i + 2), 16) % 32]
    return out
  }
  return `0x${hex.slice(0, 40)}`
}
