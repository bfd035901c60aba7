/**
 * Test support for the execution and batch tests: a funded creator with a sealed payout method, and
 * payouts placed in a batch the way the run does it (row, then the ledger hold through
 * `placeHold`). Every id is fresh, because Durable Objects (the ledgers) outlive one test file.
 * Not imported by the Worker.
 * @module
 */
import type { PayoutRail } from '../../../d1/schema/payouts'
import { ledgerFor } from '../../ledger/stub'
import { newId } from '../../lib/ids'
import { placeHold } from '../lifecycle'
import { parsePayoutMethod, type PayoutMethod } from '../methods/methods'
import { sealMethod } from '../methods/sealed'

export const METHOD_BY_RAIL: Partial<Record<PayoutRail, unknown>> = {
  paxum: { type: 'paxum', email: 'creator@example.com' },
  epayservice: { type: 'epayservice', email: 'creator@example.com' },
  wise: { type: 'wise', currency: 'GBP', accountHolderName: 'Ann Johnson', details: { kind: 'sort_code', sortCode: '231470', accountNumber: '28821822' } },
  payoneer: { type: 'payoneer', payeeId: 'payee-123' },
  crypto_custodian: { type: 'crypto', asset: 'USDT', network: 'ethereum', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' },
}

export interface TestCreator {
  creatorId: string
  methodId: string
  rail: PayoutRail
  fundedMinor: number
}

/** A creator (own row), funded with `fundedMinor` available USD, and a payout method for `rail`. */
export async function fundedCreator(env: Env, rail: PayoutRail, fundedMinor: number, nowMs = Date.now()): Promise<TestCreator> {
  const brand = await env.DB.prepare('SELECT id FROM brands ORDER BY id LIMIT 1').first<{ id: string }>()
  const creatorId = newId('creator')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, NULL, ?)').bind(creatorId, brand!.id, creatorId.toLowerCase(), 'Payout Test', '', nowMs).run()
  const funded = await ledgerFor(env, creatorId).adjust({ opId: `fund:${creatorId}`, currency: 'USD', direction: 'credit', amountMinor: fundedMinor, reason: 'test funding', actor: 'system:test' }, nowMs)
  if (!funded.ok) throw new Error(`funding refused: ${funded.code}`)
  const parsed = parsePayoutMethod(METHOD_BY_RAIL[rail])
  if (!parsed.ok) throw new Error(`fixture method for ${rail} does not validate: ${JSON.stringify(parsed.errors)}`)
  const methodId = newId('payoutMethod')
  const method: PayoutMethod = parsed.method
  await env.DB.prepare('INSERT INTO payout_methods (id, creator_id, type, rail, currency, summary, details_sealed, usable_from_ms, is_default, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)')
    .bind(methodId, creatorId, method.type, rail, 'USD', `${method.type} ••••`, await sealMethod(env, methodId, method), nowMs - 1, 'system:test', nowMs)
    .run()
  return { creatorId, methodId, rail, fundedMinor }
}

export interface TestPayout {
  payoutId: string
  creatorId: string
  idempotencyKey: string
  amountMinor: number
  feeMinor: number
  netMinor: number
}

/**
 * A batch of `rail` in `state` (draft or approved) holding one pending payout per creator, each
 * with its ledger hold placed.
 */
export async function batchOf(env: Env, rail: PayoutRail, creators: ReadonlyArray<{ creator: TestCreator; amountMinor: number; feeMinor: number }>, options: { state?: 'draft' | 'approved'; approvalsRequired?: 1 | 2; nowMs?: number } = {}): Promise<{ batchId: string; payouts: TestPayout[] }> {
  const nowMs = options.nowMs ?? Date.now()
  const batchId = newId('payoutBatch', nowMs)
  const payouts: TestPayout[] = []
  for (const { creator, amountMinor, feeMinor } of creators) {
    const payoutId = newId('payout', nowMs)
    const idempotencyKey = `fanz-${payoutId}`
    await env.DB.prepare(
      "INSERT INTO payouts (id, creator_id, batch_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, hold_id, idempotency_key, attempts, created_at_ms, updated_at_ms) VALUES (?, ?, ?, NULL, ?, ?, 'scheduled', 'USD', ?, ?, ?, 'pending', NULL, ?, 0, ?, ?)",
    )
      .bind(payoutId, creator.creatorId, batchId, creator.methodId, rail, amountMinor, feeMinor, amountMinor - feeMinor, idempotencyKey, nowMs, nowMs)
      .run()
    const hold = await placeHold(env, { id: payoutId, creatorId: creator.creatorId, currency: 'USD', amountMinor }, nowMs)
    if (!hold.ok) throw new Error(`hold refused: ${hold.code}`)
    await env.DB.prepare('UPDATE payouts SET hold_id = ? WHERE id = ?').bind(hold.holdId, payoutId).run()
    payouts.push({ payoutId, creatorId: creator.creatorId, idempotencyKey, amountMinor, feeMinor, netMinor: amountMinor - feeMinor })
  }
  const total = payouts.reduce((s, p) => s + p.amountMinor, 0)
  const fees = payouts.reduce((s, p) => s + p.feeMinor, 0)
  await env.DB.prepare('INSERT INTO payout_batches (id, run_id, rail, currency, state, count, total_minor, fee_minor, approvals_required, created_by, created_at_ms, updated_at_ms) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(batchId, rail, 'USD', options.state ?? 'approved', payouts.length, total, fees, options.approvalsRequired ?? 1, 'system:test', nowMs, nowMs)
    .run()
  return { batchId, payouts }
}

/** A Queue producer that only records what was sent (so a test delivers the messages itself). */
export function recordingQueue(): { queue: Queue; sent: unknown[] } {
  const sent: unknown[] = []
  const queue = {
    async send(body: unknown) {
      sent.push(body)
    },
    async sendBatch(messages: Iterable<{ body: unknown }>) {
      const list = [...messages]
      if (list.length > 100) throw new Error(`sendBatch takes at most 100 messages, got ${list.length}`)
      for (const m of list) sent.push(m.body)
    },
  } as unknown as Queue
  return { queue, sent }
}
