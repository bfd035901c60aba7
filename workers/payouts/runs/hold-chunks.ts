/**
 * The `payout.run.holds` queue message: one chunk of a run's payouts whose ledger holds a consumer
 * places (runs/holds-consumer.ts). Envelope `{type: 'payout.run.holds', id: '<run id>:<first payout
 * id>', payload: {runId, payoutIds}}`.
 *
 * Why chunks carry explicit ids (not "the next 100 of the run"): a chunk is then exactly the same
 * work on every delivery, so a redelivered or duplicated chunk can only replay its own holds.
 *
 * Sending respects both Queues limits on one sendBatch: at most 100 messages and 256 KB in total
 * (a chunk of 100 payout ids is ~3.4 KB, so 100 of them would not fit; groups are cut by size).
 * @module
 */
import { z } from 'zod'
import type { QueueMessage } from '../../queues'

export const PAYOUT_RUN_HOLDS = 'payout.run.holds'

/**
 * payouts per message: ~0.9 s of ledger RPCs at 16 in flight; with the PAYOUTS consumer's
 * max_batch_size of 10 one invocation makes ~500 ledger calls plus D1 writes, under the 1,000
 * subrequests per invocation that older Workers plans allow
 */
export const HOLD_CHUNK_SIZE = 50
/** runs with at most this many payouts to hold place them inline (one invocation: ~3.5 s) */
export const INLINE_HOLDS_MAX = 200

/** Cloudflare Queues: per sendBatch call */
export const SEND_BATCH_MAX_MESSAGES = 100
export const SEND_BATCH_MAX_BYTES = 256 * 1024
/** headroom under the byte limit for the envelope the platform adds per message */
const PER_MESSAGE_OVERHEAD_BYTES = 512

export const RunHoldsPayload = z.object({
  runId: z.string().regex(/^prn_[0-9A-Z]{26}$/, 'a payout run id'),
  payoutIds: z.array(z.string().regex(/^po_[0-9A-Z]{26}$/, 'a payout id')).min(1).max(1000),
})
export type RunHoldsPayload = z.infer<typeof RunHoldsPayload>

/** The messages for `payoutIds`, `chunkSize` ids each, in the given order. */
export function holdChunkMessages(runId: string, payoutIds: readonly string[], chunkSize = HOLD_CHUNK_SIZE): QueueMessage[] {
  const size = Math.max(1, Math.min(1000, Math.floor(chunkSize)))
  const messages: QueueMessage[] = []
  for (let i = 0; i < payoutIds.length; i += size) {
    const ids = payoutIds.slice(i, i + size)
    messages.push({ type: PAYOUT_RUN_HOLDS, id: `${runId}:${ids[0]}`, payload: { runId, payoutIds: ids } satisfies RunHoldsPayload })
  }
  return messages
}

/** Groups `messages` into sendBatch calls within both limits. */
export function sendGroups(messages: readonly QueueMessage[]): QueueMessage[][] {
  const groups: QueueMessage[][] = []
  let group: QueueMessage[] = []
  let bytes = 0
  for (const m of messages) {
    const size = new TextEncoder().encode(JSON.stringify(m)).byteLength + PER_MESSAGE_OVERHEAD_BYTES
    if (group.length && (group.length >= SEND_BATCH_MAX_MESSAGES || bytes + size > SEND_BATCH_MAX_BYTES)) {
      groups.push(group)
      group = []
      bytes = 0
    }
    group.push(m)
    bytes += size
  }
  if (group.length) groups.push(group)
  return groups
}

/** Sends the run's chunks; returns how many messages went out. */
export async function sendHoldChunks(queue: Queue, runId: string, payoutIds: readonly string[], chunkSize = HOLD_CHUNK_SIZE): Promise<number> {
  const messages = holdChunkMessages(runId, payoutIds, chunkSize)
  for (const group of sendGroups(messages)) await queue.sendBatch(group.map((body) => ({ body, contentType: 'json' as const })))
  return messages.length
}
