import { deadLetters } from '../../d1/schema'
import { audit } from '../compliance/audit'
import { db } from '../lib/db'
import { newId } from '../lib/ids'

/**
 * What a subsystem does when one of its messages dies (registered by message type, like handlers):
 * e.g. a payout whose retries are exhausted is marked so the operator's case and the payout agree.
 * Runs on every delivery of the dead message, so it must be idempotent; if it throws, the dead
 * message is not acked and the dead-letter queue delivers it again.
 */
export type DeadLetterHook = (payload: unknown, env: Env, context: { queue: string; messageId: string; attempts: number; reason: string }) => Promise<void>

const deadLetterHooks = new Map<string, DeadLetterHook>()

export function registerDeadLetterHook(type: string, hook: DeadLetterHook): void {
  if (deadLetterHooks.has(type)) throw new Error(`duplicate dead-letter hook for ${type}`)
  deadLetterHooks.set(type, hook)
}

function envelopeOf(body: unknown): { type: string; payload: unknown } | null {
  if (body === null || typeof body !== 'object') return null
  const { type, payload } = body as { type?: unknown; payload?: unknown }
  return typeof type === 'string' ? { type, payload } : null
}

/**
 * Stores each dead message once (by queue message id) as an open case, audits it, runs the
 * message type's dead-letter hook, and acks it.
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
    const envelope = envelopeOf(message.body)
    const hook = envelope ? deadLetterHooks.get(envelope.type) : undefined
    if (hook) await hook(envelope!.payload, env, { queue, messageId: message.id, attempts: message.attempts, reason })
    message.ack()
  }
}
