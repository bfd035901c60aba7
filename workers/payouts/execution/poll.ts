// SCAFFOLD: asks processors where submitted payouts stand (delayed settlement), every minute
export async function pollPayoutsJob(_env: Env, _nowMs: number): Promise<unknown> {
  return null
}
