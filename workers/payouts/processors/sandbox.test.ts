import { describe, expect, it } from 'vitest'
import type { PayoutRequest, Transport } from './types'
import { createSandboxProcessor, mapSandboxStore, sandboxDirective, sandboxRef, SANDBOX_METHODS, type SandboxSettings } from './sandbox'

const neverCalled: Transport = async () => {
  throw new Error('the sandbox must not use the injected transport')
}

const payout = (over: Partial<PayoutRequest> = {}): PayoutRequest => ({
  payoutId: 'po_1',
  idempotencyKey: 'key-1',
  amount: { minor: 5000, currency: 'USD' },
  method: { type: 'paxum', email: 'creator@example.com' },
  description: 'November earnings',
  ...over,
})

function setup() {
  const map = new Map<string, string>()
  let now = 1_700_000_000_000
  const processor = createSandboxProcessor({ store: mapSandboxStore(map), now: () => now })
  return { processor, map, advance: (ms: number) => (now += ms) }
}

describe('sandbox processor', () => {
  it('pays every method type and settles by default with a deterministic ref', async () => {
    const { processor } = setup()
    expect(processor.id).toBe('sandbox')
    expect([...processor.methods].sort()).toEqual(['ach', 'check', 'crypto', 'epayservice', 'paxum', 'payoneer', 'sepa', 'wire', 'wise'])
    expect(SANDBOX_METHODS).toHaveLength(9)
    const outcome = await processor.submit({}, payout(), neverCalled)
    expect(outcome).toEqual({ status: 'settled', processorRef: sandboxRef('key-1') })
    expect(sandboxRef('key-1')).toMatch(/^sbx_[0-9a-f]{24}$/)
    expect(await processor.status({}, payout(), sandboxRef('key-1'), neverCalled)).toEqual(outcome)
  })

  it('the same key twice returns the first transfer, never a second one', async () => {
    const { processor, map } = setup()
    const first = await processor.submit({ outcomes: { po_1: { outcome: 'success', feeMinor: 25 } } }, payout(), neverCalled)
    // a later directive does not change what already happened
    const second = await processor.submit({ outcomes: { po_1: { outcome: 'decline' } } }, payout(), neverCalled)
    expect(second).toEqual(first)
    expect([...map.keys()].filter((k) => k.startsWith('transfer:'))).toEqual(['transfer:key-1'])
    // the same key for another payout is refused
    expect(await processor.submit({}, payout({ amount: { minor: 9999, currency: 'USD' } }), neverCalled)).toMatchObject({ status: 'declined', code: 'IDEMPOTENCY_KEY_REUSED' })
  })

  it('declines by directive (settings map or description token)', async () => {
    const { processor } = setup()
    const settings: SandboxSettings = { outcomes: { po_1: { outcome: 'decline', code: 'ACCOUNT_CLOSED', reason: 'account closed' } } }
    expect(await processor.submit(settings, payout(), neverCalled)).toEqual({ status: 'declined', code: 'ACCOUNT_CLOSED', reason: 'account closed' })
    expect(await processor.submit({}, payout({ payoutId: 'po_2', idempotencyKey: 'key-2', description: 'x [sandbox:decline]' }), neverCalled)).toMatchObject({ status: 'declined', code: 'SANDBOX_DECLINED' })
  })

  it('a timeout is retryable; the resubmit with the same key finds the accepted transfer', async () => {
    const { processor, map } = setup()
    const settings: SandboxSettings = { outcomes: { po_1: { outcome: 'timeout', attempts: 1 } } }
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'retryable', code: 'SANDBOX_TIMEOUT' })
    // accepted before the answer was lost: status already sees it
    expect(await processor.status(settings, payout(), null, neverCalled)).toEqual({ status: 'settled', processorRef: sandboxRef('key-1') })
    expect(await processor.submit(settings, payout(), neverCalled)).toEqual({ status: 'settled', processorRef: sandboxRef('key-1') })
    expect([...map.keys()].filter((k) => k.startsWith('transfer:'))).toHaveLength(1)
    expect(map.get('attempts:key-1')).toBe('2')
  })

  it('a timeout before acceptance leaves nothing behind; status says resubmit', async () => {
    const { processor } = setup()
    const settings: SandboxSettings = { outcomes: { po_1: { outcome: 'timeout', accepted: false, attempts: 1 } } }
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'retryable', code: 'SANDBOX_TIMEOUT' })
    expect(await processor.status(settings, payout(), null, neverCalled)).toMatchObject({ status: 'retryable', code: 'SANDBOX_NOT_FOUND' })
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'settled' })
  })

  it('a permanent timeout keeps failing; [sandbox:timeout] works from the description', async () => {
    const { processor } = setup()
    const req = payout({ description: 'p [sandbox:timeout]' })
    for (let i = 0; i < 3; i++) expect(await processor.submit({}, req, neverCalled)).toMatchObject({ status: 'retryable' })
  })

  it('503 is retryable with Retry-After and records nothing', async () => {
    const { processor, map } = setup()
    const settings: SandboxSettings = { outcomes: { po_1: { outcome: 'unavailable', attempts: 2, retryAfterS: 5 } } }
    expect(await processor.submit(settings, payout(), neverCalled)).toEqual({ status: 'retryable', code: 'SANDBOX_UNAVAILABLE', reason: 'sandbox: service unavailable', retryAfterMs: 5000 })
    expect(map.has('transfer:key-1')).toBe(false)
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'retryable', code: 'SANDBOX_UNAVAILABLE' })
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'settled' })
    expect(await processor.submit({}, payout({ payoutId: 'po_3', idempotencyKey: 'key-3', description: '[sandbox:503]' }), neverCalled)).toMatchObject({ status: 'retryable', code: 'SANDBOX_UNAVAILABLE' })
  })

  it('delayed settlement: submitted now, settled when status is asked after the delay', async () => {
    const { processor, advance } = setup()
    const req = payout({ description: 'payout [sandbox:delay=60000]' })
    expect(sandboxDirective({}, req)).toEqual({ outcome: 'delayed', afterMs: 60000 })
    const ref = sandboxRef('key-1')
    expect(await processor.submit({}, req, neverCalled)).toEqual({ status: 'submitted', processorRef: ref })
    advance(59_999)
    expect(await processor.status({}, req, ref, neverCalled)).toEqual({ status: 'submitted', processorRef: ref })
    advance(1)
    expect(await processor.status({}, req, ref, neverCalled)).toEqual({ status: 'settled', processorRef: ref })
    // by key as well, and it stays settled
    expect(await processor.status({}, req, null, neverCalled)).toEqual({ status: 'settled', processorRef: ref })
  })

  it('delayed bounce: submitted, then declined after the delay', async () => {
    const { processor, advance } = setup()
    const settings: SandboxSettings = { outcomes: { po_1: { outcome: 'delayed', afterMs: 1000, then: 'declined' } } }
    expect(await processor.submit(settings, payout(), neverCalled)).toMatchObject({ status: 'submitted' })
    advance(1000)
    expect(await processor.status(settings, payout(), sandboxRef('key-1'), neverCalled)).toMatchObject({ status: 'declined', code: 'SANDBOX_RETURNED' })
  })

  it('defaultOutcome applies when nothing else matches', async () => {
    const { processor } = setup()
    expect(await processor.submit({ defaultOutcome: { outcome: 'decline' } }, payout(), neverCalled)).toMatchObject({ status: 'declined' })
  })
})
