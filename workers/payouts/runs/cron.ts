// SCAFFOLD: the daily payout run (rules -> eligibility -> payouts -> draft batches)
export async function payoutRunJob(_env: Env, _scheduledTimeMs: number): Promise<unknown> {
  return null
}
