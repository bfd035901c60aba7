/**
 * CreatorLedger: one per creator: a double-entry book of that creator's money (issue 4).
 * @module
 */
import { DurableObject } from 'cloudflare:workers'

export class CreatorLedger extends DurableObject<Env> {}
