/**
 * RoutingStats: the payment router's memory (one object, `routing:global`): success-rate windows
 * per gateway and segment and the gateways' elimination breakers (workers/payments/routing/state.ts,
 * plain JSON). Checkout reads a snapshot; every gateway outcome is recorded here in order, so two
 * outcomes arriving at once cannot overwrite each other (a read-modify-write in one place).
 *
 * One object is a single writer for the whole platform: fine at today's volume (one small JSON
 * read per checkout, one write per outcome); shard by segment when it is not.
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { emptyRoutingState, parseRoutingState, recordOutcome, serialiseRoutingState } from '../workers/payments/routing'
import type { Outcome, RoutingConfig } from '../workers/payments/routing'

const KEY = 'state'

export class RoutingStats extends DurableObject<Env> {
  #state: string | undefined

  /** The current state as JSON (`parseRoutingState` reads it). */
  async snapshot(): Promise<string> {
    this.#state ??= (await this.ctx.storage.get<string>(KEY)) ?? serialiseRoutingState(emptyRoutingState())
    return this.#state
  }

  /** Records one attempt's outcome; `policyJson` is the routing config in force (window size, elimination). */
  async record(gateway: string, segment: string, outcome: Outcome, atMs: number, policyJson: string): Promise<void> {
    const policy = JSON.parse(policyJson) as RoutingConfig
    const next = serialiseRoutingState(recordOutcome(parseRoutingState(await this.snapshot()), gateway, segment, outcome, atMs, policy))
    this.#state = next
    await this.ctx.storage.put(KEY, next)
  }
}
