import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import entry from '../index'
import { registerMessageHandler } from './index'

const worker: Pick<Required<ExportedHandler<Env>>, 'queue' | 'scheduled'> = entry

async function consume(queue: string, messages: Array<{ id: string; body: unknown; attempts?: number }>) {
  const batch = createMessageBatch(queue, messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })))
  const ctx = createExecutionContext()
  await worker.queue(batch, env, ctx)
  return getQueueResult(batch, ctx)
}

const openCases = async () => (await env.DB.prepare("SELECT message_id, queue, attempts FROM dead_letters WHERE status = 'open' ORDER BY message_id").all<{ message_id: string; queue: string; attempts: number }>()).results

describe('queue consumers', () => {
  it('records dead letters once each as open cases, and acks them', async () => {
    const result = await consume('fanz-payouts-dlq', [
      { id: 'msg-1', body: { type: 'payout.execute', id: 'pay_1', payload: {} }, attempts: 6 },
      { id: 'msg-2', body: { type: 'payout.execute', id: 'pay_2', payload: {} }, attempts: 6 },
    ])
    expect(result.explicitAcks.sort()).toEqual(['msg-1', 'msg-2'])
    await consume('fanz-payouts-dlq', [{ id: 'msg-1', body: { type: 'payout.execute', id: 'pay_1', payload: {} }, attempts: 6 }])
    expect(await openCases()).toEqual([
      { message_id: 'msg-1', queue: 'fanz-payouts-dlq', attempts: 6 },
      { message_id: 'msg-2', queue: 'fanz-payouts-dlq', attempts: 6 },
    ])
  })

  it('dispatches by message type, acks success and retries failure with backoff', async () => {
    const seen: unknown[] = []
    registerMessageHandler('test.echo', async (payload) => {
      seen.push(payload)
    })
    registerMessageHandler('test.flaky', async () => {
      throw new Error('upstream 503')
    })
    const result = await consume('fanz-media-ingest', [
      { id: 'ok-1', body: { type: 'test.echo', id: 'a', payload: { n: 1 } } },
      { id: 'bad-1', body: { type: 'test.flaky', id: 'b', payload: {} }, attempts: 3 },
    ])
    expect(seen).toEqual([{ n: 1 }])
    expect(result.explicitAcks).toEqual(['ok-1'])
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['bad-1'])
  })

  it('sends messages nobody can handle straight to a case instead of burning retries', async () => {
    const result = await consume('fanz-media-ingest', [
      { id: 'junk-1', body: 'not an envelope' },
      { id: 'junk-2', body: { type: 'nobody.handles.this', id: 'x', payload: {} } },
    ])
    expect(result.explicitAcks.sort()).toEqual(['junk-1', 'junk-2'])
    expect((await openCases()).map((c) => c.message_id)).toEqual(expect.arrayContaining(['junk-1', 'junk-2']))
  })
})
