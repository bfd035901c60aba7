/**
 * Key rotation runs: `rewrapBatch` (store.ts) repeated until no data key is left under an old KEK
 * version or the time budget is spent. Used by `POST /api/vault/keys/rewrap` and the hourly cron.
 * The Workers clock moves on I/O, and every batch does D1 I/O, so the budget is honoured.
 * @module
 */
import { vaultAuditAs } from '../access'
import { keyStatus, rewrapBatch } from '../store'

export const REWRAP_BATCH_SIZE = 200
/** the cron's share of its invocation: other hourly jobs run beside it */
export const CRON_REWRAP_BUDGET_MS = 20_000

export interface RewrapReport {
  active: string
  rewrapped: number
  remaining: number
  batches: number
  elapsed_ms: number
}

export async function rewrapUntilDone(env: Env, budgetMs: number, batchSize = REWRAP_BATCH_SIZE): Promise<RewrapReport> {
  const started = Date.now()
  const { active } = await keyStatus(env)
  let rewrapped = 0
  let batches = 0
  let remaining = 0
  for (;;) {
    const r = await rewrapBatch(env, batchSize)
    batches++
    rewrapped += r.rewrapped
    remaining = r.remaining
    // nothing moved (another run took them, or nothing to do): stop rather than spin
    if (remaining === 0 || r.rewrapped === 0 || Date.now() - started >= budgetMs) break
  }
  return { active, rewrapped, remaining, batches, elapsed_ms: Date.now() - started }
}

/** The hourly job: re-wraps what is left; audited when it changed something. A vault without keys has nothing to do. */
export async function rewrapJob(env: Env): Promise<RewrapReport | { skipped: 'VAULT_KEKS not set' }> {
  if (!(env as unknown as { VAULT_KEKS?: string }).VAULT_KEKS) return { skipped: 'VAULT_KEKS not set' }
  const report = await rewrapUntilDone(env, CRON_REWRAP_BUDGET_MS)
  if (report.rewrapped > 0) await vaultAuditAs({ env, actor: 'system:cron' }, 'vault.keys.rewrap', 'vault_keys', null, { ...report, trigger: 'cron' })
  return report
}
