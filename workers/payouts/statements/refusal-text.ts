/**
 * Refusal codes (`payout_refusals.code`, recorded by the eligibility checks) in plain words for the
 * creator: what stopped the payout and what to do about it. The stored `detail` is for operators;
 * a code not listed here is shown with a generic sentence, never as a raw code alone.
 * @module
 */

const TEXT: Readonly<Record<string, string>> = {
  kyc_not_verified: 'Verify your identity to get paid.',
  kyc_expired: 'Your identity document has expired. Verify your identity again to get paid.',
  kyc_pending: 'Your identity check is still being reviewed. You will be paid once it is approved.',
  age_not_verified: 'Verify your age to get paid.',
  compliance_hold: 'Your payouts are paused while our team reviews your account. Contact support if you have questions.',
  no_method: 'Add a payout method to get paid.',
  method_cooling_off: 'Your new payout method is in its security waiting period. Payouts to it start when the waiting period ends.',
  method_removed: 'The payout method for this payout was removed. Choose another payout method.',
  below_minimum: 'Your available balance is below the minimum payout for your payout method.',
  above_maximum: 'The payout is above the maximum your payout method allows.',
  below_threshold: 'Your available balance has not reached the payout threshold you set.',
  not_due: 'Today is not one of your payout days.',
  not_scheduled: 'Today is not one of your payout days.',
  insufficient_funds: 'You have no available balance to pay out yet. New earnings become available after the pending period.',
  insufficient_available: 'You have no available balance to pay out yet. New earnings become available after the pending period.',
  reserve_held: 'Part of your balance is held in the rolling reserve and will be released later.',
  fee_exceeds_amount: 'Your available balance is smaller than the fee for your payout method.',
  payout_in_flight: 'A payout to you is already on its way.',
  rail_currency_unsupported: 'Your payout method does not pay out in this currency. Add a payout method for it.',
  instant_not_offered: 'Instant payouts are not offered for your payout method.',
  above_instant_limit: 'The amount is above the limit for instant payouts.',
}

export function refusalText(code: string): string {
  return TEXT[code] ?? 'Your payout could not be made this time. Contact support if this keeps happening.'
}
