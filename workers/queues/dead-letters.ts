import { deadLetters } from '../../d1/schema'
import { audit } from '../compliance/audit'
import { db } from '../lib/db'
import { newId } from '../lib/ids'

/**
 * Stores each dead message once (by queue message id) as an open case, audits it, and acks it.
 */
export async function recordDeadLetters(queue: string, messages: readonly Message<unknown>[], env: Env, reason = 'retries exhausted'): Promise<void> {
  const handle = db(env.DB)
  const now = Date.now()
  for (const message of messages) {
    const id = newId('deadLetter', now)
    const inserted = await handle
      .insert(deadLetters)
      .values({ id, queue: queue, messageId: message.id, bodyJson: JSON.stringify(message.body ?? null), attempts: message.attempts, receivedAtMs: now, resolution: null })
      .onConflictDoNothing({ target: deadLetters.messageId })
      .returning({ id: deadLetters.id })
    if (inserted.length) await audit({ env, actor: 'system:queues' }, 'queues.dead_letter.record', `dead_letter:${id}`, { queue: queue, message_id: message.id, attempts: message.attempts, reason })
    message.ack()
  }
}
