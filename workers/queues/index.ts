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

/** The longest delay a queue message may be retried with (Cloudflare Queues: 12 hours). */
export const MAX_RETRY_DELAY_S = 43_200

/**
 * Thrown by a handler that knows when it should run again (a processor's Retry-After, its own
 * backoff schedule): the message is retried after `delaySeconds` instead of the default backoff.
 * Still counts as a failed attempt, so max_retries and the dead-letter queue apply as usual.
 */
export class RetryLater extends Error {
  readonly delaySeconds: number
  constructor(delaySeconds: number, message = `retry in ${delaySeconds} s`) {
    super(message)
    this.name = 'RetryLater'
    this.delaySeconds = Math.min(MAX_RETRY_DELAY_S, Math.max(0, Math.ceil(Number.isFinite(delaySeconds) ? delaySeconds : 0)))
  }
}

/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): a
 * uniform draw in [0, min(cap, base * 2^(attempt-1))]. Spreading retries over the whole window keeps
 * a burst of failures (a processor's outage) from coming back as a synchronized burst.
 */
export function fullJitterDelaySeconds(attempt: number, options: { baseS: number; capS: number; random?: () => number }): number {
  const n = Math.max(1, Math.floor(attempt))
  const ceiling = Math.min(options.capS, options.baseS * 2 ** Math.min(n - 1, 30))
  return Math.floor((options.random ?? Math.random)() * ceiling)
}

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
      // the handler's own delay when it names one, else full-jitter backoff capped at 15 minutes;
      // after max_retries the queue moves it to the DLQ
      const delaySeconds = err instanceof RetryLater ? err.delaySeconds : fullJitterDelaySeconds(message.attempts, { baseS: 10, capS: 900 })
      message.retry({ delaySeconds })
    }
  }
}
