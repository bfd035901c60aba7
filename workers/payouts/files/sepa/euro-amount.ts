/**
 * Euro minor units (cents) -> the pain.001 decimal text ("1244.57"), by integer arithmetic only.
 * BigInt rather than money-text.ts's `decimalFromMinor`: a control sum over many payments of up to
 * 999 999 999.99 each can pass 2^53 cents, where a number silently loses cents.
 * @module
 */

/** 0.01 EUR, the EPC minimum per transaction */
export const MIN_AMOUNT_MINOR = 1
/** 999 999 999.99 EUR, the EPC maximum per transaction */
export const MAX_AMOUNT_MINOR = 99_999_999_999

export function euroText(minor: bigint): string {
  if (minor < 0n) throw new RangeError('negative amount')
  const cents = minor % 100n
  return `${minor / 100n}.${cents < 10n ? '0' : ''}${cents}`
}
