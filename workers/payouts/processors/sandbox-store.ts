/**
 * The sandbox processor's memory in D1 (`sandbox_payout_transfers`), so the sandbox behaves the
 * same across isolates, queue deliveries and restarts of `npm start`: one row per store key
 * (`transfer:{idempotencyKey}`, `ref:{ref}`, `attempts:{idempotencyKey}`, and the per-payout
 * outcome a developer set, `directive:{payoutId}`). The table's key column is named for its main
 * use; it holds the whole store key.
 *
 * Sandbox only: nothing here is read in production (workers/payouts/processors/registry.ts).
 * @module
 */
import type { SandboxDirective, SandboxStore, SandboxTransfer } from './sandbox'

/** A `SandboxStore` over D1. Writes are upserts: the sandbox itself decides what may change. */
export function d1SandboxStore(db: D1Database): SandboxStore {
  return {
    async get(key) {
      const row = await db.prepare('SELECT json FROM sandbox_payout_transfers WHERE idempotency_key = ?').bind(key).first<{ json: string }>()
      return row?.json
    },
    async put(key, value) {
      await db.prepare('INSERT INTO sandbox_payout_transfers (idempotency_key, json) VALUES (?, ?) ON CONFLICT (idempotency_key) DO UPDATE SET json = excluded.json').bind(key, value).run()
    },
  }
}

const directiveKey = (payoutId: string) => `directive:${payoutId}`

/** Sets what the sandbox does with one payout (dev route and tests); replaces an earlier choice. */
export async function setSandboxOutcome(env: Env, payoutId: string, directive: SandboxDirective): Promise<void> {
  await d1SandboxStore(env.DB).put(directiveKey(payoutId), JSON.stringify(directive))
}

/** The outcome set for a payout, if any. */
export async function sandboxOutcome(env: Env, payoutId: string): Promise<SandboxDirective | undefined> {
  const raw = await d1SandboxStore(env.DB).get(directiveKey(payoutId))
  return raw === undefined ? undefined : (JSON.parse(raw) as SandboxDirective)
}

/** Every transfer the sandbox accepted (what "was paid" means in dev and tests). */
export async function sandboxTransfers(env: Env): Promise<SandboxTransfer[]> {
  const { results } = await env.DB.prepare("SELECT json FROM sandbox_payout_transfers WHERE idempotency_key LIKE 'transfer:%' ORDER BY idempotency_key").all<{ json: string }>()
  return results.map((r) => JSON.parse(r.json) as SandboxTransfer)
}

/** How many submits the sandbox received under one idempotency key (accepted or not). */
export async function sandboxSubmitCount(env: Env, idempotencyKey: string): Promise<number> {
  return Number((await d1SandboxStore(env.DB).get(`attempts:${idempotencyKey}`)) ?? '0')
}
