import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import entry from '../../index'
import type { Role } from '../../edge/roles'
import { ledgerFor } from '../../ledger/stub'
import { newId } from '../../lib/ids'
import { submitBatch } from '../batches/submit'
import { sandboxTransfers, setSandboxOutcome } from '../processors/sandbox-store'
import { executePayout } from './consumer'
import { batchOf, fundedCreator, recordingQueue } from './fixtures'

const API = 'api.localhost'
const worker: Pick<Required<ExportedHandler<Env>>, 'queue'> = entry

async function mint(body: { roles: Role[]; amr?: string[]; subject?: string }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}
const strong = (roles: Role[]) => mint({ roles, amr: ['pwd', 'otp', 'mfa'], subject: newId('user') })
const key = () => `"${crypto.randomUUID()}"`

/** A payout submitted (queued) in its own batch, its message captured rather than delivered. */
async function queuedPayout(rail: 'paxum' | 'wise' = 'paxum', amountMinor = 8_000) {
  const creator = await fundedCreator(env, rail, 20_000)
  const { batchId, payouts } = await batchOf(env, rail, [{ creator, amountMinor, feeMinor: 100 }])
  const { queue } = recordingQueue()
  await submitBatch({ ...env, PAYOUTS: queue } as Env, { env, actor: 'system:test' }, batchId)
  return { creator, batchId, payout: payouts[0]! }
}

async function deadLetter(payoutId: string) {
  const batch = createMessageBatch('fanz-payouts-dlq', [{ id: `dlq-${payoutId}`, timestamp: new Date(), attempts: 6, body: { type: 'payout.execute', id: payoutId, payload: { payoutId } } }])
  const ctx = createExecutionContext()
  await worker.queue(batch, env, ctx)
  return getQueueResult(batch, ctx)
}

const row = (id: string) => env.DB.prepare('SELECT state, failure_code, attempts, processor_ref FROM payouts WHERE id = ?').bind(id).first<{ state: string; failure_code: string | null; attempts: number; processor_ref: string | null }>()
const openCase = (payoutId: string) => env.DB.prepare("SELECT status, resolution FROM dead_letters WHERE message_id = ?").bind(`dlq-${payoutId}`).first<{ status: string; resolution: string | null }>()
const onHold = async (creatorId: string) => (await ledgerFor(env, creatorId).balances('USD')).summary[0]!

describe('payouts after their retries ran out', () => {
  it('the dead letter keeps the payout queued with its hold; check_status finds the transfer the processor accepted and settles it', async () => {
    const { creator, payout } = await queuedPayout('wise')
    // the processor took it but every answer was lost (timeouts): never void this one blindly
    await setSandboxOutcome(env, payout.payoutId, { outcome: 'timeout', accepted: true })
    for (let i = 0; i < 3; i++) expect((await executePayout(env, payout.payoutId)).action).toBe('retry')
    const dead = await deadLetter(payout.payoutId)
    expect(dead.explicitAcks).toEqual([`dlq-${payout.payoutId}`])
    expect(await row(payout.payoutId)).toMatchObject({ state: 'queued', failure_code: 'retries_exhausted', attempts: 3 })
    expect((await onHold(creator.creatorId)).onHoldMinor).toBe(8_000)
    expect(await openCase(payout.payoutId)).toMatchObject({ status: 'open' })
    // a stray redelivery does not touch it while it waits for an operator
    expect(await executePayout(env, payout.payoutId)).toMatchObject({ action: 'skipped', reason: 'retries exhausted: waiting for an operator' })

    const finance = await tokenFor(['finance'])
    const stuck = (await (await call(API, '/api/payouts/payouts?failure_code=retries_exhausted', { token: finance })).json()) as { items: Array<{ id: string }> }
    expect(stuck.items.map((i) => i.id)).toContain(payout.payoutId)

    expect((await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: finance, headers: { 'idempotency-key': key() }, body: { action: 'check_status', reason: 'case review' } })).status).toBe(401)
    const res = await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: await strong(['finance']), headers: { 'idempotency-key': key() }, body: { action: 'check_status', reason: 'processor may have it' } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { result: string; processor: { status: string }; payout: { state: string; attempt_log: Array<{ attempt: number; outcome: string; code: string }> } }
    expect(body).toMatchObject({ result: 'settled', processor: { status: 'settled' }, payout: { state: 'settled' } })
    expect(body.payout.attempt_log.map((a) => [a.attempt, a.outcome, a.code])).toEqual([
      [1, 'retryable', 'SANDBOX_TIMEOUT'],
      [2, 'retryable', 'SANDBOX_TIMEOUT'],
      [3, 'retryable', 'SANDBOX_TIMEOUT'],
    ])
    const after = await onHold(creator.creatorId)
    expect(after).toMatchObject({ onHoldMinor: 0, availableMinor: 12_000 })
    expect((await sandboxTransfers(env)).filter((t) => t.payoutId === payout.payoutId)).toHaveLength(1)
    expect(await openCase(payout.payoutId)).toMatchObject({ status: 'resolved' })
    expect((await openCase(payout.payoutId))!.resolution).toContain('check_status: settled')
  })

  it('when the processor never had it: check_status says unknown, mark_failed voids the hold and closes the case', async () => {
    const { creator, payout } = await queuedPayout('paxum', 6_000)
    await setSandboxOutcome(env, payout.payoutId, { outcome: 'unavailable', retryAfterS: 30 })
    expect(await executePayout(env, payout.payoutId)).toMatchObject({ action: 'retry', attempt: 1 })
    await deadLetter(payout.payoutId)
    const manager = await strong(['finance'])
    const check = (await (await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: manager, headers: { 'idempotency-key': key() }, body: { action: 'check_status', reason: 'did it go out?' } })).json()) as { result: string }
    expect(check.result).toBe('unknown')
    expect(await openCase(payout.payoutId)).toMatchObject({ status: 'open' })
    expect((await onHold(creator.creatorId)).onHoldMinor).toBe(6_000)

    const failed = await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: manager, headers: { 'idempotency-key': key() }, body: { action: 'mark_failed', reason: 'processor confirmed it never received it' } })
    expect(((await failed.json()) as { result: string; payout: { state: string; failure_code: string } })).toMatchObject({ result: 'failed', payout: { state: 'failed', failure_code: 'operator_marked_failed' } })
    expect(await onHold(creator.creatorId)).toMatchObject({ onHoldMinor: 0, availableMinor: 20_000 })
    expect(await openCase(payout.payoutId)).toMatchObject({ status: 'resolved' })
    const again = await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: manager, headers: { 'idempotency-key': key() }, body: { action: 'retry', reason: 'try again' } })
    expect(again.status).toBe(409)
    const bad = await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: manager, headers: { 'idempotency-key': key() }, body: { action: 'pay_twice', reason: 'no' } })
    expect(bad.status).toBe(422)
  })

  it('retry clears the mark and queues the payout once more, under the same idempotency key', async () => {
    const { payout } = await queuedPayout('paxum', 5_000)
    await setSandboxOutcome(env, payout.payoutId, { outcome: 'unavailable', attempts: 1 })
    await executePayout(env, payout.payoutId)
    await deadLetter(payout.payoutId)
    const res = await call(API, `/api/payouts/payouts/${payout.payoutId}/resolve`, { token: await strong(['finance']), headers: { 'idempotency-key': key() }, body: { action: 'retry', reason: 'processor is back' } })
    expect(((await res.json()) as { result: string })).toMatchObject({ result: 'queued' })
    expect((await row(payout.payoutId))!.failure_code).toBeNull()
    expect(await executePayout(env, payout.payoutId)).toMatchObject({ action: 'settled', attempt: 2 })
    const transfers = (await sandboxTransfers(env)).filter((t) => t.payoutId === payout.payoutId)
    expect(transfers.map((t) => t.idempotencyKey)).toEqual([payout.idempotencyKey])
  })
})

describe('reading payouts', () => {
  it('finance lists and filters; the creator sees their own payout with its attempts; others get 404', async () => {
    const { creator, batchId, payout } = await queuedPayout('paxum', 3_000)
    const userId = newId('user')
    await env.DB.prepare('UPDATE creators SET user_id = ? WHERE id = ?').bind(userId, creator.creatorId).run()
    await executePayout(env, payout.payoutId)
    const finance = await tokenFor(['finance'])
    const list = (await (await call(API, `/api/payouts/payouts?batch_id=${batchId}&state=settled`, { token: finance })).json()) as { items: Array<{ id: string; net_minor: number }> }
    expect(list.items).toEqual([expect.objectContaining({ id: payout.payoutId, net_minor: 2_900 })])
    expect(((await (await call(API, `/api/payouts/payouts?batch_id=${batchId}&state=failed`, { token: finance })).json()) as { items: unknown[] }).items).toEqual([])
    expect((await call(API, '/api/payouts/payouts?creator_id=nope', { token: finance })).status).toBe(400)
    expect((await call(API, '/api/payouts/payouts', { token: await tokenFor(['creator']) })).status).toBe(403)

    const own = await call(API, `/api/payouts/payouts/${payout.payoutId}`, { token: await tokenFor(['creator'], { subject: userId }) })
    expect(own.status).toBe(200)
    expect(((await own.json()) as { state: string; attempt_log: Array<{ outcome: string }> })).toMatchObject({ state: 'settled', attempt_log: [{ outcome: 'settled' }] })
    expect((await call(API, `/api/payouts/payouts/${payout.payoutId}`, { token: await tokenFor(['creator']) })).status).toBe(404)
    expect((await call(API, `/api/payouts/payouts/${payout.payoutId}`, { token: finance })).status).toBe(200)
  })

  it('dev only: sets a payout’s sandbox outcome (finance), refused to others', async () => {
    const { payout } = await queuedPayout('paxum', 2_000)
    const finance = await tokenFor(['finance'])
    const set = await call(API, '/api/payouts/sandbox/outcomes', { token: finance, body: { payout_id: payout.payoutId, directive: { outcome: 'decline', code: 'LIMIT_EXCEEDED' } } })
    expect(set.status).toBe(200)
    expect((await call(API, '/api/payouts/sandbox/outcomes', { token: await tokenFor(['creator']), body: { payout_id: payout.payoutId, directive: { outcome: 'success' } } })).status).toBe(403)
    expect((await call(API, '/api/payouts/sandbox/outcomes', { token: finance, body: { payout_id: payout.payoutId, directive: { outcome: 'explode' } } })).status).toBe(422)
    expect(await executePayout(env, payout.payoutId)).toMatchObject({ action: 'failed', outcome: { status: 'declined', code: 'LIMIT_EXCEEDED' } })
    expect(await row(payout.payoutId)).toMatchObject({ state: 'failed', failure_code: 'LIMIT_EXCEEDED' })
  })
})
