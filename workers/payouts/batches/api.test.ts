import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { auditLog } from '../../compliance/audit'
import { ledgerFor } from '../../ledger/stub'
import { newId } from '../../lib/ids'
import { batchOf, fundedCreator } from '../execution/fixtures'

const API = 'api.localhost'

async function mint(body: { roles: Role[]; amr?: string[]; subject?: string }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}
const strong = (roles: Role[], subject = newId('user')) => mint({ roles, amr: ['pwd', 'otp', 'mfa'], subject })
const key = () => `"${crypto.randomUUID()}"`

interface Detail {
  id: string
  state: string
  count: number
  total_minor: number
  fee_minor: number
  approvals_required: number
  approvals_given: number
  approvals: Array<{ user_id: string }>
  payouts: Array<{ id: string; state: string; method_summary: string | null; failure_code: string | null }>
  totals: { amount_minor: number; fee_minor: number; net_minor: number; by_state: Record<string, number> }
}

const available = async (creatorId: string) => (await ledgerFor(env, creatorId).balances('USD')).summary[0]!.availableMinor

describe('/api/payouts/batches', () => {
  it('lists and shows batches with masked methods, approvals and totals; finance only', async () => {
    const a = await fundedCreator(env, 'paxum', 20_000)
    const b = await fundedCreator(env, 'paxum', 20_000)
    const { batchId } = await batchOf(env, 'paxum', [{ creator: a, amountMinor: 5_000, feeMinor: 100 }, { creator: b, amountMinor: 7_000, feeMinor: 120 }], { state: 'draft' })
    const finance = await tokenFor(['finance'])
    const list = await call(API, '/api/payouts/batches?state=draft&rail=paxum&currency=USD', { token: finance })
    expect(list.status).toBe(200)
    const page = (await list.json()) as { items: Array<{ id: string; total_minor: number }>; next_cursor: string | null }
    expect(page.items.find((i) => i.id === batchId)).toMatchObject({ total_minor: 12_000 })
    const view = await call(API, `/api/payouts/batches/${batchId}`, { token: finance })
    const detail = (await view.json()) as Detail
    expect(detail).toMatchObject({ state: 'draft', count: 2, fee_minor: 220, approvals_required: 1, approvals_given: 0, totals: { amount_minor: 12_000, fee_minor: 220, net_minor: 11_780, by_state: { pending: 2 } } })
    expect(detail.payouts.map((p) => p.method_summary)).toEqual(['paxum ••••', 'paxum ••••'])
    expect(JSON.stringify(detail)).not.toContain('creator@example.com')
    expect((await call(API, `/api/payouts/batches/${batchId}`, { token: await tokenFor(['creator']) })).status).toBe(403)
    expect((await call(API, '/api/payouts/batches?state=nope', { token: finance })).status).toBe(400)
    expect((await call(API, `/api/payouts/batches/${newId('payoutBatch')}`, { token: finance })).status).toBe(404)
  })

  it('needs two different approvers when the row says 2, each with a strong recent sign-in', async () => {
    const a = await fundedCreator(env, 'wise', 20_000)
    const { batchId } = await batchOf(env, 'wise', [{ creator: a, amountMinor: 9_000, feeMinor: 90 }], { state: 'draft', approvalsRequired: 2 })
    const weak = await tokenFor(['finance'])
    const refused = await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: weak })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_user_authentication')
    expect((await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: await strong(['compliance_officer']) })).status).toBe(403)

    const first = await strong(['finance'])
    const one = (await (await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: first })).json()) as Detail
    expect(one).toMatchObject({ state: 'draft', approvals_given: 1 })
    const twice = await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: first })
    expect(twice.status).toBe(409)
    expect(((await twice.json()) as { detail: string }).detail).toContain('another person')
    const second = await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: await strong(['finance']) })
    expect(((await second.json()) as Detail)).toMatchObject({ state: 'approved', approvals_given: 2 })
    expect((await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: await strong(['finance']) })).status).toBe(409)
    const entries = await auditLog(env).list({ subject: `payout_batch:${batchId}`, limit: 10 })
    expect(entries.filter((e) => e.action === 'payouts.batch.approve').map((e) => JSON.parse(e.details).now_approved)).toEqual([false, true])
  })

  it('removes a payout from a draft (hold voided, totals recomputed, approvals withdrawn) and cancels a batch', async () => {
    const a = await fundedCreator(env, 'payoneer', 30_000)
    const b = await fundedCreator(env, 'payoneer', 30_000)
    const { batchId, payouts } = await batchOf(env, 'payoneer', [{ creator: a, amountMinor: 10_000, feeMinor: 200 }, { creator: b, amountMinor: 12_000, feeMinor: 240 }], { state: 'draft', approvalsRequired: 2 })
    expect(await available(a.creatorId)).toBe(20_000)
    const manager = await strong(['finance'])
    await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: manager })

    const noKey = await call(API, `/api/payouts/batches/${batchId}/payouts/${payouts[0]!.payoutId}/remove`, { token: manager, body: { reason: 'creator asked to skip this run' } })
    expect(noKey.status).toBe(400)
    const removed = await call(API, `/api/payouts/batches/${batchId}/payouts/${payouts[0]!.payoutId}/remove`, { token: manager, headers: { 'idempotency-key': key() }, body: { reason: 'creator asked to skip this run' } })
    expect(removed.status).toBe(200)
    const after = (await removed.json()) as Detail
    expect(after).toMatchObject({ state: 'draft', count: 1, total_minor: 12_000, fee_minor: 240, approvals_given: 0 })
    expect(after.payouts.find((p) => p.id === payouts[0]!.payoutId)).toMatchObject({ state: 'cancelled', failure_code: 'removed_from_batch' })
    expect(await available(a.creatorId)).toBe(30_000)

    const badBody = await call(API, `/api/payouts/batches/${batchId}/cancel`, { token: manager, headers: { 'idempotency-key': key() }, body: { reason: 'x' } })
    expect(badBody.status).toBe(422)
    const cancelled = await call(API, `/api/payouts/batches/${batchId}/cancel`, { token: manager, headers: { 'idempotency-key': key() }, body: { reason: 'the run was made with the wrong date' } })
    expect(((await cancelled.json()) as Detail)).toMatchObject({ state: 'cancelled', totals: { by_state: { cancelled: 2 } } })
    expect(await available(b.creatorId)).toBe(30_000)
    for (const c of [a, b]) expect((await ledgerFor(env, c.creatorId).balances('USD')).summary[0]!.onHoldMinor).toBe(0)
    expect((await call(API, `/api/payouts/batches/${batchId}/submit`, { method: 'POST', token: manager, headers: { 'idempotency-key': key() } })).status).toBe(409)
  })

  it('submits only an approved batch: payouts queued, one message each', async () => {
    const a = await fundedCreator(env, 'epayservice', 30_000)
    const { batchId, payouts } = await batchOf(env, 'epayservice', [{ creator: a, amountMinor: 4_000, feeMinor: 80 }], { state: 'draft' })
    const manager = await strong(['finance'])
    const early = await call(API, `/api/payouts/batches/${batchId}/submit`, { method: 'POST', token: manager, headers: { 'idempotency-key': key() } })
    expect(early.status).toBe(409)
    await call(API, `/api/payouts/batches/${batchId}/approve`, { method: 'POST', token: manager })
    const res = await call(API, `/api/payouts/batches/${batchId}/submit`, { method: 'POST', token: manager, headers: { 'idempotency-key': key() } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { batch: Detail; queued: number; file_id: string | null }
    expect(body).toMatchObject({ queued: 1, file_id: null, batch: { state: 'submitted' } })
    const state = await env.DB.prepare('SELECT state FROM payouts WHERE id = ?').bind(payouts[0]!.payoutId).first<{ state: string }>()
    expect(['queued', 'submitted', 'settled']).toContain(state!.state)
    expect((await auditLog(env).list({ subject: `payout_batch:${batchId}`, limit: 10 })).map((e) => e.action)).toContain('payouts.batch.submit')
  })
})
