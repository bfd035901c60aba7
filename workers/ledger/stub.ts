/**
 * The one way to reach a creator's ledger: `creator:<creatorId>` names the object (conventions.md §2).
 * @module
 */
import type { CreatorLedger } from '../../durable-objects/creator-ledger'

export function ledgerName(creatorId: string): string {
  return `creator:${creatorId}`
}

/** The `CreatorLedger` stub of `creatorId`. */
export function ledgerFor(env: Pick<Env, 'CREATOR_LEDGER'>, creatorId: string): DurableObjectStub<CreatorLedger> {
  return env.CREATOR_LEDGER.getByName(ledgerName(creatorId))
}
