// SCAFFOLD: one resumable upload's state (MediaHub uploads part)
import { DurableObject } from 'cloudflare:workers'

export class MediaUpload extends DurableObject<Env> {}
