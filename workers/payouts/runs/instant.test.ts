/**
 * Instant payouts over HTTP: strong step-up and Idempotency-Key; paid through a rail with instant
 * payment at its instant fee, in its own approved batch (no approval) handed to submitBatch; the
 * ledger holds the amount; every refusal is recorded and answered with its reason.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { ledgerFor } from '../../ledger/stub'
import { ACH, API, fund, kyc, method, newCreator, PAXUM, strong, type TestCreator } from './test-kit'

let creator: TestCreator
let paxumId: string
let achId: string
let token: string

beforeAll(async () => {
  creator = await newCreator()
  await kyc(creator.creatorId, 'approved')
  achId = await method(creator.creatorId, ACH, 'USD')
  paxumId = await method(creator.creatorId, PAXUM, 'USD')
  await fund(creator.creatorId, 'USD', 20_000)
  token = await strong(['fan', 'creator'], creator.userId)
})

const instant = (body: unknown, t = token, id = creator.creatorId, key: string = crypto.randomUUID()) =>
  call(API, `/api/payouts/creators/${id}/instant`, { token: t, body, headers: { 'idempotency-key': `"${key}"` } })

async function problem(res: Response) {
  return (await res.json()) as { reason?: string; errors?: { path: string }[]; detail: string }
}

describe('instant payouts', () => {
  it('refuses without a fresh two-factor sign-in', async () => {
    const res = await instant({ amount_minor: 5_000, currency: 'USD', method_id: paxumId }, creator.token)
    // RFC 9470: 401 with the insufficient_user_authentication challenge
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('insufficient_user_authentication')
  })

  it('refuses a rail without instant payment, naming method_id, and records the refusal', async () => {
    const res = await instant({ amount_minor: 5_000, currency: 'USD', method_id: achId })
    expect(res.status).toBe(422)
    expect(await problem(res)).toMatchObject({ reason: 'instant_not_offered', errors: [{ path: 'body.method_id' }] })
  })

  it('refuses more than is available, naming amount_minor', async () => {
    const res = await instant({ amount_minor: 20_001, currency: 'USD', method_id: paxumId })
    expect(res.status).toBe(422)
    expect(await problem(res)).toMatchObject({ reason: 'insufficient_funds', errors: [{ path: 'body.amount_minor' }] })
  })

  it('pays at once: instant fee, own approved batch without approvals, submitted, the ledger holds it; a retry replays', async () => {
    const key = crypto.randomUUID()
    const res = await instant({ amount_minor: 5_000, currency: 'USD', method_id: paxumId }, token, creator.creatorId, key)
    expect(res.status, await res.clone().text()).toBe(201)
    const body = (await res.json()) as Record<string, unknown> & { payout_id: string; batch_id: string; submitted: { state: string; queued: number } }
    // paxum USD instant: 300 fixed, 0 %
    expect(body).toMatchObject({ amount_minor: 5_000, fee_minor: 300, net_minor: 4_700, currency: 'USD', method_id: paxumId, rail: 'paxum', batch_state: 'approved' })
    expect(body.submitted).toMatchObject({ state: 'submitted', queued: 1 })
    const batch = await env.DB.prepare('SELECT state, approvals_required, count, total_minor FROM payout_batches WHERE id = ?').bind(body.batch_id).first()
    expect(batch).toMatchObject({ approvals_required: 0, count: 1, total_minor: 5_000 })
    const payout = await env.DB.prepare('SELECT kind, state, hold_id, idempotency_key FROM payouts WHERE id = ?').bind(body.payout_id).first<Record<string, unknown>>()
    expect(payout).toMatchObject({ kind: 'instant', idempotency_key: body.payout_id, hold_id: expect.any(String) })
    expect(['queued', 'submitted', 'settled']).toContain(payout!.state)
    const ledger = (await ledgerFor(env, creator.creatorId).balances('USD')).summary[0]!
    // held, or already posted by the queue consumer: either way 5,000 left the available balance once
    expect(ledger.availableMinor).toBe(15_000)
    const replay = await instant({ amount_minor: 5_000, currency: 'USD', method_id: paxumId }, token, creator.creatorId, key)
    expect(replay.status).toBe(201)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(((await replay.json()) as { payout_id: string }).payout_id).toBe(body.payout_id)
    expect((await ledgerFor(env, creator.creatorId).balances('USD')).summary[0]!.availableMinor).toBe(15_000)
  })

  it('refuses an unverified creator (409 kyc_not_verified) and records it for them', async () => {
    const unverified = await newCreator()
    await method(unverified.creatorId, PAXUM, 'USD')
    await fund(unverified.creatorId, 'USD', 10_000)
    const res = await instant({ amount_minor: 5_000, currency: 'USD' }, await strong(['fan', 'creator'], unverified.userId), unverified.creatorId)
    expect(res.status).toBe(409)
    expect(await problem(res)).toMatchObject({ reason: 'kyc_not_verified' })
    const own = await call(API, `/api/payouts/creators/${unverified.creatorId}/refusals`, { token: unverified.token })
    expect(((await own.json()) as { items: unknown[] }).items).toEqual([expect.objectContaining({ code: 'kyc_not_verified', run_id: null })])
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payouts WHERE creator_id = ?').bind(unverified.creatorId).first<{ n: number }>())!.n).toBe(0)
  })

  it('refuses instant payouts above the second-approval limit', async () => {
    const big = await newCreator()
    await kyc(big.creatorId, 'approved')
    await method(big.creatorId, PAXUM, 'USD')
    await fund(big.creatorId, 'USD', 2_000_000)
    const res = await instant({ amount_minor: 1_000_001, currency: 'USD' }, await strong(['fan', 'creator'], big.userId), big.creatorId)
    expect(res.status).toBe(422)
    expect(await problem(res)).toMatchObject({ reason: 'above_instant_limit', errors: [{ path: 'body.amount_minor' }] })
    expect((await ledgerFor(env, big.creatorId).balances('USD')).summary[0]!.availableMinor).toBe(2_000_000)
  })
})
