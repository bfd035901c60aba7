// SCAFFOLD: the hash-list multi-index (MediaHub hash lists part)
import { DurableObject } from 'cloudflare:workers'

export class HashIndex extends DurableObject<Env> {}
