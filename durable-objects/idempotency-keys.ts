/**
 * IdempotencyKeys: Idempotency-Key records of money-moving requests (IETF draft), strongly consistent per key (issue 4).
 * @module
 */
import { DurableObject } from 'cloudflare:workers'

export class IdempotencyKeys extends DurableObject<Env> {}
