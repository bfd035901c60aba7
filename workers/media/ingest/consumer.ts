/**
 * Registers the `media.ingest` queue handler and its dead-letter hook at module load
 * (workers/media/queue-handlers.ts imports this). The work itself is ingest.ts.
 * @module
 */
import { log } from '../../edge/logger'
import { registerMessageHandler } from '../../queues'
import { registerDeadLetterHook } from '../../queues/dead-letters'
import { IngestPayload, ingestItem, markIngestExhausted, MEDIA_INGEST } from './ingest'

/** The queue handler: a malformed payload is logged and dropped (no deploy will understand it); errors throw and are retried. */
export async function handleMediaIngest(payload: unknown, env: Env): Promise<void> {
  const parsed = IngestPayload.safeParse(payload)
  if (!parsed.success) {
    log('warn', 'info', 'media_ingest_malformed', { issues: parsed.error.issues.map((i) => i.message).join('; ') })
    return
  }
  await ingestItem(env, parsed.data)
}

async function onDeadLetter(payload: unknown, env: Env, context: { messageId: string; attempts: number }): Promise<void> {
  const parsed = IngestPayload.safeParse(payload)
  if (parsed.success) await markIngestExhausted(env, parsed.data.itemId, context)
}

registerMessageHandler(MEDIA_INGEST, handleMediaIngest)
registerDeadLetterHook(MEDIA_INGEST, onDeadLetter)
