/**
 * Queue consumers by queue name. Main queues dispatch each message by its `type` to the handler a
 * subsystem registered; dead-letter queues record what exhausted its retries as an operator case.
 * @module
 */
import { z } from 'zod'
import { log } from '../edge/logger'
import { recordDeadLetters } from './dead-letters'

/** Every queue message is an envelope: a type the consumer dispatches on, and its payload. */
export const QueueMessage = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  payload: z.unknown(),
})
export type QueueMessage = z.infer<typeof QueueMessage>

export type MessageHandler = (payload: unknown, env: Env, message: Message<unknown>) => Promise<void>

const handlers = new Map<string, MessageHandler>()

/** Subsystems register their message types at module load (e.g. `media.ingest`, `payout.execute`). */
export function registerMessageHandler(type: string, handler: MessageHandler): void {
  if (handlers.has(type)) throw new Error(`duplicate queue message handler for ${type}`)
  handlers.set(type, handler)
}

export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith('-dlq')
}

export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (isDeadLetterQueue(batch.queue)) {
    await recordDeadLetters(batch.queue, batch.messages, env)
    return
  }
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body)
    const handler = parsed.success ? handlers.get(parsed.data.type) : undefined
    if (!parsed.success || !handler) {
      // Not retryable: no deploy of this version will understand it. Straight to the DLQ path by
      // exhausting retries would waste attempts, so record it now and ack.
      await recordDeadLetters(batch.queue, [message], env, parsed.success ? `no handler for type ${parsed.data.type}` : 'malformed envelope')
      continue
    }
    try {
      await handler(parsed.data.payload, env, message)
      message.ack()
    } catch (err) {
      log('warn', 'info', 'queue_message_failed', { queue: batch.queue, id: message.id, attempts: message.attempts, error: String(err) })
      // exponential backoff, capped at 15 minutes; after max_retries the queue moves it to the DLQ
      message.retry({ delaySeconds: Math.min(900, 2 ** message.attempts * 5) })
    }
  }
}
